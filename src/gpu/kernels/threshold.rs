//! Adaptive threshold: 1 where a pixel exceeds the mean of the
//! `(2 radius + 1)^2` box around it (clipped to the frame) by more than
//! `offset`, else 0. Compared without division, `value * n > sum + offset * n`
//! with `n` the box's pixel count, so it is exact. Inputs saturate at
//! [`MAX_VALUE`]; with `radius <= MAX_RADIUS` and `|offset| <= MAX_VALUE` every
//! term fits an `i32`. Three passes (shader `shaders/threshold.wgsl`), each
//! sliding its window so a pixel costs O(1) whatever the radius:
//!
//! ```text
//! values --box_rows (per row)--> row_sums --box_cols (per column)--> box sums
//!        --main (per pixel)--> mask 0/1
//! ```

use multiversion::multiversion;
use rayon::prelude::*;

use crate::gpu::job;
use crate::gpu::{Gpu, Kernel, Planes};
use crate::{Error, Result};

/// Input values saturate here (12 bits: room for Sobel magnitudes).
pub const MAX_VALUE: u32 = 4095;

/// The largest window radius.
pub const MAX_RADIUS: u32 = 127;

/// Keep in sync with `Params` in shaders/threshold.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub radius: u32,
    pub offset: i32,
    pub _pad: [u32; 3],
}

impl Params {
    /// Parameters for `frames` planes of `width x height`, checked.
    pub fn new(width: u32, height: u32, frames: u32, radius: u32, offset: i32) -> Result<Params> {
        if radius > MAX_RADIUS {
            return Err(Error::bad_input(format!(
                "threshold radius {radius} is over {MAX_RADIUS}"
            )));
        }
        if offset.unsigned_abs() > MAX_VALUE {
            return Err(Error::bad_input(format!(
                "threshold offset {offset} is outside -{MAX_VALUE}..={MAX_VALUE}"
            )));
        }
        Ok(Params {
            width,
            height,
            frames,
            radius,
            offset,
            _pad: [0; 3],
        })
    }
}

impl Params {
    /// [`Params::new`] for the planes `values`.
    fn of(values: &Planes, radius: u32, offset: i32) -> Result<Params> {
        Params::new(
            values.width(),
            values.height(),
            values.count(),
            radius,
            offset,
        )
    }
}

/// Runs the kernel on the GPU, several frames per submission.
pub fn dispatch(gpu: &Gpu, values: &Planes, radius: u32, offset: i32) -> Result<Planes> {
    let all = Params::of(values, radius, offset)?;
    job::per_pixel(gpu, Kernel::Threshold, values, true, |n| Params {
        frames: n,
        ..all
    })
}

/// The CPU twin: the shader's three passes, streamed. `box_rows` runs one
/// invocation per row as the shader does; `box_cols` slides the same column
/// windows down the rows, all columns side by side (each column gets the
/// same additions and subtractions as its invocation, interleaved, which
/// lets the compiler vectorise), and `main` compares each row as soon as its
/// sums are known. Row sums live in a ring of `2 radius + 2` rows, so nothing
/// frame-sized but the mask is written.
pub fn cpu(values: &Planes, radius: u32, offset: i32) -> Result<Planes> {
    let mask = cpu_bytes(values, radius, offset)?;
    let words = mask.into_iter().map(u32::from).collect();
    Planes::new(values.width(), values.height(), values.count(), words)
}

/// [`cpu`] with one byte a pixel: the mask as the CPU's later stages use
/// it, without the 32-bit words the GPU's storage buffers need.
pub fn cpu_bytes(values: &Planes, radius: u32, offset: i32) -> Result<Vec<u8>> {
    let params = Params::of(values, radius, offset)?;
    let [mask] = masks(&params, values.data(), [Side::Above], band_rows(&params));
    Ok(mask)
}

/// Both polarities of 8-bit `values` (luma) with one pair of box passes:
/// `(dark, light)` bytes, where `dark` equals `cpu(255 - values)` (the
/// pixels darker than their surroundings by more than `offset`) and `light`
/// equals `cpu(values)`. The window sum of `255 - v` is `255 n - sum`, so
/// `(255 - v) n > 255 n - sum + offset n` is `sum > (v + offset) n`: the
/// same integers the shader compares, without the inverted plane.
pub fn cpu_pair(values: &Planes, radius: u32, offset: i32) -> Result<(Vec<u8>, Vec<u8>)> {
    if let Some(v) = values.data().iter().find(|&&v| v > 255) {
        return Err(Error::bad_input(format!(
            "threshold pair takes 8-bit values, got {v}"
        )));
    }
    let params = Params::of(values, radius, offset)?;
    let [dark, light] = masks(
        &params,
        values.data(),
        [Side::Below, Side::Above],
        band_rows(&params),
    );
    Ok((dark, light))
}

/// Which pixels a mask marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The shader's `main`: `value n > sum + offset n`.
    Above,
    /// The inverted plane's `main` (see [`cpu_pair`]): `sum > (value + offset) n`.
    Below,
}

/// Rows per band: one band per thread, but never so short that priming
/// its window (`2 radius` extra rows) costs more than the band.
fn band_rows(params: &Params) -> usize {
    let h = params.height as usize;
    let threads = rayon::current_num_threads().max(1);
    h.div_ceil(threads)
        .max(8 * (params.radius as usize + 1))
        .max(1)
}

/// The masks of every plane of `values`, one per side, computed band by
/// band (bands of `band` rows run in parallel; each primes its own window,
/// so the result does not depend on the banding).
fn masks<const K: usize>(
    params: &Params,
    values: &[u32],
    sides: [Side; K],
    band: usize,
) -> [Vec<u8>; K] {
    let mut outs: [Vec<u8>; K] = std::array::from_fn(|_| vec![0u8; values.len()]);
    if values.is_empty() {
        return outs;
    }
    let (w, h) = (params.width as usize, params.height as usize);
    // The window widths, once per column instead of per pixel.
    let widths: Vec<u32> = (0..params.width)
        .map(|x| hi(params, x, params.width) - lo(params, x) + 1)
        .collect();
    // Jobs: (plane, first row, that band's rows of each output).
    let mut jobs: Vec<(usize, usize, Vec<&mut [u8]>)> = Vec::new();
    for out in outs.iter_mut() {
        let bands = out.chunks_mut(w * h).enumerate().flat_map(|(f, plane)| {
            plane
                .chunks_mut(w * band)
                .enumerate()
                .map(move |(b, rows)| (f, b * band, rows))
        });
        if jobs.is_empty() {
            jobs = bands.map(|(f, y0, rows)| (f, y0, vec![rows])).collect();
        } else {
            for (job, (_, _, rows)) in jobs.iter_mut().zip(bands) {
                job.2.push(rows);
            }
        }
    }
    jobs.into_par_iter().for_each(|(f, y0, mut rows)| {
        let plane = &values[f * w * h..(f + 1) * w * h];
        band_masks(params, plane, &widths, y0, &sides, &mut rows);
    });
    outs
}

/// The masks of one band of one plane: rows `y0..` as many as `outs` hold.
fn band_masks(
    params: &Params,
    plane: &[u32],
    widths: &[u32],
    y0: usize,
    sides: &[Side],
    outs: &mut [&mut [u8]],
) {
    let (w, h, r) = (
        params.width as usize,
        params.height as usize,
        params.radius as usize,
    );
    let y1 = y0 + outs[0].len() / w;
    // Row sums of row y live in slot y % ring.len(); a row's slot is reused
    // only after the window has moved past it.
    let ring = 2 * r + 2;
    let mut ring_sums = vec![0u32; ring * w];
    let fill = |y: usize, ring_sums: &mut [u32]| {
        let slot = &mut ring_sums[(y % ring) * w..][..w];
        box_rows(params, &plane[y * w..(y + 1) * w], slot);
    };
    let mut sums = vec![0u32; w];
    for y in lo(params, y0 as u32) as usize..=hi(params, y0 as u32, params.height) as usize {
        fill(y, &mut ring_sums);
        add_row(&mut sums, &ring_sums[(y % ring) * w..][..w]);
    }
    for y in y0..y1 {
        if y > y0 {
            if y + r < h {
                fill(y + r, &mut ring_sums);
                add_row(&mut sums, &ring_sums[((y + r) % ring) * w..][..w]);
            }
            if y > r {
                sub_row(&mut sums, &ring_sums[((y - r - 1) % ring) * w..][..w]);
            }
        }
        let rows = hi(params, y as u32, params.height) - lo(params, y as u32) + 1;
        let vals = &plane[y * w..(y + 1) * w];
        for (side, out) in sides.iter().zip(outs.iter_mut()) {
            let out = &mut out[(y - y0) * w..][..w];
            match side {
                Side::Above => above_row(vals, &sums, widths, rows, params.offset, out),
                Side::Below => below_row(vals, &sums, widths, rows, params.offset, out),
            }
        }
    }
}

/// `sums += row`, column by column (the shader's `sum += row_sums[..]`).
#[multiversion(targets("x86_64+avx2"))]
fn add_row(sums: &mut [u32], row: &[u32]) {
    for (s, &v) in sums.iter_mut().zip(row) {
        *s = s.wrapping_add(v);
    }
}

/// `sums -= row`, column by column.
#[multiversion(targets("x86_64+avx2"))]
fn sub_row(sums: &mut [u32], row: &[u32]) {
    for (s, &v) in sums.iter_mut().zip(row) {
        *s = s.wrapping_sub(v);
    }
}

/// [`Side::Above`] for one row: the shader's `main`, with `rows` the
/// window's height at this row and `widths` its width at each column.
#[multiversion(targets("x86_64+avx2"))]
fn above_row(vals: &[u32], sums: &[u32], widths: &[u32], rows: u32, offset: i32, out: &mut [u8]) {
    let width = out.len();
    let (vals, sums, widths) = (&vals[..width], &sums[..width], &widths[..width]);
    for x in 0..width {
        let n = (widths[x] * rows) as i32;
        out[x] = u8::from(value_at(vals[x]) as i32 * n > sums[x] as i32 + offset * n);
    }
}

/// [`Side::Below`] for one row (values are 8-bit, checked by the caller).
#[multiversion(targets("x86_64+avx2"))]
fn below_row(vals: &[u32], sums: &[u32], widths: &[u32], rows: u32, offset: i32, out: &mut [u8]) {
    let width = out.len();
    let (vals, sums, widths) = (&vals[..width], &sums[..width], &widths[..width]);
    for x in 0..width {
        let n = (widths[x] * rows) as i32;
        out[x] = u8::from(sums[x] as i32 > (vals[x] as i32 + offset) * n);
    }
}

/// The shader's `value_at` for one value.
fn value_at(v: u32) -> u32 {
    v.min(MAX_VALUE)
}

/// The shader's `lo`: first box column (or row) of a window centred on `c`
/// (its `select` is a saturating subtraction).
fn lo(params: &Params, c: u32) -> u32 {
    c.saturating_sub(params.radius)
}

/// The shader's `hi`: last box column (or row), clipped at `len - 1`.
fn hi(params: &Params, c: u32, len: u32) -> u32 {
    (c + params.radius).min(len - 1)
}

/// The shader's `box_rows` for one row. The shader slides a running sum;
/// here the sums are differences of the row's prefix sums, which give the
/// same integers (every window sum fits a `u32`, so the wrapping
/// differences are exact) and vectorise away from the row's ends.
#[multiversion(targets("x86_64+avx2"))]
fn box_rows(params: &Params, row: &[u32], out: &mut [u32]) {
    let (w, r) = (params.width as usize, params.radius as usize);
    // prefix[x] = the sum of row[..x].
    let mut prefix = Vec::with_capacity(w + 1);
    let mut sum = 0u32;
    prefix.push(0);
    for &v in row {
        sum = sum.wrapping_add(value_at(v));
        prefix.push(sum);
    }
    let window = |x: usize| prefix[(x + r + 1).min(w)].wrapping_sub(prefix[x.saturating_sub(r)]);
    // Windows inside the row: x in r..w-r-1, sums prefix[x+r+1] - prefix[x-r].
    let (inner_start, inner_end) = (r.min(w), w.saturating_sub(r + 1).max(r.min(w)));
    for (x, o) in out.iter_mut().enumerate().take(inner_start) {
        *o = window(x);
    }
    if inner_end > inner_start {
        let span = inner_end - inner_start;
        let ends = &prefix[inner_start + r + 1..][..span];
        let starts = &prefix[inner_start - r..][..span];
        for ((o, &e), &s) in out[inner_start..inner_end].iter_mut().zip(ends).zip(starts) {
            *o = e.wrapping_sub(s);
        }
    }
    for (x, o) in out.iter_mut().enumerate().skip(inner_end) {
        *o = window(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_zero_compares_a_pixel_with_itself() {
        let p = Planes::single(3, 1, &[0, 5, 9]);
        assert_eq!(cpu(&p, 0, 0).unwrap().data(), &[0, 0, 0]);
        assert_eq!(cpu(&p, 0, -1).unwrap().data(), &[1, 1, 1]);
    }

    #[test]
    fn a_bright_pixel_beats_its_neighbourhood() {
        // 3x3, centre 90, rest 0, radius 1. Centre: box sum 90, n 9, 90 * 9 > 90.
        // Corner (0,0): box {0,0,0,90}, n 4: 0 > 90? no.
        let mut d = [0u32; 9];
        d[4] = 90;
        let p = Planes::single(3, 3, &d);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[0, 0, 0, 0, 1, 0, 0, 0, 0]);
        // Offset 80: 90 * 9 = 810 > 90 + 720 = 810? no.
        assert_eq!(cpu(&p, 1, 80).unwrap().data(), &[0; 9]);
        // Offset 79: 810 > 90 + 711 = 801: yes.
        assert_eq!(cpu(&p, 1, 79).unwrap().data()[4], 1);
    }

    #[test]
    fn windows_clip_at_the_frame_edge() {
        // 4x1 row [10, 0, 0, 0], radius 1: pixel 0's box is {10, 0}, n 2:
        // 10 * 2 = 20 > 10 -> 1; pixel 1's box {10, 0, 0}: 0 > 10 -> 0.
        let p = Planes::single(4, 1, &[10, 0, 0, 0]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[1, 0, 0, 0]);
    }

    #[test]
    fn inputs_saturate() {
        // 100_000 reads as 4095: 4095 * 2 > 4095 + 0.
        let p = Planes::single(2, 1, &[100_000, 0]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[1, 0]);
        // Unsaturated, 100_000 * 2 > 104_095 would give 1; saturated it ties.
        let p = Planes::single(2, 1, &[100_000, 4095]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[0, 0]);
    }

    #[test]
    fn limits_are_checked() {
        let p = Planes::single(1, 1, &[0]);
        assert!(cpu(&p, MAX_RADIUS, MAX_VALUE as i32).is_ok());
        assert!(cpu(&p, MAX_RADIUS, -(MAX_VALUE as i32)).is_ok());
        assert!(matches!(
            cpu(&p, MAX_RADIUS + 1, 0),
            Err(Error::BadInput(_))
        ));
        assert!(matches!(cpu(&p, 1, 4096), Err(Error::BadInput(_))));
    }

    /// The windowed sums as the definition says, pixel by pixel.
    fn naive(values: &Planes, radius: u32, offset: i32) -> Vec<u32> {
        let (w, h) = (values.width() as i64, values.height() as i64);
        let r = radius as i64;
        let mut out = Vec::new();
        for f in 0..values.count() {
            let p = values.plane(f);
            for y in 0..h {
                for x in 0..w {
                    let (mut sum, mut n) = (0i64, 0i64);
                    for yy in (y - r).max(0)..=(y + r).min(h - 1) {
                        for xx in (x - r).max(0)..=(x + r).min(w - 1) {
                            sum += p[(yy * w + xx) as usize].min(MAX_VALUE) as i64;
                            n += 1;
                        }
                    }
                    let v = p[(y * w + x) as usize].min(MAX_VALUE) as i64;
                    out.push(u32::from(v * n > sum + offset as i64 * n));
                }
            }
        }
        out
    }

    #[test]
    fn sliding_windows_equal_the_definition() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for (w, h, frames, radius) in [
            (1, 1, 1, 0),
            (7, 3, 2, 1),
            (17, 11, 1, 5),
            (9, 40, 3, 12),
            (30, 5, 1, 40),
        ] {
            let data: Vec<u32> = (0..w * h * frames).map(|_| next() % 5000).collect();
            let p = Planes::new(w, h, frames, data).unwrap();
            for offset in [-30, 0, 17] {
                assert_eq!(
                    cpu(&p, radius, offset).unwrap().data(),
                    &naive(&p, radius, offset)[..],
                    "{w}x{h}x{frames} r{radius} o{offset}"
                );
            }
        }
    }

    /// `len` 8-bit values from a seeded LCG.
    fn random_luma(seed: &mut u64, len: usize) -> Vec<u32> {
        (0..len)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((*seed >> 33) % 256) as u32
            })
            .collect()
    }

    #[test]
    fn any_banding_gives_the_same_masks() {
        let mut seed = 7u64;
        for (w, h, frames, radius) in [(5, 1, 1, 0), (11, 23, 2, 3), (8, 30, 1, 10)] {
            let data = random_luma(&mut seed, (w * h * frames) as usize);
            let p = Planes::new(w, h, frames, data).unwrap();
            let params = Params::of(&p, radius, 9).unwrap();
            let want: Vec<u8> = naive(&p, radius, 9).iter().map(|&v| v as u8).collect();
            for band in [1, 2, 5, h as usize, 1000] {
                let [above] = masks(&params, p.data(), [Side::Above], band);
                assert_eq!(above, want, "{w}x{h}x{frames} r{radius} band {band}");
            }
        }
    }

    #[test]
    fn a_pair_equals_the_inverted_and_the_plain_threshold() {
        let mut seed = 99u64;
        for (w, h, frames, radius) in [(1, 1, 1, 0), (13, 7, 2, 3), (40, 9, 1, 10)] {
            let data = random_luma(&mut seed, (w * h * frames) as usize);
            let p = Planes::new(w, h, frames, data.clone()).unwrap();
            let inverted = Planes::new(w, h, frames, data.iter().map(|v| 255 - v).collect());
            for offset in [-20, 0, 12, 28] {
                let (dark, light) = cpu_pair(&p, radius, offset).unwrap();
                let want_dark = cpu_bytes(inverted.as_ref().unwrap(), radius, offset).unwrap();
                assert_eq!(dark, want_dark, "{w}x{h} r{radius} o{offset}");
                assert_eq!(light, cpu_bytes(&p, radius, offset).unwrap());
            }
        }
        let wide = Planes::single(2, 1, &[256, 0]);
        assert!(matches!(cpu_pair(&wide, 1, 0), Err(Error::BadInput(_))));
    }

    #[test]
    fn extreme_terms_fit_an_i32() {
        // Full-size window over saturated values with the largest offsets.
        let side = 2 * MAX_RADIUS + 1;
        let p = Planes::new(side, side, 1, vec![u32::MAX; (side * side) as usize]).unwrap();
        let low = cpu(&p, MAX_RADIUS, -(MAX_VALUE as i32)).unwrap();
        assert!(low.data().iter().all(|&v| v == 1));
        let high = cpu(&p, MAX_RADIUS, MAX_VALUE as i32).unwrap();
        assert!(high.data().iter().all(|&v| v == 0));
    }
}
