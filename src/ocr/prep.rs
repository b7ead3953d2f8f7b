//! A plate crop -> the network's input: grayscale, resized to
//! [`WIDTH`] x [`HEIGHT`] (triangle filter), then standardised to zero mean
//! and unit deviation, so lighting and contrast matter less. Training and
//! reading share this one function.

use image::imageops::{self, FilterType};
use image::{GrayImage, RgbImage};

use crate::ocr::model::{HEIGHT, WIDTH};

/// The smallest deviation divided by (grey levels): a flat crop stays flat
/// instead of having its noise blown up.
const MIN_DEVIATION: f32 = 8.0;

/// The network's input for one grayscale crop: `HEIGHT * WIDTH` values.
pub fn prepare(crop: &GrayImage) -> Vec<f32> {
    if crop.width() == 0 || crop.height() == 0 {
        return vec![0.0; (HEIGHT * WIDTH) as usize];
    }
    let small = imageops::resize(crop, WIDTH, HEIGHT, FilterType::Triangle);
    let values: Vec<f32> = small.as_raw().iter().map(|&v| f32::from(v)).collect();
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let dev = var.sqrt().max(MIN_DEVIATION);
    values.into_iter().map(|v| (v - mean) / dev).collect()
}

/// [`prepare`] for a colour crop.
pub fn prepare_rgb(crop: &RgbImage) -> Vec<f32> {
    prepare(&imageops::grayscale(crop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_standardised_and_sized() {
        let crop = GrayImage::from_fn(200, 90, |x, y| image::Luma([((x * 3 + y) % 256) as u8]));
        let v = prepare(&crop);
        assert_eq!(v.len(), (HEIGHT * WIDTH) as usize);
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean.abs() < 1e-3, "{mean}");
    }

    #[test]
    fn flat_and_empty_crops_are_zeros() {
        assert!(prepare(&GrayImage::new(0, 0)).iter().all(|&v| v == 0.0));
        let flat = GrayImage::from_pixel(50, 20, image::Luma([77]));
        assert!(prepare(&flat).iter().all(|&v| v == 0.0));
    }
}
