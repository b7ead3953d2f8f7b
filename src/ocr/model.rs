//! The reader's network, its weights file, and its forward pass over a batch
//! of prepared crops on the GPU kernels or their CPU twins.
//!
//! ```text
//! [n][1][32][96] --conv 1->16, ReLU, pool--> [n][16][16][48]
//!   --conv 16->32, ReLU, pool--> [n][32][8][24] --conv 32->64, ReLU, pool--> [n][64][4][12]
//!   --conv 64->64, ReLU, pool--> [n][64][2][6] = 768 features
//!   --dense 768 -> 8 x 37--> logits --softmax per slot--> [n][8][37] probabilities
//! ```
//!
//! About 0.29 M parameters and 9.5 M multiply-adds (19 MFLOPs) per crop.
//!
//! # The weights file
//! `ocr.safetensors` ([safetensors](https://github.com/huggingface/safetensors):
//! an 8-byte little-endian header length, a JSON header naming each tensor's
//! dtype, shape and byte range, then the raw little-endian data). Every tensor
//! is `F32`:
//!
//! | name | shape | |
//! |---|---|---|
//! | `conv{k}.weight`, k = 1..=4 | `[cout, cin, 3, 3]` | batch norm already folded in |
//! | `conv{k}.bias` | `[cout]` | |
//! | `dense.weight` | `[768, 296]` | input-major: `w[i][o]` |
//! | `dense.bias` | `[296]` | output `slot * 37 + class` |
//!
//! The header's `__metadata__` holds `format` = `alpr-ocr`, `version` = `1`,
//! `height`, `width`, `slots` and `alphabet` (the 36 characters; class 36 is
//! "no character"); a file that disagrees with this build's network is
//! refused, naming the file.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::gpu::Gpu;
use crate::gpu::kernels::{conv2d, dense, maxpool, softmax_slots};
use crate::{Error, Result};

/// Height of a prepared crop, pixels.
pub const HEIGHT: u32 = 32;
/// Width of a prepared crop, pixels.
pub const WIDTH: u32 = 96;
/// Character slots read per plate.
pub const SLOTS: usize = 8;
/// The characters, by class; class [`PAD`] is "no character".
pub const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Classes per slot: the alphabet and the pad.
pub const CLASSES: usize = 37;
/// The "no character" class.
pub const PAD: usize = 36;
/// Output channels of the four convolutions.
pub const CHANNELS: [u32; 4] = [16, 32, 64, 64];
/// Values after the last pooling: 64 channels of 2 x 6.
pub const FEATURES: usize = 64 * 2 * 6;
/// Value of the `format` metadata key.
pub const FORMAT: &str = "alpr-ocr";
/// Value of the `version` metadata key this build reads and writes.
pub const VERSION: &str = "1";
/// The weights file's name inside a model folder.
pub const FILE_NAME: &str = "ocr.safetensors";

/// Crops per forward pass: bounds the activations' memory (about 200 KB a
/// crop after the first convolution).
pub const CHUNK: usize = 256;

/// The network's weights, batch norm folded in, laid out as the kernels
/// take them.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Per convolution: `[cout][cin][3][3]` then the biases.
    pub convs: Vec<Vec<f32>>,
    /// `[FEATURES][SLOTS * CLASSES]` then the biases.
    pub dense: Vec<f32>,
}

/// `(cin, cout)` of convolution `k` (0-based).
pub fn conv_channels(k: usize) -> (u32, u32) {
    let cin = if k == 0 { 1 } else { CHANNELS[k - 1] };
    (cin, CHANNELS[k])
}

/// Every tensor's name and shape, in file order.
pub fn tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for k in 0..CHANNELS.len() {
        let (cin, cout) = conv_channels(k);
        out.push((
            format!("conv{}.weight", k + 1),
            vec![cout as usize, cin as usize, 3, 3],
        ));
        out.push((format!("conv{}.bias", k + 1), vec![cout as usize]));
    }
    out.push(("dense.weight".into(), vec![FEATURES, SLOTS * CLASSES]));
    out.push(("dense.bias".into(), vec![SLOTS * CLASSES]));
    out
}

/// Parameters in the network (after folding).
pub fn parameter_count() -> usize {
    tensor_shapes()
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum()
}

/// Multiply-adds per crop.
pub fn multiply_adds() -> usize {
    let (mut w, mut h) = (WIDTH as usize, HEIGHT as usize);
    let mut total = 0;
    for k in 0..CHANNELS.len() {
        let (cin, cout) = conv_channels(k);
        total += w * h * cin as usize * cout as usize * 9;
        (w, h) = (w / 2, h / 2);
    }
    total + FEATURES * SLOTS * CLASSES
}

/// The metadata written into (and expected from) a weights file.
pub fn metadata() -> HashMap<String, String> {
    HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("height".to_string(), HEIGHT.to_string()),
        ("width".to_string(), WIDTH.to_string()),
        ("slots".to_string(), SLOTS.to_string()),
        (
            "alphabet".to_string(),
            String::from_utf8_lossy(ALPHABET).into_owned(),
        ),
    ])
}

impl Model {
    /// Reads a weights file.
    pub fn load(path: &Path) -> Result<Model> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Model::from_bytes(&bytes, path)
    }

    /// Parses a weights file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model> {
        let bad = |message: String| Error::BadData {
            path: path.to_path_buf(),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not an OCR weights file (safetensors): {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        for (key, want) in metadata() {
            match meta.get(&key) {
                Some(got) if *got == want => {}
                Some(got) => {
                    return Err(bad(format!(
                        "metadata {key} is {got:?}, this build's network needs {want:?}"
                    )));
                }
                None => return Err(bad(format!("metadata {key} is missing"))),
            }
        }
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not an OCR weights file (safetensors): {e}")))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let t = tensors
                .tensor(name)
                .map_err(|_| bad(format!("tensor {name} is missing")))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape {
                return Err(bad(format!(
                    "tensor {name} is {:?} {:?}, expected F32 {shape:?}",
                    t.dtype(),
                    t.shape()
                )));
            }
            let values: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "tensor {name} holds a non-finite value at {i}"
                )));
            }
            Ok(values)
        };
        let shapes = tensor_shapes();
        let mut convs = Vec::new();
        for pair in shapes[..2 * CHANNELS.len()].chunks(2) {
            let mut w = read(&pair[0].0, &pair[0].1)?;
            w.extend(read(&pair[1].0, &pair[1].1)?);
            convs.push(w);
        }
        let n = shapes.len();
        let mut dense = read(&shapes[n - 2].0, &shapes[n - 2].1)?;
        dense.extend(read(&shapes[n - 1].0, &shapes[n - 1].1)?);
        Ok(Model { convs, dense })
    }

    /// SHA-256 (hex) of the weights in their fixed order: the model's
    /// identity. (The file's bytes are not: its JSON header's key order
    /// varies from one export to the next.)
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for v in self.convs.iter().flatten().chain(&self.dense) {
            h.update(v.to_le_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The weights file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let shapes = tensor_shapes();
        let mut parts: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut push = |(name, shape): &(String, Vec<usize>), values: &[f32]| {
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            parts.push((name.clone(), shape.clone(), bytes));
        };
        for (k, w) in self.convs.iter().enumerate() {
            let (cin, cout) = conv_channels(k);
            let split = (cin * cout * 9) as usize;
            push(&shapes[2 * k], &w[..split]);
            push(&shapes[2 * k + 1], &w[split..]);
        }
        let split = FEATURES * SLOTS * CLASSES;
        let n = shapes.len();
        push(&shapes[n - 2], &self.dense[..split]);
        push(&shapes[n - 1], &self.dense[split..]);
        let views = parts
            .iter()
            .map(|(name, shape, bytes)| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| Error::bad_input(format!("exporting {name}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        safetensors::serialize(views, Some(metadata()))
            .map_err(|e| Error::bad_input(format!("exporting the OCR weights: {e}")))
    }

    /// Writes the weights file into `dir` (created if missing).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, self.to_bytes()?).map_err(|e| Error::io(&path, e))
    }

    /// Per-slot probabilities `[crops][SLOTS][CLASSES]` for prepared crops
    /// (`[crops][HEIGHT][WIDTH]`), on the GPU kernels where `gpu` is given,
    /// else on their CPU twins.
    pub fn forward(&self, gpu: Option<&Gpu>, input: &[f32]) -> Result<Vec<f32>> {
        let per_crop = (HEIGHT * WIDTH) as usize;
        if !input.len().is_multiple_of(per_crop) {
            return Err(Error::bad_input(format!(
                "OCR input of {} values is not whole {WIDTH}x{HEIGHT} crops",
                input.len()
            )));
        }
        let mut out = Vec::with_capacity(input.len() / per_crop * SLOTS * CLASSES);
        for chunk in input.chunks(CHUNK * per_crop) {
            out.extend(self.forward_chunk(gpu, chunk, (chunk.len() / per_crop) as u32)?);
        }
        Ok(out)
    }

    fn forward_chunk(&self, gpu: Option<&Gpu>, input: &[f32], crops: u32) -> Result<Vec<f32>> {
        let (mut w, mut h) = (WIDTH, HEIGHT);
        let mut x = input.to_vec();
        for (k, weights) in self.convs.iter().enumerate() {
            let (cin, cout) = conv_channels(k);
            let conv = conv2d::Params::new(w, h, cin, cout, crops, true);
            x = match gpu {
                Some(gpu) => conv2d::dispatch(gpu, &conv, &x, weights)?,
                None => conv2d::cpu(&conv, &x, weights)?,
            };
            let pool = maxpool::Params::new(w, h, crops * cout);
            x = match gpu {
                Some(gpu) => maxpool::dispatch(gpu, &pool, &x)?,
                None => maxpool::cpu(&pool, &x)?,
            };
            (w, h) = pool.out_size();
        }
        let fc = dense::Params::new(FEATURES as u32, (SLOTS * CLASSES) as u32, crops, false);
        let logits = match gpu {
            Some(gpu) => dense::dispatch(gpu, &fc, &x, &self.dense)?,
            None => dense::cpu(&fc, &x, &self.dense)?,
        };
        let soft = softmax_slots::Params::new(SLOTS as u32, CLASSES as u32, crops);
        match gpu {
            Some(gpu) => softmax_slots::dispatch(gpu, &soft, &logits),
            None => softmax_slots::cpu(&soft, &logits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model of deterministic small weights.
    pub(crate) fn toy() -> Model {
        let shapes = tensor_shapes();
        let fill = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f32 / 1000.0 - 0.5) * 0.2)
                .collect()
        };
        let mut convs = Vec::new();
        for k in 0..CHANNELS.len() {
            let n = shapes[2 * k].1.iter().product::<usize>() + shapes[2 * k + 1].1[0];
            convs.push(fill(n, k));
        }
        let dense = fill((FEATURES + 1) * SLOTS * CLASSES, 9);
        Model { convs, dense }
    }

    #[test]
    fn the_network_is_small() {
        assert!(parameter_count() < 1_000_000, "{}", parameter_count());
        assert_eq!(
            FEATURES,
            CHANNELS[3] as usize * (HEIGHT as usize >> 4) * (WIDTH as usize >> 4)
        );
        assert_eq!(ALPHABET.len() + 1, CLASSES);
    }

    #[test]
    fn weights_round_trip_through_the_file_format() {
        let model = toy();
        let bytes = model.to_bytes().unwrap();
        let back = Model::from_bytes(&bytes, Path::new("x.safetensors")).unwrap();
        assert_eq!(back, model);
    }

    #[test]
    fn forward_gives_a_distribution_per_slot() {
        let model = toy();
        let input: Vec<f32> = (0..2 * HEIGHT * WIDTH)
            .map(|i| ((i % 17) as f32 - 8.0) / 8.0)
            .collect();
        let probs = model.forward(None, &input).unwrap();
        assert_eq!(probs.len(), 2 * SLOTS * CLASSES);
        for slot in probs.chunks(CLASSES) {
            assert!((slot.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
}
