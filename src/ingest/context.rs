//! Where and when each frame was taken: the camera (by `--camera`, a rule on
//! the path, the folder name, or a sidecar), the capture time (sidecar,
//! EXIF, the video's start plus the frame's offset) and the position
//! (sidecar, EXIF GPS, a GPS track interpolated in time, or the camera's
//! place in the registry).
//!
//! A frame whose time or camera cannot be known is an error naming the file
//! and the flag that would fix it: never a silent default.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::store::reference::Camera;

/// A photo's sidecar (`X.json` beside `X.jpg`): any field may be missing.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Sidecar {
    /// Capture time, RFC 3339 with an offset.
    pub ts: Option<String>,
    pub camera: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub heading: Option<f32>,
}

impl Sidecar {
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Sidecar> {
        serde_json::from_slice(bytes).map_err(|e| Error::BadData {
            path: name.into(),
            message: format!("sidecar is not JSON with ts/camera/lat/lon/heading: {e}"),
        })
    }
}

/// A GPS track of a patrol car: time-sorted fixes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpsTrack {
    fixes: Vec<(i64, f64, f64, Option<f32>)>,
}

/// How far (µs) a frame may be from the nearest fix and still get a
/// position from the track.
const TRACK_SLACK_US: i64 = 30_000_000;

impl GpsTrack {
    /// Reads a CSV with the header `ts,lat,lon[,heading]` (ts RFC 3339).
    pub fn load(path: &Path) -> Result<GpsTrack> {
        use crate::store::csv;
        let bad = |line: usize, why: String| csv::bad(path, line, why);
        let mut fixes = Vec::new();
        for (n, f) in csv::rows(path, &["ts", "lat", "lon", "heading"], 3)? {
            let ts = DateTime::parse_from_rfc3339(&f[0])
                .map_err(|e| bad(n, format!("ts '{}': {e}", f[0])))?
                .timestamp_micros();
            let num = |s: &str| {
                s.parse::<f64>()
                    .map_err(|_| bad(n, format!("'{s}' is not a number")))
            };
            let (lat, lon) = (num(&f[1])?, num(&f[2])?);
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(bad(n, format!("{lat},{lon} is not on Earth")));
            }
            let heading = f.get(3).and_then(|h| h.parse::<f32>().ok());
            fixes.push((ts, lat, lon, heading));
        }
        fixes.sort_by_key(|f| f.0);
        Ok(GpsTrack { fixes })
    }

    /// Position at `ts`, linear between the two fixes around it.
    pub fn at(&self, ts: i64) -> Option<(f64, f64, Option<f32>)> {
        let i = self.fixes.partition_point(|f| f.0 <= ts);
        match (i.checked_sub(1).map(|j| self.fixes[j]), self.fixes.get(i)) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let t = (ts - a.0) as f64 / (b.0 - a.0) as f64;
                Some((a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t, a.3))
            }
            (Some(a), _) if ts - a.0 <= TRACK_SLACK_US => Some((a.1, a.2, a.3)),
            (None, Some(b)) if b.0 - ts <= TRACK_SLACK_US => Some((b.1, b.2, b.3)),
            _ => None,
        }
    }
}

/// The rules of one ingest run.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `--camera ID`: every source.
    pub camera: Option<String>,
    /// `--camera-rule GLOB=ID`: the first glob matching `source!member`.
    pub camera_rules: Vec<(String, String)>,
    /// `--camera-from-folder`: the name of the folder holding the file.
    pub camera_from_folder: bool,
    /// `--exif-offset +HH:MM`: the zone of EXIF times without one.
    pub exif_offset: Option<FixedOffset>,
    /// `--video-start`: start of videos without a creation time.
    pub video_start: Option<DateTime<Utc>>,
    pub track: Option<GpsTrack>,
    /// The store's camera registry by id.
    pub registry: HashMap<String, Camera>,
}

/// A frame's camera and position.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub camera_id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub heading: Option<f32>,
}

/// `*` any run, `?` one character; everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Rules {
    /// The camera of a member `member` of `source`.
    pub fn camera(&self, source: &Path, member: &str, sidecar: Option<&Sidecar>) -> Result<String> {
        if let Some(c) = sidecar.and_then(|s| s.camera.clone()) {
            return Ok(c);
        }
        let full = if source.to_string_lossy().ends_with(member) {
            source.to_string_lossy().into_owned()
        } else {
            format!("{}!{member}", source.display())
        };
        if let Some((_, id)) = self.camera_rules.iter().find(|(g, _)| glob_match(g, &full)) {
            return Ok(id.clone());
        }
        if self.camera_from_folder {
            let in_archive = !source.to_string_lossy().ends_with(member);
            // Inside an archive: the member's folder, else the archive's name.
            let folder = if in_archive {
                Path::new(member)
                    .parent()
                    .and_then(|d| d.file_name())
                    .or_else(|| source.file_stem())
            } else {
                source.parent().and_then(|d| d.file_name())
            };
            if let Some(f) = folder.map(|n| n.to_string_lossy().into_owned()) {
                return Ok(f);
            }
        }
        self.camera.clone().ok_or_else(|| Error::BadData {
            path: full.into(),
            message: "no camera for this file: give --camera ID, --camera-rule GLOB=ID, \
                      --camera-from-folder, or a sidecar with \"camera\""
                .into(),
        })
    }

    /// Capture time (µs, UTC) and EXIF GPS of a photo.
    pub fn photo_time(
        &self,
        name: &str,
        bytes: &[u8],
        sidecar: Option<&Sidecar>,
    ) -> Result<(i64, Option<(f64, f64)>)> {
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(bytes))
            .ok();
        let gps = exif.as_ref().and_then(exif_gps);
        if let Some(ts) = sidecar.and_then(|s| s.ts.as_deref()) {
            let t = DateTime::parse_from_rfc3339(ts).map_err(|e| Error::BadData {
                path: name.into(),
                message: format!("sidecar ts '{ts}' is not RFC 3339 with an offset: {e}"),
            })?;
            return Ok((t.timestamp_micros(), gps));
        }
        let missing = || Error::BadData {
            path: name.into(),
            message: "no capture time: no sidecar ts and no EXIF DateTimeOriginal \
                      (add a sidecar X.json with \"ts\")"
                .into(),
        };
        let exif = exif.ok_or_else(missing)?;
        let field = |tag| {
            exif.get_field(tag, exif::In::PRIMARY)
                .map(|f| f.display_value().to_string().trim_matches('"').to_string())
        };
        let raw = field(exif::Tag::DateTimeOriginal)
            .or_else(|| field(exif::Tag::DateTime))
            .ok_or_else(missing)?;
        let naive = NaiveDateTime::parse_from_str(&raw, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(&raw, "%Y:%m:%d %H:%M:%S"))
            .map_err(|_| Error::BadData {
                path: name.into(),
                message: format!("EXIF time '{raw}' is not a date and time"),
            })?;
        let offset = field(exif::Tag::OffsetTimeOriginal)
            .and_then(|o| DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{o}")).ok())
            .map(|d| *d.offset())
            .or(self.exif_offset)
            .ok_or_else(|| Error::BadData {
                path: name.into(),
                message: "EXIF time has no zone: give --exif-offset +HH:MM (the camera clock's \
                          zone)"
                    .into(),
            })?;
        let t = offset
            .from_local_datetime(&naive)
            .single()
            .ok_or_else(|| Error::BadData {
                path: name.into(),
                message: format!("EXIF time '{raw}' does not exist in {offset}"),
            })?;
        Ok((t.timestamp_micros(), gps))
    }

    /// Position of a frame of `camera` at `ts`.
    pub fn place(
        &self,
        camera_id: String,
        ts: i64,
        exif_gps: Option<(f64, f64)>,
        sidecar: Option<&Sidecar>,
    ) -> Place {
        let registry = self.registry.get(&camera_id);
        let heading = sidecar
            .and_then(|s| s.heading)
            .or_else(|| registry.and_then(|c| c.heading));
        let (lat, lon, heading) = match (sidecar.and_then(|s| s.lat), sidecar.and_then(|s| s.lon)) {
            (Some(la), Some(lo)) => (Some(la), Some(lo), heading),
            _ => match (exif_gps, self.track.as_ref().and_then(|t| t.at(ts))) {
                (Some((la, lo)), _) => (Some(la), Some(lo), heading),
                (None, Some((la, lo, h))) => (Some(la), Some(lo), h.or(heading)),
                (None, None) => (registry.map(|c| c.lat), registry.map(|c| c.lon), heading),
            },
        };
        Place {
            camera_id,
            lat,
            lon,
            heading,
        }
    }
}

fn exif_gps(exif: &exif::Exif) -> Option<(f64, f64)> {
    let coord = |tag, reference| -> Option<f64> {
        let f = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Rational(v) = &f.value else {
            return None;
        };
        if v.len() < 3 {
            return None;
        }
        let deg = v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0;
        let r = exif
            .get_field(reference, exif::In::PRIMARY)?
            .display_value()
            .to_string();
        Some(if r.contains('S') || r.contains('W') {
            -deg
        } else {
            deg
        })
    };
    Some((
        coord(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef)?,
        coord(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef)?,
    ))
}

/// Parses `+HH:MM` / `-HH:MM`.
pub fn parse_offset(s: &str) -> std::result::Result<FixedOffset, String> {
    DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{s}"))
        .map(|d| *d.offset())
        .map_err(|_| format!("'{s}' is not an offset like -08:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*/cam7/*", "/data/cam7/a.jpg"));
        assert!(glob_match("*.zip!*", "x/exp.zip!d/a.jpg"));
        assert!(!glob_match("*/cam7/*", "/data/cam70a.jpg"));
        assert!(glob_match("a?c", "abc") && !glob_match("a?c", "ac"));
    }

    #[test]
    fn cameras_come_from_sidecar_rule_folder_or_flag_else_an_error() {
        let mut r = Rules::default();
        let src = Path::new("/in/north-gate/a.jpg");
        let e = r.camera(src, "a.jpg", None).unwrap_err().to_string();
        assert!(
            e.contains("/in/north-gate/a.jpg") && e.contains("--camera"),
            "{e}"
        );
        r.camera_from_folder = true;
        assert_eq!(r.camera(src, "a.jpg", None).unwrap(), "north-gate");
        r.camera_rules.push(("*north*".into(), "CAM-9".into()));
        assert_eq!(r.camera(src, "a.jpg", None).unwrap(), "CAM-9");
        let zip = Path::new("/in/export.zip");
        assert_eq!(r.camera(zip, "cam3/b.jpg", None).unwrap(), "cam3");
        let side = Sidecar {
            camera: Some("CAM-1".into()),
            ..Sidecar::default()
        };
        assert_eq!(r.camera(src, "a.jpg", Some(&side)).unwrap(), "CAM-1");
    }

    #[test]
    fn photo_time_needs_a_sidecar_or_exif() {
        let r = Rules::default();
        let e = r.photo_time("a.jpg", b"not exif", None).unwrap_err();
        assert!(e.to_string().contains("no capture time"), "{e}");
        let side = Sidecar {
            ts: Some("2026-10-02T08:00:00-07:00".into()),
            ..Sidecar::default()
        };
        let (ts, _) = r.photo_time("a.jpg", b"", Some(&side)).unwrap();
        assert_eq!(
            DateTime::<Utc>::from_timestamp_micros(ts)
                .unwrap()
                .to_rfc3339(),
            "2026-10-02T15:00:00+00:00"
        );
    }

    /// A JPEG with an EXIF APP1 segment holding `fields`.
    fn jpeg_with_exif(fields: &[exif::Field]) -> Vec<u8> {
        let mut w = exif::experimental::Writer::new();
        for f in fields {
            w.push_field(f);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        w.write(&mut tiff, false).unwrap();
        let tiff = tiff.into_inner();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&image::RgbImage::new(8, 8))
            .unwrap();
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(&tiff);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn ascii(tag: exif::Tag, ifd: exif::In, s: &str) -> exif::Field {
        exif::Field {
            tag,
            ifd_num: ifd,
            value: exif::Value::Ascii(vec![s.as_bytes().to_vec()]),
        }
    }

    fn dms(tag: exif::Tag, deg: u32, min: u32, sec_x100: u32) -> exif::Field {
        let r = |num, denom| exif::Rational { num, denom };
        exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Rational(vec![r(deg, 1), r(min, 1), r(sec_x100, 100)]),
        }
    }

    #[test]
    fn exif_time_gps_and_zones() {
        use exif::{In, Tag};
        let time = ascii(Tag::DateTimeOriginal, In::PRIMARY, "2026:10:02 08:15:30");
        let fields = vec![
            time.clone(),
            ascii(Tag::GPSLatitudeRef, In::PRIMARY, "N"),
            dms(Tag::GPSLatitude, 34, 1, 3000),
            ascii(Tag::GPSLongitudeRef, In::PRIMARY, "W"),
            dms(Tag::GPSLongitude, 117, 17, 4500),
        ];
        let jpeg = jpeg_with_exif(&fields);
        let r = Rules::default();
        let e = r.photo_time("a.jpg", &jpeg, None).unwrap_err().to_string();
        assert!(e.contains("--exif-offset"), "{e}");
        let r = Rules {
            exif_offset: Some(parse_offset("-07:00").unwrap()),
            ..Rules::default()
        };
        let (ts, gps) = r.photo_time("a.jpg", &jpeg, None).unwrap();
        assert_eq!(
            DateTime::<Utc>::from_timestamp_micros(ts)
                .unwrap()
                .to_rfc3339(),
            "2026-10-02T15:15:30+00:00"
        );
        let (lat, lon) = gps.unwrap();
        assert!(
            (lat - (34.0 + 1.0 / 60.0 + 30.0 / 3600.0)).abs() < 1e-9,
            "{lat}"
        );
        assert!(
            (lon + (117.0 + 17.0 / 60.0 + 45.0 / 3600.0)).abs() < 1e-9,
            "{lon}"
        );
        // A zone written by the camera wins over the flag.
        let with_zone =
            jpeg_with_exif(&[time, ascii(Tag::OffsetTimeOriginal, In::PRIMARY, "+02:00")]);
        let (ts, _) = r.photo_time("b.jpg", &with_zone, None).unwrap();
        assert_eq!(
            DateTime::<Utc>::from_timestamp_micros(ts)
                .unwrap()
                .to_rfc3339(),
            "2026-10-02T06:15:30+00:00"
        );
    }

    #[test]
    fn a_track_interpolates_and_knows_its_limits() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            "ts,lat,lon\n2026-10-02T08:00:00Z,34.0,-117.0\n2026-10-02T08:00:10Z,34.1,-117.2\n",
        )
        .unwrap();
        let t = GpsTrack::load(&p).unwrap();
        let at = |s: &str| t.at(DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros());
        let (la, lo, _) = at("2026-10-02T08:00:05Z").unwrap();
        assert!((la - 34.05).abs() < 1e-9 && (lo + 117.1).abs() < 1e-9);
        assert!(at("2026-10-02T08:00:30Z").is_some());
        assert!(at("2026-10-02T09:00:00Z").is_none());
        std::fs::write(&p, "when,where\n").unwrap();
        assert!(
            GpsTrack::load(&p)
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }
}
