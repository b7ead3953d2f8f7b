//! Synthetic plate reads with planted truths, for tests, demos and
//! benchmarks (`alpr synth-reads`). This module owns the generator's public
//! face ([`SynthConfig`], [`Synth`], [`Truths`]) and the story it plants; the
//! street grid and cameras live in `geo`, plate text in `plates`, the traffic
//! in `traffic`, and the dressing of a camera pass into a [`Read`] in
//! `reads`; [`write_store`] hands a generator's output to the store's writer.
//!
//! ```text
//! SynthConfig --Synth::new--> cameras, vehicles + routes, hot list, Truths
//!                  Synth::day(d) --plan trips of local days d-1, d--> passes in UTC day d
//!                                --sort by time--> Reads
//! ```
//!
//! Output is a pure function of the configuration: every random choice comes
//! from a PCG generator seeded by a hash of the seed and what the choice
//! concerns (a vehicle, a local day, a trip, a pass), and no floating-point
//! function whose last bit varies between platforms reaches the output. Days
//! are independent, so callers may generate them in parallel.
//!
//! Planted truths, which tests and demos must be able to find:
//! - a stakeout: [`STAKEOUT_PLATE`] is read at each of three incident sites
//!   inside a two-hour window (10:00, 14:00 and, at night, 01:00 Pacific) on
//!   days 1, `days / 2` and `days - 2` (the same day in a short period);
//! - a convoy: [`CONVOY_FOLLOWER`] drives [`CONVOY_LEADER`]'s route, 20-90 s
//!   behind, past at least [`CONVOY_MIN_CAMERAS`] cameras on up to five days
//!   (every day when the period is shorter);
//! - a confused plate: [`CONFUSED_PLATE`] is misread by OCR confusions in
//!   about half its reads;
//! - a hot list of about 40 entries, of which the plates in [`HOTLIST_SEEN`]
//!   are read during the period and no other is ever read.
//!
//! Planted vehicles are read at every camera they pass and never misread by
//! chance (save the confused one); their plates are kept apart from every
//! other plate up to OCR confusion, so no ordinary read or misread can be
//! taken for them.

mod geo;
mod plates;
mod reads;
mod traffic;
mod write;

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Weekday};
use rand::Rng;
use serde::Serialize;

use self::geo::{Grid, Pass};
use self::plates::{PlateBuf, Region, canonical};
use self::traffic::{
    LocalDay, Planted, PlantedTrip, TAG_HOTLIST, TAG_LAYOUT, TAG_SITES, Template, Traffic, mix,
    rng_from,
};
use crate::store::reference::{Camera, HotlistEntry};
use crate::store::schema::Read;
use crate::{Error, Result};

pub use self::reads::MODEL_VERSION;
pub use self::write::write_store;

/// The vehicle seen at all three incident sites.
pub const STAKEOUT_PLATE: &str = "6TRM418";
/// The convoy's leading vehicle.
pub const CONVOY_LEADER: &str = "4GWN725";
/// The vehicle that follows [`CONVOY_LEADER`].
pub const CONVOY_FOLLOWER: &str = "8LKD390";
/// The follower is never more than this behind the leader at a camera.
pub const CONVOY_MAX_GAP_S: u32 = 120;
/// The convoy passes at least this many cameras together each convoy day.
pub const CONVOY_MIN_CAMERAS: u32 = 4;
/// The true plate of the often-misread vehicle.
pub const CONFUSED_PLATE: &str = "8BD0521";
/// Search radius around each incident site, metres.
pub const INCIDENT_RADIUS_M: f64 = 300.0;
/// Hot-listed plates that are read during the period (sorted).
pub const HOTLIST_SEEN: [&str; 6] = [
    "496KTA", "5WLP873", "7KXW352", "8FHN205", "9MZE614", "CXR4471",
];

/// Details of the [`HOTLIST_SEEN`] entries, in the same order:
/// state, list, reason, source, vehicle.
const HOTLIST_SEEN_DETAILS: [(Region, &str, &str, &str, &str); 6] = [
    (
        Region::Nv,
        "wanted",
        "Armed robbery suspect vehicle",
        "CASE-2026-0588",
        "Blue 2009 Chevrolet Silverado",
    ),
    (
        Region::Ca,
        "stolen",
        "Stolen plate",
        "CLETS",
        "White 2011 Toyota Camry",
    ),
    (
        Region::Ca,
        "stolen",
        "Stolen vehicle",
        "NCIC",
        "Silver 2014 Honda Civic",
    ),
    (
        Region::Ca,
        "wanted",
        "Felony warrant - registered owner",
        "CASE-2026-0412",
        "Black 2019 Dodge Charger",
    ),
    (
        Region::Ca,
        "amber",
        "AMBER Alert - child abduction",
        "CASE-2026-0977",
        "Gray 2016 Nissan Altima",
    ),
    (
        Region::Az,
        "stolen",
        "Stolen vehicle",
        "NCIC",
        "Red 2017 Ford F-150",
    ),
];

/// Hot-list entries that are never read.
const HOTLIST_UNSEEN: usize = 34;

/// Incident windows: local day (from the number of days) and local start
/// hour; each lasts two hours. The last is at night.
fn incident_windows(days: u32) -> [(i32, u32); 3] {
    let days = days as i32;
    [(1, 10), (days / 2, 14), (days - 2, 1)]
}
const INCIDENT_WINDOW_S: i64 = 2 * 3600;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Same seed and configuration, same output, on any machine.
    pub seed: u64,
    /// About how many reads over the whole period (within a few percent).
    pub reads: u64,
    /// Number of UTC days, from `start`.
    pub days: u32,
    /// First UTC day.
    pub start: NaiveDate,
    /// Number of fixed cameras.
    pub cameras: u32,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 42,
            reads: 200_000,
            days: 30,
            start: NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
            cameras: 300,
        }
    }
}

/// One incident site of the stakeout: a camera, a radius around it and the
/// time window the stakeout vehicle is read there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// 1, 2, 3.
    pub site: u32,
    pub camera_id: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    /// Window start, RFC 3339 UTC (`2026-10-02T17:00:00Z`).
    pub from: String,
    /// Window end (exclusive), RFC 3339 UTC.
    pub to: String,
}

/// What was planted, for tests and demos to find again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truths {
    pub stakeout_plate: String,
    pub incidents: Vec<Incident>,
    pub convoy_leader: String,
    pub convoy_follower: String,
    pub convoy_max_gap_s: u32,
    pub convoy_min_cameras: u32,
    /// UTC dates (`YYYY-MM-DD`) the convoy drives.
    pub convoy_days: Vec<String>,
    /// Cameras the convoy passes, in driving order.
    pub convoy_cameras: Vec<String>,
    pub confused_plate: String,
    /// Distinct best reads of the confused vehicle other than its plate
    /// (sorted).
    pub confused_variants: Vec<String>,
    /// Hot-listed plates read during the period (sorted); all of their
    /// entries are valid through the period.
    pub hotlist_seen: Vec<String>,
}

/// The generator: a camera network, a vehicle population with planted
/// behaviour, a hot list and the truths, built once; reads are made a day at
/// a time by [`Synth::day`].
pub struct Synth {
    config: SynthConfig,
    cameras: Vec<Camera>,
    hotlist: Vec<HotlistEntry>,
    truths: Truths,
    traffic: Traffic,
}

fn days_from_epoch(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

fn rfc3339(utc_s: i64) -> String {
    DateTime::from_timestamp(utc_s, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn validate(c: &SynthConfig) -> Result<()> {
    if c.days < 3 {
        return Err(Error::bad_input(format!(
            "--days must be at least 3: the planted incidents and convoy span several days (got {})",
            c.days
        )));
    }
    if c.days > 3660 {
        return Err(Error::bad_input(format!(
            "--days must be at most 3660 (ten years) (got {})",
            c.days
        )));
    }
    if c.cameras < 10 {
        return Err(Error::bad_input(format!(
            "--cameras must be at least 10: the planted convoy corridor alone takes {} (got {})",
            geo::CORRIDOR_CAMERAS,
            c.cameras
        )));
    }
    let max = geo::max_cameras();
    if c.cameras as usize > max {
        return Err(Error::bad_input(format!(
            "--cameras must be at most {max}: the synthetic street grid has no more places for cameras (got {})",
            c.cameras
        )));
    }
    if c.reads < 1000 {
        return Err(Error::bad_input(format!(
            "--reads must be at least 1000: fewer cannot hide the planted truths in ordinary traffic (got {})",
            c.reads
        )));
    }
    if c.reads > 2_000_000_000 {
        return Err(Error::bad_input(format!(
            "--reads must be at most 2000000000: the vehicle population is held in memory (got {})",
            c.reads
        )));
    }
    let fits = c
        .start
        .checked_sub_days(Days::new(1))
        .and_then(|_| c.start.checked_add_days(Days::new(u64::from(c.days) + 400)));
    if fits.is_none() {
        return Err(Error::bad_input(format!(
            "--start {} plus {} days is outside the calendar",
            c.start, c.days
        )));
    }
    Ok(())
}

/// Three incident cameras: preferably isolated (no other camera within the
/// search radius), off the major corridors and the planted corridor, and far
/// apart, so ordinary traffic rarely links them.
fn pick_sites(grid: &Grid, seed: u64) -> [usize; 3] {
    let mut rng = rng_from(mix(seed, TAG_SITES));
    let sites = &grid.sites;
    let mut order: Vec<(u64, usize)> = (0..sites.len()).map(|i| (rng.random(), i)).collect();
    order.sort_unstable();
    let radius_km = (INCIDENT_RADIUS_M / 1000.0) as f32;
    let isolated = |i: usize| {
        sites
            .iter()
            .enumerate()
            .all(|(j, s)| j == i || s.pos.dist_km(sites[i].pos) > radius_km)
    };
    let quiet = |i: usize| {
        let r = sites[i].pos.dist_km(geo::Point { x: 0.0, y: 0.0 });
        i >= geo::CORRIDOR_CAMERAS && !sites[i].on_major() && (3.0..18.0).contains(&r)
    };
    let mut picked: Vec<usize> = Vec::with_capacity(3);
    // Strictest rule first; later rules only fill what is left.
    for rule in 0..4 {
        for &(_, i) in &order {
            if picked.len() == 3 {
                break;
            }
            let apart = |min_km: f32| {
                picked
                    .iter()
                    .all(|&p| sites[p].pos.dist_km(sites[i].pos) >= min_km)
            };
            let ok = !picked.contains(&i)
                && match rule {
                    0 => quiet(i) && isolated(i) && apart(4.0),
                    1 => i >= geo::CORRIDOR_CAMERAS && apart(1.0),
                    2 => i >= geo::CORRIDOR_CAMERAS,
                    _ => true,
                };
            if ok {
                picked.push(i);
            }
        }
    }
    [picked[0], picked[1], picked[2]]
}

impl Synth {
    /// Builds the cameras, the population, the hot list and the truths.
    /// Fails with [`Error::BadInput`] when the configuration cannot carry
    /// the planted truths.
    pub fn new(config: SynthConfig) -> Result<Synth> {
        validate(&config)?;
        let seed = config.seed;
        let mut layout_rng = rng_from(mix(seed, TAG_LAYOUT));
        let grid = Grid::layout(&mut layout_rng, config.cameras as usize);
        let cameras = grid.cameras(&mut layout_rng);
        let sites = pick_sites(&grid, seed);
        let mut traffic = Traffic::new(seed);

        // Planted plates, and every spelling OCR can make of them, belong to
        // the planted vehicles alone.
        let planted_plates: Vec<PlateBuf> = [STAKEOUT_PLATE, CONVOY_LEADER, CONVOY_FOLLOWER]
            .into_iter()
            .chain([CONFUSED_PLATE])
            .chain(HOTLIST_SEEN)
            .map(PlateBuf::new)
            .collect();
        let reserved: HashSet<PlateBuf> = planted_plates.iter().map(canonical).collect();
        let mut used: HashSet<PlateBuf> = planted_plates.iter().copied().collect();
        let mut taken = |p: &PlateBuf| !used.insert(*p) || reserved.contains(&canonical(p));

        let ca = |p: &str| (PlateBuf::new(p), Region::Ca);
        let (p, r) = ca(STAKEOUT_PLATE);
        let stakeout = traffic.add_vehicle(
            &grid,
            Template::Local(p, r, traffic::Role::Stakeout),
            &mut taken,
        );
        let (p, r) = ca(CONVOY_LEADER);
        let leader = traffic.add_vehicle(
            &grid,
            Template::Commuter(p, r, traffic::Role::ConvoyLeader),
            &mut taken,
        );
        let (p, r) = ca(CONVOY_FOLLOWER);
        let follower = traffic.add_vehicle(
            &grid,
            Template::Commuter(p, r, traffic::Role::ConvoyFollower),
            &mut taken,
        );
        let (p, r) = ca(CONFUSED_PLATE);
        traffic.add_vehicle(
            &grid,
            Template::CorridorCommuter(p, r, traffic::Role::Confused),
            &mut taken,
        );
        let mut hot = Vec::new();
        for (plate, details) in HOTLIST_SEEN.iter().zip(HOTLIST_SEEN_DETAILS) {
            hot.push(traffic.add_vehicle(
                &grid,
                Template::Commuter(PlateBuf::new(plate), details.0, traffic::Role::HotSeen),
                &mut taken,
            ));
        }
        let first_ordinary = traffic.vehicles.len();
        let base_vehicles = (config.reads / (u64::from(config.days) * 6)).max(40);
        for _ in 0..base_vehicles {
            traffic.add_vehicle(&grid, Template::Random, &mut taken);
        }

        // The stakeout: two passes inside each incident window.
        let local_day = |index: i32| local_day(config.start, index);
        let mut site_rng = rng_from(mix(mix(seed, TAG_SITES), 1));
        let mut planted = Planted {
            trips: Vec::new(),
            convoy_days: Vec::new(),
            convoy_route: 0,
            convoy: (leader, follower),
            // Any three days hold a weekday.
            hot_day: (0..3).find(|&d| !local_day(d).weekend).unwrap_or(0),
        };
        let mut incidents = Vec::new();
        for (k, (&cam, (day, hour))) in sites.iter().zip(incident_windows(config.days)).enumerate()
        {
            let route = traffic.routes.add_passes(&[Pass {
                cam: cam as u32,
                at_s: 0.0,
            }]);
            let from_local = hour * 3600;
            for (lo, hi) in [(900, 3000), (3900, 6300)] {
                planted.trips.push(PlantedTrip {
                    vehicle: stakeout,
                    local_day: day,
                    start_s: from_local + site_rng.random_range(lo..hi),
                    route,
                    jitter_s: 1.0,
                });
            }
            let from = local_day(day).midnight_s + i64::from(from_local);
            let camera = &cameras[cam];
            incidents.push(Incident {
                site: k as u32 + 1,
                camera_id: camera.camera_id.clone(),
                lat: camera.lat,
                lon: camera.lon,
                radius_m: INCIDENT_RADIUS_M,
                from: rfc3339(from),
                to: rfc3339(from + INCIDENT_WINDOW_S),
            });
        }

        // The convoy: along the planted corridor, on up to five spread days.
        let convoy_route = traffic.add_route(&grid, geo::CORRIDOR_WEST, geo::CORRIDOR_EAST);
        let convoy_days = config.days.min(5);
        planted.convoy_days = (0..convoy_days)
            .map(|i| (i * config.days / convoy_days) as i32)
            .collect();
        planted.convoy_route = convoy_route;
        let convoy_len = traffic.routes.get(convoy_route).len() as f64;
        let hot_commutes: f64 = hot.iter().map(|&v| traffic.commute_passes(v)).sum();
        let extra = 2.0 * 3.0 + 2.0 * convoy_len * f64::from(convoy_days) + hot_commutes;
        let truths_convoy_days = planted
            .convoy_days
            .iter()
            .map(|&d| date_after(config.start, d).to_string())
            .collect();
        let convoy_cameras = traffic
            .routes
            .get(convoy_route)
            .iter()
            .map(|p| cameras[p.cam as usize].camera_id.clone())
            .collect();
        traffic.set_planted(planted);

        let mut day_kinds = [0.0f64; 2];
        for d in 0..config.days as i32 {
            day_kinds[usize::from(local_day(d).weekend)] += 1.0;
        }
        traffic.calibrate(
            &grid,
            config.reads as f64,
            first_ordinary,
            extra,
            day_kinds,
            &mut taken,
        );

        // The expectation misses edge effects (trips across the ends of the
        // period) and chance; counting the passes (cheap, no reads are made)
        // and re-aiming a few times lands near the requested total.
        let want = config.reads as f64;
        let (mut goal, mut best) = (want, (f64::INFINITY, traffic.scale()));
        for round in 0..4 {
            let got = count_reads(&config, &traffic) as f64;
            let miss = (got - want).abs();
            if miss < best.0 {
                best = (miss, traffic.scale());
            }
            if miss <= want * 0.005 || round == 3 {
                break;
            }
            goal *= want / got.max(1.0);
            traffic.solve_scale(goal, extra, day_kinds);
        }
        traffic.set_scale(best.1);

        let hotlist = make_hotlist(&config, &traffic);
        let confused_variants = confused_variants(&config, &traffic);
        let truths = Truths {
            stakeout_plate: STAKEOUT_PLATE.to_string(),
            incidents,
            convoy_leader: CONVOY_LEADER.to_string(),
            convoy_follower: CONVOY_FOLLOWER.to_string(),
            convoy_max_gap_s: CONVOY_MAX_GAP_S,
            convoy_min_cameras: CONVOY_MIN_CAMERAS,
            convoy_days: truths_convoy_days,
            convoy_cameras,
            confused_plate: CONFUSED_PLATE.to_string(),
            confused_variants,
            hotlist_seen: HOTLIST_SEEN.iter().map(|p| p.to_string()).collect(),
        };
        Ok(Synth {
            config,
            cameras,
            hotlist,
            truths,
            traffic,
        })
    }

    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// The camera registry, `CAM-0001` first.
    pub fn cameras(&self) -> &[Camera] {
        &self.cameras
    }

    /// The hot list, sorted by list and plate.
    pub fn hotlist(&self) -> &[HotlistEntry] {
        &self.hotlist
    }

    pub fn truths(&self) -> &Truths {
        &self.truths
    }

    /// The batch id of day `day`'s reads, e.g. `synth-s42-2026-10-01`.
    pub fn batch_id(&self, day: u32) -> String {
        format!(
            "synth-s{}-{}",
            self.config.seed,
            date_after(self.config.start, day as i32)
        )
    }

    /// The reads of UTC day `day` (0-based from `start`), sorted by time.
    /// Empty for days past the period.
    pub fn day(&self, day: u32) -> Vec<Read> {
        if day >= self.config.days {
            return Vec::new();
        }
        let d = day as i32;
        let lo = days_from_epoch(date_after(self.config.start, d)) * 86_400_000_000;
        let window = (lo, lo + 86_400_000_000);
        let per_day = self.config.reads / u64::from(self.config.days);
        let mut events = Vec::with_capacity((per_day + per_day / 4) as usize);
        let mut trips = Vec::with_capacity(16);
        // A UTC day holds the evening of one Pacific day and most of the next.
        for index in [d - 1, d] {
            let local = local_day(self.config.start, index);
            for v in 0..self.traffic.vehicles.len() as u32 {
                trips.clear();
                self.traffic.plan(v, &local, &mut trips);
                self.traffic.emit(v, &local, &trips, window, &mut events);
            }
        }
        events.sort_unstable_by_key(|e| (e.ts, e.order));

        let batch_id = self.batch_id(day);
        let date = date_after(self.config.start, d).to_string();
        let ctx = reads::DayContext {
            batch_id: &batch_id,
            date: &date,
            cameras: &self.cameras,
        };
        let mut frames = vec![0u32; self.cameras.len()];
        let mut id_buf = String::with_capacity(64);
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let frame = &mut frames[e.cam as usize];
                *frame += 1;
                let vehicle = &self.traffic.vehicles[e.veh as usize];
                reads::materialise(&ctx, vehicle, e, i, *frame, &mut id_buf)
            })
            .collect()
    }
}

fn date_after(start: NaiveDate, days: i32) -> NaiveDate {
    // `validate` made sure the period and the day before it are in range.
    if days >= 0 {
        start.checked_add_days(Days::new(days as u64))
    } else {
        start.checked_sub_days(Days::new(u64::from(days.unsigned_abs())))
    }
    .unwrap_or(start)
}

/// Pacific local day `index` (from `start`).
fn local_day(start: NaiveDate, index: i32) -> LocalDay {
    let date = date_after(start, index);
    LocalDay {
        index,
        midnight_s: days_from_epoch(date) * 86_400 - geo::pacific_offset_hours(date) * 3600,
        weekend: matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
    }
}

/// Number of reads the period will hold, from planning alone.
fn count_reads(config: &SynthConfig, traffic: &Traffic) -> usize {
    let lo = days_from_epoch(config.start) * 86_400_000_000;
    let window = (lo, lo + i64::from(config.days) * 86_400_000_000);
    let (mut trips, mut events) = (Vec::new(), Vec::new());
    let mut total = 0;
    for index in -1..config.days as i32 {
        let local = local_day(config.start, index);
        for v in 0..traffic.vehicles.len() as u32 {
            trips.clear();
            events.clear();
            traffic.plan(v, &local, &mut trips);
            traffic.emit(v, &local, &trips, window, &mut events);
            total += events.len();
        }
    }
    total
}

/// The confused vehicle's misreads over the whole period, found by
/// planning only that vehicle.
fn confused_variants(config: &SynthConfig, traffic: &Traffic) -> Vec<String> {
    let Some(v) = traffic
        .vehicles
        .iter()
        .position(|v| v.role == traffic::Role::Confused)
    else {
        return Vec::new();
    };
    let vehicle = &traffic.vehicles[v];
    let lo = days_from_epoch(config.start) * 86_400_000_000;
    let window = (lo, lo + i64::from(config.days) * 86_400_000_000);
    let (mut trips, mut events) = (Vec::new(), Vec::new());
    for index in -1..config.days as i32 {
        let local = local_day(config.start, index);
        trips.clear();
        traffic.plan(v as u32, &local, &mut trips);
        traffic.emit(v as u32, &local, &trips, window, &mut events);
    }
    let variants: BTreeSet<String> = events
        .iter()
        .map(|e| reads::best_plate(vehicle, e))
        .filter(|p| *p != vehicle.plate)
        .map(|p| p.as_str().to_string())
        .collect();
    variants.into_iter().collect()
}

/// The hot list: the seen entries, and random entries whose plates no
/// vehicle has in any OCR spelling, so they are never read.
fn make_hotlist(config: &SynthConfig, traffic: &Traffic) -> Vec<HotlistEntry> {
    let mut rng = rng_from(mix(config.seed, TAG_HOTLIST));
    let end = date_after(config.start, config.days as i32);
    let after = |d: u32| end.checked_add_days(Days::new(u64::from(d))).unwrap_or(end);
    let before = |d: u32| {
        config
            .start
            .checked_sub_days(Days::new(u64::from(d)))
            .unwrap_or(config.start)
    };
    let year = config.start.year();
    let mut entries: Vec<HotlistEntry> = HOTLIST_SEEN
        .iter()
        .zip(HOTLIST_SEEN_DETAILS)
        .enumerate()
        .map(
            |(i, (plate, (_, list, reason, source, vehicle)))| HotlistEntry {
                list: list.to_string(),
                plate: plate.to_string(),
                reason: reason.to_string(),
                source: source.to_string(),
                vehicle: Some(vehicle.to_string()),
                expires: (i % 2 == 0).then(|| after(30 + 20 * i as u32)),
            },
        )
        .collect();

    let mut kept_apart: HashSet<PlateBuf> = traffic
        .vehicles
        .iter()
        .map(|v| canonical(&v.plate))
        .collect();
    for i in 0..HOTLIST_UNSEEN {
        let plate = loop {
            let (p, _) = plates::random_plate(&mut rng);
            if kept_apart.insert(canonical(&p)) {
                break p;
            }
        };
        let (list, reason, source) = match rng.random_range(0..10u32) {
            0..6 => (
                "stolen",
                [
                    "Stolen vehicle",
                    "Stolen plate",
                    "Stolen vehicle - carjacking",
                ][rng.random_range(0..3u32) as usize],
                ["NCIC", "CLETS"][rng.random_range(0..2u32) as usize].to_string(),
            ),
            6..9 => (
                "wanted",
                [
                    "Felony warrant - registered owner",
                    "Armed robbery suspect vehicle",
                    "Hit and run - felony",
                    "Missing person - at risk",
                ][rng.random_range(0..4u32) as usize],
                format!("CASE-{year}-{:04}", rng.random_range(100..10000u32)),
            ),
            _ => (
                "amber",
                "AMBER Alert - child abduction",
                format!("CASE-{year}-{:04}", rng.random_range(100..10000u32)),
            ),
        };
        // The first few have lapsed before the period, to exercise expiry.
        let roll = rng.random_range(0..100u32);
        let expires = if i < 3 || roll < 6 {
            Some(before(rng.random_range(3..120u32)))
        } else if roll < 36 {
            None
        } else {
            Some(after(rng.random_range(10..365u32)))
        };
        entries.push(HotlistEntry {
            list: list.to_string(),
            plate: plate.as_str().to_string(),
            reason: reason.to_string(),
            source,
            vehicle: Some(plates::vehicle_description(&mut rng)),
            expires,
        });
    }
    entries.sort_by(|a, b| (&a.list, &a.plate).cmp(&(&b.list, &b.plate)));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::OnceLock;

    fn small_config() -> SynthConfig {
        SynthConfig {
            reads: 20_000,
            days: 7,
            cameras: 40,
            ..SynthConfig::default()
        }
    }

    fn minimal_config() -> SynthConfig {
        SynthConfig {
            seed: 7,
            reads: 1000,
            days: 3,
            cameras: 10,
            ..SynthConfig::default()
        }
    }

    struct Generated {
        synth: Synth,
        days: Vec<Vec<Read>>,
    }

    impl Generated {
        fn new(config: SynthConfig) -> Generated {
            let synth = Synth::new(config).expect("valid config");
            let days = (0..synth.config().days).map(|d| synth.day(d)).collect();
            Generated { synth, days }
        }

        fn reads(&self) -> impl Iterator<Item = &Read> {
            self.days.iter().flatten()
        }
    }

    fn small() -> &'static Generated {
        static G: OnceLock<Generated> = OnceLock::new();
        G.get_or_init(|| Generated::new(small_config()))
    }

    fn minimal() -> &'static Generated {
        static G: OnceLock<Generated> = OnceLock::new();
        G.get_or_init(|| Generated::new(minimal_config()))
    }

    fn both() -> [&'static Generated; 2] {
        [small(), minimal()]
    }

    fn micros(rfc: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc)
            .expect("RFC 3339")
            .timestamp_micros()
    }

    /// Metres between two points, flat-earth (fine within a county).
    fn metres(lat0: f64, lon0: f64, lat1: f64, lon1: f64) -> f64 {
        let dy = (lat1 - lat0) * 111_320.0;
        let dx = (lon1 - lon0) * 92_180.0;
        (dx * dx + dy * dy).sqrt()
    }

    #[test]
    fn synth_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Synth>();
    }

    #[test]
    fn same_config_same_output_other_seed_other_output() {
        let a = &small().synth;
        let b = Synth::new(small_config()).unwrap();
        for d in [0, 4] {
            assert_eq!(small().days[d as usize], b.day(d));
        }
        assert_eq!(a.cameras(), b.cameras());
        assert_eq!(a.hotlist(), b.hotlist());
        assert_eq!(a.truths(), b.truths());
        let c = Synth::new(SynthConfig {
            seed: 43,
            ..small_config()
        })
        .unwrap();
        assert_ne!(a.day(0), c.day(0));
        assert_ne!(a.cameras(), c.cameras());
        assert_eq!(c.batch_id(0), "synth-s43-2026-10-01");
    }

    #[test]
    fn reads_are_sorted_within_their_day_and_well_formed() {
        both()
            .into_iter()
            .for_each(check_reads_are_sorted_within_their_day_and_well_formed);
    }

    fn check_reads_are_sorted_within_their_day_and_well_formed(g: &Generated) {
        let s = &g.synth;
        for (d, reads) in g.days.iter().enumerate() {
            let date = date_after(s.config().start, d as i32);
            let lo = days_from_epoch(date) * 86_400_000_000;
            assert!(!reads.is_empty());
            assert!(reads.windows(2).all(|w| w[0].ts_micros <= w[1].ts_micros));
            for r in reads {
                assert!((lo..lo + 86_400_000_000).contains(&r.ts_micros));
                assert_eq!(r.batch_id, s.batch_id(d as u32));
                assert_eq!(r.read_id.len(), 32);
                assert_eq!(r.source_sha256.len(), 64);
                assert_eq!(
                    r.source_sha256,
                    hex::encode(sha2::Sha256::digest(r.source_file.as_bytes()))
                );
                assert!(
                    r.source_file
                        .starts_with(&format!("synth/{}/{}/", r.camera_id, date))
                );
                assert!(r.source_file.ends_with(".jpg"));
                assert_eq!(r.model_version, MODEL_VERSION);
                assert!((0.55..=0.99).contains(&r.confidence), "{}", r.confidence);
                assert!((2..=4).contains(&r.alternates.len()));
                assert!(r.alternates.iter().all(|(p, _)| *p != r.plate));
                assert!(r.alternates[0].1 < r.confidence);
                assert!(
                    r.alternates
                        .windows(2)
                        .all(|w| w[0].1 > w[1].1 && w[1].1 > 0.0)
                );
                assert_eq!(r.char_confidence.len(), r.plate.len());
                let b = r.plate_box.unwrap();
                assert!(b.x >= 0 && b.y >= 0 && b.x + b.w <= 1920 && b.y + b.h <= 1080);
                let cam = s
                    .cameras()
                    .iter()
                    .find(|c| c.camera_id == r.camera_id)
                    .unwrap();
                assert_eq!(
                    (r.lat, r.lon, r.heading),
                    (Some(cam.lat), Some(cam.lon), cam.heading)
                );
                assert!(r.region.is_some() && r.crop_jpeg.is_none() && r.source_frame == 0);
            }
        }
    }

    #[test]
    fn total_reads_near_the_requested_number() {
        both()
            .into_iter()
            .for_each(check_total_reads_near_the_requested_number);
    }

    fn check_total_reads_near_the_requested_number(g: &Generated) {
        let want = g.synth.config().reads as f64;
        let got = g.reads().count() as f64;
        assert!((got - want).abs() <= want * 0.1, "{got} reads for {want}");
    }

    #[test]
    fn read_ids_and_source_files_are_unique() {
        both()
            .into_iter()
            .for_each(check_read_ids_and_source_files_are_unique);
    }

    fn check_read_ids_and_source_files_are_unique(g: &Generated) {
        let ids: HashSet<&str> = g.reads().map(|r| r.read_id.as_str()).collect();
        let files: HashSet<&str> = g.reads().map(|r| r.source_file.as_str()).collect();
        assert_eq!(ids.len(), g.reads().count());
        assert_eq!(files.len(), g.reads().count());
    }

    #[test]
    fn batch_ids_name_seed_and_date() {
        let s = &small().synth;
        assert_eq!(s.batch_id(0), "synth-s42-2026-10-01");
        assert_eq!(s.batch_id(6), "synth-s42-2026-10-07");
        assert!(s.day(7).is_empty());
    }

    #[test]
    fn bad_configurations_are_refused() {
        for (config, flag) in [
            (
                SynthConfig {
                    days: 2,
                    ..small_config()
                },
                "--days",
            ),
            (
                SynthConfig {
                    cameras: 9,
                    ..small_config()
                },
                "--cameras",
            ),
            (
                SynthConfig {
                    cameras: 5000,
                    ..small_config()
                },
                "--cameras",
            ),
            (
                SynthConfig {
                    reads: 999,
                    ..small_config()
                },
                "--reads",
            ),
        ] {
            match Synth::new(config) {
                Err(Error::BadInput(m)) => assert!(m.starts_with(flag), "{m}"),
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("accepted a bad {flag}"),
            }
        }
    }

    #[test]
    fn cameras_are_plausible() {
        for g in both() {
            let cams = g.synth.cameras();
            assert_eq!(cams.len(), g.synth.config().cameras as usize);
            for (i, c) in cams.iter().enumerate() {
                assert_eq!(c.camera_id, format!("CAM-{:04}", i + 1));
                assert!(metres(34.10, -117.30, c.lat, c.lon) < 26_000.0);
                assert!(c.name.contains(" & "));
                let h = c.heading.unwrap();
                assert!((0.0..360.0).contains(&h));
                assert!(c.agency == "County Sheriff" || c.agency.ends_with(" PD"));
            }
        }
    }

    #[test]
    fn planted_plates_have_spellings_and_stand_apart() {
        let all: Vec<&str> = [
            STAKEOUT_PLATE,
            CONVOY_LEADER,
            CONVOY_FOLLOWER,
            CONFUSED_PLATE,
        ]
        .into_iter()
        .chain(HOTLIST_SEEN)
        .collect();
        let keys: HashSet<PlateBuf> = all.iter().map(|p| canonical(&PlateBuf::new(p))).collect();
        assert_eq!(keys.len(), all.len());
        for p in all {
            assert!(plates::spellings(&PlateBuf::new(p)) >= 3, "{p}");
        }
        assert!(HOTLIST_SEEN.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn stakeout_is_read_at_every_incident_and_alone_at_all_three() {
        both()
            .into_iter()
            .for_each(check_stakeout_is_read_at_every_incident_and_alone_at_all_three);
    }

    fn check_stakeout_is_read_at_every_incident_and_alone_at_all_three(g: &Generated) {
        let t = g.synth.truths();
        assert_eq!(t.incidents.len(), 3);
        let mut at_sites: Vec<HashSet<&str>> = Vec::new();
        for inc in &t.incidents {
            let (from, to) = (micros(&inc.from), micros(&inc.to));
            assert_eq!(to - from, 2 * 3600 * 1_000_000);
            let seen = g.reads().any(|r| {
                r.plate == t.stakeout_plate
                    && r.camera_id == inc.camera_id
                    && (from..to).contains(&r.ts_micros)
            });
            assert!(seen, "stakeout not seen at site {}", inc.site);
            at_sites.push(
                g.reads()
                    .filter(|r| (from..to).contains(&r.ts_micros))
                    .filter(|r| {
                        metres(inc.lat, inc.lon, r.lat.unwrap(), r.lon.unwrap()) <= inc.radius_m
                    })
                    .map(|r| r.plate.as_str())
                    .collect(),
            );
        }
        let mut everywhere = at_sites[0].clone();
        everywhere.retain(|p| at_sites[1].contains(p) && at_sites[2].contains(p));
        assert_eq!(everywhere, HashSet::from([STAKEOUT_PLATE]));
        // One window is at night (local 01:00-03:00 is 08:00-11:00 UTC).
        assert!(
            t.incidents
                .iter()
                .any(|i| i.from[11..13] == *"08" || i.from[11..13] == *"09")
        );
    }

    #[test]
    fn convoy_follows_the_leader_on_its_days() {
        both()
            .into_iter()
            .for_each(check_convoy_follows_the_leader_on_its_days);
    }

    fn check_convoy_follows_the_leader_on_its_days(g: &Generated) {
        let t = g.synth.truths();
        let max_gap = i64::from(t.convoy_max_gap_s) * 1_000_000;
        let mut shared: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for (d, reads) in g.days.iter().enumerate() {
            let date = date_after(g.synth.config().start, d as i32).to_string();
            let leader: Vec<&Read> = reads
                .iter()
                .filter(|r| r.plate == t.convoy_leader)
                .collect();
            for f in reads.iter().filter(|r| r.plate == t.convoy_follower) {
                let behind = leader.iter().any(|l| {
                    l.camera_id == f.camera_id
                        && (20_000_000..=max_gap).contains(&(f.ts_micros - l.ts_micros))
                });
                if behind {
                    shared.entry(date.clone()).or_default().insert(&f.camera_id);
                }
            }
        }
        let good: Vec<&str> = shared
            .iter()
            .filter(|(_, cams)| cams.len() >= t.convoy_min_cameras as usize)
            .map(|(d, _)| d.as_str())
            .collect();
        let want = 4.min(g.synth.config().days as usize);
        assert!(good.len() >= want, "convoy days {good:?}");
        for d in &t.convoy_days {
            assert!(good.contains(&d.as_str()), "{d} not in {good:?}");
        }
        assert!(t.convoy_cameras.len() >= t.convoy_min_cameras as usize);
    }

    #[test]
    fn confused_plate_is_misread_as_its_variants() {
        both()
            .into_iter()
            .for_each(check_confused_plate_is_misread_as_its_variants);
    }

    fn check_confused_plate_is_misread_as_its_variants(g: &Generated) {
        let t = g.synth.truths();
        let key = canonical(&PlateBuf::new(&t.confused_plate));
        let reads: Vec<&Read> = g
            .reads()
            .filter(|r| canonical(&PlateBuf::new(&r.plate)) == key)
            .collect();
        assert!(reads.len() >= 10, "{} reads", reads.len());
        let variants: BTreeSet<&str> = reads
            .iter()
            .filter(|r| r.plate != t.confused_plate)
            .map(|r| r.plate.as_str())
            .collect();
        assert!(!variants.is_empty());
        assert_eq!(
            variants.into_iter().collect::<Vec<_>>(),
            t.confused_variants
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        for r in reads.iter().filter(|r| r.plate != t.confused_plate) {
            assert!(r.alternates.iter().any(|(p, _)| *p == t.confused_plate));
        }
    }

    #[test]
    fn hot_list_seen_plates_are_read_and_the_others_never() {
        both()
            .into_iter()
            .for_each(check_hot_list_seen_plates_are_read_and_the_others_never);
    }

    fn check_hot_list_seen_plates_are_read_and_the_others_never(g: &Generated) {
        let s = &g.synth;
        let t = s.truths();
        let hot = s.hotlist();
        assert!((35..=45).contains(&hot.len()));
        assert!(t.hotlist_seen.len() >= 5);
        let mut plates_read: HashMap<&str, usize> = HashMap::new();
        let mut any_text: HashSet<&str> = HashSet::new();
        for r in g.reads() {
            *plates_read.entry(r.plate.as_str()).or_default() += 1;
            any_text.insert(r.plate.as_str());
            any_text.extend(r.alternates.iter().map(|(p, _)| p.as_str()));
        }
        for e in hot {
            assert!(["stolen", "wanted", "amber"].contains(&e.list.as_str()));
            assert!(!e.reason.is_empty() && !e.source.is_empty() && e.vehicle.is_some());
            if t.hotlist_seen.contains(&e.plate) {
                assert!(
                    plates_read.contains_key(e.plate.as_str()),
                    "{} unseen",
                    e.plate
                );
                assert!(
                    e.expires
                        .is_none_or(|x| x >= date_after(s.config().start, s.config().days as i32))
                );
            } else {
                assert!(!any_text.contains(e.plate.as_str()), "{} seen", e.plate);
            }
        }
        let start = s.config().start;
        assert!(
            hot.iter()
                .filter(|e| e.expires.is_some_and(|x| x < start))
                .count()
                >= 2
        );
        assert!(hot.iter().any(|e| e.expires.is_none()));
    }

    #[test]
    fn truths_serialise() {
        let json = serde_json::to_string(small().synth.truths()).unwrap();
        assert!(json.contains("\"stakeout_plate\":\"6TRM418\""));
        assert!(json.contains("\"radius_m\":300.0"));
    }
}
