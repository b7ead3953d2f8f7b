//! The seam between ingest and recognition: a [`FrameReader`] turns frames
//! into the plates it read in each, with box, text, alternates,
//! per-character confidence and a JPEG crop. Ingest depends on this trait
//! only, so the pipeline (archives, video, ledger, passes) is the same
//! whichever localiser and reader sit behind it.

use std::io::Cursor;

use image::{RgbImage, codecs::jpeg::JpegEncoder};

use super::detect::PlateBox;
use crate::Result;
use crate::gpu::Planes;

/// One plate read in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPlate {
    /// Where, in the frame's pixels.
    pub bbox: PlateBox,
    /// Best read, normalised.
    pub text: String,
    pub confidence: f32,
    /// Runners-up, best first (the best read not repeated).
    pub alternates: Vec<(String, f32)>,
    pub char_confidence: Vec<f32>,
    /// The plate's likely issuer (e.g. `CA`), when its style tells.
    pub region: Option<String>,
    /// The plate region as a JPEG.
    pub crop_jpeg: Vec<u8>,
}

/// Reads plates in frames.
pub trait FrameReader: Send + Sync {
    /// Recorded with every read and keyed in the ingest ledger: a new
    /// version is what `--reprocess` re-reads for.
    fn model_version(&self) -> String;

    /// The plates of each of `frames` (one-frame [`Planes`]), best first.
    fn read(&self, frames: &[&Planes]) -> Result<Vec<Vec<FoundPlate>>>;

    /// Whether reading spends its time on the CPU's cores (ingest then
    /// gives it cores of its own beside decoding's) rather than a GPU's.
    fn on_cpu(&self) -> bool {
        true
    }
}

/// The pixels of `bbox` (clamped to the frame) of a one-frame `frame`, as
/// JPEG at `quality`.
pub fn crop_jpeg(frame: &Planes, bbox: &PlateBox, quality: u8) -> Vec<u8> {
    let (fw, fh) = (frame.width(), frame.height());
    let x0 = bbox.x.min(fw.saturating_sub(1));
    let y0 = bbox.y.min(fh.saturating_sub(1));
    let w = bbox.w.clamp(1, fw - x0);
    let h = bbox.h.clamp(1, fh - y0);
    let px = frame.plane(0);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let [r, g, b, _] = px[((y0 + y) * fw + x0 + x) as usize].to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = Vec::new();
    let _ = JpegEncoder::new_with_quality(Cursor::new(&mut out), quality).encode_image(&img);
    out
}
