//! Files -> RGBA frames ([`Planes`] of one frame). Every failure is an
//! [`Error::BadData`] naming the file and the problem; the header is read and
//! the size checked before any pixel buffer is allocated, so a lying header
//! (30000x30000 in a few bytes) costs nothing.

use std::io::{Cursor, Read};
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};

use crate::gpu::{Planes, pack_rgba};
use crate::{Error, Result};

/// The largest frame decoded, in pixels (100 megapixels).
pub const MAX_PIXELS: u64 = 100_000_000;

/// The largest file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// File extensions `recognize` picks up in folders (lower case).
pub const EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::BadData {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads and decodes `path` (JPEG or PNG, told by its content) into one RGBA
/// frame.
pub fn decode_file(path: &Path) -> Result<Planes> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(bad(
            path,
            format!("file is over {MAX_FILE_BYTES} bytes; not decoded"),
        ));
    }
    decode_bytes(path, &bytes)
}

/// Decodes the bytes of an image file; `path` names it in errors.
pub fn decode_bytes(path: &Path, bytes: &[u8]) -> Result<Planes> {
    if bytes.is_empty() {
        return Err(bad(path, "empty file (0 bytes)"));
    }
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>> {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?;
        match reader.format() {
            Some(ImageFormat::Jpeg | ImageFormat::Png) => Ok(reader),
            Some(other) => Err(bad(
                path,
                format!("{other:?} images are not supported (JPEG and PNG are)"),
            )),
            None => Err(bad(path, "not a JPEG or PNG image")),
        }
    };
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|e| bad(path, format!("unreadable image header: {e}")))?;
    check_size(path, width, height)?;
    if reader()?.format() == Some(ImageFormat::Jpeg) && !has_jpeg_end(bytes) {
        // zune-jpeg fills a cut-off scan with grey instead of failing; a
        // half-grey frame would be "read" silently, so refuse it.
        return Err(bad(
            path,
            "truncated JPEG (no end-of-image marker); not decoded",
        ));
    }
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| bad(path, format!("cannot decode: {e}")))?;
    let rgb = image.into_rgb8();
    let data = rgb
        .pixels()
        .map(|p| pack_rgba(p[0], p[1], p[2], 255))
        .collect();
    Planes::new(rgb.width(), rgb.height(), 1, data).map_err(|e| bad(path, e.to_string()))
}

/// Refuses empty frames and frames over [`MAX_PIXELS`].
fn check_size(path: &Path, width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(bad(path, format!("image is {width}x{height}: no pixels")));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(bad(
            path,
            format!(
                "image header says {width}x{height}, over the {} megapixel limit; \
                 not decoded",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// True when a JPEG ends with its end-of-image marker (`FF D9`), allowing
/// for trailing bytes some cameras append (searched in the last 64 KiB).
fn has_jpeg_end(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 << 10)..];
    tail.windows(2).any(|w| w == [0xff, 0xd9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_bad_data() {
        let p = Path::new("x.jpg");
        assert!(matches!(decode_bytes(p, b""), Err(Error::BadData { .. })));
        let e = decode_bytes(p, b"hello, not an image").unwrap_err();
        assert!(e.to_string().contains("x.jpg"), "{e}");
    }

    #[test]
    fn sizes_are_checked_before_decoding() {
        let p = Path::new("big.png");
        assert!(check_size(p, 30_000, 30_000).is_err());
        assert!(check_size(p, 0, 10).is_err());
        assert!(check_size(p, 1920, 1080).is_ok());
    }
}
