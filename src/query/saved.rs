//! Saved queries: SQL files in `queries/`, each opening with a header that
//! documents its purpose and declares its parameters.
//!
//! ```sql
//! -- name: canvass
//! -- purpose: Reads near a point during a time window.
//! -- param: lat float            Latitude of the incident, degrees
//! -- param: radius_m float=500   Radius in metres
//! -- param: camera text?         Optional camera id (NULL when absent)
//! -- tables: reads
//! SELECT ... WHERE haversine_m(lat, lon, $lat, $lon) <= $radius_m
//! ```
//!
//! Values arrive as `name=value` strings, are parsed by their declared type
//! and bound as typed placeholders (`$name`); they are never spliced into
//! SQL text. A `sites` parameter is a small list of incident sites
//! (`lat,lon,radius_m,from,to;...`, or `@file.csv`) registered as a table of
//! that name for the query's duration, and the span of its windows is bound
//! as `$NAME_from` and `$NAME_to`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::plate::{self, Pattern};
use crate::store::schema::TZ;

/// The saved queries shipped with `alpr`, compiled in from `queries/`.
const BUILTIN: &[(&str, &str)] = &[
    ("canvass", include_str!("../../queries/canvass.sql")),
    ("convoy", include_str!("../../queries/convoy.sql")),
    ("frequency", include_str!("../../queries/frequency.sql")),
    (
        "hotlist_hits",
        include_str!("../../queries/hotlist_hits.sql"),
    ),
    (
        "partial_plate",
        include_str!("../../queries/partial_plate.sql"),
    ),
    (
        "plate_history",
        include_str!("../../queries/plate_history.sql"),
    ),
    ("stakeout", include_str!("../../queries/stakeout.sql")),
];

/// Declared type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Text,
    /// A plate, normalised before binding.
    Plate,
    /// A partial-plate pattern, validated before binding.
    Pattern,
    Float,
    Int,
    Bool,
    /// UTC instant: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (UTC) or `YYYY-MM-DD`
    /// (00:00 UTC that day).
    Timestamp,
    /// Incident sites, registered as a table.
    Sites,
}

impl ParamType {
    fn parse(name: &str) -> Option<ParamType> {
        Some(match name {
            "text" => ParamType::Text,
            "plate" => ParamType::Plate,
            "pattern" => ParamType::Pattern,
            "float" => ParamType::Float,
            "int" => ParamType::Int,
            "bool" => ParamType::Bool,
            "timestamp" => ParamType::Timestamp,
            "sites" => ParamType::Sites,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamType::Text => "text",
            ParamType::Plate => "plate",
            ParamType::Pattern => "pattern",
            ParamType::Float => "float",
            ParamType::Int => "int",
            ParamType::Bool => "bool",
            ParamType::Timestamp => "timestamp",
            ParamType::Sites => "sites",
        }
    }

    fn null(self) -> ScalarValue {
        match self {
            ParamType::Text | ParamType::Plate | ParamType::Pattern | ParamType::Sites => {
                ScalarValue::Utf8(None)
            }
            ParamType::Float => ScalarValue::Float64(None),
            ParamType::Int => ScalarValue::Int64(None),
            ParamType::Bool => ScalarValue::Boolean(None),
            ParamType::Timestamp => ScalarValue::TimestampMicrosecond(None, Some(TZ.into())),
        }
    }
}

/// Whether a parameter must be given.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    Required,
    /// Bound as a typed NULL when absent.
    Optional,
    /// Bound to this value (parsed like user input) when absent.
    Default(String),
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub ty: ParamType,
    pub requirement: Requirement,
    pub doc: String,
}

/// A saved query: its documentation, parameters and SQL.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    pub purpose: String,
    pub params: Vec<ParamSpec>,
    pub tables: Vec<String>,
    pub sql: String,
}

/// All saved queries shipped with `alpr`, by name.
pub fn builtin() -> Result<Vec<SavedQuery>> {
    BUILTIN
        .iter()
        .map(|(name, text)| SavedQuery::parse(name, text))
        .collect()
}

/// The saved query `name`, or an error listing the known names.
pub fn find(name: &str) -> Result<SavedQuery> {
    let all = builtin()?;
    let known: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    all.into_iter().find(|q| q.name == name).ok_or_else(|| {
        Error::bad_input(format!(
            "unknown saved query '{name}'; saved queries are: {}",
            known.join(", ")
        ))
    })
}

impl SavedQuery {
    /// Parses a saved-query file; `file_name` is its stem, which must match
    /// the `name:` header.
    pub fn parse(file_name: &str, text: &str) -> Result<SavedQuery> {
        let bad = |msg: String| Error::bad_input(format!("queries/{file_name}.sql: {msg}"));
        let mut name = None;
        let mut purpose = String::new();
        let mut params = Vec::new();
        let mut tables = Vec::new();
        let mut sql = String::new();
        let mut in_header = true;
        for line in text.lines() {
            let header = line.strip_prefix("--").map(str::trim);
            match header {
                Some(h) if in_header => {
                    if let Some(v) = h.strip_prefix("name:") {
                        name = Some(v.trim().to_string());
                    } else if let Some(v) = h.strip_prefix("purpose:") {
                        purpose = v.trim().to_string();
                    } else if let Some(v) = h.strip_prefix("param:") {
                        params.push(parse_param(v).map_err(bad)?);
                    } else if let Some(v) = h.strip_prefix("tables:") {
                        tables = v.split(',').map(|t| t.trim().to_string()).collect();
                    } else if !h.is_empty() && !purpose.is_empty() && params.is_empty() {
                        purpose.push(' ');
                        purpose.push_str(h);
                    }
                }
                _ => {
                    in_header = in_header && line.trim().is_empty();
                    if !in_header {
                        sql.push_str(line);
                        sql.push('\n');
                    }
                }
            }
        }
        let name = name.ok_or_else(|| bad("missing '-- name:' header".into()))?;
        if name != file_name {
            return Err(bad(format!(
                "header name '{name}' differs from the file name"
            )));
        }
        if purpose.is_empty() {
            return Err(bad("missing '-- purpose:' header".into()));
        }
        Ok(SavedQuery {
            name,
            purpose,
            params,
            tables,
            sql,
        })
    }

    /// Human documentation: purpose, then one line per parameter.
    pub fn describe(&self) -> String {
        let mut out = format!("{}\n  {}\n", self.name, self.purpose);
        for p in &self.params {
            let req = match &p.requirement {
                Requirement::Required => "required".to_string(),
                Requirement::Optional => "optional".to_string(),
                Requirement::Default(d) => format!("default {d}"),
            };
            out.push_str(&format!(
                "    --param {}=<{}>  {} ({req})\n",
                p.name,
                p.ty.name(),
                p.doc
            ));
        }
        out
    }

    /// Parses and type-checks `args` against the declared parameters.
    pub fn bind(&self, args: &[(String, String)]) -> Result<BoundQuery> {
        let mut given: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in args {
            if !self.params.iter().any(|p| &p.name == k) {
                let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::bad_input(format!(
                    "saved query '{}' has no parameter '{k}'; its parameters are: {}",
                    self.name,
                    names.join(", ")
                )));
            }
            if given.insert(k, v).is_some() {
                return Err(Error::bad_input(format!("parameter '{k}' given twice")));
            }
        }
        let mut values = Vec::new();
        let mut sites = Vec::new();
        for p in &self.params {
            let raw = match (given.get(p.name.as_str()), &p.requirement) {
                (Some(v), _) => Some(v.to_string()),
                (None, Requirement::Default(d)) => Some(d.clone()),
                (None, Requirement::Optional) => None,
                (None, Requirement::Required) => {
                    return Err(Error::bad_input(format!(
                        "saved query '{}' needs parameter '{}' ({}: {}); pass --param {}=...",
                        self.name,
                        p.name,
                        p.ty.name(),
                        p.doc,
                        p.name
                    )));
                }
            };
            let Some(raw) = raw else {
                values.push((p.name.clone(), p.ty.null()));
                continue;
            };
            if p.ty == ParamType::Sites {
                let batch = parse_sites(&p.name, &raw)?;
                let (from, to) = sites_window(&batch);
                values.push((format!("{}_from", p.name), from));
                values.push((format!("{}_to", p.name), to));
                sites.push((p.name.clone(), batch));
                continue;
            }
            values.push((p.name.clone(), parse_value(&p.name, p.ty, &raw)?));
        }
        Ok(BoundQuery {
            sql: self.sql.clone(),
            values,
            sites,
        })
    }
}

/// A saved query with its parameters parsed, ready to plan.
#[derive(Debug, Clone)]
pub struct BoundQuery {
    pub sql: String,
    /// Scalar parameters by name, bound to `$name`.
    pub values: Vec<(String, ScalarValue)>,
    /// Table parameters by name, registered as tables.
    pub sites: Vec<(String, RecordBatch)>,
}

impl BoundQuery {
    /// Plans the query on `ctx`. Table parameters are registered on `ctx`
    /// under their names; they replace any earlier table of that name.
    pub async fn plan(&self, ctx: &SessionContext) -> Result<DataFrame> {
        for (name, batch) in &self.sites {
            let table = MemTable::try_new(batch.schema(), vec![vec![batch.clone()]])?;
            ctx.deregister_table(name.as_str())?;
            ctx.register_table(name.as_str(), Arc::new(table))?;
        }
        let df = ctx.sql(&self.sql).await?;
        if self.values.is_empty() {
            return Ok(df);
        }
        Ok(df.with_param_values(self.values.clone())?)
    }
}

/// `NAME TYPE[?|=DEFAULT] description...`
fn parse_param(spec: &str) -> std::result::Result<ParamSpec, String> {
    let mut parts = spec.trim().splitn(3, char::is_whitespace);
    let name = parts.next().unwrap_or_default().to_string();
    let ty_spec = parts.next().unwrap_or_default();
    let doc = parts.next().unwrap_or_default().trim().to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("bad parameter name in '{spec}'"));
    }
    let (ty_name, requirement) = if let Some(t) = ty_spec.strip_suffix('?') {
        (t, Requirement::Optional)
    } else if let Some((t, d)) = ty_spec.split_once('=') {
        (t, Requirement::Default(d.to_string()))
    } else {
        (ty_spec, Requirement::Required)
    };
    let ty =
        ParamType::parse(ty_name).ok_or_else(|| format!("unknown type '{ty_name}' in '{spec}'"))?;
    if doc.is_empty() {
        return Err(format!("parameter '{name}' has no description"));
    }
    Ok(ParamSpec {
        name,
        ty,
        requirement,
        doc,
    })
}

fn ill_typed(name: &str, ty: ParamType, raw: &str, why: impl std::fmt::Display) -> Error {
    Error::bad_input(format!(
        "parameter '{name}' expects {}, got '{raw}': {why}",
        ty.name()
    ))
}

/// Parses one value of a declared type.
pub fn parse_value(name: &str, ty: ParamType, raw: &str) -> Result<ScalarValue> {
    let raw_t = raw.trim();
    Ok(match ty {
        ParamType::Text => ScalarValue::Utf8(Some(raw.to_string())),
        ParamType::Plate => {
            let p = plate::normalize(raw_t);
            if p.is_empty() {
                return Err(ill_typed(name, ty, raw, "no letters or digits"));
            }
            ScalarValue::Utf8(Some(p))
        }
        ParamType::Pattern => {
            Pattern::parse(raw_t).map_err(|e| ill_typed(name, ty, raw, e))?;
            ScalarValue::Utf8(Some(raw_t.to_string()))
        }
        ParamType::Float => {
            let v: f64 = raw_t.parse().map_err(|e| ill_typed(name, ty, raw, e))?;
            if !v.is_finite() {
                return Err(ill_typed(name, ty, raw, "not a finite number"));
            }
            ScalarValue::Float64(Some(v))
        }
        ParamType::Int => ScalarValue::Int64(Some(
            raw_t.parse().map_err(|e| ill_typed(name, ty, raw, e))?,
        )),
        ParamType::Bool => ScalarValue::Boolean(Some(match raw_t {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(ill_typed(name, ty, raw, "use true or false")),
        })),
        ParamType::Timestamp => ScalarValue::TimestampMicrosecond(
            Some(parse_timestamp(raw_t).map_err(|e| ill_typed(name, ty, raw, e))?),
            Some(TZ.into()),
        ),
        ParamType::Sites => unreachable!("sites are tables, parsed by parse_sites"),
    })
}

/// Parses a UTC instant into microseconds since the epoch.
pub fn parse_timestamp(raw: &str) -> std::result::Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros());
    }
    Err("use RFC 3339 (2026-10-02T08:00:00Z), 'YYYY-MM-DD HH:MM:SS' (UTC) or YYYY-MM-DD".into())
}

/// Schema of a `sites` table parameter.
pub fn sites_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("site", DataType::Int32, false),
        Field::new("lat", DataType::Float64, false),
        Field::new("lon", DataType::Float64, false),
        Field::new("radius_m", DataType::Float64, false),
        Field::new("from_ts", crate::store::schema::ts_type(), false),
        Field::new("to_ts", crate::store::schema::ts_type(), false),
    ]))
}

/// The earliest start and latest end of the sites' windows, bound as
/// `$NAME_from` and `$NAME_to` so a query can prune partitions by them.
fn sites_window(batch: &RecordBatch) -> (ScalarValue, ScalarValue) {
    let ts = |i: usize| {
        batch
            .column(i)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .expect("sites_schema timestamps")
            .values()
            .to_vec()
    };
    let from = ts(4).into_iter().min();
    let to = ts(5).into_iter().max();
    let scalar = |v| ScalarValue::TimestampMicrosecond(v, Some(TZ.into()));
    (scalar(from), scalar(to))
}

/// Most sites one stakeout may name: it is a join, keep it small.
const MAX_SITES: usize = 64;

/// Parses `lat,lon,radius_m,from,to;...` or `@file` (one site per line,
/// optional header line starting with `lat`).
fn parse_sites(name: &str, raw: &str) -> Result<RecordBatch> {
    let text = match raw.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?,
        None => raw.replace(';', "\n"),
    };
    let bad = |line: usize, why: String| {
        Error::bad_input(format!(
            "parameter '{name}', site {line}: {why} (expected lat,lon,radius_m,from,to)"
        ))
    };
    // (lat, lon, radius_m, from, to) per site
    let mut sites: Vec<(f64, f64, f64, i64, i64)> = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("lat"))
        .enumerate()
    {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 5 {
            return Err(bad(i + 1, format!("{} fields in '{line}'", f.len())));
        }
        let num = |s: &str, what: &str| -> Result<f64> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(i + 1, format!("{what} '{s}' is not a number")))
        };
        let (lat, lon, radius) = (num(f[0], "lat")?, num(f[1], "lon")?, num(f[2], "radius_m")?);
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || radius <= 0.0 {
            return Err(bad(
                i + 1,
                format!("'{line}' is outside lat/lon range or radius <= 0"),
            ));
        }
        let from = parse_timestamp(f[3]).map_err(|e| bad(i + 1, e))?;
        let to = parse_timestamp(f[4]).map_err(|e| bad(i + 1, e))?;
        if to < from {
            return Err(bad(i + 1, "window ends before it starts".into()));
        }
        sites.push((lat, lon, radius, from, to));
    }
    if sites.is_empty() || sites.len() > MAX_SITES {
        return Err(Error::bad_input(format!(
            "parameter '{name}' needs 1 to {MAX_SITES} sites, got {}",
            sites.len()
        )));
    }
    let n = sites.len() as i32;
    let ts = |f: fn(&(f64, f64, f64, i64, i64)) -> i64| {
        TimestampMicrosecondArray::from_iter_values(sites.iter().map(f)).with_timezone(TZ)
    };
    let float = |f: fn(&(f64, f64, f64, i64, i64)) -> f64| {
        Float64Array::from_iter_values(sites.iter().map(f))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(1..=n)),
        Arc::new(float(|s| s.0)),
        Arc::new(float(|s| s.1)),
        Arc::new(float(|s| s.2)),
        Arc::new(ts(|s| s.3)),
        Arc::new(ts(|s| s.4)),
    ];
    Ok(RecordBatch::try_new(sites_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_file_in_queries_is_builtin_and_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/queries");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let names: Vec<String> = builtin().unwrap().into_iter().map(|q| q.name).collect();
        assert_eq!(on_disk, names);
        for q in builtin().unwrap() {
            assert!(!q.params.is_empty(), "{}", q.name);
            assert!(!q.tables.is_empty(), "{}", q.name);
            for p in &q.params {
                assert!(
                    q.sql.contains(&format!("${}", p.name)) || p.ty == ParamType::Sites,
                    "{}: ${} unused",
                    q.name,
                    p.name
                );
            }
        }
    }

    #[test]
    fn unknown_query_lists_known_ones() {
        let err = find("nope").unwrap_err().to_string();
        assert!(
            err.contains("unknown saved query 'nope'") && err.contains("canvass"),
            "{err}"
        );
    }

    #[test]
    fn binding_reports_missing_unknown_and_ill_typed_parameters() {
        let q = find("canvass").unwrap();
        let err = q.bind(&args(&[("lat", "34.1")])).unwrap_err().to_string();
        assert!(err.contains("needs parameter 'lon'"), "{err}");
        let err = q.bind(&args(&[("latitude", "1")])).unwrap_err().to_string();
        assert!(err.contains("no parameter 'latitude'"), "{err}");
        let err = q
            .bind(&args(&[
                ("lat", "north"),
                ("lon", "1"),
                ("from", "2026-10-01"),
                ("to", "2026-10-02"),
            ]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'lat' expects float, got 'north'"), "{err}");
        let err = q
            .bind(&args(&[
                ("lat", "1"),
                ("lon", "1"),
                ("from", "yesterday"),
                ("to", "2026-10-02"),
            ]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'from' expects timestamp"), "{err}");
    }

    #[test]
    fn wildcard_only_pattern_is_refused() {
        let q = find("partial_plate").unwrap();
        let err = q
            .bind(&args(&[
                ("pattern", "**"),
                ("from", "2026-10-01"),
                ("to", "2026-10-02"),
            ]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'pattern' expects pattern"), "{err}");
    }

    #[test]
    fn hostile_text_is_a_value_not_sql() {
        let v = parse_value("plate", ParamType::Plate, "x'); DROP TABLE reads; --").unwrap();
        assert_eq!(v, ScalarValue::Utf8(Some("XDROPTABLEREADS".into())));
        let v = parse_value("camera", ParamType::Text, "' OR 1=1 --").unwrap();
        assert_eq!(v, ScalarValue::Utf8(Some("' OR 1=1 --".into())));
    }

    #[test]
    fn timestamps_accept_three_forms() {
        let a = parse_timestamp("2026-10-02T08:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2026-10-02 08:00:00").unwrap(), a);
        assert_eq!(parse_timestamp("2026-10-02T01:00:00-07:00").unwrap(), a);
        assert_eq!(
            parse_timestamp("2026-10-02").unwrap(),
            a - 8 * 3_600_000_000
        );
    }

    #[test]
    fn sites_parse_and_reject_bad_rows() {
        let b = parse_sites("sites", "34.1,-117.3,300,2026-10-02T01:00:00Z,2026-10-02T03:00:00Z;34.2,-117.2,200,2026-10-03,2026-10-04").unwrap();
        assert_eq!(b.num_rows(), 2);
        let err = parse_sites("sites", "34.1,-117.3,300")
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 fields"), "{err}");
        let err = parse_sites("sites", "134.1,-117.3,300,2026-10-02,2026-10-03")
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside"), "{err}");
    }
}
