//! The reader's network, its weights file, and its forward pass over a batch
//! of prepared crops on the GPU kernels or their CPU twins.
//!
//! A CNN that keeps the crop's width as a sequence (a CRNN without the
//! recurrence): it pools the height away and reads each of 24 columns, 4
//! pixels apart, as a distribution over the characters and a blank, which
//! [`crate::ocr::decode`] turns into texts as CTC does (repeats merged,
//! blanks dropped). Column `x` sees about 34 pixels of the 96-pixel-wide
//! crop around it: about three characters.
//!
//! ```text
//! [n][1][32][96] --conv 1->16, ReLU, pool 2x2--> [n][16][16][48]
//!   --conv 16->32, ReLU, pool 2x2--> [n][32][8][24]
//!   --conv 32->64, ReLU, pool 2x1 (rows only)--> [n][64][4][24]
//!   --conv 64->64, ReLU, pool 2x1--> [n][64][2][24]
//!   --conv 64->64, ReLU--> [n][64][2][24] --columns--> [n][24][128]
//!   --dense 128 -> 37 per column--> logits --softmax per column--> [n][24][37]
//! ```
//!
//! About 0.12 M parameters and 13 M multiply-adds (26 MFLOPs) per crop.
//!
//! # The weights file
//! `ocr.safetensors` ([safetensors](https://github.com/huggingface/safetensors):
//! an 8-byte little-endian header length, a JSON header naming each tensor's
//! dtype, shape and byte range, then the raw little-endian data). Every tensor
//! is `F32`:
//!
//! | name | shape | |
//! |---|---|---|
//! | `conv{k}.weight`, k = 1..=5 | `[cout, cin, 3, 3]` | batch norm already folded in |
//! | `conv{k}.bias` | `[cout]` | |
//! | `dense.weight` | `[128, 37]` | input-major: `w[i][o]`, input `channel * 2 + row` |
//! | `dense.bias` | `[37]` | class; class 36 is the blank |
//!
//! The header's `__metadata__` holds `format` = `alpr-ocr`, `version` = `2`,
//! `height`, `width`, `columns` and `alphabet` (the 36 characters; class 36
//! is the blank); a file that disagrees with this build's network is
//! refused, naming the file. (Version 1 was a fixed-slot reader: a dense
//! layer from the whole crop to 8 character slots.)

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::gpu::Gpu;
use crate::gpu::kernels::{conv2d, dense, maxpool, softmax_slots};
use crate::store::durable;
use crate::{Error, Result};

/// Height of a prepared crop, pixels.
pub const HEIGHT: u32 = 32;
/// Width of a prepared crop, pixels.
pub const WIDTH: u32 = 96;
/// Columns read per plate: one every 4 pixels of the prepared crop.
pub const COLUMNS: usize = 24;
/// The characters, by class; class [`BLANK`] is CTC's blank.
pub const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Classes per column: the alphabet and the blank.
pub const CLASSES: usize = 37;
/// The blank class: no new character in this column.
pub const BLANK: usize = 36;
/// Each convolution's output channels and the pooling after it.
pub const LAYERS: [(u32, Pool); 5] = [
    (16, Pool::Square),
    (32, Pool::Square),
    (64, Pool::Rows),
    (64, Pool::Rows),
    (64, Pool::None),
];
/// Rows left after the last layer.
pub const ROWS: usize = 2;
/// Values per column after the last layer: its channels times [`ROWS`].
pub const FEATURES: usize = 64 * ROWS;
/// Value of the `format` metadata key.
pub const FORMAT: &str = "alpr-ocr";
/// Value of the `version` metadata key this build reads and writes.
pub const VERSION: &str = "2";
/// The weights file's name inside a model folder.
pub const FILE_NAME: &str = "ocr.safetensors";

/// Crops per forward pass on the GPU: bounds the activations' memory
/// (about 200 KB a crop after the first convolution).
pub const CHUNK: usize = 256;

/// The pooling after a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// 2x2 max, stride 2: halves width and height.
    Square,
    /// 2x1 max over pairs of rows: halves the height, keeps the width.
    Rows,
    /// None.
    None,
}

/// The network's weights, batch norm folded in, laid out as the kernels
/// take them.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Per convolution: `[cout][cin][3][3]` then the biases.
    pub convs: Vec<Vec<f32>>,
    /// `[FEATURES][CLASSES]` then the biases.
    pub dense: Vec<f32>,
}

/// `(cin, cout)` of convolution `k` (0-based).
pub fn conv_channels(k: usize) -> (u32, u32) {
    let cin = if k == 0 { 1 } else { LAYERS[k - 1].0 };
    (cin, LAYERS[k].0)
}

/// Every tensor's name and shape, in file order.
pub fn tensor_shapes() -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for k in 0..LAYERS.len() {
        let (cin, cout) = conv_channels(k);
        out.push((
            format!("conv{}.weight", k + 1),
            vec![cout as usize, cin as usize, 3, 3],
        ));
        out.push((format!("conv{}.bias", k + 1), vec![cout as usize]));
    }
    out.push(("dense.weight".into(), vec![FEATURES, CLASSES]));
    out.push(("dense.bias".into(), vec![CLASSES]));
    out
}

/// Parameters in the network (after folding).
pub fn parameter_count() -> usize {
    tensor_shapes()
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum()
}

/// The `(width, height)` after `pool` of a `(w, h)` plane.
pub fn pooled(pool: Pool, (w, h): (u32, u32)) -> (u32, u32) {
    match pool {
        Pool::Square => (w / 2, h / 2),
        Pool::Rows => (w, h / 2),
        Pool::None => (w, h),
    }
}

/// Multiply-adds per crop.
pub fn multiply_adds() -> usize {
    let mut size = (WIDTH, HEIGHT);
    let mut total = 0;
    for (k, &(_, pool)) in LAYERS.iter().enumerate() {
        let (cin, cout) = conv_channels(k);
        total += (size.0 * size.1 * cin * cout * 9) as usize;
        size = pooled(pool, size);
    }
    total + COLUMNS * FEATURES * CLASSES
}

/// The metadata written into (and expected from) a weights file.
pub fn metadata() -> HashMap<String, String> {
    HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("height".to_string(), HEIGHT.to_string()),
        ("width".to_string(), WIDTH.to_string()),
        ("columns".to_string(), COLUMNS.to_string()),
        (
            "alphabet".to_string(),
            String::from_utf8_lossy(ALPHABET).into_owned(),
        ),
    ])
}

/// Tensor `name` of a safetensors file as F32 values, checked for its
/// dtype, its shape and finite values; the error says what is wrong.
pub(crate) fn read_f32(
    tensors: &SafeTensors,
    name: &str,
    shape: &[usize],
) -> std::result::Result<Vec<f32>, String> {
    let t = tensors
        .tensor(name)
        .map_err(|_| format!("tensor {name} is missing"))?;
    if t.dtype() != Dtype::F32 || t.shape() != shape {
        return Err(format!(
            "tensor {name} is {:?} {:?}, expected F32 {shape:?}",
            t.dtype(),
            t.shape()
        ));
    }
    let values: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("tensor {name} holds a non-finite value at {i}"));
    }
    Ok(values)
}

/// A safetensors file's bytes: F32 tensors (name, shape, values) and
/// `metadata`, the header's keys in order, so that the same tensors and
/// metadata always give the same bytes (the `safetensors` crate writes the
/// metadata in its hash map's order, which changes from run to run).
pub(crate) fn write_f32(
    tensors: &[(String, Vec<usize>, &[f32])],
    metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::bad_input(format!("exporting {name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::bad_input(format!("writing tensors: {e}")))?;
    keys_in_order(bytes)
}

/// `bytes` of a safetensors file with its header rewritten, keys sorted
/// (top level and each object in it): the same header, padded with spaces
/// to a multiple of 8 bytes as the format asks, then the same data.
fn keys_in_order(bytes: Vec<u8>) -> Result<Vec<u8>> {
    use std::collections::BTreeMap;
    let bad = |e: serde_json::Error| Error::bad_input(format!("ordering the tensors' header: {e}"));
    let len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .filter(|&len| bytes.len() >= 8 + len)
        .ok_or_else(|| Error::bad_input("ordering the tensors' header: no header"))?;
    // Every top-level value is an object: the metadata, and each tensor's
    // dtype, shape and offsets; both levels are read into ordered maps.
    let sorted: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
        serde_json::from_slice(&bytes[8..8 + len]).map_err(bad)?;
    let mut json = serde_json::to_vec(&sorted).map_err(bad)?;
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - len);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + len..]);
    Ok(out)
}

/// `[crops][channels][ROWS][COLUMNS]` -> `[crops][COLUMNS][channels * ROWS]`:
/// each column's values together, as the dense layer reads a row.
pub fn to_columns(x: &[f32]) -> Vec<f32> {
    let per_crop = FEATURES * COLUMNS;
    let mut out = vec![0.0; x.len()];
    for (src, dst) in x.chunks(per_crop).zip(out.chunks_mut(per_crop)) {
        for (f, plane) in src.chunks(COLUMNS).enumerate() {
            for (col, &v) in plane.iter().enumerate() {
                dst[col * FEATURES + f] = v;
            }
        }
    }
    out
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
        let read = |name: &str, shape: &[usize]| read_f32(&tensors, name, shape).map_err(&bad);
        let shapes = tensor_shapes();
        let mut convs = Vec::new();
        for pair in shapes[..2 * LAYERS.len()].chunks(2) {
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

    /// The mean of several models' weights, tensor by tensor: a "model
    /// soup" (Wortsman et al. 2022). Meaningful only for models continued
    /// from one set of weights, which stay in one basin; readers trained
    /// apart average to noise.
    pub fn average(models: &[Model]) -> Result<Model> {
        let Some(first) = models.first() else {
            return Err(Error::bad_input("no weights to average"));
        };
        let n = models.len() as f32;
        let mean = |pick: &dyn Fn(&Model) -> &[f32]| -> Vec<f32> {
            let mut sum = vec![0.0f32; pick(first).len()];
            for m in models {
                for (s, v) in sum.iter_mut().zip(pick(m)) {
                    *s += v;
                }
            }
            sum.iter().map(|s| s / n).collect()
        };
        Ok(Model {
            convs: (0..first.convs.len())
                .map(|k| mean(&|m| &m.convs[k]))
                .collect(),
            dense: mean(&|m| &m.dense),
        })
    }

    /// The weights file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let shapes = tensor_shapes();
        let split = FEATURES * CLASSES;
        let mut values: Vec<&[f32]> = Vec::with_capacity(shapes.len());
        for (k, w) in self.convs.iter().enumerate() {
            let (cin, cout) = conv_channels(k);
            let (weights, biases) = w.split_at((cin * cout * 9) as usize);
            values.extend([weights, biases]);
        }
        values.extend([&self.dense[..split], &self.dense[split..]]);
        let parts: Vec<(String, Vec<usize>, &[f32])> = shapes
            .into_iter()
            .zip(values)
            .map(|((name, shape), v)| (name, shape, v))
            .collect();
        write_f32(&parts, metadata())
    }

    /// Writes the weights file into `dir` (created if missing), staged,
    /// fsynced and renamed into place: a training run killed while it
    /// saves keeps its previous weights, never half a file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        durable::write_atomic(&dir.join(FILE_NAME), &self.to_bytes()?)
    }

    /// Per-column probabilities `[crops][COLUMNS][CLASSES]` for prepared
    /// crops (`[crops][HEIGHT][WIDTH]`), on the GPU kernels where `gpu` is
    /// given, else on their CPU twins.
    pub fn forward(&self, gpu: Option<&Gpu>, input: &[f32]) -> Result<Vec<f32>> {
        let per_crop = (HEIGHT * WIDTH) as usize;
        if !input.len().is_multiple_of(per_crop) {
            return Err(Error::bad_input(format!(
                "OCR input of {} values is not whole {WIDTH}x{HEIGHT} crops",
                input.len()
            )));
        }
        let Some(gpu) = gpu else {
            return self.forward_cpu(input);
        };
        let mut out = Vec::with_capacity(input.len() / per_crop * COLUMNS * CLASSES);
        for chunk in input.chunks(CHUNK * per_crop) {
            out.extend(self.forward_chunk(Some(gpu), chunk, (chunk.len() / per_crop) as u32)?);
        }
        Ok(out)
    }

    /// [`Model::forward`] on the CPU twins, one crop a rayon task through
    /// every layer: a crop's activations (at most about 200 KB) stay in the
    /// core's cache, where a whole chunk's, layer by layer, go out to memory.
    /// Each twin treats crops independently, so the values are those of a
    /// batched pass bit for bit.
    fn forward_cpu(&self, input: &[f32]) -> Result<Vec<f32>> {
        let per_crop = (HEIGHT * WIDTH) as usize;
        let mut out = vec![0.0f32; input.len() / per_crop * COLUMNS * CLASSES];
        out.par_chunks_mut(COLUMNS * CLASSES)
            .zip(input.par_chunks(per_crop))
            .try_for_each(|(out, crop)| -> Result<()> {
                out.copy_from_slice(&self.forward_chunk(None, crop, 1)?);
                Ok(())
            })?;
        Ok(out)
    }

    fn forward_chunk(&self, gpu: Option<&Gpu>, input: &[f32], crops: u32) -> Result<Vec<f32>> {
        let mut size = (WIDTH, HEIGHT);
        let mut x = input.to_vec();
        for (k, weights) in self.convs.iter().enumerate() {
            let (cin, cout) = conv_channels(k);
            let conv = conv2d::Params::new(size.0, size.1, cin, cout, crops, true);
            x = match gpu {
                Some(gpu) => conv2d::dispatch(gpu, &conv, &x, weights)?,
                None => conv2d::cpu(&conv, &x, weights)?,
            };
            let pool = match LAYERS[k].1 {
                Pool::Square => maxpool::Params::new(size.0, size.1, crops * cout),
                Pool::Rows => maxpool::Params::rows(size.0, size.1, crops * cout),
                Pool::None => continue,
            };
            x = match gpu {
                Some(gpu) => maxpool::dispatch(gpu, &pool, &x)?,
                None => maxpool::cpu(&pool, &x)?,
            };
            size = pool.out_size();
        }
        debug_assert_eq!(size, (COLUMNS as u32, ROWS as u32));
        // The activations come back from each kernel anyway; regrouping them
        // by column is a copy, not arithmetic.
        let columns = to_columns(&x);
        let rows = crops * COLUMNS as u32;
        let fc = dense::Params::new(FEATURES as u32, CLASSES as u32, rows, false);
        let logits = match gpu {
            Some(gpu) => dense::dispatch(gpu, &fc, &columns, &self.dense)?,
            None => dense::cpu(&fc, &columns, &self.dense)?,
        };
        let soft = softmax_slots::Params::new(COLUMNS as u32, CLASSES as u32, crops);
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
        for k in 0..LAYERS.len() {
            let n = shapes[2 * k].1.iter().product::<usize>() + shapes[2 * k + 1].1[0];
            convs.push(fill(n, k));
        }
        let dense = fill((FEATURES + 1) * CLASSES, 9);
        Model { convs, dense }
    }

    #[test]
    fn the_network_is_small() {
        assert!(parameter_count() < 1_000_000, "{}", parameter_count());
        let size = LAYERS
            .iter()
            .fold((WIDTH, HEIGHT), |size, &(_, pool)| pooled(pool, size));
        assert_eq!(size, (COLUMNS as u32, ROWS as u32));
        assert_eq!(FEATURES, LAYERS[LAYERS.len() - 1].0 as usize * ROWS);
        assert_eq!(ALPHABET.len() + 1, CLASSES);
    }

    #[test]
    fn a_soup_is_the_mean_of_its_models_weights() {
        let a = toy();
        let mut b = toy();
        for v in b.convs.iter_mut().flatten().chain(&mut b.dense) {
            *v += 0.5;
        }
        let soup = Model::average(&[a.clone(), b]).unwrap();
        for (s, v) in soup.convs.iter().flatten().zip(a.convs.iter().flatten()) {
            assert!((s - (v + 0.25)).abs() < 1e-6, "{s} {v}");
        }
        assert!((soup.dense[3] - (a.dense[3] + 0.25)).abs() < 1e-6);
        assert_eq!(Model::average(std::slice::from_ref(&a)).unwrap(), a);
        assert!(Model::average(&[]).is_err());
    }

    /// A save makes a new file and renames it over the old one, so whoever
    /// holds the old file (a hard link here; a reader in practice) keeps
    /// it whole, where writing in place would change it under them.
    #[test]
    fn saving_replaces_the_weights_whole_and_leaves_no_staging_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let path = out.join(FILE_NAME);
        toy().save(&out).unwrap();
        let held = dir.path().join("held.safetensors");
        std::fs::hard_link(&path, &held).unwrap();
        let mut other = toy();
        other.dense[0] += 1.0;
        other.save(&out).unwrap();
        assert!(
            Model::load(&path).unwrap() == other,
            "the new weights are saved"
        );
        assert!(
            Model::load(&held).unwrap() == toy(),
            "the old file was rewritten in place"
        );
        let names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(FILE_NAME)]);
    }

    #[test]
    fn weights_round_trip_through_the_file_format() {
        let model = toy();
        let bytes = model.to_bytes().unwrap();
        let back = Model::from_bytes(&bytes, Path::new("x.safetensors")).unwrap();
        assert_eq!(back, model);
    }

    /// The same weights give the same file, byte for byte, though each
    /// write hands `safetensors` a hash map of a new random order.
    #[test]
    fn the_same_weights_give_the_same_bytes() {
        let model = toy();
        let first = model.to_bytes().unwrap();
        for _ in 0..8 {
            assert_eq!(model.to_bytes().unwrap(), first);
        }
        let len = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        assert_eq!(len % 8, 0, "the header is padded to 8 bytes");
        let header = std::str::from_utf8(&first[8..8 + len]).unwrap();
        let keys = [
            "alphabet", "columns", "format", "height", "version", "width",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| header.find(&format!("\"{k}\"")).unwrap())
            .collect();
        assert!(at.is_sorted(), "metadata keys in order: {header}");
    }

    #[test]
    fn forward_gives_a_distribution_per_column() {
        let model = toy();
        let input: Vec<f32> = (0..2 * HEIGHT * WIDTH)
            .map(|i| ((i % 17) as f32 - 8.0) / 8.0)
            .collect();
        let probs = model.forward(None, &input).unwrap();
        assert_eq!(probs.len(), 2 * COLUMNS * CLASSES);
        for column in probs.chunks(CLASSES) {
            assert!((column.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn the_cpu_reads_crop_by_crop_what_a_batched_pass_reads() {
        let model = toy();
        let crops = 5;
        let input: Vec<f32> = (0..crops * HEIGHT * WIDTH)
            .map(|i| ((i * 31 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let batched = model.forward_chunk(None, &input, crops).unwrap();
        assert_eq!(model.forward(None, &input).unwrap(), batched);
    }
}
