//! A zip archive written front to back into any `Write`, never seeking and never holding a
//! member in memory: each member is deflated as it is written, its CRC and sizes follow it in a
//! data descriptor (general purpose flag bit 3), and the central directory, which only holds
//! names and offsets, closes the archive. Sizes or offsets past 4 GiB get ZIP64 records
//! (APPNOTE 6.3.10 §4.3.9, §4.5.3), so a project of any size makes a valid archive.

use std::io::{self, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Bit 3: sizes and CRC in the data descriptor; bit 11: the name is UTF-8.
const FLAGS: u16 = 0x0808;
const DEFLATE: u16 = 8;
/// 4.5: version needed to extract ZIP64 archives; 2.0 otherwise.
const VERSION_ZIP64: u16 = 45;
const VERSION_DEFLATE: u16 = 20;
/// 1980-01-01 00:00 in MS-DOS time: every member carries it (the archive is made on demand).
const DOS_DATE: u16 = (1 << 5) | 1;

/// Counts the bytes passed through, so member offsets are known without seeking.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A finished member, for the central directory.
struct Member {
    name: String,
    crc: u32,
    compressed: u64,
    size: u64,
    offset: u64,
}

/// The member being written: its bytes are deflated straight into the archive.
struct Open {
    name: String,
    offset: u64,
    data_start: u64,
    crc: crc32fast::Hasher,
    size: u64,
}

/// The archive being written.
pub struct ZipStream<W: Write> {
    out: Option<DeflateEncoder<Counting<W>>>,
    plain: Option<Counting<W>>,
    open: Option<Open>,
    members: Vec<Member>,
}

fn le16(v: u16) -> [u8; 2] {
    v.to_le_bytes()
}
fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}
fn le64(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

fn io_other(why: &'static str) -> io::Error {
    io::Error::other(why)
}

impl<W: Write> ZipStream<W> {
    pub fn new(out: W) -> ZipStream<W> {
        ZipStream {
            out: None,
            plain: Some(Counting {
                inner: out,
                written: 0,
            }),
            open: None,
            members: Vec::new(),
        }
    }

    fn plain(&mut self) -> io::Result<&mut Counting<W>> {
        self.plain
            .as_mut()
            .ok_or_else(|| io_other("zip member still open"))
    }

    /// Starts the member `name` (closing the one before); its bytes follow through `write`.
    pub fn start(&mut self, name: &str) -> io::Result<()> {
        self.finish_member()?;
        let name_len = u16::try_from(name.len()).map_err(|_| io_other("zip name too long"))?;
        let out = self.plain()?;
        let offset = out.written;
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&le32(LOCAL_HEADER));
        h.extend_from_slice(&le16(VERSION_ZIP64));
        h.extend_from_slice(&le16(FLAGS));
        h.extend_from_slice(&le16(DEFLATE));
        h.extend_from_slice(&le16(0)); // time
        h.extend_from_slice(&le16(DOS_DATE));
        h.extend_from_slice(&[0; 12]); // CRC and sizes: in the data descriptor
        h.extend_from_slice(&le16(name_len));
        h.extend_from_slice(&le16(0));
        h.extend_from_slice(name.as_bytes());
        out.write_all(&h)?;
        let data_start = out.written;
        let plain = self
            .plain
            .take()
            .ok_or_else(|| io_other("zip writer gone"))?;
        self.out = Some(DeflateEncoder::new(plain, Compression::fast()));
        self.open = Some(Open {
            name: name.to_string(),
            offset,
            data_start,
            crc: crc32fast::Hasher::new(),
            size: 0,
        });
        Ok(())
    }

    fn finish_member(&mut self) -> io::Result<()> {
        let (Some(open), Some(enc)) = (self.open.take(), self.out.take()) else {
            return Ok(());
        };
        let mut out = enc.finish()?;
        let compressed = out.written - open.data_start;
        let crc = open.crc.finalize();
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&le32(DATA_DESCRIPTOR));
        d.extend_from_slice(&le32(crc));
        // The descriptor carries 8-byte sizes when either needs them (4.3.9.2).
        if compressed > u64::from(u32::MAX) || open.size > u64::from(u32::MAX) {
            d.extend_from_slice(&le64(compressed));
            d.extend_from_slice(&le64(open.size));
        } else {
            d.extend_from_slice(&le32(compressed as u32));
            d.extend_from_slice(&le32(open.size as u32));
        }
        out.write_all(&d)?;
        self.plain = Some(out);
        self.members.push(Member {
            name: open.name,
            crc,
            compressed,
            size: open.size,
            offset: open.offset,
        });
        Ok(())
    }

    /// Closes the last member and writes the central directory; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.finish_member()?;
        let members = std::mem::take(&mut self.members);
        let out = self.plain()?;
        let dir_start = out.written;
        let big = |v: u64| v >= u64::from(u32::MAX);
        for m in &members {
            let mut extra = Vec::new();
            if big(m.size) || big(m.compressed) || big(m.offset) {
                let mut body = Vec::new();
                body.extend_from_slice(&le64(m.size));
                body.extend_from_slice(&le64(m.compressed));
                body.extend_from_slice(&le64(m.offset));
                extra.extend_from_slice(&le16(1));
                extra.extend_from_slice(&le16(body.len() as u16));
                extra.extend_from_slice(&body);
            }
            let clamp = |v: u64| if extra.is_empty() { v as u32 } else { u32::MAX };
            let mut h = Vec::with_capacity(46 + m.name.len() + extra.len());
            h.extend_from_slice(&le32(CENTRAL_HEADER));
            h.extend_from_slice(&le16(VERSION_ZIP64 | (3 << 8))); // made by: Unix
            h.extend_from_slice(&le16(if extra.is_empty() {
                VERSION_DEFLATE
            } else {
                VERSION_ZIP64
            }));
            h.extend_from_slice(&le16(FLAGS));
            h.extend_from_slice(&le16(DEFLATE));
            h.extend_from_slice(&le16(0));
            h.extend_from_slice(&le16(DOS_DATE));
            h.extend_from_slice(&le32(m.crc));
            h.extend_from_slice(&le32(clamp(m.compressed)));
            h.extend_from_slice(&le32(clamp(m.size)));
            h.extend_from_slice(&le16(m.name.len() as u16));
            h.extend_from_slice(&le16(extra.len() as u16));
            h.extend_from_slice(&le16(0)); // comment
            h.extend_from_slice(&le16(0)); // disk
            h.extend_from_slice(&le16(0)); // internal attributes
            h.extend_from_slice(&le32(0o100644 << 16)); // a regular file, rw-r--r--
            h.extend_from_slice(&le32(clamp(m.offset)));
            h.extend_from_slice(m.name.as_bytes());
            h.extend_from_slice(&extra);
            out.write_all(&h)?;
        }
        let dir_end = out.written;
        let dir_size = dir_end - dir_start;
        let count = members.len() as u64;
        if big(dir_start) || big(dir_size) || count >= 0xffff {
            let mut z = Vec::with_capacity(76);
            z.extend_from_slice(&le32(ZIP64_END));
            z.extend_from_slice(&le64(44));
            z.extend_from_slice(&le16(VERSION_ZIP64 | (3 << 8)));
            z.extend_from_slice(&le16(VERSION_ZIP64));
            z.extend_from_slice(&le32(0));
            z.extend_from_slice(&le32(0));
            z.extend_from_slice(&le64(count));
            z.extend_from_slice(&le64(count));
            z.extend_from_slice(&le64(dir_size));
            z.extend_from_slice(&le64(dir_start));
            z.extend_from_slice(&le32(ZIP64_LOCATOR));
            z.extend_from_slice(&le32(0));
            z.extend_from_slice(&le64(dir_end));
            z.extend_from_slice(&le32(1));
            out.write_all(&z)?;
        }
        let mut e = Vec::with_capacity(22);
        e.extend_from_slice(&le32(END_OF_CENTRAL));
        e.extend_from_slice(&[0; 4]);
        e.extend_from_slice(&le16(count.min(0xffff) as u16));
        e.extend_from_slice(&le16(count.min(0xffff) as u16));
        e.extend_from_slice(&le32(dir_size.min(u64::from(u32::MAX)) as u32));
        e.extend_from_slice(&le32(dir_start.min(u64::from(u32::MAX)) as u32));
        e.extend_from_slice(&le16(0));
        out.write_all(&e)?;
        out.flush()?;
        let plain = self
            .plain
            .take()
            .ok_or_else(|| io_other("zip writer gone"))?;
        Ok(plain.inner)
    }
}

impl<W: Write> Write for ZipStream<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (Some(open), Some(enc)) = (self.open.as_mut(), self.out.as_mut()) else {
            return Err(io_other("no zip member started"));
        };
        let n = enc.write(buf)?;
        open.crc.update(&buf[..n]);
        open.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(enc) => enc.flush(),
            None => self.plain()?.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn members_read_back_with_their_bytes() {
        let mut zip = ZipStream::new(Vec::new());
        zip.start("form-1__a.csv").unwrap();
        zip.write_all(b"ec5_uuid,title\n1,x\n").unwrap();
        zip.start("branch-1__b.csv").unwrap();
        zip.write_all(&vec![b'z'; 100_000]).unwrap();
        zip.start("empty.csv").unwrap();
        let bytes = zip.finish().unwrap();
        // End of central directory: three members.
        let eocd = bytes.len() - 22;
        assert_eq!(&bytes[eocd..eocd + 4], &le32(END_OF_CENTRAL));
        assert_eq!(u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]), 3);
        // The first member inflates to what was written.
        let name_len = u16::from_le_bytes([bytes[26], bytes[27]]) as usize;
        let data = &bytes[30 + name_len..];
        let mut inflated = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, b"ec5_uuid,title\n1,x\n");
    }
}
