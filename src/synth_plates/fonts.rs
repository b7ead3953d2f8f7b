//! The fonts plates are drawn with, embedded at compile time from
//! `assets/fonts/` (see its README for sources and licences), parsed once.
//!
//! This module owns font identity and parsing, plus one measured fact per
//! font (its cap height) so that callers can ask for text by the height of
//! its capitals. Laying text out is `render`'s job.

use std::path::PathBuf;

use ab_glyph::{Font, FontRef, PxScale, point};

use crate::error::{Error, Result};

/// One embedded font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FontId {
    Rg2014C,
    Rg2014D,
    Rg2014E,
    Din,
    BebasBold,
    BebasRegular,
    LiberationNarrowBold,
    LiberationSerifBoldItalic,
    DejaVuCondensedBold,
    RobotoCondensedBold,
    RobotoCondensedRegular,
    RoutedGothicNarrow,
    NationalParkHeavy,
}

/// Every embedded font, in `FontId` order: id, file name, bytes.
pub(crate) const EMBEDDED: [(FontId, &str, &[u8]); 13] = [
    (
        FontId::Rg2014C,
        "RG2014C.ttf",
        include_bytes!("../../assets/fonts/RG2014C.ttf"),
    ),
    (
        FontId::Rg2014D,
        "RG2014D.ttf",
        include_bytes!("../../assets/fonts/RG2014D.ttf"),
    ),
    (
        FontId::Rg2014E,
        "RG2014E.ttf",
        include_bytes!("../../assets/fonts/RG2014E.ttf"),
    ),
    (
        FontId::Din,
        "OSP-DIN.ttf",
        include_bytes!("../../assets/fonts/OSP-DIN.ttf"),
    ),
    (
        FontId::BebasBold,
        "BebasNeue-Bold.otf",
        include_bytes!("../../assets/fonts/BebasNeue-Bold.otf"),
    ),
    (
        FontId::BebasRegular,
        "BebasNeue-Regular.otf",
        include_bytes!("../../assets/fonts/BebasNeue-Regular.otf"),
    ),
    (
        FontId::LiberationNarrowBold,
        "LiberationSansNarrow-Bold.ttf",
        include_bytes!("../../assets/fonts/LiberationSansNarrow-Bold.ttf"),
    ),
    (
        FontId::LiberationSerifBoldItalic,
        "LiberationSerif-BoldItalic.ttf",
        include_bytes!("../../assets/fonts/LiberationSerif-BoldItalic.ttf"),
    ),
    (
        FontId::DejaVuCondensedBold,
        "DejaVuSansCondensed-Bold.ttf",
        include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf"),
    ),
    (
        FontId::RobotoCondensedBold,
        "RobotoCondensed-Bold.ttf",
        include_bytes!("../../assets/fonts/RobotoCondensed-Bold.ttf"),
    ),
    (
        FontId::RobotoCondensedRegular,
        "RobotoCondensed-Regular.ttf",
        include_bytes!("../../assets/fonts/RobotoCondensed-Regular.ttf"),
    ),
    (
        FontId::RoutedGothicNarrow,
        "routed-gothic-narrow.ttf",
        include_bytes!("../../assets/fonts/routed-gothic-narrow.ttf"),
    ),
    (
        FontId::NationalParkHeavy,
        "NationalPark-Heavy.otf",
        include_bytes!("../../assets/fonts/NationalPark-Heavy.otf"),
    ),
];

/// Characters every font must draw: the reader's alphabet.
pub(crate) const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A parsed font and its cap height per pixel of scale.
pub(crate) struct Face {
    pub font: FontRef<'static>,
    pub cap_ratio: f32,
}

/// All embedded fonts, parsed.
pub(crate) struct Fonts {
    faces: Vec<Face>,
}

impl Fonts {
    /// Parses every embedded font and checks it draws the whole alphabet.
    pub(crate) fn load() -> Result<Fonts> {
        let mut faces = Vec::with_capacity(EMBEDDED.len());
        for (i, &(id, name, bytes)) in EMBEDDED.iter().enumerate() {
            debug_assert_eq!(id as usize, i, "EMBEDDED must follow FontId order");
            let bad = |message: String| Error::BadData {
                path: PathBuf::from("assets/fonts").join(name),
                message,
            };
            let font = FontRef::try_from_slice(bytes)
                .map_err(|e| bad(format!("embedded font does not parse: {e}")))?;
            if let Some(c) = ALPHABET.chars().find(|&c| font.glyph_id(c).0 == 0) {
                return Err(bad(format!("embedded font has no glyph for '{c}'")));
            }
            let h = font
                .outline_glyph(
                    font.glyph_id('H')
                        .with_scale_and_position(100.0, point(0.0, 0.0)),
                )
                .map(|g| g.px_bounds().height())
                .filter(|&h| h > 1.0)
                .ok_or_else(|| bad("embedded font draws no 'H'".into()))?;
            faces.push(Face {
                font,
                cap_ratio: h / 100.0,
            });
        }
        Ok(Fonts { faces })
    }

    pub(crate) fn get(&self, id: FontId) -> &Face {
        &self.faces[id as usize]
    }
}

/// The pixel scale that gives capitals `cap` pixels tall, `stretch` times
/// as wide as the font's natural width.
pub(crate) fn scale_for(face: &Face, cap: f32, stretch: f32) -> PxScale {
    let y = cap / face.cap_ratio;
    PxScale { x: y * stretch, y }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_font_parses_and_draws_the_alphabet() {
        let fonts = Fonts::load().unwrap();
        for &(id, name, _) in &EMBEDDED {
            let face = fonts.get(id);
            assert!(
                (0.4..1.0).contains(&face.cap_ratio),
                "{name}: {}",
                face.cap_ratio
            );
            for c in ALPHABET.chars() {
                let g = face
                    .font
                    .glyph_id(c)
                    .with_scale_and_position(40.0, point(0.0, 40.0));
                let outlined = face.font.outline_glyph(g);
                let mut ink = 0.0f32;
                if let Some(o) = outlined {
                    o.draw(|_, _, cov| ink += cov);
                }
                assert!(ink > 20.0, "{name} draws '{c}' with {ink} ink");
            }
        }
    }
}
