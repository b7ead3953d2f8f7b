//! Random convolutions of training inputs (RandConv, Xu et al., ICLR 2021):
//! a share of the prepared training plates is passed through a random
//! filter, so the reader learns the characters' shapes rather than the
//! generator's textures and contrasts. Training only; reading is unchanged.
//!
//! ```text
//! prepared plate (standardised) -> k x k kernel, k in 1, 3, 5, N(0, 1)
//!   weights, edges repeated -> standardised -> mixed with the plate in a
//!   share a ~ U(0, 1) -> standardised
//! ```
//!
//! Everything is drawn from the plate's key, so a run's plates are the same
//! whatever the thread count (`models/ocr-v2/RUNS.md`, run 69).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::ocr::model::{HEIGHT, WIDTH};
use crate::ocr::prep;

/// The kernel sizes drawn from, each as likely.
const SIZES: [usize; 3] = [1, 3, 5];

/// Filters the prepared plate `x` (`HEIGHT * WIDTH` values) with
/// probability `share` (0-1), as the plate's `key` decides.
pub fn apply(x: &mut [f32], key: u64, share: f64) {
    assert_eq!(x.len(), (HEIGHT * WIDTH) as usize, "one prepared plate");
    let mut rng = Pcg64Mcg::seed_from_u64(key ^ 0x5851_f42d_4c95_7f2d);
    if !rng.random_bool(share) {
        return;
    }
    let k = SIZES[rng.random_range(0..SIZES.len())];
    let kernel: Vec<f32> = (0..k * k).map(|_| normal(&mut rng)).collect();
    let mut out = convolve(x, &kernel, k);
    standardise(&mut out);
    let a: f32 = rng.random_range(0.0..1.0);
    for (o, v) in out.iter_mut().zip(x.iter()) {
        *o = a * *v + (1.0 - a) * *o;
    }
    standardise(&mut out);
    x.copy_from_slice(&out);
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut Pcg64Mcg) -> f32 {
    let (u1, u2): (f32, f32) = (rng.random_range(1e-7..1.0), rng.random_range(0.0..1.0));
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

/// `x` convolved with the `k` x `k` `kernel` (row-major), edges repeated.
fn convolve(x: &[f32], kernel: &[f32], k: usize) -> Vec<f32> {
    let r = (k / 2) as i64;
    let (w, h) = (WIDTH as i64, HEIGHT as i64);
    let mut out = vec![0.0f32; x.len()];
    for y in 0..h {
        for col in 0..w {
            let mut a = 0.0;
            for dy in -r..=r {
                for dx in -r..=r {
                    let sy = (y + dy).clamp(0, h - 1);
                    let sx = (col + dx).clamp(0, w - 1);
                    a +=
                        kernel[((dy + r) * k as i64 + dx + r) as usize] * x[(sy * w + sx) as usize];
                }
            }
            out[(y * w + col) as usize] = a;
        }
    }
    out
}

/// Zero mean and unit deviation (a flat input stays flat).
fn standardise(v: &mut [f32]) {
    prep::standardise(v, 1e-3);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prepared-looking plate: a bright band with dark bars.
    fn plate() -> Vec<f32> {
        let mut x: Vec<f32> = (0..HEIGHT * WIDTH)
            .map(|i| {
                let (y, col) = (i / WIDTH, i % WIDTH);
                if (8..24).contains(&y) && col % 12 < 3 {
                    0.0
                } else {
                    200.0
                }
            })
            .collect();
        standardise(&mut x);
        x
    }

    fn moments(v: &[f32]) -> (f32, f32) {
        let n = v.len() as f32;
        let mean = v.iter().sum::<f32>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn no_share_leaves_every_plate_alone() {
        let x = plate();
        for key in 0..50 {
            let mut y = x.clone();
            apply(&mut y, key, 0.0);
            assert_eq!(y, x);
        }
    }

    #[test]
    fn a_filtered_plate_is_standardised_changed_and_the_same_for_its_key() {
        let x = plate();
        let (mut a, mut b, mut other) = (x.clone(), x.clone(), x.clone());
        apply(&mut a, 7, 1.0);
        apply(&mut b, 7, 1.0);
        apply(&mut other, 8, 1.0);
        assert_eq!(a, b, "the key decides everything");
        assert_ne!(a, x, "filtered");
        assert_ne!(a, other, "another key, another filter");
        let (mean, dev) = moments(&a);
        assert!(
            mean.abs() < 1e-4 && (dev - 1.0).abs() < 1e-3,
            "{mean} {dev}"
        );
    }

    #[test]
    fn about_the_share_of_keys_filter() {
        let x = plate();
        let filtered = (0..1000u64)
            .filter(|&key| {
                let mut y = x.clone();
                apply(&mut y, key, 0.2);
                y != x
            })
            .count();
        assert!((150..=250).contains(&filtered), "{filtered} of 1000");
    }

    #[test]
    fn a_one_by_one_kernel_keeps_the_plate_up_to_sign() {
        // k = 1 scales the plate; standardising gives it back, or its negative.
        let x = plate();
        let mut y = convolve(&x, &[-2.5], 1);
        standardise(&mut y);
        for (a, b) in x.iter().zip(&y) {
            assert!((a + b).abs() < 1e-4);
        }
    }
}
