//! Names the source this crate was built from (`QUADRAT_CORE_SOURCE`: a hash of every file
//! under `src/`), so entries rendered ahead by one build are not served by a build whose
//! rendering may differ (`src/export/render/ahead.rs`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut paths = Vec::new();
    files(Path::new("src"), &mut paths);
    paths.sort();
    let mut h = std::hash::DefaultHasher::new();
    for path in &paths {
        path.hash(&mut h);
        std::fs::read(path).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=QUADRAT_CORE_SOURCE={:016x}", h.finish());
}
