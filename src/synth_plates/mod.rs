//! Synthetic licence-plate crops for training the plate reader: US state
//! styles and a European style, drawn with embedded fonts (US serials also
//! in a stroke-drawn plate lettering, `strokes`), put into a camera's view
//! and cut as a localiser would, then degraded as cameras do.
//!
//! ```text
//! (seed, index) -> random stream -> style -> serial (text)
//!   -> render (flat plate) -> geometry (tilted crop with the car around it)
//!   -> augment (light, blur, noise, JPEG) -> PlateSample
//! ```
//!
//! Every sample depends only on `(seed, index)`, so samples can be made in
//! any order on any thread. Writing samples to disk is the CLI's job.

mod augment;
mod canvas;
mod car;
mod decor;
mod emblem;
mod fonts;
mod geometry;
mod layout;
mod render;
mod scene;
mod seal;
mod strokes;
pub(crate) mod styles;
mod text;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::error::{Error, Result};

pub use car::CarParts;
pub use render::Clutter;
pub use scene::Scene;

/// One synthetic crop and its truth.
#[derive(Debug, Clone)]
pub struct PlateSample {
    /// The crop as a localiser would hand it over (60..400 pixels wide).
    pub image: image::RgbImage,
    /// 1..=8 characters of `[0-9A-Z]`: no spaces, dashes or state names.
    pub text: String,
    /// The design drawn, e.g. `"us-ca"` or `"eu"`.
    pub style: &'static str,
    /// The clutter it carries beyond its design.
    pub clutter: Clutter,
}

/// The generator: fonts parsed once; share it across threads.
pub struct PlateSynth {
    fonts: fonts::Fonts,
    /// The designs drawn, with their weights: every style, or one id's.
    styles: Vec<&'static styles::Style>,
}

impl PlateSynth {
    /// Parses the embedded fonts. Fails only if an embedded font is broken
    /// (a build problem, not a user one).
    pub fn new() -> Result<PlateSynth> {
        Ok(PlateSynth {
            fonts: fonts::Fonts::load()?,
            styles: styles::STYLES.iter().collect(),
        })
    }

    /// A generator of one design only: `id` is one of
    /// [`PlateSynth::styles`] (`"us-tx"`, `"eu"`), drawn in the table's
    /// proportions where it names several (the European designs are all
    /// `eu`), to see how the reader does on one issuer's plates.
    pub fn of_style(id: &str) -> Result<PlateSynth> {
        let only: Vec<_> = styles::STYLES.iter().filter(|s| s.id == id).collect();
        if only.is_empty() {
            return Err(Error::bad_input(format!(
                "no plate style {id:?}; the styles are {}",
                PlateSynth::styles().join(", ")
            )));
        }
        Ok(PlateSynth {
            styles: only,
            ..PlateSynth::new()?
        })
    }

    /// Deterministic: same (seed, index) -> same sample, independent of
    /// thread or call order.
    pub fn sample(&self, seed: u64, index: u64) -> PlateSample {
        self.sample_with(seed, index, 1.0)
    }

    /// [`PlateSynth::sample`] with each kind of [`Clutter`] drawn `clutter`
    /// (0-1) times as often: 0 gives plain plates, whose serials are in the
    /// fonts, for a training curriculum's start. The same (seed, index)
    /// draws the same style and text at any `clutter`.
    pub fn sample_with(&self, seed: u64, index: u64, clutter: f64) -> PlateSample {
        let clutter = clutter.clamp(0.0, 1.0);
        let mut rng = stream(seed, index);
        let style = styles::pick(&mut rng, self.styles.iter().copied());
        let serial = if !style.is_eu() && rng.random_bool(0.12) {
            text::vanity(&mut rng)
        } else {
            let f = style.formats[rng.random_range(0..style.formats.len())];
            text::from_format(&mut rng, f, style.letters)
        };
        // Crop width: mostly 100..330 px like real localiser crops, some
        // smaller and larger.
        let out_w = (60.0 + 340.0 * rng.random_range(0.0f32..1.0).powf(1.3)) as usize;
        let plate_w = ((out_w as f32 * 1.15) as usize).clamp(180, 460);
        let (plate, drawn) = render::plate(&self.fonts, style, &serial, &mut rng, plate_w, clutter);
        let crop = geometry::crop(&plate, &mut rng, out_w);
        debug_assert!(text::is_valid_label(&serial.label), "{}", serial.label);
        PlateSample {
            image: augment::apply(crop, &mut rng),
            text: serial.label,
            style: style.id,
            clutter: drawn,
        }
    }

    /// Every style id the generator draws (distinct, in table order).
    pub fn styles() -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = Vec::new();
        for s in styles::STYLES {
            if !ids.contains(&s.id) {
                ids.push(s.id);
            }
        }
        ids
    }
}

/// The random stream of one sample: seed and index mixed (SplitMix64
/// finaliser) so neighbouring indices are unrelated.
fn stream(seed: u64, index: u64) -> Pcg64Mcg {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    Pcg64Mcg::seed_from_u64(mix(mix(seed.wrapping_add(0x9e37_79b9_7f4a_7c15)) ^ index))
}

#[cfg(test)]
mod tests;
