//! `plate_match(plate, pattern [, max_substitutions])`: whether a read matches
//! an investigator's partial plate ([`crate::plate::Pattern`]: `*` any run,
//! `?` one character, anchored at both ends), forgiving up to
//! `max_substitutions` OCR confusions (default
//! [`DEFAULT_MAX_SUBSTITUTIONS`]). This file owns the SQL face: argument
//! handling, parsing a constant pattern once per batch, and turning a bad
//! pattern into a query error that quotes it.
//!
//! ```sql
//! SELECT plate_match('8BC1234', 'BBC*');     -- true  (8 read for B: one confusion)
//! SELECT plate_match('8BC1234', 'BBC*', 0);  -- false
//! SELECT plate_match('8BC1234', '*');        -- error: plate pattern '*' has no
//!                                            --   letters or digits: it would match every plate
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, Int64Array};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::types::{NativeType, logical_int64};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    TypeSignatureClass, Volatility,
};

use super::{StrArg, row_count, string_coercion};
use crate::plate::{DEFAULT_MAX_SUBSTITUTIONS, Pattern, normalize_into};

const NAME: &str = "plate_match";

/// The `plate_match` UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PlateMatchFunc {
    signature: Signature,
}

impl Default for PlateMatchFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PlateMatchFunc {
    pub fn new() -> Self {
        let integer = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_int64()),
            vec![TypeSignatureClass::Integer],
            NativeType::Int64,
        );
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Coercible(vec![string_coercion(), string_coercion()]),
                    TypeSignature::Coercible(vec![string_coercion(), string_coercion(), integer]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for PlateMatchFunc {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (plates, patterns, budgets) = match args.args.as_slice() {
            [plate, pattern] => (plate, pattern, None),
            [plate, pattern, budget] => (plate, pattern, Some(budget)),
            other => return exec_err!("{NAME} takes 2 or 3 arguments, got {}", other.len()),
        };
        let rows = row_count(NAME, &args.args)?;
        let plates = StrArg::new(NAME, plates)?;
        let patterns = StrArg::new(NAME, patterns)?;
        let budgets = Budget::new(budgets)?;

        let mut out = BooleanBuilder::with_capacity(rows);
        let mut plate_buf = String::new();
        match patterns {
            StrArg::Scalar(None) => out.append_nulls(rows),
            // The usual case: one pattern for the whole column, parsed once.
            StrArg::Scalar(Some(text)) => {
                let pattern = parse(text)?;
                for row in 0..rows {
                    out.append_option(match (plates.get(row), budgets.get(row)?) {
                        (Some(plate), Some(budget)) => Some(
                            pattern.matches_normalized(normalized(plate, &mut plate_buf), budget),
                        ),
                        _ => None,
                    });
                }
            }
            // A pattern per row (a join with a watch list): reparse only when
            // the text changes, as sorted or repeated patterns often don't.
            patterns => {
                let mut last: Option<(&str, Pattern)> = None;
                for row in 0..rows {
                    let (Some(plate), Some(text), Some(budget)) =
                        (plates.get(row), patterns.get(row), budgets.get(row)?)
                    else {
                        out.append_null();
                        continue;
                    };
                    if last
                        .as_ref()
                        .is_none_or(|(last_text, _)| *last_text != text)
                    {
                        last = Some((text, parse(text)?));
                    }
                    if let Some((_, pattern)) = &last {
                        out.append_value(
                            pattern.matches_normalized(normalized(plate, &mut plate_buf), budget),
                        );
                    }
                }
            }
        }
        let result: ArrayRef = Arc::new(out.finish());
        Ok(ColumnarValue::Array(result))
    }
}

/// `plate` itself when already normalised (stored plates are), else its
/// normalised form in `buf`.
fn normalized<'a>(plate: &'a str, buf: &'a mut String) -> &'a str {
    if plate
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        plate
    } else {
        normalize_into(plate, buf);
        buf
    }
}

fn parse(text: &str) -> Result<Pattern> {
    Pattern::parse(text).or_else(|e| exec_err!("{NAME}: {e}"))
}

/// The substitution budget argument: absent (the default), one value, or a
/// value per row.
enum Budget<'a> {
    Scalar(Option<u32>),
    Array(&'a Int64Array),
}

impl<'a> Budget<'a> {
    fn new(value: Option<&'a ColumnarValue>) -> Result<Self> {
        Ok(match value {
            None => Budget::Scalar(Some(DEFAULT_MAX_SUBSTITUTIONS)),
            Some(ColumnarValue::Scalar(ScalarValue::Int64(v))) => match v {
                Some(v) => Budget::Scalar(Some(checked(*v)?)),
                None => Budget::Scalar(None),
            },
            Some(ColumnarValue::Scalar(ScalarValue::Null)) => Budget::Scalar(None),
            Some(ColumnarValue::Array(array)) => match array.as_primitive_opt::<Int64Type>() {
                Some(array) => Budget::Array(array),
                None => {
                    return exec_err!(
                        "{NAME}: max_substitutions must be an integer, got {}",
                        array.data_type()
                    );
                }
            },
            Some(ColumnarValue::Scalar(other)) => {
                return exec_err!(
                    "{NAME}: max_substitutions must be an integer, got {}",
                    other.data_type()
                );
            }
        })
    }

    #[inline]
    fn get(&self, row: usize) -> Result<Option<u32>> {
        match self {
            Budget::Scalar(budget) => Ok(*budget),
            Budget::Array(array) if array.is_null(row) => Ok(None),
            Budget::Array(array) => checked(array.value(row)).map(Some),
        }
    }
}

/// A budget as u32; negative is the user's mistake, huge just means "any".
fn checked(budget: i64) -> Result<u32> {
    if budget < 0 {
        return exec_err!("{NAME}: max_substitutions must be 0 or more, got {budget}");
    }
    Ok(u32::try_from(budget).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column, error, value};

    #[tokio::test]
    async fn sql_scalar_calls() {
        assert_eq!(value("SELECT plate_match('8BC1234', 'BBC*')").await, "true");
        assert_eq!(
            value("SELECT plate_match('8BC1234', 'BBC*', 0)").await,
            "false"
        );
        assert_eq!(
            value("SELECT plate_match('7abc-123', '7AB*')").await,
            "true"
        );
        assert_eq!(value("SELECT plate_match('7ABC123', '7AB')").await, "false");
        assert_eq!(
            value("SELECT plate_match('7ABC123', '7AB?123')").await,
            "true"
        );
        assert_eq!(value("SELECT plate_match('0000', 'OOOO')").await, "false");
        assert_eq!(value("SELECT plate_match('0000', 'OOOO', 4)").await, "true");
        assert_eq!(
            value("SELECT plate_match('0000', 'OOOO', CAST(4 AS TINYINT))").await,
            "true"
        );
        assert_eq!(
            value("SELECT arrow_typeof(plate_match('A', 'A'))").await,
            "Boolean"
        );
    }

    #[tokio::test]
    async fn sql_every_string_encoding() {
        for encoding in ["Utf8", "LargeUtf8", "Utf8View"] {
            let sql = format!(
                "SELECT plate_match(arrow_cast('7ABC123', '{encoding}'), \
                                    arrow_cast('7ab*', '{encoding}'))"
            );
            assert_eq!(value(&sql).await, "true", "{encoding}");
        }
    }

    #[tokio::test]
    async fn sql_plate_column_with_constant_pattern() {
        let rows = column(
            "SELECT plate_match(arrow_cast(p, 'Utf8View'), 'BBC*') \
             FROM (VALUES ('8BC1234'), ('BBC9'), (NULL), ('XBC1234'), ('BB')) AS t(p)",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["true", "true", "NULL", "false", "false"]);
    }

    #[tokio::test]
    async fn sql_pattern_and_budget_columns() {
        let rows = column(
            "SELECT plate_match(p, pat, budget) FROM (VALUES \
                ('8BC1234', 'BBC*', 2), ('8BC1234', 'BBC*', 0), ('8BC1234', 'BBC*', 1), \
                ('7ABC123', '7AB?123', 0), (NULL, 'X*', 0), ('ABC', NULL, 0), \
                ('ABC', 'ABC', NULL), ('ABC', '?BC', 0) \
             ) AS t(p, pat, budget)",
        )
        .await
        .unwrap();
        assert_eq!(
            rows,
            [
                "true", "false", "true", "true", "NULL", "NULL", "NULL", "true"
            ]
        );

        let rows = column(
            "SELECT plate_match('8BC1234', arrow_cast(pat, 'Utf8View')) \
             FROM (VALUES ('BBC*'), ('*1234'), ('X*')) AS t(pat)",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["true", "true", "false"]);
    }

    #[tokio::test]
    async fn sql_nulls_give_null() {
        assert_eq!(value("SELECT plate_match(NULL, 'ABC*')").await, "NULL");
        assert_eq!(value("SELECT plate_match('ABC', NULL)").await, "NULL");
        assert_eq!(
            value("SELECT plate_match('ABC', 'ABC', NULL)").await,
            "NULL"
        );
    }

    #[tokio::test]
    async fn sql_invalid_pattern_is_an_error_quoting_it() {
        let message = error("SELECT plate_match('8BC1234', '*')").await;
        assert!(
            message
                .contains("plate pattern '*' has no letters or digits: it would match every plate"),
            "{message}"
        );
        let message =
            error("SELECT plate_match(p, '7A#*') FROM (VALUES ('7ABC123'), ('X')) AS t(p)").await;
        assert!(
            message.contains("'7A#*'") && message.contains("'#'"),
            "{message}"
        );
        let message = error(
            "SELECT plate_match(p, pat) FROM (VALUES ('7ABC123', '7*'), ('X', '??')) AS t(p, pat)",
        )
        .await;
        assert!(message.contains("plate pattern '??'"), "{message}");
        let message = error("SELECT plate_match('ABC', '')").await;
        assert!(message.contains("plate pattern '' is empty"), "{message}");
    }

    #[tokio::test]
    async fn sql_negative_budget_is_an_error() {
        let message = error("SELECT plate_match('ABC', 'ABC', -1)").await;
        assert!(
            message.contains("max_substitutions must be 0 or more, got -1"),
            "{message}"
        );
        let message =
            error("SELECT plate_match('ABC', 'ABC', b) FROM (VALUES (1), (-3)) AS t(b)").await;
        assert!(message.contains("got -3"), "{message}");
    }
}
