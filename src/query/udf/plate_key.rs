//! `plate_confusion_key(plate)`: the plate normalised, then each character
//! replaced by its OCR confusion class ([`crate::plate::confusion_key`]), as
//! Utf8. Reads that differ only by confusions (`8BC1234`, `BBC1234`) share a
//! key, so hot-list matching can be an equi-join on it. This file owns only
//! the SQL face; the classes live in `crate::plate`.
//!
//! ```sql
//! SELECT plate_confusion_key('BBC-I234');
//! -- 88C1234
//! ```

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{map_strings, string_coercion};
use crate::plate::confusion_key_into;

/// The `plate_confusion_key` UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PlateConfusionKeyFunc {
    signature: Signature,
}

impl Default for PlateConfusionKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PlateConfusionKeyFunc {
    pub fn new() -> Self {
        Self {
            signature: Signature::coercible(vec![string_coercion()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PlateConfusionKeyFunc {
    fn name(&self) -> &str {
        "plate_confusion_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_strings(self.name(), &args.args, |value, out| {
            confusion_key_into(value, out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column, value};

    #[tokio::test]
    async fn sql_scalar_call() {
        assert_eq!(
            value("SELECT plate_confusion_key('BBC-I234')").await,
            "88C1234"
        );
        assert_eq!(
            value("SELECT plate_confusion_key('8bc 1234') = plate_confusion_key('BBCI234')").await,
            "true"
        );
        assert_eq!(
            value("SELECT arrow_typeof(plate_confusion_key('x'))").await,
            "Utf8"
        );
    }

    #[tokio::test]
    async fn sql_every_string_encoding() {
        for encoding in ["Utf8", "LargeUtf8", "Utf8View"] {
            let sql = format!("SELECT plate_confusion_key(arrow_cast('7abc-123', '{encoding}'))");
            assert_eq!(value(&sql).await, "7A8C123", "{encoding}");
            let sql = format!(
                "SELECT plate_confusion_key(arrow_cast(p, '{encoding}')) \
                 FROM (VALUES ('OQD'), (NULL), ('s-z'), ('')) AS t(p)"
            );
            assert_eq!(
                column(&sql).await.unwrap(),
                ["000", "NULL", "52", ""],
                "{encoding}"
            );
        }
    }

    #[tokio::test]
    async fn sql_null_gives_null() {
        assert_eq!(value("SELECT plate_confusion_key(NULL)").await, "NULL");
    }

    #[tokio::test]
    async fn sql_equi_join_on_the_key() {
        let rows = column(
            "SELECT r.plate FROM (VALUES ('8BC1234'), ('XYZ999'), ('BBCI234')) AS r(plate) \
             JOIN (VALUES ('BBC-1234')) AS h(plate) \
             ON plate_confusion_key(r.plate) = plate_confusion_key(h.plate) \
             ORDER BY r.plate",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["8BC1234", "BBCI234"]);
    }
}
