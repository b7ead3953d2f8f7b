//! The scalar UDFs `alpr` adds to SQL, one per file, each a thin Arrow loop
//! around plain Rust: `crate::plate` for plate text, [`haversine`] for
//! geography. This module lists them for the session ([`all`]) and owns the
//! small helpers they share for reading arguments; registering them is left
//! to `query::session`.
//!
//! | SQL                                      | returns  | file               |
//! |------------------------------------------|----------|--------------------|
//! | `haversine_m(lat1, lon1, lat2, lon2)`    | Float64  | `haversine.rs`     |
//! | `plate_norm(text)`                       | Utf8     | `plate_norm.rs`    |
//! | `plate_match(plate, pattern [, max])`    | Boolean  | `plate_match.rs`   |
//! | `plate_distance(a, b)`                   | Float64  | `plate_distance.rs`|
//! | `plate_confusion_key(plate)`             | Utf8     | `plate_key.rs`     |
//!
//! String arguments are accepted as `Utf8`, `LargeUtf8` and `Utf8View` (what
//! Parquet reads produce) without casting; a null argument gives a null row.

pub mod haversine;
pub mod plate_distance;
pub mod plate_key;
pub mod plate_match;
pub mod plate_norm;

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, StringArray, StringBuilder, StringViewArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{Coercion, ColumnarValue, ScalarUDF, TypeSignatureClass};

pub use haversine::HaversineFunc;
pub use plate_distance::PlateDistanceFunc;
pub use plate_key::PlateConfusionKeyFunc;
pub use plate_match::PlateMatchFunc;
pub use plate_norm::PlateNormFunc;

/// Every UDF of this module, ready to register on a session.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(HaversineFunc::new()),
        ScalarUDF::from(PlateNormFunc::new()),
        ScalarUDF::from(PlateMatchFunc::new()),
        ScalarUDF::from(PlateDistanceFunc::new()),
        ScalarUDF::from(PlateConfusionKeyFunc::new()),
    ]
}

/// A signature slot taking any string type as it is (no cast to one encoding).
fn string_coercion() -> Coercion {
    Coercion::new_exact(TypeSignatureClass::Native(logical_string()))
}

/// Rows to produce: the length of the array arguments, or 1 when all are
/// scalars (DataFusion turns a one-row answer to all-scalar input back into
/// a scalar).
/// Runs a one-string-argument UDF returning Utf8: `write` appends each
/// non-null row's result to the builder's value buffer; nulls stay null.
fn map_strings(
    function: &str,
    args: &[ColumnarValue],
    mut write: impl FnMut(&str, &mut StringBuilder),
) -> Result<ColumnarValue> {
    let rows = row_count(function, args)?;
    let [text] = take_function_args(function, args)?;
    let text = StrArg::new(function, text)?;
    let mut out = StringBuilder::with_capacity(rows, text.byte_hint(rows));
    for row in 0..rows {
        match text.get(row) {
            Some(value) => {
                write(value, &mut out);
                // Closes the row whose bytes `write` put in the value buffer.
                out.append_value("");
            }
            None => out.append_null(),
        }
    }
    let result: ArrayRef = Arc::new(out.finish());
    Ok(ColumnarValue::Array(result))
}

fn row_count(function: &str, args: &[ColumnarValue]) -> Result<usize> {
    let mut rows = None;
    for arg in args {
        if let ColumnarValue::Array(array) = arg {
            match rows {
                None => rows = Some(array.len()),
                Some(n) if n != array.len() => {
                    return exec_err!(
                        "{function}: arguments have different lengths ({n} and {})",
                        array.len()
                    );
                }
                Some(_) => {}
            }
        }
    }
    Ok(rows.unwrap_or(1))
}

/// A string argument read row by row, whatever its Arrow string encoding;
/// a scalar answers the same value for every row.
#[derive(Debug, Clone, Copy)]
enum StrArg<'a> {
    Scalar(Option<&'a str>),
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl<'a> StrArg<'a> {
    fn new(function: &str, value: &'a ColumnarValue) -> Result<Self> {
        let arg = match value {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s),
            ) => StrArg::Scalar(s.as_deref()),
            ColumnarValue::Scalar(ScalarValue::Null) => StrArg::Scalar(None),
            ColumnarValue::Array(array) => {
                let arg = match array.data_type() {
                    DataType::Utf8 => array.as_string_opt::<i32>().map(StrArg::Utf8),
                    DataType::LargeUtf8 => array.as_string_opt::<i64>().map(StrArg::LargeUtf8),
                    DataType::Utf8View => array.as_string_view_opt().map(StrArg::Utf8View),
                    _ => None,
                };
                match arg {
                    Some(arg) => arg,
                    None => {
                        return exec_err!(
                            "{function} expects string arguments, got {}",
                            array.data_type()
                        );
                    }
                }
            }
            ColumnarValue::Scalar(other) => {
                return exec_err!(
                    "{function} expects string arguments, got {}",
                    other.data_type()
                );
            }
        };
        Ok(arg)
    }

    /// The value at `row`, `None` when null. `row` must be below the
    /// [`row_count`] of the arguments this came from.
    #[inline]
    fn get(&self, row: usize) -> Option<&'a str> {
        match *self {
            StrArg::Scalar(value) => value,
            StrArg::Utf8(array) => array.is_valid(row).then(|| array.value(row)),
            StrArg::LargeUtf8(array) => array.is_valid(row).then(|| array.value(row)),
            StrArg::Utf8View(array) => array.is_valid(row).then(|| array.value(row)),
        }
    }

    /// Total bytes of the strings, a capacity hint for output builders.
    fn byte_hint(&self, rows: usize) -> usize {
        match *self {
            StrArg::Scalar(value) => value.map_or(0, str::len).saturating_mul(rows),
            StrArg::Utf8(array) => array.values().len(),
            StrArg::LargeUtf8(array) => array.values().len(),
            StrArg::Utf8View(array) => array.len().saturating_mul(8),
        }
    }
}

#[cfg(test)]
mod test_support {
    //! Runs SQL through a real session with the UDFs registered.

    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    use datafusion::common::Result;
    use datafusion::prelude::SessionContext;

    /// The first column of `sql`'s answer, one string per row, nulls as `NULL`.
    pub(super) async fn column(sql: &str) -> Result<Vec<String>> {
        let ctx = SessionContext::new();
        for udf in super::all() {
            ctx.register_udf(udf);
        }
        let batches = ctx.sql(sql).await?.collect().await?;
        let options = FormatOptions::default().with_null("NULL");
        let mut out = Vec::new();
        for batch in &batches {
            let formatter = ArrayFormatter::try_new(batch.column(0).as_ref(), &options)?;
            for row in 0..batch.num_rows() {
                out.push(formatter.value(row).to_string());
            }
        }
        Ok(out)
    }

    /// The single value of a one-row, one-column query.
    pub(super) async fn value(sql: &str) -> String {
        let rows = column(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        rows.into_iter().next().unwrap_or_default()
    }

    /// The error message of a query that must fail.
    pub(super) async fn error(sql: &str) -> String {
        match column(sql).await {
            Ok(rows) => panic!("{sql} should fail, got {rows:?}"),
            Err(e) => e.to_string(),
        }
    }
}
