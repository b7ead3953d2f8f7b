//! `plate_norm(text)`: plate text normalised by [`crate::plate::normalize`]
//! (ASCII letters upper-cased, digits kept, everything else dropped), as
//! Utf8. This file owns only the SQL face; the rule lives in `crate::plate`.
//!
//! ```sql
//! SELECT plate_norm('7-abc 123');
//! -- 7ABC123
//! ```

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{map_strings, string_coercion};
use std::fmt::Write as _;

use crate::plate::normalize_into;

/// The `plate_norm` UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PlateNormFunc {
    signature: Signature,
}

impl Default for PlateNormFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PlateNormFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![string_coercion()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PlateNormFunc {
    fn name(&self) -> &str {
        "plate_norm"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut buf = String::new();
        map_strings(self.name(), &args.args, |value, out| {
            normalize_into(value, &mut buf);
            out.write_str(&buf)
                .expect("writing to a StringBuilder cannot fail");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column, value};

    #[tokio::test]
    async fn sql_scalar_call() {
        assert_eq!(value("SELECT plate_norm('7-abc 123')").await, "7ABC123");
        assert_eq!(value("SELECT plate_norm(' .- ')").await, "");
        assert_eq!(value("SELECT arrow_typeof(plate_norm('x'))").await, "Utf8");
    }

    #[tokio::test]
    async fn sql_every_string_encoding() {
        for encoding in ["Utf8", "LargeUtf8", "Utf8View"] {
            let sql = format!("SELECT plate_norm(arrow_cast('7abc-123', '{encoding}'))");
            assert_eq!(value(&sql).await, "7ABC123", "{encoding}");
            let sql = format!(
                "SELECT plate_norm(arrow_cast(p, '{encoding}')) \
                 FROM (VALUES ('ab 1'), (NULL), ('zz-9')) AS t(p)"
            );
            assert_eq!(
                column(&sql).await.unwrap(),
                ["AB1", "NULL", "ZZ9"],
                "{encoding}"
            );
        }
    }

    #[tokio::test]
    async fn sql_null_gives_null() {
        assert_eq!(value("SELECT plate_norm(NULL)").await, "NULL");
    }
}
