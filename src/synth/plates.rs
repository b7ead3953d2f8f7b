//! Plate text for the generator: US plate formats by state, vanity plates,
//! the OCR confusion table used to make misreads and alternates, and the
//! vehicle descriptions of hot-list entries.
//!
//! Plates live in a fixed [`PlateBuf`] (no heap) until a read is materialised.
//! The confusion classes are a local copy of `crate::plate`'s so the generator
//! does not depend on it; a misread only ever swaps a character within its
//! class, so a plate's [`canonical`] form survives any misread. The generator
//! relies on that to keep planted plates and unseen hot-list plates apart from
//! everything else.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// OCR confusion classes, representative first (keep in step with
/// `crate::plate::confusion`).
const CLASSES: [&[u8]; 6] = [b"0ODQ", b"1IT", b"2Z", b"5S", b"8B", b"6G"];

/// Letters California issues in sequential plates (no I, O or Q).
const CA_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// Made-up vanity plates (at most 7 characters, each with a few confusable
/// characters so that alternates can be made).
const VANITY: [&str; 24] = [
    "SURFSUP", "GOBEARS", "MYTESLA", "LUV2RUN", "BIGSUR", "ZOOM2U", "GR8DAY", "CALIGRL", "DOGMOM5",
    "TACOTRK", "SLO2GO", "BEACHBM", "NOBUGS", "XLR8", "IM4USC", "DSRTRAT", "MTNHIGH", "SUNDAZE",
    "PCH4EVR", "OLDSKL", "RIDE0N", "BOSSLDY", "HIKER5", "VNTGVW",
];

/// A plate of at most 8 ASCII characters, kept inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub(super) struct PlateBuf {
    bytes: [u8; 8],
    len: u8,
}

impl PlateBuf {
    /// `s` must be at most 8 ASCII characters (callers pass constants or
    /// generated text).
    pub(super) fn new(s: &str) -> PlateBuf {
        let mut p = PlateBuf::default();
        for &b in s.as_bytes().iter().take(8) {
            p.push(b);
        }
        p
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len as usize] = b;
        self.len += 1;
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub(super) fn as_str(&self) -> &str {
        // Only ASCII bytes are ever pushed.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub(super) fn len(&self) -> usize {
        self.len as usize
    }

    /// Index of the byte that differs at position `i` (for char confidences).
    pub(super) fn differs_at(&self, other: &PlateBuf, i: usize) -> bool {
        self.bytes[i] != other.bytes[i]
    }
}

fn class_of(c: u8) -> Option<&'static [u8]> {
    CLASSES.iter().copied().find(|class| class.contains(&c))
}

/// True when an OCR engine may read `c` as another character.
pub(super) fn confusable(c: u8) -> bool {
    class_of(c).is_some()
}

/// Every character replaced by its class representative: misreads of a
/// plate share its canonical form.
pub(super) fn canonical(p: &PlateBuf) -> PlateBuf {
    let mut out = PlateBuf::default();
    for &c in p.as_bytes() {
        out.push(class_of(c).map_or(c, |class| class[0]));
    }
    out
}

/// How many distinct strings confusion substitutions can turn `p` into,
/// itself included (capped, it only matters whether there are a few).
pub(super) fn spellings(p: &PlateBuf) -> u32 {
    p.as_bytes()
        .iter()
        .map(|&c| class_of(c).map_or(1, |class| class.len() as u32))
        .fold(1u32, |acc, n| acc.saturating_mul(n).min(1 << 16))
}

/// `p` with `subs` distinct confusable positions swapped for another member
/// of their class. Returns `p` unchanged when it has no confusable character.
pub(super) fn misread(rng: &mut Pcg64Mcg, p: &PlateBuf, subs: u32) -> PlateBuf {
    let mut positions = [0u8; 8];
    let mut n = 0u32;
    for (i, &c) in p.as_bytes().iter().enumerate() {
        if confusable(c) {
            positions[n as usize] = i as u8;
            n += 1;
        }
    }
    let mut out = *p;
    let mut remaining = n;
    for _ in 0..subs.min(n) {
        // Pick one of the confusable positions not yet swapped.
        let k = rng.random_range(0..remaining) as usize;
        let i = positions[k] as usize;
        positions.swap(k, remaining as usize - 1);
        remaining -= 1;
        let class = class_of(p.bytes[i]).unwrap_or(b"");
        let j = rng.random_range(0..class.len() as u32 - 1) as usize;
        let here = class.iter().position(|&c| c == p.bytes[i]).unwrap_or(0);
        // Skip the current character so the swap always changes the plate.
        out.bytes[i] = class[if j >= here { j + 1 } else { j }];
    }
    out
}

/// `p` with one of `positions` swapped for another member of its class;
/// positions out of range or not confusable are never picked, and `p` comes
/// back unchanged when none is left.
pub(super) fn misread_at(rng: &mut Pcg64Mcg, p: &PlateBuf, positions: &[usize]) -> PlateBuf {
    let mut usable = [0usize; 8];
    let mut n = 0;
    for &i in positions
        .iter()
        .filter(|&&i| i < p.len() && confusable(p.bytes[i]))
    {
        if n < usable.len() {
            usable[n] = i;
            n += 1;
        }
    }
    if n == 0 {
        return *p;
    }
    let i = usable[rng.random_range(0..n as u32) as usize];
    let class = class_of(p.bytes[i]).unwrap_or(b"");
    let here = class.iter().position(|&c| c == p.bytes[i]).unwrap_or(0);
    let j = rng.random_range(0..class.len() as u32 - 1) as usize;
    let mut out = *p;
    out.bytes[i] = class[if j >= here { j + 1 } else { j }];
    out
}

/// A US state whose plates the generator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    Ca,
    Az,
    Nv,
    Tx,
    Or,
}

impl Region {
    pub(super) fn code(self) -> &'static str {
        match self {
            Region::Ca => "CA",
            Region::Az => "AZ",
            Region::Nv => "NV",
            Region::Tx => "TX",
            Region::Or => "OR",
        }
    }
}

fn from_pattern(rng: &mut Pcg64Mcg, pattern: &[u8]) -> PlateBuf {
    let mut p = PlateBuf::default();
    for &c in pattern {
        let b = match c {
            b'#' => b'0' + rng.random_range(0..10u32) as u8,
            b'@' => CA_LETTERS[rng.random_range(0..CA_LETTERS.len() as u32) as usize],
            // The leading digit of California's current sequence.
            b'N' => b'4' + rng.random_range(0..6u32) as u8,
            other => other,
        };
        p.push(b);
    }
    p
}

/// A random plate and its state: mostly California `#@@@###`, some Arizona,
/// Nevada, Texas and Oregon plates, a few California vanity plates. Always
/// has at least three spellings, so every read can carry two alternates.
pub(super) fn random_plate(rng: &mut Pcg64Mcg) -> (PlateBuf, Region) {
    loop {
        let roll = rng.random_range(0..100u32);
        let (p, region) = match roll {
            0..78 => (from_pattern(rng, b"N@@@###"), Region::Ca),
            78..84 => (from_pattern(rng, b"@@@####"), Region::Az),
            84..89 => (from_pattern(rng, b"###@@@"), Region::Nv),
            89..93 => (from_pattern(rng, b"@@@####"), Region::Tx),
            93..96 => (from_pattern(rng, b"@@@###"), Region::Or),
            _ => {
                let word = VANITY[rng.random_range(0..VANITY.len() as u32) as usize];
                let mut p = PlateBuf::new(word);
                // Personalised plates are unique, so repeats carry a digit.
                if rng.random_bool(0.8) {
                    if p.len() == 7 {
                        p.len = 6;
                    }
                    p.push(b'1' + rng.random_range(0..9u32) as u8);
                }
                (p, Region::Ca)
            }
        };
        if spellings(&p) >= 3 {
            return (p, region);
        }
    }
}

const COLOURS: [&str; 10] = [
    "Silver", "White", "Black", "Gray", "Red", "Blue", "Green", "Gold", "Maroon", "Tan",
];

const MODELS: [&str; 16] = [
    "Honda Civic",
    "Honda Accord",
    "Toyota Camry",
    "Toyota Corolla",
    "Toyota Tacoma",
    "Ford F-150",
    "Ford Explorer",
    "Chevrolet Silverado",
    "Chevrolet Malibu",
    "Nissan Altima",
    "Nissan Sentra",
    "Hyundai Elantra",
    "Kia Optima",
    "Dodge Charger",
    "Jeep Wrangler",
    "Tesla Model 3",
];

/// A vehicle description such as "Silver 2014 Honda Civic".
pub(super) fn vehicle_description(rng: &mut Pcg64Mcg) -> String {
    format!(
        "{} {} {}",
        COLOURS[rng.random_range(0..COLOURS.len() as u32) as usize],
        rng.random_range(2004..2026u32),
        MODELS[rng.random_range(0..MODELS.len() as u32) as usize]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn misreads_stay_in_their_class() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let p = PlateBuf::new("8BD0521");
        for subs in 1..=2 {
            for _ in 0..200 {
                let m = misread(&mut rng, &p, subs);
                assert_ne!(m, p);
                assert_eq!(canonical(&m), canonical(&p));
                let changed = (0..p.len()).filter(|&i| m.differs_at(&p, i)).count();
                assert_eq!(changed as u32, subs);
            }
        }
        assert_eq!(canonical(&PlateBuf::new("BBDO521")).as_str(), "8800521");
    }

    #[test]
    fn random_plates_have_spellings_and_formats() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        for _ in 0..2000 {
            let (p, region) = random_plate(&mut rng);
            assert!(spellings(&p) >= 3, "{}", p.as_str());
            assert!((2..=7).contains(&p.len()));
            assert!(p.as_bytes().iter().all(|c| c.is_ascii_alphanumeric()));
            if region != Region::Ca {
                assert!(p.len() >= 6);
            }
        }
    }
}
