//! Reading a plate crop's characters: a small CNN the project trains itself
//! on synthetic plates, run on the GPU kernels or their CPU twins, then
//! decoded into the best text and its alternates. Finding plates in frames
//! is [`crate::recognize`]'s job; the kernels and the device are
//! [`crate::gpu`]'s.
//!
//! ```text
//! crops (any size, gray) --prep: resize 96x32, standardise--> [n][32][96]
//!   --model::forward (GPU kernels or CPU twins)--> [n][24 columns][37 classes]
//!   --decode: CTC prefix beam search, format prior, top-10--> PlateRead per crop
//! ```
//!
//! The network reads the whole crop without segmenting characters: each of
//! its 24 columns is a distribution over `0-9A-Z` and a blank, and a text's
//! probability sums every way of laying it over the columns (CTC, as in
//! CRNN text readers; [`ctc`]). The weights live in `models/ocr-v2/` (see
//! its `MODEL_CARD.md`) and are embedded in the binary; `train` (feature
//! `train`) rebuilds them.

pub mod ctc;
pub mod decode;
pub mod model;
pub mod prep;
#[cfg(feature = "train")]
pub mod train;

use std::path::Path;

use image::GrayImage;
use rayon::prelude::*;

use crate::Result;
use crate::gpu::Gpu;

pub use decode::{Candidate, PlateRead, TOP_K};
pub use model::Model;

/// The weights shipped with this build.
const EMBEDDED: &[u8] = include_bytes!("../../models/ocr-v2/ocr.safetensors");

/// A loaded reader.
#[derive(Clone, Debug)]
pub struct Reader {
    model: Model,
}

impl Reader {
    /// The reader whose weights are in `dir` (`dir/ocr.safetensors`).
    pub fn load(dir: &Path) -> Result<Reader> {
        Ok(Reader {
            model: Model::load(&dir.join(model::FILE_NAME))?,
        })
    }

    /// The reader shipped with this build (`models/ocr-v2`).
    pub fn embedded() -> Result<Reader> {
        Ok(Reader {
            model: Model::from_bytes(EMBEDDED, Path::new("models/ocr-v2/ocr.safetensors"))?,
        })
    }

    /// A reader around weights already in memory.
    pub fn from_model(model: Model) -> Reader {
        Reader { model }
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Reads every crop: one [`PlateRead`] each, in order, with up to
    /// [`TOP_K`] candidates. Runs on the GPU kernels where `gpu` is given.
    pub fn read_batch(&self, gpu: Option<&Gpu>, crops: &[GrayImage]) -> Result<Vec<PlateRead>> {
        let input: Vec<f32> = crops.par_iter().flat_map_iter(prep::prepare).collect();
        let probs = self.model.forward(gpu, &input)?;
        Ok(probs
            .par_chunks(model::COLUMNS * model::CLASSES)
            .map(|p| decode::decode(p, TOP_K))
            .collect())
    }
}
