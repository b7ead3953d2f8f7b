//! `plate_distance(a, b)`: confusion-weighted Levenshtein distance between two
//! normalised plates ([`crate::plate::distance()`]), as Float64: insertions,
//! deletions and substitutions cost 1.0, a substitution between OCR-confusable
//! characters costs [`crate::plate::CONFUSION_COST`]. This file owns only the
//! SQL face; the costs live in `crate::plate`.
//!
//! ```sql
//! SELECT plate_distance('8BC1234', 'bbc-1234');
//! -- 0.25
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{StrArg, row_count, string_coercion};
use crate::plate::{distance_normalized, normalize_into};

/// The `plate_distance` UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PlateDistanceFunc {
    signature: Signature,
}

impl Default for PlateDistanceFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PlateDistanceFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![string_coercion(), string_coercion()],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for PlateDistanceFunc {
    fn name(&self) -> &str {
        "plate_distance"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = row_count(self.name(), &args.args)?;
        let [a, b] = take_function_args(self.name(), &args.args)?;
        let (a, b) = (StrArg::new(self.name(), a)?, StrArg::new(self.name(), b)?);

        // Normalising a scalar once keeps the usual "distance to one plate"
        // query down to the DP per row.
        let mut a_buf = String::new();
        let mut b_buf = String::new();
        let a_fixed = normalize_scalar(a, &mut a_buf);
        let b_fixed = normalize_scalar(b, &mut b_buf);

        let mut out = Float64Builder::with_capacity(rows);
        for row in 0..rows {
            match (a.get(row), b.get(row)) {
                (Some(x), Some(y)) => {
                    if !a_fixed {
                        normalize_into(x, &mut a_buf);
                    }
                    if !b_fixed {
                        normalize_into(y, &mut b_buf);
                    }
                    out.append_value(distance_normalized(&a_buf, &b_buf));
                }
                _ => out.append_null(),
            }
        }
        let result: ArrayRef = Arc::new(out.finish());
        Ok(ColumnarValue::Array(result))
    }
}

/// Normalises a non-null scalar into `buf` once; true when it did.
fn normalize_scalar(arg: StrArg<'_>, buf: &mut String) -> bool {
    match arg {
        StrArg::Scalar(Some(value)) => {
            normalize_into(value, buf);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column, value};

    #[tokio::test]
    async fn sql_scalar_call() {
        assert_eq!(
            value("SELECT plate_distance('8BC1234', 'bbc-1234')").await,
            "0.25"
        );
        assert_eq!(
            value("SELECT plate_distance('ABC1234', 'ABC123')").await,
            "1.0"
        );
        assert_eq!(
            value("SELECT plate_distance('7ABC123', '7ABC123')").await,
            "0.0"
        );
        assert_eq!(
            value("SELECT arrow_typeof(plate_distance('a', 'b'))").await,
            "Float64"
        );
    }

    #[tokio::test]
    async fn sql_every_string_encoding() {
        for encoding in ["Utf8", "LargeUtf8", "Utf8View"] {
            let sql =
                format!("SELECT plate_distance(arrow_cast('8BC1234', '{encoding}'), 'BBC1234')");
            assert_eq!(value(&sql).await, "0.25", "{encoding}");
        }
    }

    #[tokio::test]
    async fn sql_columns_scalars_and_nulls() {
        let rows = column(
            "SELECT plate_distance(arrow_cast(a, 'Utf8View'), b) \
             FROM (VALUES ('8BC1234', 'BBC1234'), ('ABC1234', 'XBC1234'), \
                          (NULL, 'ABC'), ('ABC', NULL), ('', 'AB')) AS t(a, b)",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["0.25", "1.0", "NULL", "NULL", "2.0"]);

        let rows = column(
            "SELECT plate_distance(a, 'bbc 1234') \
             FROM (VALUES ('8BC1234'), (NULL), ('BBC123')) AS t(a)",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["0.25", "NULL", "1.0"]);

        assert_eq!(value("SELECT plate_distance(NULL, 'ABC')").await, "NULL");
    }
}
