//! Media files of file entries (docs/protocol.md §5.9, §6.8): their kinds, safe names, and the
//! content checks the real server's `RulePhotoApp`, `RuleAudio` and `RuleVideo` make, done here
//! on the file's leading bytes (magic numbers and image headers; no decoding).

use crate::codes::Ec5Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Photo,
    Audio,
    Video,
}

impl MediaKind {
    pub const ALL: [MediaKind; 3] = [MediaKind::Photo, MediaKind::Audio, MediaKind::Video];

    pub fn parse(s: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name used in payloads, folders and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    /// The largest file accepted from the app: 5000, 100 000 and 500 000 KB.
    pub fn max_bytes(self) -> u64 {
        1024 * match self {
            MediaKind::Photo => 5_000,
            MediaKind::Audio => 100_000,
            MediaKind::Video => 500_000,
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaKind::Photo => &["jpg", "jpeg", "png"],
            MediaKind::Audio => &["mp4", "wav"],
            MediaKind::Video => &["mp4"],
        }
    }

    /// How many leading bytes [`check_content`] needs: a photo's size sits in its header, which
    /// in a JPEG comes after the metadata segments (at most a few hundred KB), so the whole
    /// (size-limited) photo; the magic number of audio and video.
    pub fn sniff_len(self) -> usize {
        match self {
            MediaKind::Photo => self.max_bytes() as usize + 1,
            MediaKind::Audio | MediaKind::Video => 64,
        }
    }
}

/// The photo side limit of the app rule.
pub const MAX_PHOTO_SIDE: u32 = 1024;

/// `{uuid}_{digits}.{ext}`: the uuid is the file entry's own, the extension one the kind
/// allows. Nothing else can be a path component, so a name can never leave its folder.
pub fn is_safe_file_name(name: &str, uuid: &str, kind: MediaKind) -> bool {
    let uuid_shaped = uuid.len() == 36
        && uuid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-');
    let Some(rest) = name.strip_prefix(uuid).and_then(|r| r.strip_prefix('_')) else {
        return false;
    };
    let Some((stamp, ext)) = rest.split_once('.') else {
        return false;
    };
    uuid_shaped
        && (1..=20).contains(&stamp.len())
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && kind.extensions().contains(&ext)
}

/// What the leading bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Jpeg(Option<(u32, u32)>),
    Png(Option<(u32, u32)>),
    OtherImage,
    Mp4,
    QuickTime,
    Wav,
    Unknown,
}

fn sniff(head: &[u8]) -> Content {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Content::Jpeg(jpeg_size(head));
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        let size = (head.len() >= 24 && &head[12..16] == b"IHDR").then(|| {
            (
                u32::from_be_bytes([head[16], head[17], head[18], head[19]]),
                u32::from_be_bytes([head[20], head[21], head[22], head[23]]),
            )
        });
        return Content::Png(size);
    }
    if head.starts_with(b"GIF87a")
        || head.starts_with(b"GIF89a")
        || head.starts_with(b"BM")
        || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP"))
    {
        return Content::OtherImage;
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        return Content::Wav;
    }
    match head.get(4..8) {
        Some(b"ftyp") if head.get(8..12) == Some(b"qt  ") => Content::QuickTime,
        Some(b"ftyp") => Content::Mp4,
        Some(b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot") => Content::QuickTime,
        _ => Content::Unknown,
    }
}

/// Width and height from the first frame header of a JPEG, walking its segments.
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        while *bytes.get(i)? != 0xFF {
            i += 1;
        }
        while *bytes.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *bytes.get(i)?;
        i += 1;
        if marker == 0x01 || (0xD0..=0xD9).contains(&marker) {
            continue;
        }
        let len = u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]) as usize;
        let is_frame = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let height = u16::from_be_bytes([*bytes.get(i + 3)?, *bytes.get(i + 4)?]);
            let width = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            return Some((u32::from(width), u32::from(height)));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        i += len;
    }
}

/// The app rules for a file of `size` bytes whose first bytes are `head` (at least
/// [`MediaKind::sniff_len`] of them, or the whole file). Errors as the real server keys them:
/// an unreadable photo under the entry uuid, the rest under `file`, `width`, `height`.
pub fn check_content(
    kind: MediaKind,
    head: &[u8],
    size: u64,
    uuid: &str,
) -> Result<(), Vec<Ec5Error>> {
    let content = sniff(head);
    let too_big = size > kind.max_bytes();
    let mut errors = Vec::new();
    match kind {
        MediaKind::Photo => {
            let dims = match content {
                Content::Jpeg(Some(d)) | Content::Png(Some(d)) => Some(d),
                Content::OtherImage => None,
                _ => return Err(vec![Ec5Error::new("ec5_83", uuid)]),
            };
            if dims.is_none() {
                errors.push(Ec5Error::new("ec5_81", "file"));
            } else if too_big {
                errors.push(Ec5Error::new("ec5_206", "file"));
            }
            if let Some((width, height)) = dims {
                if width > MAX_PHOTO_SIDE {
                    errors.push(Ec5Error::new("ec5_206", "width"));
                }
                if height > MAX_PHOTO_SIDE {
                    errors.push(Ec5Error::new("ec5_206", "height"));
                }
            }
        }
        MediaKind::Audio | MediaKind::Video => {
            let fits = match kind {
                MediaKind::Audio => matches!(content, Content::Mp4 | Content::Wav),
                _ => matches!(content, Content::Mp4 | Content::QuickTime),
            };
            if !fits {
                errors.push(Ec5Error::new("ec5_81", "file"));
            } else if too_big {
                errors.push(Ec5Error::new("ec5_206", "file"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A tiny valid JPEG of the given size (a frame header and nothing to decode), for tests and
/// fixtures.
pub fn sample_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90";

    fn codes(r: Result<(), Vec<Ec5Error>>) -> Vec<(String, String)> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.code, e.source))
            .collect()
    }

    #[test]
    fn reads_jpeg_and_png_sizes() {
        assert_eq!(
            sniff(&sample_jpeg(1024, 768)),
            Content::Jpeg(Some((1024, 768)))
        );
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 2, 0, 0, 0, 1, 0]);
        assert_eq!(sniff(&png), Content::Png(Some((512, 256))));
    }

    #[test]
    fn photo_rules_follow_the_app_rule() {
        assert!(check_content(MediaKind::Photo, &sample_jpeg(1024, 768), 2_000, UUID).is_ok());
        assert_eq!(
            codes(check_content(MediaKind::Photo, b"not an image", 12, UUID)),
            vec![("ec5_83".into(), UUID.into())]
        );
        assert_eq!(
            codes(check_content(
                MediaKind::Photo,
                b"GIF89a\x01\0\x01\0",
                10,
                UUID
            )),
            vec![("ec5_81".into(), "file".into())]
        );
        assert_eq!(
            codes(check_content(
                MediaKind::Photo,
                &sample_jpeg(2048, 100),
                5_120_001,
                UUID
            )),
            vec![
                ("ec5_206".into(), "file".into()),
                ("ec5_206".into(), "width".into())
            ]
        );
    }

    #[test]
    fn audio_and_video_by_content() {
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0";
        let mov = b"\0\0\0\x14ftypqt  \0\0\0\0";
        let wav = b"RIFF\0\0\0\0WAVEfmt ";
        assert!(check_content(MediaKind::Audio, mp4, 100, UUID).is_ok());
        assert!(check_content(MediaKind::Audio, wav, 100, UUID).is_ok());
        assert!(check_content(MediaKind::Video, mov, 100, UUID).is_ok());
        assert_eq!(
            codes(check_content(MediaKind::Video, wav, 100, UUID)),
            vec![("ec5_81".into(), "file".into())]
        );
        assert_eq!(
            codes(check_content(MediaKind::Audio, mp4, 102_400_001, UUID)),
            vec![("ec5_206".into(), "file".into())]
        );
    }

    #[test]
    fn safe_names_only() {
        let ok = format!("{UUID}_1717406127.jpg");
        assert!(is_safe_file_name(&ok, UUID, MediaKind::Photo));
        assert!(!is_safe_file_name(&ok, UUID, MediaKind::Audio));
        assert!(is_safe_file_name(
            &format!("{UUID}_1.wav"),
            UUID,
            MediaKind::Audio
        ));
        for bad in [
            format!("{UUID}_.jpg"),
            format!("{UUID}_1/../x.jpg"),
            format!("{UUID}_1.JPG"),
            format!("{UUID}_1.jpg.exe"),
            format!("x{UUID}_1.jpg"),
        ] {
            assert!(!is_safe_file_name(&bad, UUID, MediaKind::Photo), "{bad}");
        }
        assert!(!is_safe_file_name(
            "../../etc_1.jpg",
            "../../etc",
            MediaKind::Photo
        ));
    }
}
