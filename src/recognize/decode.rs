//! Files -> RGBA frames ([`Planes`] of one frame). Every failure is an
//! [`Error::BadData`] naming the file and the problem; the header is read and
//! the size checked before any pixel buffer is allocated, so a lying header
//! (30000x30000 in a few bytes) costs nothing.
//!
//! A photo is turned upright as its EXIF orientation says (a phone held
//! sideways stores its pixels sideways and says so in the tag), so plates
//! are read as a viewer shows them and boxes are in the upright picture's
//! pixels. A tag that cannot be read leaves the pixels as stored: they are
//! still the picture.

use std::io::{Cursor, Read};
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

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
/// frame, upright.
pub fn decode_file(path: &Path) -> Result<Planes> {
    to_planes(path, decode_image_file(path)?)
}

/// Decodes the bytes of an image file into one RGBA frame, upright; `path`
/// names it in errors.
pub fn decode_bytes(path: &Path, bytes: &[u8]) -> Result<Planes> {
    to_planes(path, decode_image(path, bytes)?)
}

/// Reads and decodes `path` (JPEG or PNG) as the `image` crate's picture,
/// upright, with [`decode_bytes`]'s checks.
pub fn decode_image_file(path: &Path) -> Result<DynamicImage> {
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
    decode_image(path, &bytes)
}

/// The picture in `bytes` (JPEG or PNG), upright as its EXIF orientation
/// says; `path` names it in errors.
pub fn decode_image(path: &Path, bytes: &[u8]) -> Result<DynamicImage> {
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
    reader.limits(limits.clone());
    let cannot = |e: image::ImageError| bad(path, format!("cannot decode: {e}"));
    let mut decoder = reader.into_decoder().map_err(cannot)?;
    limits.reserve(decoder.total_bytes()).map_err(cannot)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(cannot)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// One RGBA frame of a decoded picture.
fn to_planes(path: &Path, image: DynamicImage) -> Result<Planes> {
    let rgb = image.into_rgb8();
    let data = pack_pixels(rgb.as_raw());
    Planes::new(rgb.width(), rgb.height(), 1, data).map_err(|e| bad(path, e.to_string()))
}

/// RGB bytes packed as opaque RGBA words, compiled for AVX2 where the CPU
/// has it (the loop then moves 8 pixels at a time).
fn pack_pixels(rgb: &[u8]) -> Vec<u32> {
    #[inline(always)]
    fn pack(rgb: &[u8]) -> Vec<u32> {
        let mut out = vec![0u32; rgb.len() / 3];
        for (o, p) in out.iter_mut().zip(rgb.chunks_exact(3)) {
            *o = pack_rgba(p[0], p[1], p[2], 255);
        }
        out
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn pack_avx2(rgb: &[u8]) -> Vec<u32> {
        pack(rgb)
    }
    #[cfg(target_arch = "x86_64")]
    if crate::gpu::vectors::avx2() {
        // SAFETY: the CPU has AVX2 (`vectors::avx2`, just above).
        return unsafe { pack_avx2(rgb) };
    }
    pack(rgb)
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

    /// A little-endian TIFF block (EXIF's body) whose one tag is the
    /// orientation `value`.
    fn exif_orientation(value: u16) -> Vec<u8> {
        let mut t = b"II".to_vec();
        t.extend_from_slice(&42u16.to_le_bytes());
        t.extend_from_slice(&8u32.to_le_bytes()); // the first IFD
        t.extend_from_slice(&1u16.to_le_bytes()); // one entry:
        t.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation,
        t.extend_from_slice(&3u16.to_le_bytes()); // SHORT,
        t.extend_from_slice(&1u32.to_le_bytes()); // one of them,
        t.extend_from_slice(&value.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        t
    }

    /// A 3x2 PNG, each pixel its own grey (`10 * (x + 3 y)`), with `exif`.
    fn png_with_exif(exif: Vec<u8>) -> Vec<u8> {
        use image::ImageEncoder;
        let img = image::GrayImage::from_fn(3, 2, |x, y| image::Luma([10 * (x + 3 * y) as u8]));
        let mut out = Vec::new();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
        encoder.set_exif_metadata(exif).unwrap();
        encoder
            .write_image(&img, 3, 2, image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    fn greys(image: &DynamicImage) -> (u32, u32, Vec<u8>) {
        let g = image.to_luma8();
        (g.width(), g.height(), g.into_raw())
    }

    #[test]
    fn a_sideways_photo_is_turned_upright_as_its_exif_says() {
        let p = Path::new("sideways.png");
        // Stored:      Orientation 6 (turn 90 degrees clockwise to view):
        //   0 10 20      30  0
        //  30 40 50      40 10
        //                50 20
        let turned = decode_image(p, &png_with_exif(exif_orientation(6))).unwrap();
        assert_eq!(greys(&turned), (2, 3, vec![30, 0, 40, 10, 50, 20]));
        // 3: upside down; 1: as stored.
        let flipped = decode_image(p, &png_with_exif(exif_orientation(3))).unwrap();
        assert_eq!(greys(&flipped), (3, 2, vec![50, 40, 30, 20, 10, 0]));
        let stored = (3, 2, vec![0, 10, 20, 30, 40, 50]);
        let upright = decode_image(p, &png_with_exif(exif_orientation(1))).unwrap();
        assert_eq!(greys(&upright), stored);
        // The frame the reader gets is the upright one.
        let frame = decode_bytes(p, &png_with_exif(exif_orientation(6))).unwrap();
        assert_eq!((frame.width(), frame.height()), (2, 3));
    }

    #[test]
    fn an_unreadable_orientation_leaves_the_pixels_as_stored() {
        let p = Path::new("odd.png");
        let stored = (3, 2, vec![0, 10, 20, 30, 40, 50]);
        for exif in [
            b"not a TIFF block".to_vec(),
            exif_orientation(0),
            exif_orientation(99),
        ] {
            let image = decode_image(p, &png_with_exif(exif)).unwrap();
            assert_eq!(greys(&image), stored);
        }
    }

    #[test]
    fn sizes_are_checked_before_decoding() {
        let p = Path::new("big.png");
        assert!(check_size(p, 30_000, 30_000).is_err());
        assert!(check_size(p, 0, 10).is_err());
        assert!(check_size(p, 1920, 1080).is_ok());
    }
}
