//! How far an acknowledged write is carried before its answer is sent (docs/durability.md).

use std::fmt;
use std::str::FromStr;

/// The operator's choice between a power-cut-proof store and a faster one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every acknowledged write is on stable storage: SQLite syncs the WAL at each commit
    /// (`synchronous=FULL`; concurrent uploads share one sync through group commit).
    #[default]
    Safe,
    /// SQLite syncs at checkpoints only (`synchronous=NORMAL`): a killed process loses
    /// nothing, a power cut or kernel crash may lose the last acknowledged writes.
    Relaxed,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Safe => "safe",
            Durability::Relaxed => "relaxed",
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Durability, String> {
        match s {
            "safe" => Ok(Durability::Safe),
            "relaxed" => Ok(Durability::Relaxed),
            other => Err(format!(
                "unknown durability {other:?}: use \"safe\" (the default) or \"relaxed\""
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Durability;

    #[test]
    fn parses_both_modes_and_refuses_others() {
        assert_eq!("safe".parse::<Durability>(), Ok(Durability::Safe));
        assert_eq!("relaxed".parse::<Durability>(), Ok(Durability::Relaxed));
        assert!("fast".parse::<Durability>().is_err());
        assert_eq!(Durability::default(), Durability::Safe);
    }
}
