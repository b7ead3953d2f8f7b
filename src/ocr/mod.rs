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
//!   crop's views, format prior of the crop's family (its outline: US or
//!   European), top-10--> PlateRead per crop
//! (below `sure` < 1: every crop in the first view, then only the crops it
//!  read less sure than that in the others)
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
#[cfg(feature = "train")]
pub mod checkpoint;
pub mod ctc;
pub mod decode;
#[cfg(feature = "train")]
pub mod machine;
pub mod model;
pub mod prep;
#[cfg(feature = "train")]
pub mod random_filter;
#[cfg(feature = "train")]
pub mod train;

use std::path::Path;

use image::GrayImage;
use rayon::prelude::*;

use crate::Result;
use crate::gpu::Gpu;
use crate::plate::formats::Family;

pub use decode::{Candidate, PlateRead, TOP_K};
pub use model::Model;

/// Views the commands read a plate in unless told otherwise: pooling five
/// reads 7 points more us-dev photos right than one (README), and
/// [`crate::recognize::PlateReader`] spends them on each frame's best
/// boxes only.
pub const DEFAULT_VIEWS: usize = 5;

/// How sure a crop's first view must read for the reader to leave its
/// other views unread, unless told otherwise: 1, every crop in every view.
/// Read with 0.9, over half of all crops skip four of five passes, at a
/// plate or so in a thousand (`models/ocr-v2/RUNS.md`, "Sure crops read once").
pub const DEFAULT_SURE: f32 = 1.0;

/// The weights shipped with this build.
const EMBEDDED: &[u8] = include_bytes!("../../models/ocr-v2/ocr.safetensors");

/// A loaded reader.
#[derive(Clone, Debug)]
pub struct Reader {
    model: Model,
    /// How many of [`prep::VIEWS`] each crop is read in, at most.
    views: usize,
    /// A crop whose first view reads at least this sure is not read in the
    /// others; 1 reads every crop in every view.
    sure: f32,
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
        Reader {
            model,
            views: 1,
            sure: DEFAULT_SURE,
        }
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

    /// The same reader reading a crop in its other views only where its
    /// first view reads less sure than `sure` (0 to 1; 1: every crop in
    /// every view).
    pub fn with_sure(self, sure: f32) -> Result<Reader> {
        if !(0.0..=1.0).contains(&sure) {
            return Err(crate::Error::bad_input(format!(
                "sure must be 0 to 1, not {sure}"
            )));
        }
        Ok(Reader { sure, ..self })
    }

    /// How many views of each crop are read, at most.
    pub fn views(&self) -> usize {
        self.views
    }

    /// How sure a first view must read to leave the others unread.
    pub fn sure(&self) -> f32 {
        self.sure
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Reads every crop in up to [`Reader::views`] views: one [`PlateRead`]
    /// each, in order, with up to [`TOP_K`] candidates. Runs on the GPU
    /// kernels where `gpu` is given.
    pub fn read_batch(&self, gpu: Option<&Gpu>, crops: &[GrayImage]) -> Result<Vec<PlateRead>> {
        self.read_batch_in(gpu, crops, self.views)
    }

    /// [`Reader::read_batch`] in the first `views` views, at least one and
    /// at most [`Reader::views`] (a cheaper first look). Every crop is read
    /// in the first view; those read less sure than [`Reader::sure`] in the
    /// others too, and their views pooled ([`decode::decode_views`]). A
    /// crop's read does not depend on the other crops of the batch.
    pub fn read_batch_in(
        &self,
        gpu: Option<&Gpu>,
        crops: &[GrayImage],
        views: usize,
    ) -> Result<Vec<PlateRead>> {
        let views = &prep::VIEWS[..views.clamp(1, self.views)];
        let families: Vec<Family> = crops
            .iter()
            .map(|c| Family::of_size(c.width(), c.height()))
            .collect();
        if views.len() == 1 || self.sure >= 1.0 {
            let probs = self.forward_views(gpu, crops.par_iter(), views)?;
            return Ok(decode_crops(&probs, views.len(), &families));
        }
        let first = self.forward_views(gpu, crops.par_iter(), &views[..1])?;
        let mut reads = decode_crops(&first, 1, &families);
        let unsure: Vec<usize> = (0..crops.len())
            .filter(|&i| reads[i].confidence < self.sure)
            .collect();
        let rest = self.forward_views(gpu, unsure.par_iter().map(|&i| &crops[i]), &views[1..])?;
        let one = model::COLUMNS * model::CLASSES;
        let pooled = unsure
            .par_iter()
            .zip(rest.par_chunks(one * (views.len() - 1)))
            .map(|(&i, others)| {
                let mut all = vec![&first[i * one..(i + 1) * one]];
                all.extend(others.chunks(one));
                decode::decode_views(&all, TOP_K, families[i])
            })
            .collect::<Vec<_>>();
        for (i, read) in unsure.into_iter().zip(pooled) {
            reads[i] = read;
        }
        Ok(reads)
    }

    /// The network's probabilities for `views` of each crop, crop by crop.
    fn forward_views<'a>(
        &self,
        gpu: Option<&Gpu>,
        crops: impl IndexedParallelIterator<Item = &'a GrayImage>,
        views: &[prep::View],
    ) -> Result<Vec<f32>> {
        let per_view = (model::HEIGHT * model::WIDTH) as usize;
        let mut input = vec![0.0f32; crops.len() * views.len() * per_view];
        input
            .par_chunks_mut(views.len() * per_view)
            .zip(crops)
            .for_each(|(out, crop)| {
                for (out, view) in out.chunks_mut(per_view).zip(views) {
                    out.copy_from_slice(&prep::prepare_view(crop, view));
                }
            });
        self.model.forward(gpu, &input)
    }
}

/// Each crop's read from its `views` views' probabilities, pooled, with
/// the formats of its family.
fn decode_crops(probs: &[f32], views: usize, families: &[Family]) -> Vec<PlateRead> {
    let one = model::COLUMNS * model::CLASSES;
    probs
        .par_chunks(one * views)
        .zip(families)
        .map(|(p, &family)| decode::decode_views(&p.chunks(one).collect::<Vec<_>>(), TOP_K, family))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth_plates::PlateSynth;

    fn crops(n: u64) -> Vec<GrayImage> {
        let synth = PlateSynth::new().unwrap();
        (0..n)
            .map(|i| prep::grey(&synth.sample(77, i).image))
            .collect()
    }

    /// A crop read sure in its first view keeps that read; the others are
    /// read in every view and pooled, whatever else is in the batch.
    #[test]
    fn only_crops_read_unsure_are_read_in_every_view() {
        let crops = crops(40);
        let reader = Reader::embedded().unwrap();
        let once = reader.read_batch(None, &crops).unwrap();
        let five = reader.clone().with_views(5).unwrap();
        let every = five.read_batch(None, &crops).unwrap();
        assert_eq!(five.sure(), 1.0, "every view unless told otherwise");
        let none = five
            .clone()
            .with_sure(0.0)
            .unwrap()
            .read_batch(None, &crops);
        assert_eq!(none.unwrap(), once);
        let five = five.with_sure(0.9).unwrap();
        let adaptive = five.read_batch(None, &crops).unwrap();
        let sure = |r: &PlateRead| r.confidence >= 0.9;
        assert!(once.iter().any(sure) && !once.iter().all(sure));
        for i in 0..crops.len() {
            let want = if sure(&once[i]) { &once[i] } else { &every[i] };
            assert_eq!(&adaptive[i], want, "crop {i}");
        }
        let alone = five.read_batch(None, &crops[3..4]).unwrap();
        assert_eq!(alone[0], adaptive[3]);
    }

    #[test]
    fn sure_is_a_probability() {
        let reader = Reader::embedded().unwrap();
        assert!(reader.clone().with_sure(1.5).is_err());
        assert!(reader.clone().with_sure(-0.1).is_err());
        assert_eq!(reader.with_sure(0.5).unwrap().sure(), 0.5);
    }
}
