//! From a camera pass to a [`Read`]: what the OCR engine made of the plate
//! (best read, alternates, confidences, occasional misreads), where it sat in
//! the frame, and the provenance fields. Which passes happen is decided by
//! `traffic`; this module only dresses them.
//!
//! The text of a read depends only on the vehicle and the pass's hash
//! ([`read_text`]), so the parent module can list the confused vehicle's
//! misreads without generating whole days.

use rand::Rng;
use rand_pcg::Pcg64Mcg;
use sha2::{Digest, Sha256};

use super::plates::{PlateBuf, canonical, confusable, misread, misread_at, spellings};
use super::traffic::{Event, Role, TAG_READ, Vehicle, mix, rng_from};
use crate::store::reference::Camera;
use crate::store::schema::{PlateBox, Read};

/// Model version written on every synthetic read.
pub const MODEL_VERSION: &str = "synth-1";

/// Share of ordinary reads whose best read is a misread.
const NOISE: f64 = 0.025;
/// Share of the confused vehicle's reads that are misread.
const CONFUSED_NOISE: f64 = 0.55;

/// Where the OCR engine stumbles on the confused vehicle's plate: the `8`,
/// the `B` and the `0` of `8BD0521` (a bent plate, a bolt over the `0`), so
/// the same few misreads recur, as they do in real data.
const CONFUSED_WEAK: [usize; 3] = [0, 1, 3];

/// Most plates a read carries: the best read and up to four alternates
/// (stored, as ingest stores them, without the best read).
const MAX_PLATES: usize = 5;

/// The OCR result of one read: `plates[0]` is the best read; the others are
/// alternates, confidences decreasing.
pub(super) struct ReadText {
    pub plates: [PlateBuf; MAX_PLATES],
    pub confs: [f32; MAX_PLATES],
    pub n: usize,
    /// Best read differs from the true plate.
    pub misread: bool,
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// The generator for the details of the read made by `event`.
fn read_rng(event: &Event) -> Pcg64Mcg {
    rng_from(mix(event.hash, TAG_READ))
}

/// What the OCR engine read for `vehicle`, drawn from `rng`.
pub(super) fn read_text(vehicle: &Vehicle, rng: &mut Pcg64Mcg) -> ReadText {
    let truth = vehicle.plate;
    let noise = match vehicle.role {
        Role::Ordinary => NOISE,
        Role::Confused => CONFUSED_NOISE,
        _ => 0.0,
    };
    let wrong = noise > 0.0 && rng.random_bool(noise);
    let mut t = ReadText {
        plates: [truth; MAX_PLATES],
        confs: [0.0; MAX_PLATES],
        n: 1,
        misread: wrong,
    };
    let wanted = (1 + rng.random_range(2..=4u32)).min(spellings(&truth)) as usize;
    if wrong {
        t.plates[0] = if vehicle.role == Role::Confused {
            misread_at(rng, &truth, &CONFUSED_WEAK)
        } else {
            let subs = if rng.random_bool(0.85) { 1 } else { 2 };
            misread(rng, &truth, subs)
        };
        // The true plate is the runner-up.
        t.plates[1] = truth;
        t.n = 2;
    }
    let mut attempts = 0;
    while t.n < wanted && attempts < 24 {
        attempts += 1;
        let subs = if rng.random_bool(0.75) { 1 } else { 2 };
        let candidate = misread(rng, &truth, subs);
        if !t.plates[..t.n].contains(&candidate) {
            t.plates[t.n] = candidate;
            t.n += 1;
        }
    }

    let u = rng.random::<f32>();
    t.confs[0] = if wrong {
        0.55 + 0.25 * u
    } else {
        0.99 - 0.44 * u * u
    };
    for i in 1..t.n {
        let ratio = if wrong && i == 1 {
            rng.random_range(0.75..0.97f32)
        } else if i == 1 {
            rng.random_range(0.2..0.6f32)
        } else {
            rng.random_range(0.3..0.8f32)
        };
        t.confs[i] = t.confs[i - 1] * ratio;
    }
    for i in 0..t.n {
        t.confs[i] = round3(t.confs[i]);
        if i > 0 {
            // Rounding must not tie or reorder the alternates.
            t.confs[i] = t.confs[i].min(t.confs[i - 1] - 0.001).max(0.001);
        }
    }
    debug_assert!(
        t.plates[..t.n]
            .iter()
            .all(|p| canonical(p) == canonical(&truth))
    );
    t
}

/// What a day's reads share.
pub(super) struct DayContext<'a> {
    pub batch_id: &'a str,
    /// The UTC date, `YYYY-MM-DD`.
    pub date: &'a str,
    pub cameras: &'a [Camera],
}

/// The read made by `event`, the `index`-th of its day and the `frame`-th
/// of its camera that day.
pub(super) fn materialise(
    ctx: &DayContext<'_>,
    vehicle: &Vehicle,
    event: &Event,
    index: usize,
    frame: u32,
    id_buf: &mut String,
) -> Read {
    use std::fmt::Write;

    let mut rng = read_rng(event);
    let text = read_text(vehicle, &mut rng);
    let best = text.plates[0];
    let c0 = text.confs[0];
    let truth = vehicle.plate;

    let char_confidence = (0..best.len())
        .map(|i| {
            let c = if text.misread && best.differs_at(&truth, i) {
                rng.random_range(0.35..0.6f32)
            } else if confusable(best.as_bytes()[i]) {
                c0 * rng.random_range(0.85..1.0f32)
            } else {
                c0 + (0.999 - c0) * rng.random::<f32>()
            };
            round3(c)
        })
        .collect();

    let w = rng.random_range(140..260i32);
    let h = w * rng.random_range(46..54i32) / 100;
    let plate_box = PlateBox {
        x: rng.random_range(200..1720 - w),
        y: rng.random_range(480..1000 - h),
        w,
        h,
    };

    let camera = &ctx.cameras[event.cam as usize];
    let source_file = format!("synth/{}/{}/{:06}.jpg", camera.camera_id, ctx.date, frame);
    let source_sha256 = hex::encode(Sha256::digest(source_file.as_bytes()));
    id_buf.clear();
    // Writing to a String cannot fail.
    let _ = write!(id_buf, "{}/{}", ctx.batch_id, index);
    let read_id = hex::encode(&Sha256::digest(id_buf.as_bytes())[..16]);

    Read {
        read_id,
        ts_micros: event.ts,
        camera_id: camera.camera_id.clone(),
        lat: Some(camera.lat),
        lon: Some(camera.lon),
        heading: camera.heading,
        plate: best.as_str().to_string(),
        confidence: c0,
        alternates: (1..text.n)
            .map(|i| (text.plates[i].as_str().to_string(), text.confs[i]))
            .collect(),
        char_confidence,
        region: Some(vehicle.region.code().to_string()),
        plate_box: Some(plate_box),
        source_file,
        source_frame: 0,
        source_sha256,
        model_version: MODEL_VERSION.to_string(),
        crop_jpeg: None,
        batch_id: ctx.batch_id.to_string(),
        pass_frames: None,
    }
}

/// The best read `event` yields for `vehicle`, without building the read.
pub(super) fn best_plate(vehicle: &Vehicle, event: &Event) -> PlateBuf {
    read_text(vehicle, &mut read_rng(event)).plates[0]
}
