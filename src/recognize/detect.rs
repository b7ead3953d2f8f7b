//! Plate localisation: one RGBA frame -> candidate plate boxes in the
//! frame's pixels, best first.
//!
//! ```text
//! RGBA --luma_downscale (f)--> luma --sobel Vertical--> |gx|
//!      --threshold (local mean + offset)--> edge mask               (GPU or CPU twin)
//!      --morph: close rows (gap) / close cols / open cols--> blobs  (GPU or CPU twin)
//!      --components--> boxes --shape, edge rhythm, contrast--> scored plate boxes
//! luma --threshold (dark and light ink; a faint pass at the coarsest scale)
//!      --components--> glyph rows (chars) --> scored plate boxes
//!      --all scales, gaps and passes--> non-maximum suppression
//!      --x isolation (edges in the box vs above and below it)--> best N
//! ```
//!
//! The integer stages, up to the blobs of every gap, run through [`Stages`],
//! on the GPU when one is given, else on the kernels' CPU twins; both give
//! the same masks bit for bit, so the boxes do not depend on the device.
//! Connected components ([`label`]) and everything after them run on the
//! CPU.
//!
//! [`detect_batch`] takes many frames at once. On the GPU the frames of one
//! size are stacked and each kernel runs once a scale for the whole stack
//! (one submission, not one a frame, unless the device's buffers are too
//! small for it); on the CPU each frame is a rayon task of its own. Every
//! frame then takes the same CPU steps as in [`detect`], a batch of one, so
//! its boxes do not depend on its company either.
//!
//! ```text
//! frames --group by size (GPU; one frame a group on the CPU)--> a stack of n
//!   --Stages::run_batch, each scale--> n Stages --CPU steps, a frame a task-->
//!   n lists of boxes, in input order
//! ```

use rayon::prelude::*;

use crate::Result;
use crate::gpu::kernels::sobel::SobelMode;
use crate::gpu::kernels::{luma_downscale, morph, sobel, threshold};
use crate::gpu::{Gpu, Planes};
use crate::recognize::chars;
use crate::recognize::label::{self, Component};

/// Window radius of the adaptive edge threshold (working pixels).
const THRESHOLD_RADIUS: u32 = 7;
/// How far (in `|gx|` units, 0..=1020) an edge must beat its local mean.
const THRESHOLD_OFFSET: i32 = 48;
/// Ink thresholds, `(radius, offset)`: a window about a large glyph's half
/// height, and how far (grey levels) ink must be darker (lighter) than its
/// surroundings. The stricter pass thins glyphs that the lenient one glues
/// to each other or to the plate's frame.
const INK_PASSES: [(u32, i32); 2] = [(10, 12), (6, 28)];
/// A third ink pass for faint plates (glyphs a few grey levels off their
/// plate: sun-washed, shaded or dirty), run at the coarsest scale only:
/// there textures that fool it (gravel, foliage) are averaged away while a
/// plate's glyphs stay 10 pixels tall or more, and it costs a quarter.
const FAINT_PASS: (u32, i32) = (10, 5);
/// Closing gaps (working pixels) along rows, one blob mask each: character
/// pitch varies with plate size, and one gap that merges small plates glues
/// large ones to their surroundings.
const GAPS: [u32; 2] = [4, 8];
/// Closing gap down the columns, after the rows.
const CLOSE_COLS: u32 = 2;
/// Column runs of 1s shorter than this are opened away.
const MIN_RUN: u32 = 3;

/// A candidate plate: a box in the original frame's pixels and a score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// 0..=1, higher is more plate-like; comparable within one frame.
    pub confidence: f32,
    /// The angle of the plate's text line in radians (image axes, y down:
    /// positive when the text falls to the right), from the glyphs' centres;
    /// 0 when no glyph row was found. The reader's crop is levelled by it.
    pub tilt: f32,
}

impl PlateBox {
    /// Intersection over union with `other`.
    pub fn iou(&self, other: &PlateBox) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }

    fn area(&self) -> f32 {
        self.w as f32 * self.h as f32
    }

    /// True when `self` is a longer reading of `other`'s text line: at
    /// least [`EXTEND_MIN`] times as wide, over nearly all of `other`'s
    /// columns, its middle within `other`'s middle half. A serial split by a
    /// seal, crest or emblem (`RK <crest> 101AO`) gives a box for a piece
    /// and one for the whole; which is the plate is for the reader to say.
    pub(crate) fn extends(&self, other: &PlateBox) -> bool {
        let (cy, other_cy) = (
            self.y as f32 + self.h as f32 / 2.0,
            other.y as f32 + other.h as f32 / 2.0,
        );
        self.w as f32 >= EXTEND_MIN * other.w as f32
            && self.shared_columns(other) >= 0.8 * other.w as f32
            && (cy - other_cy).abs() <= 0.25 * other.h as f32
    }

    /// Columns both boxes cover (negative when apart).
    fn shared_columns(&self, other: &PlateBox) -> f32 {
        (self.x + self.w).min(other.x + other.w) as f32 - self.x.max(other.x) as f32
    }

    fn intersection(&self, other: &PlateBox) -> f32 {
        let ih = (self.y + self.h).min(other.y + other.h) as f32 - self.y.max(other.y) as f32;
        self.shared_columns(other).max(0.0) * ih.max(0.0)
    }
}

/// The integer stages of one scale: the downscaled luma, the binary
/// vertical-edge mask and its blobs, all the same size. Masks hold one byte
/// (0 or 1) a pixel, as the CPU steps after them read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stages {
    pub luma: Planes,
    pub mask: Vec<u8>,
    /// `mask` closed and opened by the `morph` kernel, one per closing gap (`GAPS`).
    pub blobs: Vec<Vec<u8>>,
    /// Ink masks for the character generator, one per ink pass (see
    /// `ink_passes`) and polarity: dark-on-light, then light-on-dark.
    pub ink: Vec<Vec<u8>>,
}

impl Stages {
    /// Runs `luma_downscale(factor)`, `sobel(Vertical)`, `threshold` and
    /// `morph` (once per gap) on one RGBA `frame`, on `gpu` when given, else
    /// on the CPU twins.
    pub fn run(frame: &Planes, factor: u32, gpu: Option<&Gpu>) -> Result<Stages> {
        if frame.count() != 1 {
            return Err(one_frame_only(frame));
        }
        match gpu {
            Some(gpu) => {
                let mut stages = Stages::on_gpu(gpu, frame, factor)?;
                stages.pop().ok_or_else(|| {
                    crate::Error::GpuFailed(
                        "the stages of one frame came back empty (our bug)".into(),
                    )
                })
            }
            None => Stages::on_cpu(frame, factor),
        }
    }

    /// [`Stages::run`] for every frame of `frames` (frames of one size,
    /// stacked), in order. On the GPU each kernel is dispatched once for the
    /// stack (split into submissions only where the device's buffers are
    /// too small for it); on the CPU the twins run a frame at a time,
    /// frames in parallel.
    pub fn run_batch(frames: &Planes, factor: u32, gpu: Option<&Gpu>) -> Result<Vec<Stages>> {
        match gpu {
            Some(gpu) => Stages::on_gpu(gpu, frames, factor),
            None if frames.count() == 1 => Ok(vec![Stages::on_cpu(frames, factor)?]),
            None => (0..frames.count())
                .into_par_iter()
                .map(|i| {
                    let frame =
                        Planes::new(frames.width(), frames.height(), 1, frames.plane(i).to_vec())?;
                    Stages::on_cpu(&frame, factor)
                })
                .collect(),
        }
    }

    /// The kernels on the GPU, once each for all of `frames`; the stack of
    /// results split back into one `Stages` a frame. Masks become a byte a
    /// pixel, a frame each, as soon as they are read back, and stacks are
    /// dropped once used: a batch holds several frames' worth of planes.
    fn on_gpu(gpu: &Gpu, frames: &Planes, factor: u32) -> Result<Vec<Stages>> {
        let luma = luma_downscale::dispatch(gpu, frames, factor)?;
        let mask = {
            let edges = sobel::dispatch(gpu, &luma, SobelMode::Vertical)?;
            threshold::dispatch(gpu, &edges, THRESHOLD_RADIUS, THRESHOLD_OFFSET)?
        };
        let mut blobs = Vec::with_capacity(GAPS.len());
        for gap in GAPS {
            let closed = morph::dispatch(gpu, &mask, gap, CLOSE_COLS, MIN_RUN)?;
            blobs.push(frame_bytes(&closed));
        }
        let mask = frame_bytes(&mask);
        let mut ink = Vec::new();
        {
            let inverted = invert(&luma)?;
            for (radius, offset) in ink_passes(frames, factor) {
                ink.push(frame_bytes(&threshold::dispatch(
                    gpu, &inverted, radius, offset,
                )?));
                ink.push(frame_bytes(&threshold::dispatch(
                    gpu, &luma, radius, offset,
                )?));
            }
        }
        // Per mask kind, one Vec a frame: frame i takes entry i of each.
        Ok(luma
            .split()
            .into_iter()
            .zip(mask)
            .enumerate()
            .map(|(i, (luma, mask))| Stages {
                luma,
                mask,
                blobs: blobs
                    .iter_mut()
                    .map(|b| std::mem::take(&mut b[i]))
                    .collect(),
                ink: ink.iter_mut().map(|m| std::mem::take(&mut m[i])).collect(),
            })
            .collect())
    }

    /// The CPU twins on one frame.
    fn on_cpu(frame: &Planes, factor: u32) -> Result<Stages> {
        let luma = luma_downscale::cpu(frame, factor)?;
        let edges = sobel::cpu(&luma, SobelMode::Vertical);
        let mask = threshold::cpu_bytes(&edges, THRESHOLD_RADIUS, THRESHOLD_OFFSET)?;
        let mut blobs = Vec::with_capacity(GAPS.len());
        for gap in GAPS {
            let params =
                morph::Params::new(luma.width(), luma.height(), 1, gap, CLOSE_COLS, MIN_RUN)?;
            blobs.push(morph::cpu_bytes(&mask, &params)?);
        }
        let mut ink = Vec::new();
        for (radius, offset) in ink_passes(frame, factor) {
            // Equal to the GPU's two passes (tested in the kernel).
            let (dark, light) = threshold::cpu_pair(&luma, radius, offset)?;
            ink.extend([dark, light]);
        }
        Ok(Stages {
            luma,
            mask,
            blobs,
            ink,
        })
    }
}

fn one_frame_only(frame: &Planes) -> crate::Error {
    crate::Error::bad_input(format!(
        "plate detection takes one frame at a time, got {}",
        frame.count()
    ))
}

/// The ink thresholds run at `factor`: [`INK_PASSES`], and [`FAINT_PASS`]
/// at the frame's coarsest scale.
fn ink_passes(frame: &Planes, factor: u32) -> Vec<(u32, i32)> {
    let mut passes = INK_PASSES.to_vec();
    if factors(frame.width(), frame.height()).last() == Some(&factor) {
        passes.push(FAINT_PASS);
    }
    passes
}

/// A stack of 0/1 masks read back from the GPU as one `Vec` a frame, a
/// byte a pixel.
fn frame_bytes(masks: &Planes) -> Vec<Vec<u8>> {
    (0..masks.count())
        .map(|i| masks.plane(i).iter().map(|&v| v as u8).collect())
        .collect()
}

/// `255 - luma`: dark ink becomes what the threshold kernel marks.
fn invert(luma: &Planes) -> Result<Planes> {
    let data = luma.data().iter().map(|&v| 255 - v.min(255)).collect();
    Planes::new(luma.width(), luma.height(), luma.count(), data)
}

/// The downscale factors tried for a `width x height` frame: a working size
/// near 1000 pixels across and, when the kernel allows, half that again for
/// plates that are large in the frame.
pub fn factors(width: u32, height: u32) -> Vec<u32> {
    let long = width.max(height);
    let base = if long <= 1400 {
        1
    } else if long <= 2400 {
        2
    } else {
        4
    };
    luma_downscale::FACTORS
        .iter()
        .copied()
        .filter(|&f| f == base || f == 2 * base)
        .collect()
}

/// Finds up to `max` plate candidates in one RGBA frame, best first.
pub fn detect(frame: &Planes, gpu: Option<&Gpu>, max: usize) -> Result<Vec<PlateBox>> {
    let mut found = detect_batch(&[frame], gpu, max)?;
    Ok(found.pop().unwrap_or_default())
}

/// [`detect`] for every frame of `frames`, in input order. On the GPU the
/// frames of each size go through the kernels as one batch (a submission a
/// kernel, not one a frame); on the CPU each frame is a rayon task of its
/// own, as batching the twins gains nothing and would copy the frames. The
/// boxes are the same either way, and the same as [`detect`]'s.
pub fn detect_batch(
    frames: &[&Planes],
    gpu: Option<&Gpu>,
    max: usize,
) -> Result<Vec<Vec<PlateBox>>> {
    if let Some(frame) = frames.iter().find(|f| f.count() != 1) {
        return Err(one_frame_only(frame));
    }
    let groups = match gpu {
        Some(_) => groups(frames),
        None => (0..frames.len()).map(|i| vec![i]).collect(),
    };
    let found = groups
        .par_iter()
        .map(|group| {
            let members: Vec<&Planes> = group.iter().map(|&i| frames[i]).collect();
            detect_group(&members, gpu, max)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut out = vec![Vec::new(); frames.len()];
    for (group, boxes) in groups.iter().zip(found) {
        for (&i, b) in group.iter().zip(boxes) {
            out[i] = b;
        }
    }
    Ok(out)
}

/// The indices of `frames` grouped by size, groups in the order their first
/// frame comes, indices ascending within each: the batches of
/// [`detect_batch`].
fn groups(frames: &[&Planes]) -> Vec<Vec<usize>> {
    let mut groups: Vec<((u32, u32), Vec<usize>)> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let size = (f.width(), f.height());
        match groups.iter_mut().find(|(s, _)| *s == size) {
            Some((_, members)) => members.push(i),
            None => groups.push((size, vec![i])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// [`detect`] for `frames` of one size: their stages scale by scale, as one
/// batch, then the CPU steps frame by frame.
fn detect_group(frames: &[&Planes], gpu: Option<&Gpu>, max: usize) -> Result<Vec<Vec<PlateBox>>> {
    let stacked;
    let batch = match frames {
        [] => return Ok(Vec::new()),
        [one] => *one,
        _ => {
            stacked = Planes::stack(frames)?;
            &stacked
        }
    };
    let (w, h) = (batch.width(), batch.height());
    let mut found: Vec<Found> = frames.iter().map(|_| Found::default()).collect();
    for factor in factors(w, h) {
        let stages = Stages::run_batch(batch, factor, gpu)?;
        found
            .par_iter_mut()
            .zip(stages.par_iter())
            .for_each(|(f, s)| f.add(s, factor, w, h));
    }
    Ok(found.into_par_iter().map(|f| f.best(max)).collect())
}

/// What one frame's scales have given, finest first: the CPU steps after
/// [`Stages`], the one code path of [`detect`] and [`detect_batch`].
#[derive(Default)]
struct Found {
    all: Vec<(PlateBox, Source)>,
    /// The finest scale's edge mask, summed, with its factor.
    finest: Option<(Integral, u32)>,
}

impl Found {
    /// The candidates of one scale's `stages`, of a `frame_w x frame_h`
    /// frame downscaled by `factor`.
    fn add(&mut self, stages: &Stages, factor: u32, frame_w: u32, frame_h: u32) {
        self.all
            .extend(candidates(stages, factor, frame_w, frame_h));
        if self.finest.is_none() {
            let (w, h) = (stages.luma.width() as usize, stages.luma.height() as usize);
            self.finest = Some((Integral::new(&stages.mask, w, h), factor));
        }
    }

    /// The best `max` places of all scales.
    fn best(self, max: usize) -> Vec<PlateBox> {
        // Suppression first, so each place keeps the box its own scores
        // chose; isolation then only reorders places.
        let mut kept = suppress(combine(&self.all), usize::MAX);
        if let Some((sums, factor)) = self.finest {
            for b in &mut kept {
                let isolation = isolation(&sums, b, factor);
                b.confidence *= 1.0 - ISOLATION_WEIGHT + ISOLATION_WEIGHT * isolation;
            }
        }
        kept.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then((a.x, a.y, a.w, a.h).cmp(&(b.x, b.y, b.w, b.h)))
        });
        kept.truncate(max);
        kept
    }
}

/// Which generator proposed a box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A row of character-shaped blobs ([`chars`]): precise, the primary.
    Chars,
    /// A blob of closed vertical edges: catches plates whose glyphs merge
    /// or break up, but also grilles and signs, so it ranks lower.
    Edges,
}

/// Final scores: a generator's own score (edge blobs at half weight) plus a
/// bonus when the other generator agrees on the same place.
fn combine(all: &[(PlateBox, Source)]) -> Vec<PlateBox> {
    all.iter()
        .map(|(b, src)| {
            let own = match src {
                Source::Chars => b.confidence,
                Source::Edges => EDGE_WEIGHT * b.confidence,
            };
            let other = all
                .iter()
                .filter(|(o, s)| s != src && o.iou(b) >= 0.5)
                .max_by(|(p, _), (q, _)| p.confidence.total_cmp(&q.confidence))
                .map(|(o, _)| o);
            let support = other.map_or(0.0, |o| o.confidence);
            // An edge blob has no glyphs to level by: it takes the tilt of
            // the best glyph row on it.
            let tilt = match (src, other) {
                (Source::Edges, Some(o)) => o.tilt,
                _ => b.tilt,
            };
            // Found again by other passes and scales: stable under changes
            // of threshold and resolution, as real plates are.
            let repeats = all
                .iter()
                .filter(|(o, s)| s == src && o.iou(b) >= 0.5)
                .count()
                .saturating_sub(1)
                .min(REPEATS_SATURATE) as f32
                / REPEATS_SATURATE as f32;
            let total = own + AGREEMENT_WEIGHT * support + REPEAT_WEIGHT * repeats;
            PlateBox {
                confidence: (total / (1.0 + AGREEMENT_WEIGHT + REPEAT_WEIGHT)).clamp(0.0, 1.0),
                tilt,
                ..*b
            }
        })
        .collect()
}

/// Weight of an edge blob's own score against a character row's.
const EDGE_WEIGHT: f32 = 0.5;
/// Weight of the other generator's agreement.
const AGREEMENT_WEIGHT: f32 = 0.3;
/// Weight of being found again by the same generator in other passes.
const REPEAT_WEIGHT: f32 = 0.4;
/// Repeats beyond this many add nothing.
const REPEATS_SATURATE: usize = 5;

/// Scored plate boxes (original pixels) of one scale, all gaps, unsorted,
/// with the generator of each: the components of `stages`' ink and blob
/// masks, labelled and scored here on the CPU.
pub fn candidates(
    stages: &Stages,
    factor: u32,
    frame_w: u32,
    frame_h: u32,
) -> Vec<(PlateBox, Source)> {
    let (w, h) = (stages.luma.width() as usize, stages.luma.height() as usize);
    if w < 8 || h < 8 {
        return Vec::new();
    }
    let edges = &stages.mask;
    let luma = stages.luma.plane(0);
    let mut out = Vec::new();
    for ink in &stages.ink {
        for row in chars::rows(chars::characters(ink, w, h)) {
            out.push((row_box(&row, factor, frame_w, frame_h), Source::Chars));
        }
    }
    for blobs in &stages.blobs {
        for c in label::components(blobs, w, h, false) {
            if let Some(score) = score(&c, edges, luma, w, h) {
                let b = plate_box(&c, factor, frame_w, frame_h, score);
                out.push((b, Source::Edges));
            }
        }
    }
    out
}

/// How much a box's [`isolation`] counts: a box with as many edges around
/// it as in it keeps `1 - ISOLATION_WEIGHT` of its score.
const ISOLATION_WEIGHT: f32 = 0.7;

/// A summed-area table of a 0/1 mask: counts over any box in O(1).
struct Integral {
    w: usize,
    h: usize,
    /// `(w + 1) x (h + 1)`; entry `(x, y)` counts the 1s above and left of it.
    table: Vec<u32>,
}

impl Integral {
    fn new(mask: &[u8], w: usize, h: usize) -> Integral {
        let stride = w + 1;
        let mut table = vec![0u32; stride * (h + 1)];
        for (y, line) in mask.chunks_exact(w.max(1)).take(h).enumerate() {
            let (done, rest) = table.split_at_mut((y + 1) * stride);
            let (above, row) = (&done[y * stride..], &mut rest[..stride]);
            let mut run = 0u32;
            for (t, &v) in row[1..].iter_mut().zip(line) {
                run += u32::from(v);
                *t = run;
            }
            for (t, &a) in row.iter_mut().zip(above) {
                *t += a;
            }
        }
        Integral { w, h, table }
    }

    /// 1s in columns `x0..x1`, rows `y0..y1` (clipped to the mask).
    fn count(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u32 {
        let (x1, y1) = (x1.min(self.w), y1.min(self.h));
        let (x0, y0) = (x0.min(x1), y0.min(y1));
        let at = |x: usize, y: usize| self.table[y * (self.w + 1) + x];
        at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0)
    }
}

/// How much a box stands out from what is above and below it: 1 when the
/// bands of the box's height above and below hold no vertical edges, 0 when
/// they hold as many (per pixel) as the box. A plate sits on a smooth bumper
/// or trunk; gravel, foliage and grilles are textured all round.
fn isolation(sums: &Integral, b: &PlateBox, factor: u32) -> f32 {
    let f = factor as usize;
    let (x0, y0) = (b.x as usize / f, b.y as usize / f);
    let (x1, y1) = (
        ((b.x + b.w) as usize).div_ceil(f),
        ((b.y + b.h) as usize).div_ceil(f),
    );
    let bh = y1.saturating_sub(y0);
    let area = |x0: usize, y0: usize, x1: usize, y1: usize| {
        (x1.min(sums.w).saturating_sub(x0)) * (y1.min(sums.h).saturating_sub(y0))
    };
    let inside_area = area(x0, y0, x1, y1);
    let ring_area = area(x0, y0.saturating_sub(bh), x1, y0) + area(x0, y1, x1, y1 + bh);
    if inside_area == 0 || ring_area == 0 {
        return 0.0;
    }
    let inside = sums.count(x0, y0, x1, y1) as f32 / inside_area as f32;
    let ring = (sums.count(x0, y0.saturating_sub(bh), x1, y0) + sums.count(x0, y1, x1, y1 + bh))
        as f32
        / ring_area as f32;
    if inside <= 0.0 {
        return 0.0;
    }
    (1.0 - ring / inside).clamp(0.0, 1.0)
}

/// A plate-likeness score for a blob, or `None` when it cannot be a plate.
fn score(c: &Component, edges: &[u8], luma: &[u32], w: usize, h: usize) -> Option<f32> {
    let (bw, bh) = (c.width() as usize, c.height() as usize);
    if bh < 5 || bw < 12 || bh > h / 3 || bw > w / 2 {
        return None;
    }
    let aspect = bw as f32 / bh as f32;
    if !(1.3..=9.0).contains(&aspect) {
        return None;
    }
    let fill = c.pixels as f32 / (bw * bh) as f32;
    if fill < 0.4 {
        return None;
    }
    // Edge rhythm: runs of edge pixels along three rows through the middle;
    // every character stroke gives about two.
    let mut runs = Vec::with_capacity(3);
    for frac in [0.35f32, 0.5, 0.65] {
        let y = c.y0 as usize + ((bh as f32 * frac) as usize).min(bh - 1);
        let row = &edges[y * w + c.x0 as usize..y * w + c.x1 as usize];
        let n = row
            .iter()
            .zip(row.iter().skip(1))
            .filter(|&(&a, &b)| a == 0 && b != 0)
            .count()
            + usize::from(row[0] != 0);
        runs.push(n);
    }
    runs.sort_unstable();
    let rhythm = runs[1] as f32;
    // Runs per character-height of width: plates pack strokes densely but
    // regularly; grilles and foliage pack them too densely or not at all.
    let density = rhythm * bh as f32 / bw as f32;
    if rhythm < 4.0 {
        return None;
    }
    // Contrast: dark characters on a light plate (or the reverse).
    let mut values: Vec<u32> = (c.y0 as usize..c.y1 as usize)
        .flat_map(|y| {
            luma[y * w + c.x0 as usize..y * w + c.x1 as usize]
                .iter()
                .copied()
        })
        .collect();
    values.sort_unstable();
    let lo = values[values.len() / 10];
    let hi = values[values.len() * 9 / 10];
    let contrast = hi.saturating_sub(lo) as f32;
    if contrast < 30.0 {
        return None;
    }
    let s_rhythm = ((rhythm - 3.0) / 9.0).clamp(0.0, 1.0);
    let s_density = 1.0 - ((density - 1.6).abs() / 2.0).min(1.0);
    let s_aspect = if (1.8..=6.5).contains(&aspect) {
        1.0
    } else {
        0.5
    };
    let s_contrast = (contrast / 120.0).min(1.0);
    let s = 0.3 * s_rhythm + 0.2 * s_density + 0.15 * s_aspect + 0.15 * fill + 0.2 * s_contrast;
    Some(s.clamp(0.0, 1.0))
}

/// Width over height of a one-row European plate (520 x 110 mm).
pub(crate) const EU_ASPECT: f32 = 4.7;

/// The plate around a blob of characters, in original pixels. Blobs with
/// the proportions of a US-style character row (under 4:1) get a 2:1 plate,
/// longer ones a European 4.7:1 one; never shorter than the blob.
fn plate_box(c: &Component, factor: u32, frame_w: u32, frame_h: u32, score: f32) -> PlateBox {
    let f = factor as f32;
    let (bw, bh) = (c.width() as f32 * f, c.height() as f32 * f);
    let cx = (c.x0 as f32 + c.width() as f32 / 2.0) * f;
    let cy = (c.y0 as f32 + c.height() as f32 / 2.0) * f;
    let aspect = bw / bh;
    let pw = bw * 1.08;
    let ph = if aspect < 4.0 {
        (pw / 2.0).max(bh * 1.15)
    } else {
        (pw / EU_ASPECT).max(bh * 1.15)
    };
    clip_box(cx, cy, pw, ph, frame_w, frame_h, score)
}

/// The plate around a text row, in original pixels: a row shorter than
/// 4.6 glyph heights is taken for a US-style 2:1 plate (glyphs about half
/// its height), a longer one for a European 4.7:1 plate (glyphs about three
/// quarters of its height).
fn row_box(row: &chars::Row, factor: u32, frame_w: u32, frame_h: u32) -> PlateBox {
    let f = factor as f32;
    let rw = (row.x1 - row.x0) as f32 * f;
    let rh = row.char_height as f32 * f;
    let cx = (row.x0 + row.x1) as f32 / 2.0 * f;
    let cy = (row.y0 + row.y1) as f32 / 2.0 * f;
    let (pw, ph) = if rw < 4.6 * rh {
        let pw = (4.0 * rh).max(1.15 * rw);
        (pw, pw / 2.0)
    } else {
        let pw = 1.18 * rw;
        (pw, (pw / EU_ASPECT).max(1.3 * rh))
    };
    let score = 0.4 + 0.6 * row.score;
    PlateBox {
        tilt: row.slope.atan(),
        ..clip_box(cx, cy, pw, ph, frame_w, frame_h, score)
    }
}

/// A box of `pw x ph` centred on `(cx, cy)`, clipped to the frame.
pub(crate) fn clip_box(
    cx: f32,
    cy: f32,
    pw: f32,
    ph: f32,
    frame_w: u32,
    frame_h: u32,
    score: f32,
) -> PlateBox {
    let x0 = (cx - pw / 2.0).max(0.0);
    let y0 = (cy - ph / 2.0).max(0.0);
    let x1 = (cx + pw / 2.0).min(frame_w as f32);
    let y1 = (cy + ph / 2.0).min(frame_h as f32);
    PlateBox {
        x: x0.round() as u32,
        y: y0.round() as u32,
        w: (x1 - x0).round().max(1.0) as u32,
        h: (y1 - y0).round().max(1.0) as u32,
        confidence: score.clamp(0.0, 1.0),
        tilt: 0.0,
    }
}

/// Boxes overlapping a better one by more than this are duplicates.
const NMS_IOU: f32 = 0.35;
/// How much wider than a kept box a box on its line must be to stand as
/// its own candidate ([`PlateBox::extends`]).
const EXTEND_MIN: f32 = 1.2;

/// Non-maximum suppression: best first, dropping boxes that overlap a kept
/// one by IoU over `NMS_IOU`, unless they extend it along its text line
/// (the whole of a split serial beside a piece of it); at most `max`.
pub fn suppress(mut boxes: Vec<PlateBox>, max: usize) -> Vec<PlateBox> {
    boxes.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then((a.x, a.y, a.w, a.h).cmp(&(b.x, b.y, b.w, b.h)))
    });
    let mut kept: Vec<PlateBox> = Vec::new();
    for b in boxes {
        if kept.len() >= max {
            break;
        }
        // IoU only: a large wrong box must not hide a small plate inside it.
        let overlaps = kept.iter().any(|k| k.iou(&b) > NMS_IOU && !b.extends(k));
        if !overlaps {
            kept.push(b);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(x: u32, y: u32, w: u32, h: u32, confidence: f32) -> PlateBox {
        PlateBox {
            x,
            y,
            w,
            h,
            confidence,
            tilt: 0.0,
        }
    }

    #[test]
    fn integral_counts_equal_brute_force() {
        let (w, h) = (13, 7);
        let mask: Vec<u8> = (0..w * h).map(|i| u8::from(i * 7 % 5 < 2)).collect();
        let sums = Integral::new(&mask, w, h);
        for (x0, y0, x1, y1) in [
            (0, 0, 13, 7),
            (2, 1, 9, 6),
            (5, 3, 6, 4),
            (4, 4, 4, 6),
            (10, 5, 40, 40),
        ] {
            let want: u32 = (y0..y1.min(h))
                .flat_map(|y| (x0..x1.min(w)).map(move |x| (x, y)))
                .map(|(x, y)| u32::from(mask[y * w + x]))
                .sum();
            assert_eq!(sums.count(x0, y0, x1, y1), want, "{x0},{y0} {x1},{y1}");
        }
    }

    #[test]
    fn isolation_is_one_on_a_smooth_surround_and_zero_in_texture() {
        let (w, h) = (40, 30);
        // Edges only in the box's rows 12..18, columns 10..30.
        let mut mask = vec![0u8; w * h];
        for y in 12..18 {
            for x in (10..30).step_by(2) {
                mask[y * w + x] = 1;
            }
        }
        let plate = pb(10, 12, 20, 6, 1.0);
        assert_eq!(isolation(&Integral::new(&mask, w, h), &plate, 1), 1.0);
        // The same pattern everywhere: nothing stands out.
        let texture: Vec<u8> = (0..w * h).map(|i| u8::from(i % 2 == 0)).collect();
        let iso = isolation(&Integral::new(&texture, w, h), &plate, 1);
        assert!(iso < 0.05, "{iso}");
        // Boxes are in original pixels: at factor 2 the same plate is twice as big.
        assert_eq!(
            isolation(&Integral::new(&mask, w, h), &pb(20, 24, 40, 12, 1.0), 2),
            1.0
        );
    }

    #[test]
    fn the_faint_pass_runs_at_the_coarsest_scale_only() {
        let frame = Planes::new(1920, 1080, 1, vec![0; 1920 * 1080]).unwrap();
        assert_eq!(factors(1920, 1080), vec![2, 4]);
        assert_eq!(ink_passes(&frame, 2), INK_PASSES.to_vec());
        assert_eq!(ink_passes(&frame, 4).last(), Some(&FAINT_PASS));
    }

    #[test]
    fn batches_group_frames_by_size_in_input_order() {
        let frame = |w: u32, h: u32| Planes::new(w, h, 1, vec![0; (w * h) as usize]).unwrap();
        let (a, b, c) = (frame(4, 2), frame(2, 4), frame(3, 3));
        assert_eq!(
            groups(&[&a, &b, &a, &c, &b, &a]),
            vec![vec![0, 2, 5], vec![1, 4], vec![3]]
        );
        assert!(groups(&[]).is_empty());
    }

    /// Frames of noise with a bright bar each, different per frame so a
    /// mix-up between frames shows.
    fn noise(w: u32, h: u32, seed: u32) -> Planes {
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let bar = (y / 6 == seed % (h / 6)) && x % 5 < 3;
                let v = if bar {
                    240
                } else {
                    (i.wrapping_mul(2654435761) >> 7 ^ seed) as u8 % 120
                };
                crate::gpu::pack_rgba(v, v, v, 255)
            })
            .collect();
        Planes::new(w, h, 1, data).unwrap()
    }

    #[test]
    fn cpu_batches_split_into_each_frames_stages() {
        let frames: Vec<Planes> = (0..3).map(|s| noise(64, 48, s)).collect();
        let refs: Vec<&Planes> = frames.iter().collect();
        let stack = Planes::stack(&refs).unwrap();
        for factor in [1, 2] {
            let batch = Stages::run_batch(&stack, factor, None).unwrap();
            let each: Vec<Stages> = frames
                .iter()
                .map(|f| Stages::run(f, factor, None).unwrap())
                .collect();
            assert_eq!(batch, each, "factor {factor}");
            assert_ne!(batch[0], batch[1]);
        }
        assert!(Stages::run(&stack, 1, None).is_err());
    }

    #[test]
    fn cpu_batches_give_each_frames_boxes_in_input_order() {
        let frames = [noise(96, 64, 1), noise(120, 72, 2), noise(96, 64, 3)];
        let refs: Vec<&Planes> = frames.iter().collect();
        let each: Vec<Vec<PlateBox>> = frames.iter().map(|f| detect(f, None, 5).unwrap()).collect();
        assert!(each.iter().all(|b| !b.is_empty()), "{each:?}");
        assert_ne!(each[0], each[2]);
        assert_eq!(detect_batch(&refs, None, 5).unwrap(), each);
        assert!(detect_batch(&[], None, 5).unwrap().is_empty());
        let two = Planes::stack(&[&frames[0], &frames[2]]).unwrap();
        assert!(detect_batch(&[&frames[1], &two], None, 5).is_err());
    }

    #[test]
    fn iou_of_boxes() {
        let a = pb(0, 0, 10, 10, 0.0);
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&pb(20, 20, 5, 5, 0.0)), 0.0);
        assert!((a.iou(&pb(5, 0, 10, 10, 0.0)) - 50.0 / 150.0).abs() < 1e-6);
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes() {
        let boxes = vec![
            pb(0, 0, 10, 10, 0.5),
            pb(1, 0, 10, 10, 0.9),
            pb(50, 50, 10, 10, 0.1),
            pb(2, 2, 4, 4, 0.2),
        ];
        let kept = suppress(boxes, 10);
        assert_eq!(
            kept,
            vec![
                pb(1, 0, 10, 10, 0.9),
                pb(2, 2, 4, 4, 0.2),
                pb(50, 50, 10, 10, 0.1)
            ]
        );
        assert_eq!(suppress(kept, 1).len(), 1);
    }

    #[test]
    fn suppression_keeps_the_whole_of_a_split_serial_beside_its_piece() {
        // A piece (`025BD` boxed 2:1) and the whole line (`LM <crest> 025BD`,
        // 4.7:1) overlap by IoU 0.46, but the whole is a reading of its own.
        let piece = pb(194, 229, 64, 32, 0.69);
        let whole = pb(151, 233, 105, 22, 0.56);
        assert!(piece.iou(&whole) > NMS_IOU);
        assert_eq!(suppress(vec![piece, whole], 10), vec![piece, whole]);
        // A box barely wider, or off the line, is still a duplicate.
        let wider = pb(190, 229, 72, 32, 0.6);
        assert_eq!(suppress(vec![piece, wider], 10), vec![piece]);
        let lower = pb(160, 236, 100, 36, 0.56);
        assert!(piece.iou(&lower) > NMS_IOU);
        assert_eq!(suppress(vec![piece, lower], 10), vec![piece]);
    }

    #[test]
    fn factors_aim_near_1000_pixels() {
        assert_eq!(factors(640, 480), vec![1, 2]);
        assert_eq!(factors(1280, 720), vec![1, 2]);
        assert_eq!(factors(1920, 1080), vec![2, 4]);
        assert_eq!(factors(4000, 3000), vec![4]);
    }
}
