//! The table: one row per measure, with the engine's own floor beside it where there is one.

use std::fmt::Write as _;

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub engine: String,
    pub measure: String,
    pub figure: String,
    pub floor: String,
    pub ratio: String,
    pub target: String,
    /// Peak resident memory of the process serving the phase (MB), when measured.
    pub peak_mb: Option<f64>,
}

impl Row {
    pub fn new(engine: &str, measure: impl Into<String>, figure: impl Into<String>) -> Row {
        Row {
            engine: engine.to_string(),
            measure: measure.into(),
            figure: figure.into(),
            floor: String::new(),
            ratio: String::new(),
            target: String::new(),
            peak_mb: None,
        }
    }

    pub fn floor(mut self, floor: impl Into<String>) -> Row {
        self.floor = floor.into();
        self
    }

    pub fn ratio(mut self, ratio: impl Into<String>) -> Row {
        self.ratio = ratio.into();
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Row {
        self.target = target.into();
        self
    }

    pub fn peak(mut self, mb: f64) -> Row {
        self.peak_mb = Some(mb);
        self
    }
}

/// The median of some runs (the middle one of three).
pub fn median(mut runs: Vec<f64>) -> f64 {
    if runs.is_empty() {
        return 0.0;
    }
    runs.sort_by(f64::total_cmp);
    let mid = runs.len() / 2;
    if !runs.len().is_multiple_of(2) {
        runs[mid]
    } else {
        (runs[mid - 1] + runs[mid]) / 2.0
    }
}

/// `12,345`: a rate rounded to a whole number, with thousands separators.
pub fn count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn per_s(v: f64, unit: &str) -> String {
    format!("{} {unit}/s", count(v))
}

pub fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

/// The table as GitHub markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| engine | measure | figure | floor | ratio | target | peak RSS |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let peak = r.peak_mb.map(|m| format!("{m:.0} MB")).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.engine, r.measure, r.figure, r.floor, r.ratio, r.target, peak
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_three_is_the_middle_one() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(1234567.4), "1,234,567");
        assert_eq!(count(999.0), "999");
    }
}
