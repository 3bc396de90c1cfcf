//! Projects' stored structures (definition, extra, mapping) kept in memory with what is parsed
//! from them, keyed by the structure's version in the database (`structure_version`, bumped by
//! a trigger in the same transaction as any change of the row, migration 0013).
//!
//! Every request still reads the project row, and the version rides on that statement
//! ([`quadrat_store::Store::project_by_slug_versioned`]): a copy whose version is not the
//! stored one is read again. So instances sharing a database each keep their own copies and
//! see a change made through any of them at their next request. The cache holds at most
//! [`StructureCache::CAPACITY`] projects; the least recently used goes first.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use quadrat_core::definition::Definition;
use quadrat_core::mappings::MappingList;
use serde_json::Value;

use crate::model::ProjectStructure;
use crate::{AppError, Result};

/// A stored structure and, parsed on first use, its definition and mapping list.
#[derive(Debug)]
pub struct CachedStructure {
    structure: ProjectStructure,
    version: i64,
    definition: OnceLock<std::result::Result<Arc<Definition>, String>>,
    mappings: OnceLock<std::result::Result<Arc<MappingList>, String>>,
}

impl Deref for CachedStructure {
    type Target = ProjectStructure;

    fn deref(&self) -> &ProjectStructure {
        &self.structure
    }
}

impl CachedStructure {
    pub fn new(structure: ProjectStructure, version: i64) -> CachedStructure {
        CachedStructure {
            structure,
            version,
            definition: OnceLock::new(),
            mappings: OnceLock::new(),
        }
    }

    /// The version of the stored row this copy was read from.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The definition, parsed once per version.
    pub fn definition(&self) -> Result<Arc<Definition>> {
        self.definition
            .get_or_init(|| {
                let data: Value = serde_json::from_str(&self.structure.project_definition)
                    .map_err(|e| e.to_string())?;
                Definition::from_data(&data)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| AppError::internal("reading a stored definition", e))
    }

    /// The mapping list, parsed once per version.
    pub fn mappings(&self) -> Result<Arc<MappingList>> {
        self.mappings
            .get_or_init(|| {
                serde_json::from_str::<Value>(&self.structure.project_mapping)
                    .map(|stored| Arc::new(MappingList::from_stored(&stored)))
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| AppError::internal("reading a stored mapping", e))
    }
}

/// The copies of one process (shared by every clone of the services).
#[derive(Debug, Clone, Default)]
pub struct StructureCache {
    inner: Arc<Mutex<Copies>>,
}

#[derive(Debug, Default)]
struct Copies {
    by_project: HashMap<i64, (Arc<CachedStructure>, u64)>,
    /// Bumped at each use: the smallest mark is the least recently used.
    clock: u64,
}

impl StructureCache {
    /// Projects kept at most: a definition is tens of kilobytes at most, so the cache stays
    /// within a few tens of megabytes whatever the number of projects.
    pub const CAPACITY: usize = 512;

    /// The copy of `project_id`'s structure at `version`, if this process holds it.
    pub fn get(&self, project_id: i64, version: i64) -> Option<Arc<CachedStructure>> {
        let mut copies = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        copies.clock += 1;
        let clock = copies.clock;
        match copies.by_project.get_mut(&project_id) {
            Some((copy, used)) if copy.version == version => {
                *used = clock;
                Some(copy.clone())
            }
            _ => None,
        }
    }

    /// Keeps `copy` for `project_id` (replacing an older one), making room when full.
    pub fn put(&self, project_id: i64, copy: Arc<CachedStructure>) {
        let mut copies = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        copies.clock += 1;
        let clock = copies.clock;
        if let Some((kept, _)) = copies.by_project.get(&project_id)
            && kept.version > copy.version
        {
            // A newer copy came in meanwhile (another request read after a change).
            return;
        }
        if copies.by_project.len() >= Self::CAPACITY && !copies.by_project.contains_key(&project_id)
        {
            let oldest = copies
                .by_project
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                copies.by_project.remove(&oldest);
            }
        }
        copies.by_project.insert(project_id, (copy, clock));
    }

    /// How many projects are held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_project
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(version: i64) -> Arc<CachedStructure> {
        Arc::new(CachedStructure::new(
            ProjectStructure {
                project_definition: "{}".into(),
                project_extra: "{}".into(),
                project_mapping: "[]".into(),
                updated_at: 0,
            },
            version,
        ))
    }

    #[test]
    fn a_copy_serves_only_its_version() {
        let cache = StructureCache::default();
        cache.put(1, copy(3));
        assert!(cache.get(1, 3).is_some());
        assert!(cache.get(1, 4).is_none());
        assert!(cache.get(2, 3).is_none());
        cache.put(1, copy(4));
        assert!(cache.get(1, 3).is_none());
        assert!(cache.get(1, 4).is_some());
        // An older copy read late does not replace a newer one.
        cache.put(1, copy(2));
        assert!(cache.get(1, 4).is_some());
    }

    #[test]
    fn the_cache_is_bounded_and_drops_the_least_recently_used() {
        let cache = StructureCache::default();
        let n = StructureCache::CAPACITY as i64;
        for id in 0..n {
            cache.put(id, copy(1));
        }
        assert!(cache.get(0, 1).is_some());
        cache.put(n, copy(1));
        assert_eq!(cache.len(), StructureCache::CAPACITY);
        assert!(cache.get(0, 1).is_some(), "used recently: kept");
        assert!(cache.get(1, 1).is_none(), "the least recently used went");
        assert!(cache.get(n, 1).is_some());
    }
}
