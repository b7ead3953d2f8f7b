//! Who drives where and when: the vehicle population, each vehicle's routes,
//! its trips on a given local day, and the camera passes those trips make.
//! Turning a pass into a [`Read`](crate::store::schema::Read) is left to
//! `reads`; the street grid to `geo`; what is planted, and why, to the parent
//! module, which hands the planted vehicles' plans in as [`Planted`].
//!
//! ```text
//! (vehicle, local day) --plan--> trips --emit--> camera passes (events) in a UTC window
//! ```
//!
//! Every random choice is drawn from a generator seeded by a hash of what it
//! concerns (seed, vehicle, local day, trip, pass), never from shared state,
//! so any UTC day can be generated alone and a trip that straddles UTC
//! midnight yields the same passes from either side.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::geo::{Grid, Pass, Point};
use super::plates::{PlateBuf, Region};

/// Chance a camera reads a vehicle that drives past it.
const CAPTURE: f32 = 0.9;
/// Errand opportunities per vehicle and day.
const ERRAND_SLOTS: u8 = 3;
/// Destinations a vehicle runs errands to.
const FAVOURITES: usize = 3;

/// Hash-stream tags, so different uses of the same indices draw apart.
pub(super) const TAG_LAYOUT: u64 = 1;
pub(super) const TAG_VEHICLE: u64 = 2;
const TAG_PLAN: u64 = 3;
const TAG_EVENT: u64 = 4;
const TAG_CONVOY: u64 = 5;
pub(super) const TAG_READ: u64 = 6;
pub(super) const TAG_HOTLIST: u64 = 7;
pub(super) const TAG_SITES: u64 = 8;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of two words; for a fixed `a`, distinct `b` give distinct hashes.
pub(super) fn mix(a: u64, b: u64) -> u64 {
    splitmix(splitmix(a) ^ b)
}

/// A generator seeded from a hash.
pub(super) fn rng_from(h: u64) -> Pcg64Mcg {
    Pcg64Mcg::new((u128::from(splitmix(h)) << 64) | u128::from(h))
}

/// A uniform number in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform in [0, 1) peaked in the middle (mean of two uniforms).
fn peaked(rng: &mut Pcg64Mcg) -> f32 {
    (rng.random::<f32>() + rng.random::<f32>()) / 2.0
}

/// Index of a stored route; route 0 is empty.
pub(super) type RouteId = u32;
const NO_ROUTE: RouteId = 0;

/// Every route of every vehicle, flat, so the population costs a handful of
/// allocations.
pub(super) struct Routes {
    passes: Vec<Pass>,
    spans: Vec<(u32, u32)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            passes: Vec::new(),
            spans: vec![(0, 0)],
        }
    }

    fn add(&mut self, grid: &Grid, from: Point, to: Point, ew_first: bool) -> RouteId {
        let start = self.passes.len();
        grid.route(from, to, ew_first, &mut self.passes);
        self.span(start)
    }

    /// A route of given passes (planted trips).
    pub(super) fn add_passes(&mut self, passes: &[Pass]) -> RouteId {
        let start = self.passes.len();
        self.passes.extend_from_slice(passes);
        self.span(start)
    }

    fn span(&mut self, start: usize) -> RouteId {
        self.spans
            .push((start as u32, (self.passes.len() - start) as u32));
        (self.spans.len() - 1) as RouteId
    }

    pub(super) fn get(&self, id: RouteId) -> &[Pass] {
        let (start, len) = self.spans[id as usize];
        &self.passes[start as usize..(start + len) as usize]
    }

    fn count(&self, id: RouteId) -> f64 {
        f64::from(self.spans[id as usize].1)
    }
}

/// What a vehicle is in the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Ordinary,
    Stakeout,
    ConvoyLeader,
    ConvoyFollower,
    /// Commutes every day and is often misread.
    Confused,
    /// On the hot list; always commutes on [`Planted::hot_day`].
    HotSeen,
}

impl Role {
    /// Planted vehicles are always read and never misread by chance.
    fn planted(self) -> bool {
        self != Role::Ordinary
    }
}

pub(super) struct Vehicle {
    pub plate: PlateBuf,
    pub region: Region,
    pub role: Role,
    commuter: bool,
    weekend_worker: bool,
    /// Habitual departure to work and back, seconds after local midnight.
    depart_s: u32,
    return_s: u32,
    /// Errand propensity, 1.0 on average.
    activity: f32,
    am: RouteId,
    pm: RouteId,
    errands: [(RouteId, RouteId); FAVOURITES],
}

/// How a new vehicle is made.
pub(super) enum Template {
    Random,
    /// A commuter with the given plate whose drive to work passes a camera.
    Commuter(PlateBuf, Region, Role),
    /// A commuter along the planted corridor.
    CorridorCommuter(PlateBuf, Region, Role),
    /// A non-commuter with the given plate.
    Local(PlateBuf, Region, Role),
}

/// One planted visit or drive the parent module asks for, beside the
/// vehicles' own habits.
pub(super) struct PlantedTrip {
    pub vehicle: u32,
    pub local_day: i32,
    /// Seconds after local midnight the trip starts.
    pub start_s: u32,
    pub route: RouteId,
    pub jitter_s: f32,
}

/// Convoy days: the leader and follower drive `route` together, the
/// follower a drawn 30-70 s behind.
pub(super) struct Planted {
    pub trips: Vec<PlantedTrip>,
    pub convoy_days: Vec<i32>,
    pub convoy_route: RouteId,
    pub convoy: (u32, u32),
    /// A weekday of the period on which the hot-listed vehicles surely
    /// drive to work, so each is read at least once.
    pub hot_day: i32,
}

/// A local day: its index from the start date (-1 for the day before), the
/// UTC second of its local midnight, and whether it is a weekend.
#[derive(Debug, Clone, Copy)]
pub(super) struct LocalDay {
    pub index: i32,
    pub midnight_s: i64,
    pub weekend: bool,
}

/// One trip: a stored route driven from `start_s` (UTC seconds), its passes
/// `speed` times slower than normal, each moved by up to `jitter_s`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Trip {
    id: u8,
    route: RouteId,
    start_s: i64,
    speed: f32,
    jitter_s: f32,
}

/// A camera pass that became a read: when, which camera, which vehicle,
/// and the hash that seeds the read's details.
#[derive(Debug, Clone, Copy)]
pub(super) struct Event {
    pub ts: i64,
    /// Unique tie-breaker: vehicle, local day, trip, pass.
    pub order: u64,
    pub cam: u32,
    pub veh: u32,
    pub hash: u64,
}

/// The population and its routes, with the rate scale that makes the
/// expected total match the requested number of reads.
pub(super) struct Traffic {
    seed: u64,
    pub vehicles: Vec<Vehicle>,
    pub routes: Routes,
    pub planted: Planted,
    /// Multiplies errand (and, below 1, commuting) rates.
    scale: f64,
}

/// Per-vehicle terms of the expected number of reads.
struct Expect {
    commute: f64,
    errand: f64,
}

impl Traffic {
    pub(super) fn new(seed: u64) -> Traffic {
        Traffic {
            seed,
            vehicles: Vec::new(),
            routes: Routes::new(),
            planted: Planted {
                trips: Vec::new(),
                convoy_days: Vec::new(),
                convoy_route: NO_ROUTE,
                convoy: (u32::MAX, u32::MAX),
                hot_day: 0,
            },
            scale: 1.0,
        }
    }

    /// Adds a vehicle made from `template`, drawing from a generator of its
    /// index. `taken` rejects plates already used (or kept apart).
    pub(super) fn add_vehicle(
        &mut self,
        grid: &Grid,
        template: Template,
        mut taken: impl FnMut(&PlateBuf) -> bool,
    ) -> u32 {
        let index = self.vehicles.len() as u32;
        let mut rng = rng_from(mix(mix(self.seed, TAG_VEHICLE), u64::from(index)));
        let (plate, region, role, kind) = match template {
            Template::Random => {
                let (plate, region) = loop {
                    let (p, r) = super::plates::random_plate(&mut rng);
                    if !taken(&p) {
                        break (p, r);
                    }
                };
                let kind = if rng.random_bool(0.6) { 1 } else { 0 };
                (plate, region, Role::Ordinary, kind)
            }
            Template::Local(p, r, role) => (p, r, role, 0),
            Template::Commuter(p, r, role) => (p, r, role, 1),
            Template::CorridorCommuter(p, r, role) => (p, r, role, 2),
        };
        let cams = grid.sites.len() as u32;
        let home = Grid::random_point(&mut rng, 14.0);
        let ew_first = rng.random_bool(0.5);
        let (am, pm) = match kind {
            0 => (NO_ROUTE, NO_ROUTE),
            1 => {
                let mut tries = 0;
                loop {
                    let work = if rng.random_bool(0.5) {
                        let cam = rng.random_range(0..cams) as usize;
                        grid.past_camera(&mut rng, cam)
                    } else {
                        Grid::random_point(&mut rng, 7.0)
                    };
                    let am = self.routes.add(grid, home, work, ew_first);
                    let pm = self.routes.add(grid, work, home, !ew_first);
                    tries += 1;
                    // Planted commuters must be seen; others take what they get.
                    if !role.planted() || self.routes.count(am) > 0.0 {
                        break (am, pm);
                    }
                    if tries > 200 {
                        // Too few cameras about: drive the planted corridor.
                        break self.corridor_commute(grid);
                    }
                }
            }
            _ => self.corridor_commute(grid),
        };
        let mut errands = [(NO_ROUTE, NO_ROUTE); FAVOURITES];
        for (f, errand) in errands.iter_mut().enumerate() {
            let to = if f == 0 {
                // Somewhere near home: the grocery store, the school.
                Point {
                    x: (home.x + rng.random_range(-4.0..4.0f32)).clamp(-24.0, 24.0),
                    y: (home.y + rng.random_range(-4.0..4.0f32)).clamp(-22.0, 22.0),
                }
            } else {
                let cam = rng.random_range(0..cams) as usize;
                grid.past_camera(&mut rng, cam)
            };
            let ew = rng.random_bool(0.5);
            *errand = (
                self.routes.add(grid, home, to, ew),
                self.routes.add(grid, to, home, !ew),
            );
        }
        let depart_s = 6 * 3600 + 900 + (peaked(&mut rng) * 9900.0) as u32;
        let return_s = 15 * 3600 + 1800 + (peaked(&mut rng) * 10800.0) as u32;
        self.vehicles.push(Vehicle {
            plate,
            region,
            role,
            commuter: kind != 0,
            weekend_worker: rng.random_bool(0.15),
            depart_s,
            return_s,
            activity: 0.4 + 1.2 * rng.random::<f32>(),
            am,
            pm,
            errands,
        });
        index
    }

    /// To work east along the planted corridor, and back west.
    fn corridor_commute(&mut self, grid: &Grid) -> (RouteId, RouteId) {
        use super::geo::{CORRIDOR_EAST, CORRIDOR_WEST};
        (
            self.routes.add(grid, CORRIDOR_WEST, CORRIDOR_EAST, true),
            self.routes.add(grid, CORRIDOR_EAST, CORRIDOR_WEST, false),
        )
    }

    /// Passes of vehicle `v`'s drive to work and back.
    pub(super) fn commute_passes(&self, v: u32) -> f64 {
        let veh = &self.vehicles[v as usize];
        self.routes.count(veh.am) + self.routes.count(veh.pm)
    }

    fn capture(v: &Vehicle) -> f32 {
        if v.role.planted() { 1.0 } else { CAPTURE }
    }

    /// Chance `v` drives to work (and back) on a day.
    fn work_p(&self, v: &Vehicle, weekend: bool) -> f64 {
        if !v.commuter {
            return 0.0;
        }
        match (v.role, weekend) {
            (Role::Confused, _) => 1.0,
            _ => {
                let base = match (weekend, v.weekend_worker) {
                    (false, _) => 0.88,
                    (true, true) => 0.7,
                    (true, false) => 0.06,
                };
                (base * self.scale.min(1.0)).min(1.0)
            }
        }
    }

    /// Chance of an errand in each of the day's slots.
    fn errand_p(&self, v: &Vehicle, weekend: bool) -> f64 {
        let base = match (v.commuter, weekend) {
            (true, false) => 0.18,
            (true, true) => 0.45,
            (false, _) => 0.40,
        };
        (base * f64::from(v.activity) * self.scale).min(1.0)
    }

    fn expect_terms(&self, v: &Vehicle) -> Expect {
        let cap = f64::from(Self::capture(v));
        let errand: f64 = v
            .errands
            .iter()
            .map(|&(out, back)| self.routes.count(out) + self.routes.count(back))
            .sum::<f64>()
            / FAVOURITES as f64;
        Expect {
            commute: (self.routes.count(v.am) + self.routes.count(v.pm)) * cap,
            errand: errand * cap * f64::from(ERRAND_SLOTS),
        }
    }

    /// Expected reads of vehicles `range` over `weekdays` and `weekends`
    /// local days at the current scale.
    fn expected(&self, range: std::ops::Range<usize>, terms: &[Expect], days: [f64; 2]) -> f64 {
        let mut total = 0.0;
        for (v, t) in self.vehicles[range].iter().zip(terms) {
            for (weekend, n) in [(false, days[0]), (true, days[1])] {
                total += n
                    * (self.work_p(v, weekend) * t.commute + self.errand_p(v, weekend) * t.errand);
            }
        }
        total
    }

    /// Grows the ordinary population and sets the rate scale so that the
    /// expected number of reads over the period is `target`. `first` is the
    /// first ordinary vehicle (planted ones come before it); `extra` counts
    /// the planted trips' reads; `days` the weekdays and weekend days.
    pub(super) fn calibrate(
        &mut self,
        grid: &Grid,
        target: f64,
        first: usize,
        extra: f64,
        days: [f64; 2],
        mut taken: impl FnMut(&PlateBuf) -> bool,
    ) {
        let start_count = self.vehicles.len();
        self.scale = 1.0;
        let terms: Vec<Expect> = self.vehicles.iter().map(|v| self.expect_terms(v)).collect();
        let planted = self.expected(0..first, &terms[..first], days) + extra;
        let per_vehicle =
            self.expected(first..start_count, &terms[first..], days) / (start_count - first) as f64;
        let ordinary = start_count - first;
        // Sparse cameras see few passes per vehicle: more vehicles make up
        // for it, up to a bound that keeps memory and day cost in check.
        // Keep the population as asked unless that would need rates more
        // than 1.5 times off their natural values.
        let natural = if per_vehicle > 1e-9 {
            (target - planted).max(0.0) / per_vehicle
        } else {
            ordinary as f64 * 8.0
        };
        let wanted = (ordinary as f64).clamp(natural / 1.5, natural * 1.5).ceil() as usize;
        let wanted = wanted.clamp(ordinary / 4, ordinary * 8).max(1);
        if wanted > ordinary {
            for _ in ordinary..wanted {
                self.add_vehicle(grid, Template::Random, &mut taken);
            }
        } else {
            self.vehicles.truncate(first + wanted);
        }
        self.solve_scale(target, extra, days);
    }

    /// Sets the rate scale so that the expected number of reads over the
    /// period is `target` (or as near as the capped rates allow).
    pub(super) fn solve_scale(&mut self, target: f64, extra: f64, days: [f64; 2]) {
        let n = self.vehicles.len();
        let terms: Vec<Expect> = self.vehicles.iter().map(|v| self.expect_terms(v)).collect();
        // Bisection; the expected total only grows with the scale.
        let (mut lo, mut hi) = (0.0f64, 16.0f64);
        for _ in 0..48 {
            self.scale = (lo + hi) / 2.0;
            if self.expected(0..n, &terms, days) + extra < target {
                lo = self.scale;
            } else {
                hi = self.scale;
            }
        }
        self.scale = (lo + hi) / 2.0;
    }

    pub(super) fn scale(&self) -> f64 {
        self.scale
    }

    pub(super) fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    /// Appends the trips vehicle `v` makes on local day `day`.
    pub(super) fn plan(&self, v: u32, day: &LocalDay, trips: &mut Vec<Trip>) {
        let veh = &self.vehicles[v as usize];
        let plan = mix(
            mix(mix(self.seed, TAG_PLAN), u64::from(v)),
            day.index as i64 as u64,
        );
        let mut rng = rng_from(plan);
        let mut push = |id: u8, route: RouteId, local_s: f32, speed: f32, jitter_s: f32| {
            trips.push(Trip {
                id,
                route,
                start_s: day.midnight_s + local_s as i64,
                speed,
                jitter_s,
            });
        };
        let sure = veh.role == Role::HotSeen && day.index == self.planted.hot_day;
        if sure || rng.random::<f64>() < self.work_p(veh, day.weekend) {
            // About ±20 minutes around the habit, rush-hour speed.
            let spread = |rng: &mut Pcg64Mcg| (peaked(rng) - 0.5) * 2400.0;
            let out = veh.depart_s as f32 + spread(&mut rng);
            push(0, veh.am, out, rng.random_range(1.05..1.4), 10.0);
            let back = veh.return_s as f32 + spread(&mut rng);
            push(1, veh.pm, back, rng.random_range(1.05..1.4), 10.0);
        }
        let q = self.errand_p(veh, day.weekend);
        for slot in 0..ERRAND_SLOTS {
            if rng.random::<f64>() >= q {
                continue;
            }
            let (out, back) = veh.errands[rng.random_range(0..FAVOURITES as u32) as usize];
            let start = if rng.random_bool(0.05) {
                // Night: 22:00 to 05:00 the next morning.
                22.0 * 3600.0 + rng.random::<f32>() * 7.0 * 3600.0
            } else if day.weekend {
                8.0 * 3600.0 + peaked(&mut rng) * 14.0 * 3600.0
            } else {
                7.0 * 3600.0 + peaked(&mut rng) * 14.0 * 3600.0
            };
            let u = rng.random::<f32>();
            let dwell = 900.0 + u * u * 10800.0;
            let speed = rng.random_range(0.9..1.2);
            push(2 + 2 * slot, out, start, speed, 10.0);
            push(3 + 2 * slot, back, start + dwell, speed, 10.0);
        }
        if !veh.role.planted() {
            return;
        }
        for (i, t) in self.planted.trips.iter().enumerate() {
            if t.vehicle == v && t.local_day == day.index {
                push(20 + i as u8, t.route, t.start_s as f32, 1.0, t.jitter_s);
            }
        }
        let (leader, follower) = self.planted.convoy;
        if (v == leader || v == follower) && self.planted.convoy_days.contains(&day.index) {
            // Leader and follower draw the same start from the day's convoy seed.
            let mut c = rng_from(mix(mix(self.seed, TAG_CONVOY), day.index as i64 as u64));
            let start = 10.0 * 3600.0 + c.random::<f32>() * 4.5 * 3600.0;
            let gap = c.random_range(30..=70u32) as f32;
            let speed = c.random_range(0.95..1.1);
            let start = if v == follower { start + gap } else { start };
            push(19, self.planted.convoy_route, start, speed, 4.0);
        }
    }

    /// Appends the passes of `trips` (made by `v` on `day`) that are read
    /// in `[lo, hi)` microseconds.
    pub(super) fn emit(
        &self,
        v: u32,
        day: &LocalDay,
        trips: &[Trip],
        (lo, hi): (i64, i64),
        out: &mut Vec<Event>,
    ) {
        let capture = f64::from(Self::capture(&self.vehicles[v as usize]));
        let base = mix(
            mix(mix(self.seed, TAG_EVENT), u64::from(v)),
            day.index as i64 as u64,
        );
        let order_base = (u64::from(v) << 32) | (((day.index + 1) as u64 & 0xFFFF) << 16);
        for trip in trips {
            for (i, pass) in self.routes.get(trip.route).iter().enumerate() {
                let key = (u64::from(trip.id) << 8) | i as u64;
                let hash = mix(base, key);
                let jitter = (unit(hash) * 2.0 - 1.0) * f64::from(trip.jitter_s);
                let offset_us = (f64::from(pass.at_s * trip.speed) + jitter) * 1e6;
                // A sub-second phase from the hash: trips without jitter
                // (the planted ones) must not stand out on whole seconds.
                let phase_us = ((hash >> 40) % 1_000_000) as i64;
                let ts = trip.start_s * 1_000_000 + offset_us as i64 + phase_us;
                if ts < lo || ts >= hi || unit(splitmix(hash)) >= capture {
                    continue;
                }
                out.push(Event {
                    ts,
                    order: order_base | key,
                    cam: pass.cam,
                    veh: v,
                    hash,
                });
            }
        }
    }

    /// Stores the route from `from` to `to`, east-west first.
    pub(super) fn add_route(&mut self, grid: &Grid, from: Point, to: Point) -> RouteId {
        self.routes.add(grid, from, to, true)
    }

    pub(super) fn set_planted(&mut self, planted: Planted) {
        self.planted = planted;
    }
}
