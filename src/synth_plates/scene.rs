//! Whole frames with a plate in them, for tests, benchmarks and the bundled
//! samples: a street-coloured background with noise, a car-sized block, and
//! a generated plate crop placed on it at a size a roadside camera sees.
//! Deterministic in `(seed, index)`. Not training data: the reader trains
//! on [`super::PlateSynth::sample`] crops.
//!
//! A frame [`PlateSynth::scene_on_car`] also draws the car's parts around
//! the plate ([`super::car`]): the same plate at the same place as
//! [`PlateSynth::scene`]'s frame of that `(seed, index)`, so the two
//! measure what those parts cost the localiser, frame by frame.

use image::{Rgb, RgbImage, imageops};
use rand::Rng;

use super::canvas::Canvas;
use super::car::{self, CarParts};
use super::{PlateSynth, stream};

/// A generated frame and where its plate is.
#[derive(Debug, Clone)]
pub struct Scene {
    pub image: RgbImage,
    pub text: String,
    /// `[x, y, w, h]` of the pasted plate crop.
    pub bbox: [u32; 4],
    /// The car's parts drawn around the plate (none on a plain frame).
    pub parts: CarParts,
}

impl PlateSynth {
    /// A `width x height` frame with one plate.
    pub fn scene(&self, seed: u64, index: u64, width: u32, height: u32) -> Scene {
        self.scene_with(seed, index, width, height, false)
    }

    /// [`PlateSynth::scene`]'s frame with the car's parts drawn around the
    /// plate: recess, bumper edges, grille, badge, lettering, lights, a sign.
    pub fn scene_on_car(&self, seed: u64, index: u64, width: u32, height: u32) -> Scene {
        self.scene_with(seed, index, width, height, true)
    }

    fn scene_with(&self, seed: u64, index: u64, width: u32, height: u32, on_car: bool) -> Scene {
        let sample = self.sample(seed, index);
        let mut rng = stream(seed ^ 0x5ce9e, index);
        let base: [u8; 3] = [
            rng.random_range(60..140),
            rng.random_range(60..140),
            rng.random_range(60..140),
        ];
        let mut image = RgbImage::from_fn(width, height, |x, y| {
            let n = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7) % 24;
            let g = (y * 60 / height.max(1)) as u8;
            Rgb([
                base[0].saturating_add(g).saturating_add(n as u8),
                base[1].saturating_add(g / 2).saturating_add(n as u8),
                base[2].saturating_add(n as u8),
            ])
        });
        // A car: a darker block around where the plate goes.
        let plate_w = ((width as f32) * rng.random_range(0.09f32..0.16)) as u32;
        let plate_w = plate_w.clamp(60, width.saturating_sub(2).max(60));
        let plate_h = (plate_w as f32 * sample.image.height() as f32 / sample.image.width() as f32)
            .max(12.0) as u32;
        let px = rng.random_range(plate_w..width.saturating_sub(plate_w * 2).max(plate_w + 1));
        let py = rng.random_range(height / 3..(height - plate_h * 2).max(height / 3 + 1));
        let car = Rgb([
            rng.random_range(10..220),
            rng.random_range(10..220),
            rng.random_range(10..220),
        ]);
        let (cx0, cy0) = (px.saturating_sub(plate_w), py.saturating_sub(plate_h * 3));
        let (cx1, cy1) = (
            (px + plate_w * 2).min(width),
            (py + plate_h * 2).min(height),
        );
        for y in cy0..cy1 {
            for x in cx0..cx1 {
                image.put_pixel(x, y, car);
            }
        }
        let mut parts = CarParts::default();
        if on_car {
            // A stream of its own, so the plate and its place stay the
            // plain frame's.
            let mut car_rng = stream(seed ^ 0xca7_9a27, index);
            let mut canvas = Canvas::from_rgb(&image);
            let f = |v: u32| v as f32;
            parts = car::draw(
                &mut canvas,
                &self.fonts,
                &mut car_rng,
                [f(cx0), f(cy0), f(cx1), f(cy1)],
                [f(px), f(py), f(px + plate_w), f(py + plate_h)],
            );
            image = canvas.to_rgb();
        }
        let plate = imageops::resize(
            &sample.image,
            plate_w,
            plate_h,
            imageops::FilterType::Triangle,
        );
        imageops::overlay(&mut image, &plate, px as i64, py as i64);
        Scene {
            image,
            text: sample.text,
            bbox: [px, py, plate_w, plate_h],
            parts,
        }
    }
}
