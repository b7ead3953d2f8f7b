//! Reading a plate crop's characters: a small CNN the project trains itself
//! on synthetic plates, run on the GPU kernels or their CPU twins, then
//! decoded into the best text and its alternates. Finding plates in frames
//! is [`crate::recognize`]'s job; the kernels and the device are
//! [`crate::gpu`]'s.
//!
//! ```text
//! crops (any size, gray) --prep: each of `views` cuts (prep::VIEWS), resize
//!   96x32, standardise--> [n * views][32][96]
//!   --model::forward (GPU kernels or CPU twins)--> [n * views][24 columns][37 classes]
//!   --decode: CTC prefix beam search per view, probabilities pooled over a
//!   crop's views, format prior, top-10--> PlateRead per crop
//! ```
//!
//! The network reads the whole crop without segmenting characters: each of
//! its 24 columns is a distribution over `0-9A-Z` and a blank, and a text's
//! probability sums every way of laying it over the columns (CTC, as in
//! CRNN text readers; [`ctc`]). The weights live in `models/ocr-v2/` (see
//! its `MODEL_CARD.md`) and are embedded in the binary; `train` (feature
//! `train`) rebuilds them.

#[cfg(feature = "train")]
pub mod backprop;
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

/// Views the commands read a plate in unless told otherwise: pooling five
/// reads 7 points more us-dev photos right than one (README), and
/// [`crate::recognize::PlateReader`] spends them on each frame's best
/// boxes only.
pub const DEFAULT_VIEWS: usize = 5;

/// The weights shipped with this build.
const EMBEDDED: &[u8] = include_bytes!("../../models/ocr-v2/ocr.safetensors");

/// A loaded reader.
#[derive(Clone, Debug)]
pub struct Reader {
    model: Model,
    /// How many of [`prep::VIEWS`] each crop is read in.
    views: usize,
}

impl Reader {
    /// The reader whose weights are in `dir` (`dir/ocr.safetensors`).
    pub fn load(dir: &Path) -> Result<Reader> {
        Ok(Reader::from_model(Model::load(
            &dir.join(model::FILE_NAME),
        )?))
    }

    /// The reader shipped with this build (`models/ocr-v2`).
    pub fn embedded() -> Result<Reader> {
        Ok(Reader::from_model(Model::from_bytes(
            EMBEDDED,
            Path::new("models/ocr-v2/ocr.safetensors"),
        )?))
    }

    /// A reader around weights already in memory, reading one view.
    pub fn from_model(model: Model) -> Reader {
        Reader { model, views: 1 }
    }

    /// The same reader reading each crop in the first `views` of
    /// [`prep::VIEWS`] and pooling them ([`decode::decode_views`]): more
    /// views read more plates right, and cost a network pass each.
    pub fn with_views(self, views: usize) -> Result<Reader> {
        if !(1..=prep::VIEWS.len()).contains(&views) {
            return Err(crate::Error::bad_input(format!(
                "views must be 1 to {}, not {views}",
                prep::VIEWS.len()
            )));
        }
        Ok(Reader { views, ..self })
    }

    /// How many views of each crop are read.
    pub fn views(&self) -> usize {
        self.views
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Reads every crop in [`Reader::views`] views: one [`PlateRead`] each,
    /// in order, with up to [`TOP_K`] candidates. Runs on the GPU kernels
    /// where `gpu` is given.
    pub fn read_batch(&self, gpu: Option<&Gpu>, crops: &[GrayImage]) -> Result<Vec<PlateRead>> {
        self.read_batch_in(gpu, crops, self.views)
    }

    /// [`Reader::read_batch`] in the first `views` views, at least one and
    /// at most [`Reader::views`] (a cheaper first look).
    pub fn read_batch_in(
        &self,
        gpu: Option<&Gpu>,
        crops: &[GrayImage],
        views: usize,
    ) -> Result<Vec<PlateRead>> {
        let views = &prep::VIEWS[..views.clamp(1, self.views)];
        let input: Vec<f32> = crops
            .par_iter()
            .flat_map_iter(|crop| views.iter().flat_map(|v| prep::prepare_view(crop, v)))
            .collect();
        let probs = self.model.forward(gpu, &input)?;
        let one = model::COLUMNS * model::CLASSES;
        Ok(probs
            .par_chunks(one * views.len())
            .map(|p| decode::decode_views(&p.chunks(one).collect::<Vec<_>>(), TOP_K))
            .collect())
    }
}
