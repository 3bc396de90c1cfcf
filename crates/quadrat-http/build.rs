//! Vendors the map pages' library (Leaflet and Leaflet.markercluster, pinned versions) from the
//! npm registry at build time: `npm pack` downloads each package (checked against the
//! registry's integrity hash) into `OUT_DIR`, `tar` unpacks it, and the files the pages serve
//! are embedded from there. Nothing fetched is committed. Without npm or the network the build
//! still succeeds: `map_library()` is then `None` and the map pages say the library is missing.
//! `QUADRAT_NO_NPM=1` skips the download on purpose.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `(file in the package, served name, content type)`.
type Served = (&'static str, &'static str, &'static str);

/// `(package, version, files)`.
const PACKAGES: &[(&str, &str, &[Served])] = &[
    (
        "leaflet",
        "1.9.4",
        &[
            (
                "dist/leaflet.js",
                "leaflet.js",
                "text/javascript; charset=utf-8",
            ),
            ("dist/leaflet.css", "leaflet.css", "text/css; charset=utf-8"),
            (
                "dist/images/marker-icon.png",
                "images/marker-icon.png",
                "image/png",
            ),
            (
                "dist/images/marker-icon-2x.png",
                "images/marker-icon-2x.png",
                "image/png",
            ),
            (
                "dist/images/marker-shadow.png",
                "images/marker-shadow.png",
                "image/png",
            ),
            ("dist/images/layers.png", "images/layers.png", "image/png"),
            (
                "dist/images/layers-2x.png",
                "images/layers-2x.png",
                "image/png",
            ),
            (
                "LICENSE",
                "LICENSE-leaflet.txt",
                "text/plain; charset=utf-8",
            ),
        ],
    ),
    (
        "leaflet.markercluster",
        "1.5.3",
        &[
            (
                "dist/leaflet.markercluster.js",
                "leaflet.markercluster.js",
                "text/javascript; charset=utf-8",
            ),
            (
                "dist/MarkerCluster.css",
                "MarkerCluster.css",
                "text/css; charset=utf-8",
            ),
            (
                "dist/MarkerCluster.Default.css",
                "MarkerCluster.Default.css",
                "text/css; charset=utf-8",
            ),
            (
                "MIT-LICENCE.txt",
                "LICENSE-markercluster.txt",
                "text/plain; charset=utf-8",
            ),
        ],
    ),
];

fn fetch(dir: &Path, name: &str, version: &str) -> Result<PathBuf, String> {
    let unpacked = dir.join(format!("{name}-{version}"));
    if unpacked.join("package.json").exists() {
        return Ok(unpacked);
    }
    fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    let out = Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(dir)
        .arg(format!("{name}@{version}"))
        .current_dir(dir)
        .output()
        .map_err(|e| format!("running npm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm pack {name}@{version}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let tgz = dir.join(format!("{name}-{version}.tgz"));
    let status = Command::new("tar")
        .args(["-xzf"])
        .arg(&tgz)
        .arg("-C")
        .arg(&unpacked)
        .args(["--strip-components=1"])
        .status()
        .map_err(|e| format!("running tar: {e}"))?;
    if !status.success() {
        return Err(format!("unpacking {}", tgz.display()));
    }
    Ok(unpacked)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=QUADRAT_NO_NPM");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = out.join("npm");
    let mut files = Vec::new();
    let mut missing = None;
    if env::var("QUADRAT_NO_NPM").is_ok_and(|v| v == "1") {
        missing = Some("QUADRAT_NO_NPM=1".to_string());
    } else {
        for (name, version, wanted) in PACKAGES {
            match fetch(&dir, name, version) {
                Ok(root) => {
                    for (file, served, kind) in *wanted {
                        let path = root.join(file);
                        if path.is_file() {
                            files.push((path, *served, *kind));
                        } else if served.ends_with(".js") || served.ends_with(".css") {
                            missing = Some(format!("{name}@{version} has no {file}"));
                        }
                    }
                }
                Err(e) => missing = Some(e),
            }
        }
    }
    let mut code = String::new();
    code.push_str("/// The vendored map library's files: `(served name, content type, bytes)`.\n");
    match &missing {
        Some(why) => {
            println!("cargo:warning=map library not vendored ({why}); the map pages will say so");
            let _ = writeln!(
                code,
                "pub const MAP_LIBRARY: Option<&[(&str, &str, &[u8])]> = None;"
            );
        }
        None => {
            code.push_str("pub const MAP_LIBRARY: Option<&[(&str, &str, &[u8])]> = Some(&[\n");
            for (path, served, kind) in &files {
                let _ = writeln!(
                    code,
                    "    ({served:?}, {kind:?}, include_bytes!({:?})),",
                    path.display().to_string()
                );
            }
            code.push_str("]);\n");
        }
    }
    fs::write(out.join("vendor.rs"), code).expect("writing vendor.rs");
}
