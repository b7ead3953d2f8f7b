//! The synthetic county: a made-up street grid around the county centre
//! (34.10, -117.30), the fixed cameras placed on it, driving routes through
//! it, and the Pacific clock. Who drives where and when is left to
//! `traffic`; the planted truths to the parent module.
//!
//! Positions are kilometres east (`x`) and north (`y`) of the centre. Streets
//! run east-west or north-south, closer together downtown; a few are major
//! corridors. A camera stands just before an intersection on one street and
//! reads one direction of travel (`EB`, `WB`, `NB`, `SB`). A route is a
//! Manhattan path (one street, a turn, a second street) and passes the
//! cameras that read its direction of travel between its ends:
//!
//! ```text
//!  home --along EW street--> turn --along NS street--> work
//!         EB cameras on it           NB/SB cameras on it
//! ```
//!
//! Only `+ - * /` and `sqrt` are used on floating point values that reach the
//! output, never `sin`/`exp` and friends, whose last bit differs between C
//! libraries: the output must be byte-identical on every machine.

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use crate::store::reference::Camera;

const CENTRE_LAT: f64 = 34.10;
const CENTRE_LON: f64 = -117.30;
const KM_PER_DEG_LAT: f64 = 111.32;
/// 111.32 × cos(34.10°), written out so no C library's `cos` enters the output.
const KM_PER_DEG_LON: f64 = 92.18;
/// Intersections further than this from the centre get no camera.
const COUNTY_RADIUS_KM: f32 = 25.5;

/// Urban driving: 45 km/h between signals.
const SECONDS_PER_KM: f32 = 80.0;
/// Average wait at the signal a camera watches.
const SECONDS_PER_SIGNAL: f32 = 20.0;
/// A point nearer a major corridor than this uses the corridor.
const MAJOR_SNAP_KM: f32 = 1.5;

/// A street of the grid: its name, where it runs (y of an east-west street,
/// x of a north-south one), and whether it is a major corridor.
struct Street {
    name: &'static str,
    at: f32,
    major: bool,
}

const fn st(name: &'static str, at: f32, major: bool) -> Street {
    Street { name, at, major }
}

/// East-west streets, south to north.
const EW: [Street; 15] = [
    st("Canyon Crest Dr", -21.0, false),
    st("Mission Rd", -16.5, false),
    st("Citrus Ave", -12.5, false),
    st("Orangewood Ave", -9.0, false),
    st("Mill St", -6.0, true),
    st("Palm Ave", -3.5, false),
    st("Olive St", -1.5, false),
    st("Court St", 0.5, false),
    st("Foothill Blvd", 2.5, true),
    st("Juniper Ave", 4.5, false),
    st("Highland Ave", 7.0, true),
    st("Sierra Vista Dr", 10.0, false),
    st("Pine Ridge Rd", 13.5, false),
    st("Summit Ave", 17.5, false),
    st("Crestline Rd", 21.5, false),
];

/// North-south streets, west to east.
const NS: [Street; 16] = [
    st("Cedar Ave", -23.0, false),
    st("Sycamore Ave", -18.5, false),
    st("Alder Ave", -14.0, false),
    st("Riverside Ave", -10.0, true),
    st("Pepper Tree Ln", -7.0, false),
    st("Meridian Ave", -4.5, false),
    st("Central Ave", -2.5, true),
    st("3rd St", -0.8, false),
    st("5th St", 0.8, false),
    st("Garden Way", 2.5, false),
    st("Lincoln Ave", 4.5, true),
    st("Vista Grande Dr", 7.0, false),
    st("Orchard Ave", 10.0, false),
    st("Church St", 14.0, false),
    st("Rancho Dr", 18.5, false),
    st("Mesa Verde Rd", 23.0, false),
];

/// The planted corridor: a minor east-west street near downtown whose first
/// cameras are always placed (the convoy and the confused vehicle drive it).
const CORRIDOR_EW: usize = 9; // Juniper Ave
/// North-south streets crossing the corridor where its EB cameras stand.
const CORRIDOR_EB_AT: [usize; 5] = [5, 6, 7, 8, 9];
/// ... and where its WB cameras stand.
const CORRIDOR_WB_AT: [usize; 2] = [8, 6];
/// Cameras placed on the corridor before any other (`CAM-0001`..).
pub(super) const CORRIDOR_CAMERAS: usize = CORRIDOR_EB_AT.len() + CORRIDOR_WB_AT.len();
/// West and east ends of a trip along the whole corridor (km, on the street).
pub(super) const CORRIDOR_WEST: Point = Point { x: -6.0, y: 4.5 };
pub(super) const CORRIDOR_EAST: Point = Point { x: 3.6, y: 4.5 };

/// A position in km east and north of the centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub(super) fn dist_km(self, o: Point) -> f32 {
        let (dx, dy) = (self.x - o.x, self.y - o.y);
        (dx * dx + dy * dy).sqrt()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Eb,
    Wb,
    Nb,
    Sb,
}

impl Dir {
    const ALL: [Dir; 4] = [Dir::Eb, Dir::Wb, Dir::Nb, Dir::Sb];

    fn heading(self) -> f32 {
        match self {
            Dir::Nb => 0.0,
            Dir::Eb => 90.0,
            Dir::Sb => 180.0,
            Dir::Wb => 270.0,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Dir::Eb => "EB",
            Dir::Wb => "WB",
            Dir::Nb => "NB",
            Dir::Sb => "SB",
        }
    }

    fn east_west(self) -> bool {
        matches!(self, Dir::Eb | Dir::Wb)
    }

    /// True when travel goes towards larger coordinates along the street.
    fn increasing(self) -> bool {
        matches!(self, Dir::Eb | Dir::Nb)
    }
}

/// Where a camera can stand: on `street` (east-west when `dir` is EB/WB),
/// before its intersection with `cross`, reading `dir` traffic.
#[derive(Debug, Clone, Copy)]
struct Slot {
    street: usize,
    cross: usize,
    dir: Dir,
}

impl Slot {
    fn streets(self) -> (&'static Street, &'static Street) {
        if self.dir.east_west() {
            (&EW[self.street], &NS[self.cross])
        } else {
            (&NS[self.street], &EW[self.cross])
        }
    }

    /// The intersection the camera stands before.
    fn intersection(self) -> Point {
        let (s, c) = self.streets();
        if self.dir.east_west() {
            Point { x: c.at, y: s.at }
        } else {
            Point { x: s.at, y: c.at }
        }
    }

    /// Index of the (street, direction) lane in [`Grid::lanes`].
    fn lane(self) -> usize {
        lane_index(self.dir.east_west(), self.street, self.dir.increasing())
    }
}

fn lane_index(east_west: bool, street: usize, increasing: bool) -> usize {
    let base = if east_west { 0 } else { EW.len() * 2 };
    base + street * 2 + usize::from(!increasing)
}

/// One camera passed on a route: which camera, and when, in seconds after
/// the trip starts at normal speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Pass {
    pub cam: u32,
    pub at_s: f32,
}

/// A camera as the generator sees it: its slot and where it stands.
#[derive(Debug, Clone, Copy)]
pub(super) struct Site {
    slot: Slot,
    pub pos: Point,
}

impl Site {
    /// On a major corridor, where traffic is heaviest.
    pub(super) fn on_major(&self) -> bool {
        self.slot.streets().0.major
    }
}

/// The street grid with its cameras, indexed for routing.
pub(super) struct Grid {
    pub sites: Vec<Site>,
    /// For each (street, direction): cameras as (coordinate of their
    /// intersection along the street, camera index), sorted by coordinate.
    lanes: Vec<Vec<(f32, u32)>>,
}

/// Number of places a camera can stand.
pub(super) fn max_cameras() -> usize {
    all_slots().len()
}

fn all_slots() -> Vec<Slot> {
    let mut slots = Vec::new();
    for (i, ew) in EW.iter().enumerate() {
        for (j, ns) in NS.iter().enumerate() {
            if ew.at * ew.at + ns.at * ns.at > COUNTY_RADIUS_KM * COUNTY_RADIUS_KM {
                continue;
            }
            for dir in Dir::ALL {
                let (street, cross) = if dir.east_west() { (i, j) } else { (j, i) };
                slots.push(Slot { street, cross, dir });
            }
        }
    }
    slots
}

/// Relative density of cameras and destinations at `r2` km² from the centre.
fn centre_weight(r2: f32, scale_km: f32) -> f32 {
    1.0 / (1.0 + r2 / (scale_km * scale_km))
}

impl Grid {
    /// Places `n` cameras (at most [`max_cameras`]): the planted corridor
    /// first, then weighted draws without replacement favouring downtown and
    /// the major corridors.
    pub(super) fn layout(rng: &mut Pcg64Mcg, n: usize) -> Grid {
        let slots = all_slots();
        let mut weights: Vec<f32> = slots
            .iter()
            .map(|s| {
                let p = s.intersection();
                let major = if s.streets().0.major { 4.0 } else { 1.0 };
                centre_weight(p.x * p.x + p.y * p.y, 8.0) * major
            })
            .collect();
        let mut chosen: Vec<usize> = Vec::with_capacity(n);
        let forced = CORRIDOR_EB_AT
            .iter()
            .map(|&c| (c, Dir::Eb))
            .chain(CORRIDOR_WB_AT.iter().map(|&c| (c, Dir::Wb)));
        for (cross, dir) in forced.take(n) {
            let i = slots
                .iter()
                .position(|s| s.street == CORRIDOR_EW && s.cross == cross && s.dir == dir)
                .expect("corridor slots lie inside the county");
            weights[i] = 0.0;
            chosen.push(i);
        }
        while chosen.len() < n.min(slots.len()) {
            let total: f32 = weights.iter().sum();
            let mut u = rng.random::<f32>() * total;
            let mut pick = None;
            for (i, &w) in weights.iter().enumerate() {
                if w > 0.0 {
                    pick = Some(i);
                    if u < w {
                        break;
                    }
                    u -= w;
                }
            }
            // `pick` is the last slot with weight when rounding runs past it.
            let Some(i) = pick else { break };
            weights[i] = 0.0;
            chosen.push(i);
        }

        let sites: Vec<Site> = chosen
            .iter()
            .map(|&i| {
                let slot = slots[i];
                let at = slot.intersection();
                // 60 m before the intersection, in the right-hand lanes.
                let (back, side) = (0.06, 0.01);
                let jitter = rng.random_range(-0.02..0.02f32);
                let pos = match slot.dir {
                    Dir::Eb => Point {
                        x: at.x - back + jitter,
                        y: at.y - side,
                    },
                    Dir::Wb => Point {
                        x: at.x + back + jitter,
                        y: at.y + side,
                    },
                    Dir::Nb => Point {
                        x: at.x + side,
                        y: at.y - back + jitter,
                    },
                    Dir::Sb => Point {
                        x: at.x - side,
                        y: at.y + back + jitter,
                    },
                };
                Site { slot, pos }
            })
            .collect();

        let mut lanes = vec![Vec::new(); (EW.len() + NS.len()) * 2];
        for (cam, site) in sites.iter().enumerate() {
            let along = if site.slot.dir.east_west() {
                NS[site.slot.cross].at
            } else {
                EW[site.slot.cross].at
            };
            lanes[site.slot.lane()].push((along, cam as u32));
        }
        for lane in &mut lanes {
            lane.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        Grid { sites, lanes }
    }

    /// The public camera records, `CAM-0001` first.
    pub(super) fn cameras(&self, rng: &mut Pcg64Mcg) -> Vec<Camera> {
        self.sites
            .iter()
            .enumerate()
            .map(|(i, site)| {
                let (street, cross) = site.slot.streets();
                let heading = site.slot.dir.heading() + rng.random_range(-6.0..6.0f32);
                let heading = ((heading + 360.0) % 360.0 * 10.0).round() / 10.0;
                let (lat, lon) = lat_lon(site.pos);
                Camera {
                    camera_id: camera_id(i),
                    name: format!(
                        "{} & {} {}",
                        street.name,
                        cross.name,
                        site.slot.dir.suffix()
                    ),
                    lat,
                    lon,
                    heading: Some(heading),
                    agency: agency(site.pos).to_string(),
                }
            })
            .collect()
    }

    /// Appends the cameras passed driving from `from` to `to`, east-west
    /// first when `ew_first`. The reverse trip is `route(to, from, !ew_first)`:
    /// it uses the same two streets.
    pub(super) fn route(&self, from: Point, to: Point, ew_first: bool, out: &mut Vec<Pass>) {
        let start = out.len();
        if ew_first {
            let ew = snap(&EW, from.y);
            let ns = snap(&NS, to.x);
            let mut km = (from.y - EW[ew].at).abs();
            km = self.leg(true, ew, from.x, NS[ns].at, km, start, out);
            self.leg(false, ns, EW[ew].at, to.y, km, start, out);
        } else {
            let ns = snap(&NS, from.x);
            let ew = snap(&EW, to.y);
            let mut km = (from.x - NS[ns].at).abs();
            km = self.leg(false, ns, from.y, EW[ew].at, km, start, out);
            self.leg(true, ew, NS[ns].at, to.x, km, start, out);
        }
    }

    /// One straight leg from `a` to `b` along a street; returns the distance
    /// driven so far. Cameras standing before the intersections in `(a, b]`
    /// read the vehicle.
    #[allow(clippy::too_many_arguments)]
    fn leg(
        &self,
        east_west: bool,
        street: usize,
        a: f32,
        b: f32,
        km_before: f32,
        route_start: usize,
        out: &mut Vec<Pass>,
    ) -> f32 {
        let increasing = b >= a;
        let lane = &self.lanes[lane_index(east_west, street, increasing)];
        let mut push = |along: f32, cam: u32| {
            let signals = (out.len() - route_start) as f32 + 1.0;
            let at_s =
                (km_before + (along - a).abs()) * SECONDS_PER_KM + signals * SECONDS_PER_SIGNAL;
            out.push(Pass { cam, at_s });
        };
        if increasing {
            for &(along, cam) in lane.iter().filter(|(at, _)| *at > a && *at <= b) {
                push(along, cam);
            }
        } else {
            for &(along, cam) in lane.iter().rev().filter(|(at, _)| *at < a && *at >= b) {
                push(along, cam);
            }
        }
        km_before + (b - a).abs()
    }

    /// A random point in the county, denser towards the centre (`scale_km`
    /// sets how quickly density falls off).
    pub(super) fn random_point(rng: &mut Pcg64Mcg, scale_km: f32) -> Point {
        loop {
            let x = rng.random_range(-24.0..24.0f32);
            let y = rng.random_range(-22.0..22.0f32);
            let r2 = x * x + y * y;
            if r2 <= 24.0 * 24.0 && rng.random::<f32>() < centre_weight(r2, scale_km) {
                return Point { x, y };
            }
        }
    }

    /// A random point on the street of camera `cam`, 0.3-2.5 km past it in
    /// its direction of travel: shops and offices line the camera corridors.
    pub(super) fn past_camera(&self, rng: &mut Pcg64Mcg, cam: usize) -> Point {
        let site = &self.sites[cam];
        let at = site.slot.intersection();
        let d = rng.random_range(0.3..2.5f32);
        let d = if site.slot.dir.increasing() { d } else { -d };
        if site.slot.dir.east_west() {
            Point {
                x: at.x + d,
                y: at.y,
            }
        } else {
            Point {
                x: at.x,
                y: at.y + d,
            }
        }
    }
}

/// The street a point at coordinate `v` drives along: a major corridor when
/// one is near, a street it lies on, else the nearest street.
fn snap(streets: &[Street], v: f32) -> usize {
    let nearest = |major_only: bool| {
        streets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.major || !major_only)
            .min_by(|a, b| (a.1.at - v).abs().total_cmp(&(b.1.at - v).abs()))
            .map(|(i, s)| (i, (s.at - v).abs()))
    };
    let (any, any_d) = nearest(false).unwrap_or((0, 0.0));
    if any_d < 0.05 {
        return any;
    }
    match nearest(true) {
        Some((major, d)) if d <= MAJOR_SNAP_KM => major,
        _ => any,
    }
}

pub(super) fn camera_id(i: usize) -> String {
    format!("CAM-{:04}", i + 1)
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

pub(super) fn lat_lon(p: Point) -> (f64, f64) {
    (
        round6(CENTRE_LAT + f64::from(p.y) / KM_PER_DEG_LAT),
        round6(CENTRE_LON + f64::from(p.x) / KM_PER_DEG_LON),
    )
}

/// Downtown is policed by the city, the outskirts by the county, the towns
/// between by their own departments.
fn agency(p: Point) -> &'static str {
    let r2 = p.x * p.x + p.y * p.y;
    if r2 < 8.0 * 8.0 {
        "Valle Verde PD"
    } else if r2 > 17.0 * 17.0 {
        "County Sheriff"
    } else {
        match (p.x >= 0.0, p.y >= 0.0) {
            (true, true) => "Pinecrest PD",
            (false, true) => "Rancho Alto PD",
            (false, false) => "Arroyo Seco PD",
            (true, false) => "Mesa Grande PD",
        }
    }
}

/// UTC offset of US Pacific time on `date`, in hours: daylight time from the
/// second Sunday of March to the first Sunday of November. The switch at
/// 02:00 is taken at midnight, which moves a few night reads by an hour.
pub(super) fn pacific_offset_hours(date: NaiveDate) -> i64 {
    let y = date.year();
    let start = NaiveDate::from_weekday_of_month_opt(y, 3, Weekday::Sun, 2);
    let end = NaiveDate::from_weekday_of_month_opt(y, 11, Weekday::Sun, 1);
    match (start, end) {
        (Some(s), Some(e)) if date >= s && date < e => -7,
        _ => -8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn corridor_constants_name_the_right_streets() {
        assert_eq!(EW[CORRIDOR_EW].name, "Juniper Ave");
        assert_eq!(EW[CORRIDOR_EW].at, CORRIDOR_WEST.y);
        assert!(CORRIDOR_WEST.x < NS[CORRIDOR_EB_AT[0]].at);
        assert!(CORRIDOR_EAST.x > NS[*CORRIDOR_EB_AT.last().unwrap()].at);
        assert!(max_cameras() >= 600);
    }

    #[test]
    fn routes_pass_cameras_in_travel_order() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let grid = Grid::layout(&mut rng, 300);
        let mut out = Vec::new();
        grid.route(CORRIDOR_WEST, CORRIDOR_EAST, true, &mut out);
        let cams: Vec<u32> = out.iter().map(|p| p.cam).collect();
        for c in 0..5 {
            assert!(cams.contains(&c), "{cams:?}");
        }
        assert!(out.windows(2).all(|w| w[0].at_s < w[1].at_s));
        out.clear();
        grid.route(CORRIDOR_EAST, CORRIDOR_WEST, false, &mut out);
        let cams: Vec<u32> = out.iter().map(|p| p.cam).collect();
        assert!(cams.contains(&5) && cams.contains(&6), "{cams:?}");
    }

    #[test]
    fn pacific_offsets() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(pacific_offset_hours(d(10, 1)), -7);
        assert_eq!(pacific_offset_hours(d(10, 31)), -7);
        assert_eq!(pacific_offset_hours(d(11, 1)), -8);
        assert_eq!(pacific_offset_hours(d(3, 7)), -8);
        assert_eq!(pacific_offset_hours(d(3, 8)), -7);
    }
}
