//! Plate designs: one entry per US state style (colours, state name,
//! slogans, serial formats, artwork, serial fonts) and the European style.
//! These are impressions built from public knowledge of each design, not
//! copies: enough variety that a reader learns to ignore the artwork.
//!
//! Drawing a style is `render`'s job; choosing one is [`pick`].

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Rgb, hex};
use super::fonts::FontId::{self, *};
use super::seal::Logo;
use super::text::{LETTERS, SERIAL_LETTERS};

/// How the state name is lettered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NameFont {
    Sans,
    Script,
    Block,
}

/// Artwork painted behind the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decor {
    Plain,
    Mountains(Rgb),
    Hills(Rgb),
    TopBand(Rgb),
    BottomBand(Rgb),
    Flag(Rgb, Rgb),
    Sun(Rgb),
    Waves(Rgb),
    Trees(Rgb),
    Rainbow,
    Bird(Rgb),
    /// An archer as tall as the plate, in this blue-grey or paler, on the
    /// left of the serial, which makes room for it (Oklahoma's "Native
    /// America" plates).
    Archer(Rgb),
    /// The EU band at the left: country letters.
    EuBand,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub id: &'static str,
    pub name: &'static str,
    pub name_font: NameFont,
    /// State name printed below the serial rather than above.
    pub name_below: bool,
    pub slogans: &'static [&'static str],
    pub formats: &'static [&'static str],
    /// Formats the issuer also prints that the generator does not draw:
    /// known to the decoder (`plate::formats`), not to the reader's
    /// training plates.
    pub known_formats: &'static [&'static str],
    /// The letters the issuer puts in serials (`@` in a format): most US
    /// issuers skip I, O and Q; European countries have their own sets.
    pub letters: &'static [u8],
    pub top: Rgb,
    pub bottom: Rgb,
    pub ink: Rgb,
    pub name_ink: Rgb,
    pub slogan_ink: Rgb,
    pub decor: Decor,
    pub fonts: &'static [FontId],
    /// Width over height of the plate.
    pub aspect: f32,
    /// What `|` in a format draws between the serial's groups.
    pub logo: Logo,
    /// Relative frequency.
    pub weight: u32,
}

impl Style {
    pub(crate) fn is_eu(&self) -> bool {
        self.decor == Decor::EuBand
    }
}

/// Serial fonts closest to US plate lettering.
const US_FONTS: &[FontId] = &[
    Rg2014C,
    Rg2014D,
    Rg2014C,
    Rg2014D,
    Rg2014E,
    LiberationNarrowBold,
    RobotoCondensedBold,
    BebasBold,
    DejaVuCondensedBold,
    RoutedGothicNarrow,
    NationalParkHeavy,
    Din,
];
const NARROW_FONTS: &[FontId] = &[Rg2014C, Rg2014C, Rg2014D, BebasBold, BebasRegular, Din];
const EU_FONTS: &[FontId] = &[
    Din,
    Din,
    Din,
    Rg2014D,
    LiberationNarrowBold,
    RobotoCondensedBold,
];

const WHITE: Rgb = hex(0xf4f4f0);
const NAVY: Rgb = hex(0x1b2a5c);
const BLACK: Rgb = hex(0x141414);
const RED: Rgb = hex(0xb01c22);
const GREEN: Rgb = hex(0x1d5a2c);

const BASE: Style = Style {
    id: "us",
    name: "",
    name_font: NameFont::Sans,
    name_below: false,
    slogans: &[],
    formats: &["@@@-####"],
    known_formats: &[],
    letters: SERIAL_LETTERS,
    top: WHITE,
    bottom: WHITE,
    ink: NAVY,
    name_ink: NAVY,
    slogan_ink: NAVY,
    decor: Decor::Plain,
    fonts: US_FONTS,
    aspect: 2.0,
    logo: Logo::Fruit(NAVY),
    weight: 10,
};

/// Serial letters of European issuers (public rules; the generic mix of
/// [`SERIAL_LETTERS`] where we know none): Germany uses the whole alphabet
/// (its lettering tells O from 0), France skips I, O and U, Italy I, O, Q
/// and U, Spain uses consonants but Q, the Netherlands consonants but C,
/// M, Q, W and Y, Britain skips I and Q.
const FR_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZ";
const IT_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTVWXYZ";
const NL_LETTERS: &[u8] = b"BDFGHJKLNPRSTVXZ";
const ES_LETTERS: &[u8] = b"BCDFGHJKLMNPRSTVWXYZ";
const GB_LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";

/// Short numbers US issuers print that no style draws: a specialty
/// plate's beside a stacked prefix its label leaves out (Massachusetts'
/// `US 6161`, North Carolina's `VF 5219`), a county plate's, a low number.
/// The decoder counts them as US formats (`plate::formats`); the generator
/// does not draw them (yet), so the reader learnt them only from plates
/// in general.
pub(crate) const US_SHORT_NUMBERS: &[&str] = &["###", "####"];

/// Every style. US states weigh 10 (a few common ones more); the
/// European styles together about a seventh of all samples.
pub(crate) const STYLES: &[Style] = &[
    Style {
        id: "us-ca",
        name: "California",
        name_font: NameFont::Script,
        slogans: &["dmv.ca.gov", "", "DMV.CA.GOV"],
        formats: &["#@@@###"],
        name_ink: RED,
        slogan_ink: NAVY,
        fonts: NARROW_FONTS,
        weight: 30,
        ..BASE
    },
    Style {
        id: "us-ca-old",
        name: "CALIFORNIA",
        slogans: &["", "THE GOLDEN STATE"],
        formats: &["#@@@###"],
        top: hex(0x1a2a6a),
        bottom: hex(0x1a2a6a),
        ink: hex(0xe8c030),
        name_ink: hex(0xe8c030),
        slogan_ink: hex(0xe8c030),
        weight: 3,
        ..BASE
    },
    Style {
        id: "us-tx",
        name: "TEXAS",
        slogans: &["THE LONE STAR STATE", ""],
        formats: &["@@@-####", "@@#-@###", "###-@@#"],
        top: hex(0xf2f2f2),
        bottom: hex(0xd9d9d6),
        ink: BLACK,
        name_ink: BLACK,
        slogan_ink: BLACK,
        weight: 20,
        ..BASE
    },
    Style {
        id: "us-ny",
        name: "NEW YORK",
        slogans: &["EMPIRE STATE", "THE EMPIRE STATE"],
        formats: &["@@@-####"],
        top: hex(0xf6e7b0),
        bottom: hex(0xf3f0e6),
        ink: hex(0x102a6e),
        name_ink: WHITE,
        decor: Decor::TopBand(hex(0x1c3b8a)),
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-fl",
        name: "MYFLORIDA.COM",
        slogans: &["SUNSHINE STATE", "Sunshine State"],
        formats: &["@@@|@##", "###|@@@", "@##|@@@", "@@@|###"],
        logo: Logo::Fruit(hex(0xf08a20)),
        ink: hex(0x16603a),
        name_ink: hex(0x16603a),
        slogan_ink: hex(0x16603a),
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-az",
        name: "ARIZONA",
        slogans: &["GRAND CANYON STATE"],
        formats: &["###.@@@", "@@@####", "@@@#@##"],
        top: hex(0xd9e8f0),
        bottom: hex(0xf0c88c),
        ink: hex(0x1e4a3a),
        name_ink: hex(0x1c3c84),
        slogan_ink: hex(0x202060),
        decor: Decor::Mountains(hex(0x6a4a8a)),
        ..BASE
    },
    Style {
        id: "us-il",
        name: "Illinois",
        name_font: NameFont::Script,
        slogans: &["Land of Lincoln"],
        formats: &["@@# ####", "### ####", "@# #####", "@@ #####"],
        ink: RED,
        name_ink: NAVY,
        slogan_ink: NAVY,
        ..BASE
    },
    Style {
        id: "us-va",
        name: "VIRGINIA",
        name_below: true,
        slogans: &["Virginia is for Lovers", ""],
        formats: &["@@@-####", "@@@-###"],
        ink: NAVY,
        name_ink: RED,
        slogan_ink: NAVY,
        ..BASE
    },
    Style {
        id: "us-ct",
        name: "Connecticut",
        slogans: &["Constitution State"],
        formats: &["###.@@@", "@@.#####", "#@@.@#"],
        top: hex(0xa8cbe8),
        bottom: hex(0xf2f6fa),
        ink: NAVY,
        name_ink: NAVY,
        slogan_ink: NAVY,
        ..BASE
    },
    Style {
        id: "us-id",
        name: "IDAHO",
        slogans: &["FAMOUS POTATOES", "Scenic Idaho"],
        formats: &["#@ #####", "#@ @####", "#@#####"],
        top: hex(0xc8283a),
        bottom: hex(0xf0f0f0),
        ink: NAVY,
        name_ink: WHITE,
        decor: Decor::Trees(hex(0x22305a)),
        ..BASE
    },
    Style {
        id: "us-wa",
        name: "Washington",
        name_font: NameFont::Script,
        slogans: &["EVERGREEN STATE", ""],
        formats: &["@@@####", "###-@@@", "@@@#@##"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Mountains(hex(0xc8d8e8)),
        ..BASE
    },
    Style {
        id: "us-nc",
        name: "NORTH CAROLINA",
        slogans: &["FIRST IN FLIGHT", "FIRST IN FREEDOM"],
        formats: &["@@@-####"],
        top: hex(0xe6eef6),
        bottom: WHITE,
        ink: NAVY,
        name_ink: RED,
        decor: Decor::Flag(RED, hex(0x2a4a9a)),
        ..BASE
    },
    Style {
        id: "us-hi",
        name: "HAWAII",
        slogans: &["ALOHA STATE"],
        formats: &["@@@ ###", "@@@-###"],
        ink: BLACK,
        name_ink: BLACK,
        decor: Decor::Rainbow,
        ..BASE
    },
    Style {
        id: "us-wi",
        name: "WISCONSIN",
        slogans: &["AMERICA'S DAIRYLAND"],
        formats: &["@@@-####", "###-@@@", "@@@-###"],
        top: hex(0xf0f4f8),
        bottom: hex(0xf4e8c8),
        ink: BLACK,
        name_ink: hex(0x203a80),
        decor: Decor::Waves(hex(0x6a9acc)),
        ..BASE
    },
    Style {
        id: "us-vt",
        name: "VERMONT",
        slogans: &["GREEN MOUNTAIN STATE"],
        formats: &["@@@###", "###@###", "@@@ ###"],
        top: hex(0x1e5e32),
        bottom: hex(0x1e5e32),
        ink: hex(0xf2f2ea),
        name_ink: hex(0xf2f2ea),
        slogan_ink: hex(0xf2f2ea),
        ..BASE
    },
    Style {
        id: "us-la",
        name: "LOUISIANA",
        slogans: &["SPORTSMAN'S PARADISE", "BAYOU STATE"],
        formats: &["@@@###", "###@@@", "#@@###"],
        ink: hex(0x1c2c7c),
        name_ink: RED,
        decor: Decor::Flag(hex(0x6a9ad0), hex(0xffffff)),
        ..BASE
    },
    Style {
        id: "us-ar",
        name: "ARKANSAS",
        slogans: &["THE NATURAL STATE"],
        formats: &["###@@@", "@@@##@", "###-@@@"],
        ink: NAVY,
        name_ink: RED,
        decor: Decor::Bird(hex(0x3050a0)),
        ..BASE
    },
    Style {
        id: "us-ri",
        name: "RHODE ISLAND",
        slogans: &["OCEAN STATE"],
        formats: &["######", "@@-###", "###-###", "#@-###"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Waves(hex(0x2a5aa8)),
        ..BASE
    },
    Style {
        id: "us-nh",
        name: "NEW HAMPSHIRE",
        slogans: &["LIVE FREE OR DIE"],
        formats: &["### ####", "#######"],
        top: WHITE,
        bottom: hex(0xe8f0e0),
        ink: GREEN,
        name_ink: GREEN,
        slogan_ink: GREEN,
        ..BASE
    },
    Style {
        id: "us-ma",
        name: "Massachusetts",
        name_font: NameFont::Script,
        slogans: &["THE SPIRIT OF AMERICA"],
        formats: &["#@@@##", "###@@#", "#@@#"],
        // Earlier series of the Spirit of America base, still on the road
        // (licenseplates.cc/MA: 0000 AA, then 00A A00).
        known_formats: &["#### @@", "##@ @##"],
        ink: RED,
        name_ink: RED,
        slogan_ink: NAVY,
        ..BASE
    },
    Style {
        id: "us-wy",
        name: "WYOMING",
        slogans: &["", "LIKE NO PLACE ON EARTH"],
        formats: &["##|####", "#|#####", "##|###@"],
        top: hex(0xe8eef4),
        bottom: hex(0xf0e0c8),
        ink: hex(0x1a1a3a),
        logo: Logo::Rider(hex(0x1a1a3a)),
        name_ink: hex(0x8a1a1a),
        decor: Decor::Mountains(hex(0x7080a0)),
        ..BASE
    },
    Style {
        id: "us-pa",
        name: "PENNSYLVANIA",
        slogans: &["visitPA.com", "www.visitPA.com"],
        formats: &["@@@-####", "@@@####"],
        top: WHITE,
        bottom: hex(0xf0f0f0),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Flag(hex(0x1c3c8c), hex(0xf0c020)),
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-nj",
        name: "NEW JERSEY",
        slogans: &["GARDEN STATE"],
        formats: &["@##-@@@", "@@@-##@", "@##-@@@"],
        top: hex(0xf4e4a0),
        bottom: hex(0xe8e8e4),
        ink: BLACK,
        name_ink: BLACK,
        slogan_ink: BLACK,
        ..BASE
    },
    Style {
        id: "us-mn",
        name: "MINNESOTA",
        slogans: &["10,000 lakes", "Explore Minnesota"],
        formats: &["###-@@@", "@@@-###"],
        top: hex(0xdfe8f4),
        bottom: WHITE,
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Waves(hex(0x4a7acc)),
        ..BASE
    },
    Style {
        id: "us-dc",
        name: "DISTRICT OF COLUMBIA",
        slogans: &[
            "TAXATION WITHOUT REPRESENTATION",
            "END TAXATION WITHOUT REPRESENTATION",
            "Celebrate & Discover",
        ],
        formats: &["@@-####", "@@-###"],
        ink: RED,
        name_ink: NAVY,
        decor: Decor::Flag(RED, WHITE),
        ..BASE
    },
    Style {
        id: "us-ms",
        name: "MISSISSIPPI",
        slogans: &["", "IN GOD WE TRUST"],
        formats: &["@@@ ####", "@@@ ###", "@@# ####"],
        top: hex(0xdfe7f0),
        bottom: hex(0x9fb8d8),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Waves(hex(0x305080)),
        ..BASE
    },
    Style {
        id: "us-me",
        name: "MAINE",
        slogans: &["VACATIONLAND"],
        formats: &["####-@@", "### @@@", "#### @@"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Bird(hex(0x303030)),
        ..BASE
    },
    Style {
        id: "us-md",
        name: "Maryland",
        name_font: NameFont::Script,
        slogans: &["", "www.maryland.gov"],
        formats: &["#@@####", "#@@@##", "@@#####"],
        ink: BLACK,
        name_ink: RED,
        decor: Decor::Flag(hex(0xe0b020), BLACK),
        ..BASE
    },
    Style {
        id: "us-nv",
        name: "NEVADA",
        slogans: &["HOME MEANS NEVADA", "THE SILVER STATE"],
        formats: &["###-@@@", "##@-###", "#@@###"],
        top: hex(0x9ac0e8),
        bottom: hex(0xf4d8a0),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Mountains(hex(0x806090)),
        ..BASE
    },
    Style {
        id: "us-ia",
        name: "IOWA",
        slogans: &["", "iowa.gov"],
        formats: &["@@@ ###", "###-@@@"],
        ink: BLACK,
        name_ink: NAVY,
        decor: Decor::Hills(hex(0x80a060)),
        ..BASE
    },
    Style {
        id: "us-or",
        name: "OREGON",
        slogans: &["", "PACIFIC WONDERLAND"],
        formats: &["###-@@@", "@@@###", "###@@@"],
        ink: hex(0x1a3a6a),
        name_ink: hex(0x1a3a6a),
        decor: Decor::Trees(hex(0x2a6a3a)),
        ..BASE
    },
    Style {
        id: "us-oh",
        name: "OHIO",
        slogans: &["BIRTHPLACE OF AVIATION", "ohio.org"],
        formats: &["@@@ ####", "@@@-####"],
        top: hex(0xf4f4f4),
        bottom: hex(0xe8eef8),
        ink: BLACK,
        name_ink: RED,
        decor: Decor::Hills(hex(0x80b0d0)),
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-ga",
        name: "GEORGIA",
        slogans: &["", "IN GOD WE TRUST"],
        formats: &["@@@####", "@@@-####"],
        ink: BLACK,
        name_ink: BLACK,
        decor: Decor::Sun(hex(0xf0a060)),
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-mi",
        name: "MICHIGAN",
        slogans: &["PURE MICHIGAN", "GREAT LAKES"],
        formats: &["@@@####", "#@@@##", "@@@ ####"],
        ink: NAVY,
        name_ink: NAVY,
        weight: 15,
        ..BASE
    },
    Style {
        id: "us-co",
        name: "COLORADO",
        name_font: NameFont::Block,
        slogans: &[""],
        formats: &["@@@-@##", "###-@@@", "@@@-###"],
        top: hex(0x2a6a3a),
        bottom: WHITE,
        ink: GREEN,
        name_ink: WHITE,
        decor: Decor::Mountains(hex(0xf2f2f2)),
        ..BASE
    },
    Style {
        id: "us-ut",
        name: "UTAH",
        name_font: NameFont::Block,
        slogans: &["LIFE ELEVATED", ""],
        formats: &["@## #@@", "### #@@"],
        top: hex(0xf0f0f0),
        bottom: hex(0xf0c890),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Mountains(hex(0xb05030)),
        ..BASE
    },
    Style {
        id: "us-nm",
        name: "NEW MEXICO",
        slogans: &["LAND OF ENCHANTMENT"],
        formats: &["@@@-###", "###-@@@"],
        top: hex(0xf4d020),
        bottom: hex(0xf4d020),
        ink: hex(0xb02020),
        name_ink: hex(0xb02020),
        slogan_ink: hex(0xb02020),
        ..BASE
    },
    Style {
        id: "us-ak",
        name: "ALASKA",
        slogans: &["THE LAST FRONTIER", ""],
        formats: &["@@@ ###", "@@@###"],
        top: hex(0xf2d23a),
        bottom: hex(0xf2d23a),
        ink: hex(0x1a2a6a),
        name_ink: hex(0x1a2a6a),
        decor: Decor::Flag(hex(0x1a2a6a), hex(0xf2d23a)),
        ..BASE
    },
    Style {
        id: "us-al",
        name: "ALABAMA",
        slogans: &["STARS FELL ON ALABAMA", "Sweet Home Alabama"],
        formats: &["##@###@", "#@@####", "##@@###"],
        top: hex(0xd8e4f0),
        bottom: WHITE,
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Waves(hex(0x7090c0)),
        ..BASE
    },
    Style {
        id: "us-ky",
        name: "KENTUCKY",
        slogans: &["Unbridled Spirit", ""],
        formats: &["###-@@@", "@@@###"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Hills(hex(0x5a80c0)),
        ..BASE
    },
    Style {
        id: "us-tn",
        name: "TENNESSEE",
        slogans: &["", "IN GOD WE TRUST"],
        formats: &["@##-##@", "###-@@@", "@@@-###"],
        ink: hex(0x2a4a2a),
        name_ink: hex(0x2a4a2a),
        decor: Decor::Hills(hex(0x60a070)),
        ..BASE
    },
    Style {
        id: "us-sc",
        name: "SOUTH CAROLINA",
        slogans: &["WHILE I BREATHE I HOPE", "TRAVEL2SC.COM"],
        formats: &["@@@ ###", "###-@@@"],
        ink: BLACK,
        name_ink: NAVY,
        decor: Decor::Sun(hex(0xf0a050)),
        ..BASE
    },
    Style {
        id: "us-mo",
        name: "MISSOURI",
        slogans: &["SHOW-ME STATE"],
        formats: &["@@# @#@", "@@#-@#@"],
        top: hex(0xd8e4f4),
        bottom: WHITE,
        ink: BLACK,
        name_ink: NAVY,
        decor: Decor::Bird(hex(0x3060a0)),
        ..BASE
    },
    Style {
        id: "us-ks",
        name: "KANSAS",
        slogans: &["", "kansas"],
        formats: &["### @@@", "###-@@@"],
        top: hex(0xe8e8f8),
        bottom: hex(0xf0f0f0),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Hills(hex(0xd0c080)),
        ..BASE
    },
    Style {
        id: "us-ne",
        name: "NEBRASKA",
        slogans: &["The Good Life"],
        formats: &["@@@ ###", "## @####"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Hills(hex(0x60a8d0)),
        ..BASE
    },
    Style {
        id: "us-sd",
        name: "SOUTH DAKOTA",
        name_font: NameFont::Block,
        slogans: &["GREAT PLACES", ""],
        formats: &["#@@ ###", "## @###"],
        top: hex(0xe8e0c8),
        bottom: hex(0xe8e0c8),
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Mountains(hex(0x9090a0)),
        ..BASE
    },
    Style {
        id: "us-nd",
        name: "NORTH DAKOTA",
        slogans: &["LEGENDARY", "PEACE GARDEN STATE"],
        formats: &["### @@@", "@@@ ###"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Hills(hex(0xa0c080)),
        ..BASE
    },
    Style {
        id: "us-mt",
        name: "MONTANA",
        slogans: &["BIG SKY COUNTRY", "TREASURE STATE"],
        formats: &["#-#####@", "##-####@", "###-@@@"],
        top: hex(0x1a2a5a),
        bottom: hex(0x1a2a5a),
        ink: WHITE,
        name_ink: WHITE,
        slogan_ink: WHITE,
        decor: Decor::Mountains(hex(0x3a4a7a)),
        ..BASE
    },
    Style {
        id: "us-ok",
        name: "OKLAHOMA",
        slogans: &["NATIVE AMERICA", "TravelOK.com"],
        formats: &["###@@@", "@@@-###", "###-@@@"],
        top: hex(0xa0c8e8),
        bottom: WHITE,
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Archer(hex(0x3a4a68)),
        ..BASE
    },
    Style {
        id: "us-in",
        name: "INDIANA",
        slogans: &["IN GOD WE TRUST", "CROSSROADS OF AMERICA"],
        formats: &["###@", "###@@", "###@@@"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::Flag(hex(0x1a3a8a), hex(0xe0c050)),
        ..BASE
    },
    Style {
        id: "us-de",
        name: "DELAWARE",
        slogans: &["THE FIRST STATE"],
        formats: &["######", "#####", "@ #####"],
        top: hex(0x1a2a5a),
        bottom: hex(0x1a2a5a),
        ink: hex(0xe0c060),
        name_ink: hex(0xe0c060),
        slogan_ink: hex(0xe0c060),
        ..BASE
    },
    Style {
        id: "us-wv",
        name: "WEST VIRGINIA",
        slogans: &["WILD, WONDERFUL", "ALMOST HEAVEN"],
        formats: &["#@@###", "@@@###"],
        ink: NAVY,
        name_ink: NAVY,
        decor: Decor::BottomBand(hex(0xe0b020)),
        ..BASE
    },
    Style {
        id: "us-gov",
        name: "U.S. GOVERNMENT",
        slogans: &["FOR OFFICIAL USE ONLY"],
        formats: &["@#####", "@@#####"],
        ink: BLACK,
        name_ink: BLACK,
        fonts: NARROW_FONTS,
        weight: 3,
        ..BASE
    },
    Style {
        id: "us-dealer",
        name: "",
        slogans: &["DEALER", "TEMPORARY TAG", "EXPIRES"],
        formats: &["#######", "@#####", "######@"],
        top: hex(0xf8f8f8),
        bottom: hex(0xf0f0f0),
        ink: BLACK,
        name_ink: BLACK,
        fonts: &[
            DejaVuCondensedBold,
            LiberationNarrowBold,
            RobotoCondensedBold,
        ],
        weight: 4,
        ..BASE
    },
    Style {
        id: "eu",
        name: "D",
        slogans: &[],
        formats: &["@|@@ ####", "@@|@@ ###", "@@|@ ###", "@@@|@ ###"],
        logo: Logo::Seals,
        letters: LETTERS,
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 40,
        ..BASE
    },
    Style {
        id: "eu",
        name: "F",
        slogans: &[],
        formats: &["@@-###-@@"],
        letters: FR_LETTERS,
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 20,
        ..BASE
    },
    Style {
        id: "eu",
        name: "NL",
        slogans: &[],
        formats: &["##-@@@-#", "@@-###-@", "#-@@@-##"],
        letters: NL_LETTERS,
        top: hex(0xf2c618),
        bottom: hex(0xf2c618),
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 15,
        ..BASE
    },
    Style {
        id: "eu",
        name: "GB",
        slogans: &[],
        formats: &["@@## @@@"],
        letters: GB_LETTERS,
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.6,
        weight: 20,
        ..BASE
    },
    Style {
        id: "eu",
        name: "GB",
        slogans: &[],
        formats: &["@@## @@@"],
        letters: GB_LETTERS,
        top: hex(0xf2c618),
        bottom: hex(0xf2c618),
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.6,
        weight: 15,
        ..BASE
    },
    Style {
        id: "eu",
        name: "I",
        slogans: &[],
        formats: &["@@ ###@@", "@@###@@"],
        letters: IT_LETTERS,
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 15,
        ..BASE
    },
    Style {
        id: "eu",
        name: "E",
        slogans: &[],
        formats: &["#### @@@"],
        letters: ES_LETTERS,
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 15,
        ..BASE
    },
    Style {
        id: "eu",
        name: "B",
        slogans: &[],
        formats: &["#-@@@-###"],
        top: WHITE,
        bottom: WHITE,
        ink: hex(0xa01818),
        fonts: EU_FONTS,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 10,
        ..BASE
    },
    Style {
        id: "eu",
        name: "SK",
        slogans: &[],
        formats: &["@@|###@@", "@@-###@@"],
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        logo: Logo::Crest,
        weight: 15,
        ..BASE
    },
    Style {
        id: "eu",
        name: "CZ",
        slogans: &[],
        formats: &["#@# ####", "#@@ ####"],
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 10,
        ..BASE
    },
    Style {
        id: "eu",
        name: "PL",
        slogans: &[],
        formats: &["@@ #####", "@@@ ##@@", "@@ ###@@"],
        fonts: EU_FONTS,
        ink: BLACK,
        decor: Decor::EuBand,
        aspect: 4.4,
        weight: 15,
        ..BASE
    },
];

/// One of `among` (a non-empty set of styles) chosen by weight.
pub(crate) fn pick<'a, I>(rng: &mut Pcg64Mcg, among: I) -> &'a Style
where
    I: IntoIterator<Item = &'a Style>,
    I::IntoIter: Clone,
{
    let styles = among.into_iter();
    let total: u32 = styles.clone().map(|s| s.weight).sum();
    let mut r = rng.random_range(0..total);
    for s in styles {
        if r < s.weight {
            return s;
        }
        r -= s.weight;
    }
    unreachable!("the draw is below the weights' total")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth_plates::text;
    use rand::SeedableRng;

    #[test]
    fn formats_make_valid_labels_and_styles_are_many() {
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        for s in STYLES {
            assert!(!s.formats.is_empty(), "{}", s.id);
            for f in s.formats {
                let serial = text::from_format(&mut rng, f, s.letters);
                assert!(text::is_valid_label(&serial.label), "{} {f}", s.id);
            }
        }
        for s in STYLES {
            let mut letters = s.letters.to_vec();
            letters.sort_unstable();
            letters.dedup();
            assert_eq!(letters, s.letters, "{}: sorted, distinct", s.id);
            assert!(letters.len() >= 10 && letters.iter().all(u8::is_ascii_uppercase));
        }
        let mut ids: Vec<_> = STYLES.iter().map(|s| s.id).collect();
        ids.dedup();
        assert!(ids.len() >= 40, "{} styles", ids.len());
    }
}
