//! Project stats (docs/protocol.md §9.4), built from the counters kept at write time.

use serde_json::{Map, Value, json};

use crate::json::object_or_empty_array;
use crate::time::{UnixMillis, sql_datetime};

/// Count and first/last `created_at` of one form or one branch input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub count: i64,
    pub first_created_at: UnixMillis,
    pub last_created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectStats {
    /// Hierarchy entries across all forms; branch entries are not counted.
    pub total_entries: i64,
    pub total_files: i64,
    pub total_bytes: i64,
    /// Per form ref, in definition order; forms without entries are left out.
    pub form_counts: Vec<(String, Counter)>,
    /// Per branch input ref, in definition order; branches without entries are left out.
    pub branch_counts: Vec<(String, Counter)>,
    pub structure_last_updated: UnixMillis,
}

impl ProjectStats {
    /// The `project_stats` object of the project export, in wire order.
    pub fn to_json(&self) -> Value {
        json!({
            "total_entries": self.total_entries,
            "total_files": self.total_files,
            "total_bytes": self.total_bytes,
            "form_counts": counters_json(&self.form_counts),
            "branch_counts": counters_json(&self.branch_counts),
            "structure_last_updated": sql_datetime(self.structure_last_updated),
        })
    }
}

fn counters_json(counters: &[(String, Counter)]) -> Value {
    let map: Map<String, Value> = counters
        .iter()
        .filter(|(_, c)| c.count > 0)
        .map(|(r, c)| {
            (
                r.clone(),
                json!({
                    "count": c.count,
                    "first_entry_created": sql_datetime(c.first_created_at),
                    "last_entry_created": sql_datetime(c.last_created_at),
                }),
            )
        })
        .collect();
    object_or_empty_array(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_counts_are_php_empty_arrays() {
        let s = ProjectStats {
            structure_last_updated: 1_717_237_233_000,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&s.to_json()).unwrap(),
            r#"{"total_entries":0,"total_files":0,"total_bytes":0,"form_counts":[],"branch_counts":[],"structure_last_updated":"2024-06-01 10:20:33"}"#
        );
    }

    #[test]
    fn counts_in_wire_order() {
        let s = ProjectStats {
            total_entries: 2,
            form_counts: vec![(
                "f".into(),
                Counter {
                    count: 2,
                    first_created_at: 0,
                    last_created_at: 1000,
                },
            )],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&s.to_json()["form_counts"]).unwrap(),
            r#"{"f":{"count":2,"first_entry_created":"1970-01-01 00:00:00","last_entry_created":"1970-01-01 00:00:01"}}"#
        );
    }
}
