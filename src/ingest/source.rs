//! What an ingest reads: the inputs on the command line expanded into
//! sources (a photo, a video, an archive), and the members of a source
//! streamed one by one without unpacking anything to disk.
//!
//! ```text
//! PATH... --discover--> Source { path, kind } (sorted; folders recursive)
//! Source --members--> Member { name, bytes } (a file is its own one member;
//!                     zip by central directory, tar / tar.gz streamed)
//! ```
//!
//! A member's kind comes from its extension: `.jpg/.jpeg/.png` photos,
//! `.mp4/.m4v/.mov` videos, `.json` sidecars (capture time, camera and
//! position for the photo of the same stem). Anything else is listed as
//! skipped with its reason.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Largest member read into memory (a long video in an archive).
pub const MAX_MEMBER_BYTES: u64 = 1 << 30;

/// What a file is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Photo,
    Video,
    Sidecar,
    Zip,
    Tar,
    TarGz,
    Other,
}

impl Kind {
    pub fn of(name: &str) -> Kind {
        let lower = name.to_ascii_lowercase();
        let ends = |s: &str| lower.ends_with(s);
        if ends(".jpg") || ends(".jpeg") || ends(".png") {
            Kind::Photo
        } else if ends(".mp4") || ends(".m4v") || ends(".mov") {
            Kind::Video
        } else if ends(".json") {
            Kind::Sidecar
        } else if ends(".zip") {
            Kind::Zip
        } else if ends(".tar.gz") || ends(".tgz") {
            Kind::TarGz
        } else if ends(".tar") {
            Kind::Tar
        } else {
            Kind::Other
        }
    }

    pub fn is_archive(self) -> bool {
        matches!(self, Kind::Zip | Kind::Tar | Kind::TarGz)
    }
}

/// One source: a file named on the command line or found in a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub path: PathBuf,
}

impl Source {
    pub fn kind(&self) -> Kind {
        Kind::of(&self.path.to_string_lossy())
    }
}

/// One member of a source, in memory.
#[derive(Debug, Clone)]
pub struct Member {
    /// Name inside the archive, or the file name for a plain file.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Member {
    pub fn kind(&self) -> Kind {
        Kind::of(&self.name)
    }
}

/// An input passed over, with the reason.
pub type Skipped = (PathBuf, String);

/// Expands `inputs` into sources, sorted by path so that every run sees
/// them in one order. Folders are searched recursively; sidecars and other
/// files found in folders are not sources (sidecars are read beside their
/// photo); a missing input is an error naming it.
pub fn discover(inputs: &[PathBuf]) -> Result<(Vec<Source>, Vec<Skipped>)> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            walk(input, &mut sources, &mut skipped)?;
        } else {
            match Kind::of(&input.to_string_lossy()) {
                Kind::Other | Kind::Sidecar => skipped.push((
                    input.clone(),
                    "not a photo, video or archive (.jpg .png .mp4 .zip .tar .tar.gz)".into(),
                )),
                _ => sources.push(Source {
                    path: input.clone(),
                }),
            }
        }
    }
    sources.sort();
    sources.dedup();
    Ok((sources, skipped))
}

fn walk(dir: &Path, out: &mut Vec<Source>, skipped: &mut Vec<Skipped>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out, skipped)?;
            continue;
        }
        match Kind::of(&name) {
            Kind::Sidecar => {}
            Kind::Other => skipped.push((path, "not a photo, video or archive".into())),
            _ => out.push(Source { path }),
        }
    }
    Ok(())
}

/// Calls `f` with each member of `source`, in archive order (a plain file is
/// its own single member). Directories inside archives are passed over; a
/// member over [`MAX_MEMBER_BYTES`] is an error naming it.
pub fn members(source: &Source, f: impl FnMut(Member) -> Result<()>) -> Result<()> {
    members_where(source, |_| true, f)
}

/// Like [`members`], reading only the members whose name `want` accepts
/// (the others are skipped without being held in memory).
pub fn members_where(
    source: &Source,
    want: impl Fn(&str) -> bool,
    mut f: impl FnMut(Member) -> Result<()>,
) -> Result<()> {
    let path = &source.path;
    let file = || File::open(path).map_err(|e| Error::io(path, e));
    let damaged = |why: String| Error::BadData {
        path: path.clone(),
        message: why,
    };
    match source.kind() {
        Kind::Zip => {
            let mut zip = zip::ZipArchive::new(BufReader::new(file()?))
                .map_err(|e| damaged(format!("not a readable zip archive: {e}")))?;
            for i in 0..zip.len() {
                let mut entry = zip
                    .by_index(i)
                    .map_err(|e| damaged(format!("zip member {i}: {e}")))?;
                if entry.is_dir() || !want(entry.name()) {
                    continue;
                }
                let name = entry.name().to_string();
                let size = entry.size();
                let bytes = read_capped(&mut entry, size, &name)
                    .map_err(|e| damaged(format!("zip member {name}: {e}")))?;
                f(Member { name, bytes })?;
            }
            Ok(())
        }
        Kind::Tar | Kind::TarGz => {
            let reader: Box<dyn Read> = if source.kind() == Kind::TarGz {
                Box::new(flate2::read::GzDecoder::new(BufReader::new(file()?)))
            } else {
                Box::new(BufReader::new(file()?))
            };
            let mut archive = tar::Archive::new(reader);
            let entries = archive
                .entries()
                .map_err(|e| damaged(format!("not a readable tar archive: {e}")))?;
            for entry in entries {
                let mut entry = entry.map_err(|e| damaged(format!("damaged tar archive: {e}")))?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry
                    .path()
                    .map(|p| p.to_string_lossy().into_owned())
                    .map_err(|e| damaged(format!("tar member name: {e}")))?;
                if !want(&name) {
                    continue;
                }
                let size = entry.size();
                let bytes = read_capped(&mut entry, size, &name)
                    .map_err(|e| damaged(format!("tar member {name}: {e}")))?;
                f(Member { name, bytes })?;
            }
            Ok(())
        }
        _ => {
            let size = std::fs::metadata(path)
                .map_err(|e| Error::io(path, e))?
                .len();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = read_capped(&mut file()?, size, &name).map_err(|e| Error::io(path, e))?;
            f(Member { name, bytes })
        }
    }
}

fn read_capped(r: &mut impl Read, size: u64, name: &str) -> std::io::Result<Vec<u8>> {
    if size > MAX_MEMBER_BYTES {
        return Err(std::io::Error::other(format!(
            "{name} is {size} bytes, over the {MAX_MEMBER_BYTES}-byte limit"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    r.take(MAX_MEMBER_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != size {
        return Err(std::io::Error::other(format!(
            "{name}: expected {size} bytes, got {} (truncated)",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// SHA-256 of a file, streamed: the identity of a source in the ledger.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(source: &Source) -> Result<Vec<(String, usize)>> {
        let mut out = Vec::new();
        members(source, |m| {
            out.push((m.name, m.bytes.len()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn zip_tar_and_tar_gz_stream_their_members() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("a.zip");
        let mut z = zip::ZipWriter::new(File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        z.add_directory("d/", opts).unwrap();
        z.start_file("d/x.jpg", opts).unwrap();
        z.write_all(b"bytes").unwrap();
        z.finish().unwrap();
        let expected = vec![("d/x.jpg".to_string(), 5)];
        assert_eq!(names(&Source { path: zip_path }).unwrap(), expected);

        for gz in [false, true] {
            let path = dir.path().join(if gz { "b.tar.gz" } else { "b.tar" });
            let file = File::create(&path).unwrap();
            let w: Box<dyn Write> = if gz {
                Box::new(flate2::write::GzEncoder::new(file, Default::default()))
            } else {
                Box::new(file)
            };
            let mut t = tar::Builder::new(w);
            let mut h = tar::Header::new_gnu();
            h.set_size(5);
            h.set_cksum();
            t.append_data(&mut h, "d/x.jpg", &b"bytes"[..]).unwrap();
            t.into_inner().unwrap().flush().unwrap();
            assert_eq!(names(&Source { path }).unwrap(), expected);
        }
    }

    #[test]
    fn damaged_archives_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.zip");
        std::fs::write(&path, b"PK\x03\x04 not really").unwrap();
        let e = names(&Source { path }).unwrap_err().to_string();
        assert!(
            e.contains("bad.zip") && e.contains("not a readable zip"),
            "{e}"
        );
        let path = dir.path().join("bad.tar.gz");
        std::fs::write(&path, b"\x1f\x8b\x08garbage").unwrap();
        let e = names(&Source { path }).unwrap_err().to_string();
        assert!(e.contains("bad.tar.gz"), "{e}");
    }

    #[test]
    fn discover_walks_folders_in_order_and_lists_what_it_skips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cam2")).unwrap();
        for f in [
            "cam2/b.jpg",
            "a.png",
            "a.json",
            "notes.txt",
            "v.mp4",
            ".hidden.jpg",
        ] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let (sources, skipped) = discover(&[dir.path().to_path_buf()]).unwrap();
        let rel: Vec<_> = sources
            .iter()
            .map(|s| s.path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            rel,
            vec![
                PathBuf::from("a.png"),
                PathBuf::from("cam2/b.jpg"),
                PathBuf::from("v.mp4")
            ]
        );
        assert_eq!(skipped.len(), 1);
        assert!(discover(&[dir.path().join("missing")]).is_err());
    }
}
