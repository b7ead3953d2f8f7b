//! Legal holds: reads a case needs kept, described by a plate pattern, an
//! area, a time window, or a combination (all given criteria must hold).
//! Retention never drops a held read without first exporting it to
//! evidence.
//!
//! A hold is both a Rust predicate ([`Scope::covers`]) and a DataFusion
//! expression ([`filter`]) built from bound literals, never from SQL text.
//! Plate patterns forgive OCR confusions (the default budget of
//! `plate_match`), so a hold errs on the side of keeping.

use chrono::{DateTime, Utc};
use datafusion::logical_expr::{Expr, ScalarUDF, col, lit};
use datafusion::scalar::ScalarValue;
use rusqlite::{Connection, params};

use crate::error::{Error, Result};
use crate::plate::{DEFAULT_MAX_SUBSTITUTIONS, Pattern};
use crate::query::udf::haversine::haversine_m;
use crate::query::udf::{HaversineFunc, PlateMatchFunc};
use crate::store::schema::TZ;

/// A circle on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

/// What a hold protects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    pub plate_pattern: Option<String>,
    pub area: Option<Area>,
    /// `[from, to)` in microseconds since the epoch, UTC.
    pub window: Option<(i64, i64)>,
}

/// A hold as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    pub id: i64,
    pub case_number: String,
    pub scope: Scope,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
    pub lifted: bool,
}

impl Scope {
    /// Checks the scope names at least one criterion and each is sane.
    pub fn validate(&self) -> Result<()> {
        if self.plate_pattern.is_none() && self.area.is_none() && self.window.is_none() {
            return Err(Error::bad_input(
                "a hold needs at least one of --plate, --area, --window",
            ));
        }
        if let Some(p) = &self.plate_pattern {
            Pattern::parse(p)?;
        }
        if let Some(a) = self.area {
            let ok = (-90.0..=90.0).contains(&a.lat)
                && (-180.0..=180.0).contains(&a.lon)
                && a.radius_m > 0.0
                && a.radius_m <= 100_000.0;
            if !ok {
                return Err(Error::bad_input(format!(
                    "bad hold area {},{},{}: latitude, longitude, radius in metres (0-100000)",
                    a.lat, a.lon, a.radius_m
                )));
            }
        }
        if let Some((from, to)) = self.window
            && from >= to
        {
            return Err(Error::bad_input("a hold window must end after it starts"));
        }
        Ok(())
    }

    /// Whether a read with these fields is held by this scope.
    pub fn covers(&self, plate: &str, lat: Option<f64>, lon: Option<f64>, ts: i64) -> bool {
        let plate_ok = self.plate_pattern.as_ref().is_none_or(|p| {
            Pattern::parse(p).is_ok_and(|p| p.matches(plate, DEFAULT_MAX_SUBSTITUTIONS))
        });
        let area_ok = self.area.is_none_or(|a| match (lat, lon) {
            (Some(la), Some(lo)) => haversine_m(la, lo, a.lat, a.lon) <= a.radius_m,
            _ => false,
        });
        let window_ok = self.window.is_none_or(|(f, t)| ts >= f && ts < t);
        plate_ok && area_ok && window_ok
    }

    /// This scope as a predicate over the `reads` table.
    pub fn expr(&self) -> Expr {
        let mut parts = Vec::new();
        if let Some(p) = &self.plate_pattern {
            let f = ScalarUDF::from(PlateMatchFunc::new());
            parts.push(f.call(vec![
                col("plate"),
                lit(p.clone()),
                lit(DEFAULT_MAX_SUBSTITUTIONS as i64),
            ]));
        }
        if let Some(a) = self.area {
            let f = ScalarUDF::from(HaversineFunc::new());
            parts.push(
                f.call(vec![col("lat"), col("lon"), lit(a.lat), lit(a.lon)])
                    .lt_eq(lit(a.radius_m)),
            );
        }
        if let Some((from, to)) = self.window {
            let ts = |v| lit(ScalarValue::TimestampMicrosecond(Some(v), Some(TZ.into())));
            parts.push(col("ts").gt_eq(ts(from)).and(col("ts").lt(ts(to))));
        }
        parts
            .into_iter()
            .reduce(Expr::and)
            .unwrap_or_else(|| lit(false))
    }

    /// A one-line description for listings and the audit log.
    pub fn describe(&self) -> String {
        let mut out = Vec::new();
        if let Some(p) = &self.plate_pattern {
            out.push(format!("plate {p}"));
        }
        if let Some(a) = self.area {
            out.push(format!("within {} m of {},{}", a.radius_m, a.lat, a.lon));
        }
        if let Some((f, t)) = self.window {
            let show = |v| {
                DateTime::<Utc>::from_timestamp_micros(v)
                    .map(|d| d.to_rfc3339())
                    .unwrap_or_default()
            };
            out.push(format!("from {} to {}", show(f), show(t)));
        }
        out.join(", ")
    }
}

/// Any active hold's scope, as one predicate; `None` when nothing is held.
pub fn filter(holds: &[Hold]) -> Option<Expr> {
    holds
        .iter()
        .filter(|h| !h.lifted)
        .map(|h| h.scope.expr())
        .reduce(Expr::or)
}

/// Adds a hold inside `tx`; returns its id.
pub fn add_in(
    tx: &Connection,
    case_number: &str,
    scope: &Scope,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    scope.validate()?;
    tx.execute(
        "INSERT INTO holds (case_number, kind, plate_pattern, lat, lon, radius_m, from_ts, to_ts,
         reason, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            case_number,
            scope.describe(),
            scope.plate_pattern,
            scope.area.map(|a| a.lat),
            scope.area.map(|a| a.lon),
            scope.area.map(|a| a.radius_m),
            scope.window.map(|w| w.0),
            scope.window.map(|w| w.1),
            reason,
            by,
            now.to_rfc3339()
        ],
    )
    .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    Ok(tx.last_insert_rowid())
}

/// Lifts a hold inside `tx` (kept on record, no longer protecting).
pub fn lift_in(tx: &Connection, id: i64, by: &str, now: DateTime<Utc>) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE holds SET lifted_by = ?1, lifted_at = ?2 WHERE id = ?3 AND lifted_at IS NULL",
            params![by, now.to_rfc3339(), id],
        )
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    if n == 1 {
        Ok(())
    } else {
        Err(Error::bad_input(format!("no active hold {id}")))
    }
}

/// Every hold, lifted ones included, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Hold>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, case_number, plate_pattern, lat, lon, radius_m, from_ts, to_ts, reason,
                    created_by, created_at, lifted_at IS NOT NULL
             FROM holds ORDER BY id",
        )
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    let rows = stmt
        .query_map([], |r| {
            let area = match (r.get(3)?, r.get(4)?, r.get(5)?) {
                (Some(lat), Some(lon), Some(radius_m)) => Some(Area { lat, lon, radius_m }),
                _ => None,
            };
            let window = match (r.get(6)?, r.get(7)?) {
                (Some(f), Some(t)) => Some((f, t)),
                _ => None,
            };
            Ok(Hold {
                id: r.get(0)?,
                case_number: r.get(1)?,
                scope: Scope {
                    plate_pattern: r.get(2)?,
                    area,
                    window,
                },
                reason: r.get(8)?,
                created_by: r.get(9)?,
                created_at: r.get(10)?,
                lifted: r.get(11)?,
            })
        })
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_combine_their_criteria() {
        let s = Scope {
            plate_pattern: Some("7AB*".into()),
            area: Some(Area {
                lat: 34.0,
                lon: -118.0,
                radius_m: 500.0,
            }),
            window: Some((1_000, 2_000)),
        };
        s.validate().unwrap();
        assert!(s.covers("7ABC123", Some(34.001), Some(-118.0), 1_500));
        assert!(
            s.covers("7A8C123", Some(34.001), Some(-118.0), 1_500),
            "B/8 confusion"
        );
        assert!(!s.covers("9XYZ123", Some(34.001), Some(-118.0), 1_500));
        assert!(!s.covers("7ABC123", Some(34.1), Some(-118.0), 1_500));
        assert!(!s.covers("7ABC123", None, None, 1_500));
        assert!(!s.covers("7ABC123", Some(34.0), Some(-118.0), 2_000));
        assert!(Scope::default().validate().is_err());
        let bad = Scope {
            window: Some((5, 5)),
            ..Scope::default()
        };
        assert!(bad.validate().is_err());
    }
}
