//! A native training run's whole state (feature `train`), written beside
//! its weights at every evaluation so that a stopped run can go on
//! (`alpr train-ocr --resume`) to the very weights it would have ended
//! with had it never stopped.
//!
//! The weights file cannot serve: batch norm is folded into it and
//! AdamW's moments are not in it, so a run continued from it (`--init`)
//! re-measures batch norm, starts a fresh optimiser and ends elsewhere.
//! This file holds, as F32 tensors, every layer's unfolded weights,
//! batch-norm scale, shift and running statistics, the dense layer and
//! AdamW's two moments of each of them; its metadata holds the network's
//! description (as the weights file), the steps done, AdamW's step count
//! and the options that decide the weights ([`RunOptions`]), which a
//! resumed run must repeat.
//!
//! ```text
//! every evaluation: ocr.safetensors (folded), then train-state.safetensors
//! --resume: train-state.safetensors -> Native at step S -> steps S+1..N
//! the last step: ocr.safetensors, and the state is removed
//! a fresh run into a folder holding a state: refused (it would be lost)
//! ```
//!
//! Both files are replaced whole (stage, fsync, rename), the weights first:
//! a run killed between the two resumes from the evaluation before, and
//! since every step is deterministic it ends with the same weights.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::SafeTensors;

use crate::ocr::backprop::{self, Native};
use crate::ocr::model::{self, read_f32, write_f32};
use crate::store::durable;
use crate::{Error, Result};

/// The state's file name in a run's `--out` folder.
pub const FILE_NAME: &str = "train-state.safetensors";
const FORMAT: &str = "alpr-ocr-train-state";
const VERSION: &str = "1";

/// The options that decide a run's weights besides the code: a resumed
/// run must be given the same, or it would end with weights no single run
/// gives. (How often it evaluates, on which held-out plates and on how
/// many threads changes no weight.)
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    pub seed: u64,
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub warmup: usize,
    /// `random`, or the digest of the `--init` weights.
    pub init: String,
    /// Share of the training plates over which clutter ramps up.
    pub curriculum: f64,
    /// Share of the training plates randomly filtered.
    pub random_filters: f64,
}

impl RunOptions {
    /// Each option as the command line names it, with its value.
    fn fields(&self) -> [(&'static str, String); 8] {
        [
            ("seed", self.seed.to_string()),
            ("steps", self.steps.to_string()),
            ("batch", self.batch.to_string()),
            // Rust prints the shortest text that parses back to the same f64.
            ("lr", self.lr.to_string()),
            ("warmup", self.warmup.to_string()),
            ("init", self.init.clone()),
            ("curriculum", self.curriculum.to_string()),
            ("random-filters", self.random_filters.to_string()),
        ]
    }
}

/// The metadata every state of this build carries: the network's, as in
/// the weights file, and this file's format and version.
fn build_metadata() -> HashMap<String, String> {
    let mut meta = model::metadata();
    meta.insert("format".into(), FORMAT.into());
    meta.insert("version".into(), VERSION.into());
    meta
}

/// The state's path in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Every buffer of `net` with its name, in a fixed order: per layer the
/// weights, batch-norm scale, shift and running mean and variance, then
/// the dense layer, then AdamW's moments of each trainable buffer.
fn buffers_mut(net: &mut Native) -> Vec<(String, &mut Vec<f32>)> {
    let mut out: Vec<(String, &mut Vec<f32>)> = Vec::new();
    for (k, l) in net.layers.iter_mut().enumerate() {
        out.push((format!("layer{k}.w"), &mut l.w));
        out.push((format!("layer{k}.gamma"), &mut l.gamma));
        out.push((format!("layer{k}.beta"), &mut l.beta));
        out.push((format!("layer{k}.mean"), &mut l.mean));
        out.push((format!("layer{k}.var"), &mut l.var));
    }
    out.push(("dense.w".into(), &mut net.dense_w));
    out.push(("dense.b".into(), &mut net.dense_b));
    for (i, (m, v)) in net.moments.iter_mut().enumerate() {
        out.push((format!("adam{i}.m"), m));
        out.push((format!("adam{i}.v"), v));
    }
    out
}

/// Writes `net`'s state after `step` steps of the run `options` describe
/// into `dir`, replacing any earlier one whole.
pub fn save(dir: &Path, net: &Native, step: usize, options: &RunOptions) -> Result<()> {
    // A copy lends the named buffers out (about 1.2 MB, once an evaluation).
    let mut copy = net.clone();
    let named = buffers_mut(&mut copy);
    let tensors: Vec<(String, Vec<usize>, &[f32])> = named
        .iter()
        .map(|(name, values)| (name.clone(), vec![values.len()], values.as_slice()))
        .collect();
    let mut meta = build_metadata();
    meta.insert("step".into(), step.to_string());
    meta.insert("adam_step".into(), net.step_t.to_string());
    for (key, value) in options.fields() {
        meta.insert(key.into(), value);
    }
    let bytes = write_f32(&tensors, meta)?;
    durable::write_atomic(&path(dir), &bytes)
}

/// Reads the state in `dir` of a run started with `options`: the network
/// and optimiser, and the steps done. Refuses a state of another network,
/// of another run's options, or of a finished run.
pub fn load(dir: &Path, options: &RunOptions) -> Result<(Native, usize)> {
    let file = path(dir);
    let bytes = std::fs::read(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::bad_input(format!(
            "{}: no training state to resume (a run leaves one at each evaluation \
             until it finishes; the native engine only)",
            file.display()
        )),
        _ => Error::io(&file, e),
    })?;
    let bad = |message: String| Error::BadData {
        path: file.clone(),
        message,
    };
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(format!("not a training state (safetensors): {e}")))?;
    let meta: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    let get = |key: &str| {
        meta.get(key)
            .cloned()
            .ok_or_else(|| bad(format!("metadata {key} is missing")))
    };
    for (key, value) in &build_metadata() {
        let got = get(key)?;
        if got != *value {
            return Err(bad(format!(
                "metadata {key} is {got:?}, this build needs {value:?}"
            )));
        }
    }
    for (key, value) in options.fields() {
        let got = get(key)?;
        if got != value {
            return Err(Error::bad_input(format!(
                "{}: the run was started with --{key} {got}, this command gives {value}; \
                 resume with the run's own options",
                file.display()
            )));
        }
    }
    let number = |key: &str| -> Result<u64> {
        let text = get(key)?;
        text.parse()
            .map_err(|_| bad(format!("metadata {key} is {text:?}, not a count")))
    };
    let step = number("step")? as usize;
    let adam_step = number("adam_step")?;
    if step == 0 || step >= options.steps {
        return Err(bad(format!(
            "step {step} of {}: nothing to resume",
            options.steps
        )));
    }
    let tensors = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a training state (safetensors): {e}")))?;
    // A network of the right shapes, every buffer then read over.
    let mut net = backprop::random(0);
    for (name, buffer) in buffers_mut(&mut net) {
        *buffer = read_f32(&tensors, &name, &[buffer.len()]).map_err(&bad)?;
    }
    net.step_t = i32::try_from(adam_step)
        .map_err(|_| bad(format!("metadata adam_step {adam_step} is out of range")))?;
    Ok((net, step))
}

/// Removes the state in `dir` once its run has finished (nothing is left
/// to resume; the weights file holds the result).
pub fn remove(dir: &Path) -> Result<()> {
    let file = path(dir);
    match std::fs::remove_file(&file) {
        Ok(()) => durable::sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&file, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> RunOptions {
        RunOptions {
            seed: 7,
            steps: 10,
            batch: 2,
            lr: 1.5e-4,
            warmup: 1,
            init: "random".into(),
            curriculum: 0.4,
            random_filters: 0.2,
        }
    }

    #[test]
    fn a_state_reads_back_every_buffer_to_the_bit() {
        let dir = tempfile::tempdir().unwrap();
        let mut net = backprop::random(3);
        // Moments and statistics that are not their starting values.
        for (i, (_, buffer)) in buffers_mut(&mut net).into_iter().enumerate() {
            for (j, v) in buffer.iter_mut().enumerate() {
                *v += (i * 31 + j % 17) as f32 * 1e-3;
            }
        }
        net.step_t = 4;
        save(dir.path(), &net, 4, &options()).unwrap();
        let (mut back, step) = load(dir.path(), &options()).unwrap();
        assert_eq!(step, 4);
        assert_eq!(back.step_t, 4);
        let mut want = net.clone();
        let (a, b) = (buffers_mut(&mut back), buffers_mut(&mut want));
        assert_eq!(a.len(), b.len());
        for ((na, va), (nb, vb)) in a.iter().zip(&b) {
            assert_eq!(na, nb);
            let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(va), bits(vb), "{na}");
        }
        assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let name = e.unwrap().file_name();
            name.to_string_lossy().ends_with(durable::STAGING_SUFFIX)
        }));
    }

    #[test]
    fn a_state_is_refused_for_other_options_or_when_missing_or_done() {
        let dir = tempfile::tempdir().unwrap();
        let missing = load(dir.path(), &options()).unwrap_err().to_string();
        assert!(missing.contains("no training state"), "{missing}");
        save(dir.path(), &backprop::random(1), 2, &options()).unwrap();
        let other = RunOptions {
            seed: 8,
            ..options()
        };
        let e = load(dir.path(), &other).unwrap_err().to_string();
        assert!(e.contains("--seed 7") && e.contains("gives 8"), "{e}");
        let other = RunOptions {
            lr: 1.6e-4,
            ..options()
        };
        assert!(
            load(dir.path(), &other)
                .unwrap_err()
                .to_string()
                .contains("--lr")
        );
        let shares = [
            (
                RunOptions {
                    curriculum: 0.0,
                    ..options()
                },
                "--curriculum 0.4",
            ),
            (
                RunOptions {
                    random_filters: 0.0,
                    ..options()
                },
                "--random-filters 0.2",
            ),
        ];
        for (other, run_had) in shares {
            let e = load(dir.path(), &other).unwrap_err().to_string();
            assert!(e.contains(run_had) && e.contains("gives 0"), "{e}");
        }
        let shorter = RunOptions {
            steps: 2,
            ..options()
        };
        let done = load(dir.path(), &shorter).unwrap_err().to_string();
        // The steps differ too, and that is what it says first.
        assert!(done.contains("--steps 10"), "{done}");
        save(dir.path(), &backprop::random(1), 10, &options()).unwrap();
        let done = load(dir.path(), &options()).unwrap_err().to_string();
        assert!(done.contains("nothing to resume"), "{done}");
        remove(dir.path()).unwrap();
        assert!(!path(dir.path()).exists());
        remove(dir.path()).unwrap();
    }

    #[test]
    fn a_corrupt_state_is_named_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), b"not a state").unwrap();
        let e = load(dir.path(), &options()).unwrap_err().to_string();
        assert!(
            e.contains(FILE_NAME) && e.contains("not a training state"),
            "{e}"
        );
    }
}
