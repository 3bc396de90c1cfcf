//! Where each media file lives: the real server's layout (docs/protocol.md §6.8), the same keys
//! in the media folder and in a bucket (under the bucket's prefix), plus the derivatives Quadrat
//! keeps so it makes each of them once.
//!
//! | content | key |
//! |---|---|
//! | photo, audio, video of an entry | `entries/{photo\|audio\|video}/{project ref}/{name}` |
//! | project logo | `projects/{project ref}/logo.jpg` |
//! | entry thumbnail (100×100) | `thumbs/entry_thumb/{project ref}/{name}` |
//! | project mobile logo (128×128) | `thumbs/project_mobile_logo/{project ref}/logo.jpg` |
//!
//! A key is made only from names that cannot be a path: [`safe_name`] is the one check.

use quadrat_core::entry::MediaKind;

/// The file name of every project logo (docs/protocol.md §15.1).
pub const LOGO_NAME: &str = "logo.jpg";

/// The longest name looked for: no file system keeps a longer one, and no bucket key needs it.
pub const MAX_NAME_BYTES: usize = 255;

/// Whether `name` is a plain file name: not empty, at most [`MAX_NAME_BYTES`], no `/`, `\`, NUL
/// or `..`, and not starting with `.` (hidden files, `.` and `..`). Anything else could leave
/// the folder it is looked up in, or reach the media folder's own `.tmp`.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.contains("..")
}

/// A stored file's key, relative to the store's root (folder or bucket prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaKey {
    parts: [String; 4],
    len: usize,
}

/// A name that cannot be a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a plain file name")]
pub struct UnsafeName;

impl MediaKey {
    fn of(parts: &[&str]) -> Result<MediaKey, UnsafeName> {
        if !parts.iter().all(|p| safe_name(p)) {
            return Err(UnsafeName);
        }
        let mut out: [String; 4] = Default::default();
        for (slot, part) in out.iter_mut().zip(parts) {
            *slot = (*part).to_string();
        }
        Ok(MediaKey {
            parts: out,
            len: parts.len(),
        })
    }

    /// An entry's photo, audio or video file.
    pub fn entry(kind: MediaKind, project_ref: &str, name: &str) -> Result<MediaKey, UnsafeName> {
        MediaKey::of(&["entries", kind.as_str(), project_ref, name])
    }

    /// The 100×100 thumbnail of an entry's photo.
    pub fn entry_thumb(project_ref: &str, name: &str) -> Result<MediaKey, UnsafeName> {
        MediaKey::of(&["thumbs", "entry_thumb", project_ref, name])
    }

    /// The project's logo.
    pub fn logo(project_ref: &str) -> Result<MediaKey, UnsafeName> {
        MediaKey::project_file(project_ref, LOGO_NAME)
    }

    /// A file of the project's own folder (`project_thumb` reads any name there; the logo is
    /// the only file ever stored).
    pub fn project_file(project_ref: &str, name: &str) -> Result<MediaKey, UnsafeName> {
        MediaKey::of(&["projects", project_ref, name])
    }

    /// The 128×128 version of a project file (the logo the mobile app shows).
    pub fn mobile_logo(project_ref: &str, name: &str) -> Result<MediaKey, UnsafeName> {
        MediaKey::of(&["thumbs", "project_mobile_logo", project_ref, name])
    }

    /// The folders (key prefixes) holding anything of one project, for its deletion.
    pub fn project_folders(project_ref: &str) -> Result<Vec<Vec<String>>, UnsafeName> {
        if !safe_name(project_ref) {
            return Err(UnsafeName);
        }
        let r = project_ref.to_string();
        let mut out: Vec<Vec<String>> = MediaKind::ALL
            .iter()
            .map(|k| vec!["entries".into(), k.as_str().into(), r.clone()])
            .collect();
        out.push(vec!["projects".into(), r.clone()]);
        out.push(vec!["thumbs".into(), "entry_thumb".into(), r.clone()]);
        out.push(vec!["thumbs".into(), "project_mobile_logo".into(), r]);
        Ok(out)
    }

    /// The key's parts, root first.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.parts[..self.len].iter().map(String::as_str)
    }

    /// The key as a relative path, `a/b/c`.
    pub fn as_relative(&self) -> String {
        self.parts().collect::<Vec<_>>().join("/")
    }

    /// The last part: the file's name.
    pub fn name(&self) -> &str {
        &self.parts[self.len - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_real_servers_layout() {
        let k = MediaKey::entry(MediaKind::Photo, "abc", "u_1.jpg").unwrap();
        assert_eq!(k.as_relative(), "entries/photo/abc/u_1.jpg");
        assert_eq!(
            MediaKey::logo("abc").unwrap().as_relative(),
            "projects/abc/logo.jpg"
        );
        assert_eq!(
            MediaKey::entry_thumb("abc", "u_1.jpg")
                .unwrap()
                .as_relative(),
            "thumbs/entry_thumb/abc/u_1.jpg"
        );
    }

    #[test]
    fn names_that_could_be_paths_make_no_key() {
        for name in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a\0b",
            ".hidden",
            "x..y",
            "..%2f",
            &"a".repeat(256),
        ] {
            assert!(!safe_name(name), "{name:?}");
            assert_eq!(
                MediaKey::entry(MediaKind::Audio, "abc", name),
                Err(UnsafeName)
            );
        }
        for name in [
            "u_1.jpg",
            "ünïcödé.jpg",
            "%2e%2e",
            "a b.mp4",
            &"a".repeat(255),
        ] {
            assert!(safe_name(name), "{name:?}");
        }
        assert_eq!(MediaKey::logo("../x"), Err(UnsafeName));
    }
}
