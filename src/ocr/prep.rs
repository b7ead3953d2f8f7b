//! A plate crop -> the network's input: grayscale, resized to
//! [`WIDTH`] x [`HEIGHT`] (triangle filter), then standardised to zero mean
//! and unit deviation, so lighting and contrast matter less. Training and
//! reading share this one function.
//!
//! The resize is the `image` crate's `resize(.., FilterType::Triangle)`
//! rewritten for one 8-bit channel: the same weights, added in the same
//! order, so the same bytes (tested), without the crate's four-channel float
//! intermediate and per-pixel accessors, which cost as much as the network.

use image::{GrayImage, RgbImage};

use crate::ocr::model::{HEIGHT, WIDTH};

/// The smallest deviation divided by (grey levels): a flat crop stays flat
/// instead of having its noise blown up.
const MIN_DEVIATION: f32 = 8.0;

/// The network's input for one grayscale crop: `HEIGHT * WIDTH` values.
pub fn prepare(crop: &GrayImage) -> Vec<f32> {
    prepare_rect(crop, Rect::whole(crop))
}

/// [`prepare`] for the rectangle `rect` of `crop`, read in place.
fn prepare_rect(crop: &GrayImage, rect: Rect) -> Vec<f32> {
    if rect.width == 0 || rect.height == 0 {
        return vec![0.0; (HEIGHT * WIDTH) as usize];
    }
    let small = resize_triangle(crop, rect, WIDTH, HEIGHT);
    let mut values: Vec<f32> = small.iter().map(|&v| f32::from(v)).collect();
    standardise(&mut values, MIN_DEVIATION);
    values
}

/// A rectangle of a crop's pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

impl Rect {
    fn whole(crop: &GrayImage) -> Rect {
        let (width, height) = crop.dimensions();
        Rect {
            left: 0,
            top: 0,
            width,
            height,
        }
    }
}

/// Shifts `values` to zero mean and divides them by their deviation, or by
/// `min_deviation` where that is larger (a flat input stays flat).
pub fn standardise(values: &mut [f32], min_deviation: f32) {
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let dev = var.sqrt().max(min_deviation);
    values.iter_mut().for_each(|v| *v = (*v - mean) / dev);
}

/// A view of a crop: the fractions of its width or height cut off its left,
/// top, right and bottom before it is prepared.
pub type View = [f32; 4];

/// The views a reader can read of each crop and pool
/// ([`crate::ocr::decode::decode_views`]), in the order `--views N` takes
/// them: the whole crop; 3% cut all round; 5% cut top and bottom; 4% cut on
/// the left; 4% on the right. A localiser's box, and the margins of a crop,
/// are a few percent either way of where the reader is surest, and where
/// that is differs by plate: the mean over views is less sensitive to it
/// than any one view. The order ranks what each view added on 1,000
/// generated plates (`alpr synth-plates --seed 77`, not the training
/// stream); ocr-v2's run 15 reads 85.4% of them exactly with the first
/// view, 87.5%, 88.0%, 88.4% and 88.5% with two to five (`models/ocr-v2/RUNS.md`
/// has the figures and how the views were chosen).
pub const VIEWS: [View; 5] = [
    [0.0; 4],
    [0.03; 4],
    [0.0, 0.05, 0.0, 0.05],
    [0.04, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.04, 0.0],
];

/// The network's input for `view` of one crop (see [`prepare`]). A view
/// that would leave nothing of a tiny crop reads the whole crop.
pub fn prepare_view(crop: &GrayImage, view: &View) -> Vec<f32> {
    let (w, h) = crop.dimensions();
    let cut = |fraction: f32, n: u32| (fraction * n as f32).round() as u32;
    let (left, top) = (cut(view[0], w), cut(view[1], h));
    let width = w.saturating_sub(left + cut(view[2], w));
    let height = h.saturating_sub(top + cut(view[3], h));
    if (width, height) == (w, h) || width == 0 || height == 0 {
        return prepare(crop);
    }
    let rect = Rect {
        left,
        top,
        width,
        height,
    };
    prepare_rect(crop, rect)
}

/// `image::imageops::resize(crop, width, height, FilterType::Triangle)`'s
/// bytes for the rectangle `rect` of `crop` (read in place, as if it were
/// cut out first), row-major: a vertical pass into floats, then a
/// horizontal pass rounded to bytes, each output a normalised
/// triangle-weighted sum over a support widened by the scale when
/// shrinking.
fn resize_triangle(crop: &GrayImage, rect: Rect, width: u32, height: u32) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if crate::gpu::vectors::avx2() {
        // SAFETY: the CPU has AVX2 (`vectors::avx2`, just above).
        return unsafe { resize_triangle_avx2(crop, rect, width, height) };
    }
    resize_in_order(crop, rect, width, height)
}

/// [`resize_in_order`] compiled for AVX2: the same operations, both passes
/// 8 lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn resize_triangle_avx2(crop: &GrayImage, rect: Rect, width: u32, height: u32) -> Vec<u8> {
    resize_in_order(crop, rect, width, height)
}

/// [`resize_triangle`]'s arithmetic, in the crate's order.
#[inline(always)]
fn resize_in_order(crop: &GrayImage, rect: Rect, width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (rect.width, rect.height);
    let stride = crop.width() as usize;
    let src = crop.as_raw();
    // Row `y` of the rectangle.
    let row_of =
        |y: usize| &src[(rect.top as usize + y) * stride + rect.left as usize..][..w as usize];
    if (w, h) == (width, height) {
        return (0..h as usize).flat_map(row_of).copied().collect();
    }
    let (w, width) = (w as usize, width as usize);
    // Vertical: `height` rows of `w` floats.
    let mut tall = vec![0f32; w * height as usize];
    for (oy, out) in tall.chunks_mut(w).enumerate() {
        let (first, weights) = taps(oy as u32, h, height);
        for (i, &wt) in weights.iter().enumerate() {
            let row = row_of(first + i);
            for (t, &p) in out.iter_mut().zip(row) {
                *t += f32::from(p) * wt;
            }
        }
    }
    // Horizontal: each output pixel's taps, rounded and clamped as the
    // crate's `FloatNearest(clamp(t, 0, 255))`. Every row of an output
    // column at once (each sum still adds its taps in order), from the
    // vertical pass's values turned column-major so that a tap's values
    // for all rows lie together.
    let rows = height as usize;
    let mut by_column = vec![0f32; w * rows];
    for (oy, row) in tall.chunks(w).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            by_column[x * rows + oy] = v;
        }
    }
    let mut out = vec![0u8; width * rows];
    let mut sums = vec![0f32; rows];
    for ox in 0..width {
        let (first, weights) = taps(ox as u32, w as u32, width as u32);
        sums.fill(0.0);
        for (i, &wt) in weights.iter().enumerate() {
            let column = &by_column[(first + i) * rows..][..rows];
            for (t, &v) in sums.iter_mut().zip(column) {
                *t += v * wt;
            }
        }
        for (oy, &t) in sums.iter().enumerate() {
            out[oy * width + ox] = round_half_away(t.clamp(0.0, 255.0));
        }
    }
    out
}

/// `t.round() as u8` for `t` in `0..=255` (halves away from zero) without
/// a call to the C library's `roundf`: the whole part, plus one where the
/// fraction (exact: `t` less its whole part) is a half or more.
#[inline(always)]
fn round_half_away(t: f32) -> u8 {
    let whole = t as u8;
    whole + u8::from(t - f32::from(whole) >= 0.5)
}

/// The first source index and normalised weights of output `o` when `len`
/// samples become `new_len` (the crate's `vertical_sample` and
/// `horizontal_sample` arithmetic, step for step).
fn taps(o: u32, len: u32, new_len: u32) -> (usize, Vec<f32>) {
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    let centre = (o as f32 + 0.5) * ratio;
    let left = ((centre - support).floor() as i64).clamp(0, i64::from(len) - 1);
    let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(len));
    let centre = centre - 0.5;
    let mut weights: Vec<f32> = (left..right)
        .map(|i| {
            let x = ((i as f32 - centre) / sratio).abs();
            if x < 1.0 { 1.0 - x } else { 0.0 }
        })
        .collect();
    let sum: f32 = weights.iter().fold(0.0, |s, &w| s + w);
    for w in &mut weights {
        *w /= sum;
    }
    (left as usize, weights)
}

/// [`prepare`] for a colour crop.
pub fn prepare_rgb(crop: &RgbImage) -> Vec<f32> {
    prepare(&grey(crop))
}

/// A colour crop in the grey the reader is trained on: each pixel's
/// [`luma`]. Every crop the reader reads is made grey this way, generated
/// or decoded from a file or cut from a photo. (The `image` crate's
/// `to_luma8` is not it: it rounds through floats where this truncates,
/// a level lighter wherever the fraction is a half or more.)
pub fn grey(crop: &RgbImage) -> GrayImage {
    GrayImage::from_fn(crop.width(), crop.height(), |x, y| {
        let [r, g, b] = crop.get_pixel(x, y).0;
        image::Luma([luma(r, g, b)])
    })
}

/// The grey of one colour pixel as the reader is trained on it: the `image`
/// crate's `grayscale` arithmetic (Rec. 709 weights in integers,
/// truncated), so a crop cut from a photo is the grey a crop file or a
/// generated plate of the same colours is.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * u32::from(r) + 7152 * u32::from(g) + 722 * u32::from(b)) / 10000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops;

    #[test]
    fn output_is_standardised_and_sized() {
        let crop = GrayImage::from_fn(200, 90, |x, y| image::Luma([((x * 3 + y) % 256) as u8]));
        let v = prepare(&crop);
        assert_eq!(v.len(), (HEIGHT * WIDTH) as usize);
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 1e-3, "{mean}");
    }

    #[test]
    fn the_resize_gives_the_image_crates_bytes() {
        let mut seed = 5u64;
        for (w, h) in [
            (320, 150),
            (96, 32),
            (40, 12),
            (97, 33),
            (500, 61),
            (7, 3),
            (1, 1),
        ] {
            let crop = GrayImage::from_fn(w, h, |_, _| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                image::Luma([(seed >> 56) as u8])
            });
            let want = imageops::resize(&crop, WIDTH, HEIGHT, imageops::FilterType::Triangle);
            assert_eq!(
                resize_triangle(&crop, Rect::whole(&crop), WIDTH, HEIGHT),
                want.into_raw(),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn a_view_is_its_part_of_the_crop() {
        let crop = GrayImage::from_fn(100, 40, |x, y| image::Luma([(x * 2 + y * 3) as u8]));
        assert_eq!(prepare_view(&crop, &VIEWS[0]), prepare(&crop));
        // 3% of 100 columns and of 40 rows (1.2, rounded) off every side.
        let inner = imageops::crop_imm(&crop, 3, 1, 94, 38).to_image();
        assert_eq!(prepare_view(&crop, &VIEWS[1]), prepare(&inner));
        let left = imageops::crop_imm(&crop, 4, 0, 96, 40).to_image();
        assert_eq!(prepare_view(&crop, &VIEWS[3]), prepare(&left));
        // Every view, read in place, is the copied part's read, also where
        // the part is the network's size already (100x32 less 4 columns).
        for (w, h) in [(100, 40), (100, 32), (37, 13)] {
            let crop = GrayImage::from_fn(w, h, |x, y| image::Luma([(x * 7 + y * 13) as u8]));
            for view in &VIEWS {
                let cut = |f: f32, n: u32| (f * n as f32).round() as u32;
                let (l, t) = (cut(view[0], w), cut(view[1], h));
                let (vw, vh) = (w - l - cut(view[2], w), h - t - cut(view[3], h));
                let part = imageops::crop_imm(&crop, l, t, vw, vh).to_image();
                assert_eq!(
                    prepare_view(&crop, view),
                    prepare(&part),
                    "{w}x{h} {view:?}"
                );
            }
        }
        // Nothing is cut from a crop too small to cut.
        let tiny = GrayImage::from_pixel(1, 1, image::Luma([9]));
        for view in &VIEWS {
            assert_eq!(prepare_view(&tiny, view), prepare(&tiny));
        }
        assert_eq!(
            prepare_view(&GrayImage::new(0, 0), &VIEWS[1]).len(),
            (WIDTH * HEIGHT) as usize
        );
    }

    #[test]
    fn the_grey_is_the_image_crates_grayscale() {
        let levels = [0u8, 1, 17, 64, 100, 127, 128, 200, 254, 255];
        let mut colour = RgbImage::new(levels.len() as u32, (levels.len() * levels.len()) as u32);
        for (i, px) in colour.pixels_mut().enumerate() {
            let n = levels.len();
            *px = image::Rgb([levels[i % n], levels[i / n % n], levels[i / n / n]]);
        }
        // What the reader was trained on before `grey` was its own.
        assert_eq!(grey(&colour), imageops::grayscale(&colour));
        // A grey pixel's luma is itself (crop files already grey are read
        // as they are).
        for v in 0..=255u8 {
            assert_eq!(luma(v, v, v), v);
        }
    }

    #[test]
    fn flat_and_empty_crops_are_zeros() {
        assert!(prepare(&GrayImage::new(0, 0)).iter().all(|&v| v == 0.0));
        let flat = GrayImage::from_pixel(50, 20, image::Luma([77]));
        assert!(prepare(&flat).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn rounding_halves_away_is_rounds() {
        // Every float near each half and whole from 0 to 255, and a stride
        // through all the floats between.
        let mut values: Vec<f32> = (0..=510)
            .map(|i| i as f32 / 2.0)
            .flat_map(|v| [v.next_down(), v, v.next_up()])
            .filter(|v| (0.0..=255.0).contains(v))
            .collect();
        values.extend((0..=255.0f32.to_bits()).step_by(997).map(f32::from_bits));
        for v in values {
            assert_eq!(round_half_away(v), v.round() as u8, "{v}");
        }
    }
}
