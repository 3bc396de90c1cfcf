//! The cursor token: `q1.` + unpadded base64url of compact JSON `{"p":…,"e":…,"s":…,"h":…}`
//! (project ref, epoch, last seq delivered, start horizon of an initial walk). Unsigned: a
//! forged token reads only what its bearer may read anyway (docs/protocol.md §17.7).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::quadrat_error;
use crate::codes::Ec5Error;

const PREFIX: &str = "q1.";

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorToken {
    /// The project ref.
    pub p: String,
    /// The project's change epoch when the cursor was issued.
    pub e: String,
    /// The last seq delivered.
    pub s: i64,
    /// The start horizon of an initial walk, else 0.
    pub h: i64,
}

/// What a cursor is checked against: the project and its counter row, read with the page.
#[derive(Debug, Clone, Copy)]
pub struct CursorCheck<'a> {
    pub project_ref: &'a str,
    pub epoch: &'a str,
    pub latest_seq: i64,
    pub tombstone_floor: i64,
}

impl CursorToken {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Reads a token: no `q1.` prefix, bad base64 or JSON, a missing field → `qd_cursor_invalid`.
    pub fn decode(token: &str) -> Result<CursorToken, Ec5Error> {
        let invalid = || quadrat_error("qd_cursor_invalid", "cursor");
        let body = token.strip_prefix(PREFIX).ok_or_else(invalid)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let t: CursorToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if t.s < 0 || t.h < 0 {
            return Err(invalid());
        }
        Ok(t)
    }

    /// The checks of docs/protocol.md §17.7, in order: another project (400), then an epoch
    /// that changed, a seq ahead of the project's (a restored database) or below the tombstone
    /// floor (unless the walk's horizon is at or above it) → 410.
    pub fn check(&self, c: &CursorCheck<'_>) -> Result<(), (u16, Ec5Error)> {
        if self.p != c.project_ref {
            return Err((400, quadrat_error("qd_cursor_project", "cursor")));
        }
        let expired = self.e != c.epoch
            || self.s > c.latest_seq
            || (self.s < c.tombstone_floor && self.h < c.tombstone_floor);
        if expired {
            return Err((410, quadrat_error("qd_cursor_expired", "cursor")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(s: i64, h: i64) -> CursorToken {
        CursorToken {
            p: "ref".into(),
            e: "ep".into(),
            s,
            h,
        }
    }

    #[test]
    fn a_token_round_trips_and_reads_as_the_spec_shows() {
        let t = token(1044, 0);
        let text = t.encode();
        assert!(text.starts_with("q1."));
        assert!(!text.contains('='));
        assert_eq!(CursorToken::decode(&text).unwrap(), t);
        let spec = "q1.eyJwIjoiZDNmMWE5YzI3YjVlNGYwYzhhNmIxZTJkOWM3ZjNhNTAiLCJlIjoiOWM0MWUyZDAiLCJzIjoxMDQ0LCJoIjowfQ";
        let read = CursorToken::decode(spec).unwrap();
        assert_eq!(read.s, 1044);
        assert_eq!(read.e, "9c41e2d0");
    }

    #[test]
    fn malformed_tokens_are_invalid() {
        for bad in ["", "1044", "q2.e30", "q1.!!", "q1.e30", "q1.bnVsbA"] {
            let e = CursorToken::decode(bad).unwrap_err();
            assert_eq!(e.code, "qd_cursor_invalid", "{bad}");
            assert_eq!(e.source, "cursor");
        }
    }

    #[test]
    fn checks_refuse_other_projects_and_expired_cursors() {
        let c = CursorCheck {
            project_ref: "ref",
            epoch: "ep",
            latest_seq: 100,
            tombstone_floor: 10,
        };
        assert!(token(50, 0).check(&c).is_ok());
        let other = CursorToken {
            p: "x".into(),
            ..token(50, 0)
        };
        assert_eq!(other.check(&c).unwrap_err().0, 400);
        let reset = CursorToken {
            e: "new".into(),
            ..token(50, 0)
        };
        assert_eq!(reset.check(&c).unwrap_err().0, 410);
        assert_eq!(token(101, 0).check(&c).unwrap_err().0, 410);
        assert_eq!(token(5, 0).check(&c).unwrap_err().0, 410);
        // An initial walk that started above the floor never needed the purged tombstones.
        assert!(token(5, 20).check(&c).is_ok());
    }
}
