//! A project's mapping list as stored in `project_structures.project_mapping`
//! (docs/protocol.md §4.1): reading it (indexes, names, the default map, one form's map) and
//! editing its custom maps ([`custom`]). The EC5_AUTO map itself is built by
//! [`crate::definition::mapping`].

pub mod custom;
pub mod form_edits;

use serde_json::{Map, Value};

use crate::json::mysql_order;
use crate::php::{array_get, integer_key};

/// The maps of a project by index, in index order. Index 0 is EC5_AUTO; indexes can be sparse
/// after deletions. Entries that are not JSON objects, or not under an integer key, are left out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappingList {
    maps: Vec<(usize, Map<String, Value>)>,
}

/// One line of `quadrat mapping list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSummary {
    pub index: usize,
    pub name: String,
    pub is_default: bool,
}

impl MappingList {
    /// Reads the stored value: a JSON array while indexes are `0..n`, else an object keyed by
    /// index.
    pub fn from_stored(value: &Value) -> MappingList {
        let mut maps: Vec<(usize, Map<String, Value>)> = match value {
            Value::Array(list) => list
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.as_object().map(|m| (i, m.clone())))
                .collect(),
            Value::Object(by_key) => by_key
                .iter()
                .filter_map(|(k, m)| Some((integer_key(k)?, m.as_object()?.clone())))
                .collect(),
            _ => Vec::new(),
        };
        maps.sort_by_key(|(i, _)| *i);
        maps.dedup_by_key(|(i, _)| *i);
        MappingList { maps }
    }

    /// The stored value, in MySQL key order: an array while indexes are `0..n`, else an object.
    pub fn to_stored(&self) -> Value {
        let contiguous = self.maps.iter().enumerate().all(|(pos, (i, _))| pos == *i);
        let value = if contiguous {
            Value::Array(
                self.maps
                    .iter()
                    .map(|(_, m)| Value::Object(m.clone()))
                    .collect(),
            )
        } else {
            Value::Object(
                self.maps
                    .iter()
                    .map(|(i, m)| (i.to_string(), Value::Object(m.clone())))
                    .collect(),
            )
        };
        mysql_order(value)
    }

    pub fn len(&self) -> usize {
        self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    pub fn indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.maps.iter().map(|(i, _)| *i)
    }

    pub fn contains(&self, index: usize) -> bool {
        self.get(index).is_some()
    }

    pub fn get(&self, index: usize) -> Option<&Map<String, Value>> {
        self.maps.iter().find(|(i, _)| *i == index).map(|(_, m)| m)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut Map<String, Value>> {
        self.maps
            .iter_mut()
            .find(|(i, _)| *i == index)
            .map(|(_, m)| m)
    }

    pub(crate) fn insert(&mut self, index: usize, map: Map<String, Value>) {
        match self.get_mut(index) {
            Some(slot) => *slot = map,
            None => {
                self.maps.push((index, map));
                self.maps.sort_by_key(|(i, _)| *i);
            }
        }
    }

    pub(crate) fn remove(&mut self, index: usize) {
        self.maps.retain(|(i, _)| *i != index);
    }

    pub(crate) fn last_index(&self) -> Option<usize> {
        self.maps.last().map(|(i, _)| *i)
    }

    /// The map's `name` (`""` when it has none).
    pub fn name(&self, index: usize) -> Option<&str> {
        self.get(index)
            .map(|m| m.get("name").and_then(Value::as_str).unwrap_or(""))
    }

    /// The default index as the real server settles it on read: the one map flagged
    /// `is_default: true`; among several, the first that is not EC5_AUTO; else 0.
    pub fn default_index(&self) -> usize {
        let flagged: Vec<usize> = self
            .maps
            .iter()
            .filter(|(_, m)| m.get("is_default") == Some(&Value::Bool(true)))
            .map(|(i, _)| *i)
            .collect();
        match flagged.as_slice() {
            [one] => *one,
            several => several.iter().copied().find(|&i| i != 0).unwrap_or(0),
        }
    }

    /// Index, name and default flag of every map, in index order.
    pub fn summaries(&self) -> Vec<MapSummary> {
        let default = self.default_index();
        self.maps
            .iter()
            .map(|(index, m)| MapSummary {
                index: *index,
                name: m
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                is_default: *index == default,
            })
            .collect()
    }

    /// `forms[form_ref]` of map `index` when it is a non-empty object or array (PHP's
    /// `empty()` decides whether the export falls back to map 0).
    pub fn form_map(&self, index: usize, form_ref: &str) -> Option<&Value> {
        self.get(index)?
            .get("forms")
            .and_then(|forms| array_get(forms, form_ref))
            .filter(|m| match m {
                Value::Object(o) => !o.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(name: &str, index: usize, default: bool) -> Value {
        json!({"name": name, "forms": {"f": {"i": {"map_to": "x"}}}, "map_index": index, "is_default": default})
    }

    #[test]
    fn reads_arrays_and_sparse_objects() {
        let list =
            MappingList::from_stored(&json!([map("EC5_AUTO", 0, true), map("mine", 1, false)]));
        assert_eq!(list.indexes().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(list.name(1), Some("mine"));
        assert!(list.to_stored().is_array());

        let sparse = MappingList::from_stored(
            &json!({"0": map("EC5_AUTO", 0, true), "2": map("b", 2, false), "x": {}, "01": {}, "3": 7}),
        );
        assert_eq!(sparse.indexes().collect::<Vec<_>>(), [0, 2]);
        let stored = sparse.to_stored();
        assert_eq!(
            stored.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["0", "2"]
        );
        assert!(MappingList::from_stored(&json!("junk")).is_empty());
    }

    #[test]
    fn default_is_settled_like_the_real_reader() {
        let one = MappingList::from_stored(&json!([map("A", 0, false), map("B", 1, true)]));
        assert_eq!(one.default_index(), 1);
        let several = MappingList::from_stored(&json!([
            map("A", 0, true),
            map("B", 1, false),
            map("C", 2, true),
            map("D", 3, true)
        ]));
        assert_eq!(several.default_index(), 2);
        let none = MappingList::from_stored(&json!([map("A", 0, false), map("B", 1, false)]));
        assert_eq!(none.default_index(), 0);
        // Only a JSON `true` counts.
        let loose =
            MappingList::from_stored(&json!([map("A", 0, false), {"name": "B", "is_default": 1}]));
        assert_eq!(loose.default_index(), 0);
        let flags: Vec<bool> = several.summaries().iter().map(|s| s.is_default).collect();
        assert_eq!(flags, [false, false, true, false]);
    }

    #[test]
    fn empty_form_maps_count_as_missing() {
        let list = MappingList::from_stored(&json!([
            {"name": "A", "forms": {"f": {"i": {}}, "g": [], "h": {}}},
        ]));
        assert!(list.form_map(0, "f").is_some());
        assert!(list.form_map(0, "g").is_none());
        assert!(list.form_map(0, "h").is_none());
        assert!(list.form_map(0, "zz").is_none());
        assert!(list.form_map(5, "f").is_none());
    }
}
