//! `haversine_m(lat1, lon1, lat2, lon2)`: great-circle distance in metres
//! between two points given in degrees, on a sphere of the Earth's mean
//! radius. Owns the formula ([`haversine_m`], reused by plain Rust callers)
//! and its SQL face; any numeric argument is cast to Float64, a null gives null.
//!
//! ```sql
//! SELECT round(haversine_m(51.5074, -0.1278, 48.8566, 2.3522) / 1000);
//! -- 344.0  (London to Paris, km)
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::types::{NativeType, logical_float64};
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignatureClass,
    Volatility,
};

/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres between two points in degrees.
///
/// ```
/// use alpr::query::udf::haversine::haversine_m;
/// let d = haversine_m(0.0, 0.0, 0.0, 1.0); // one degree along the equator
/// assert!((d - 111_195.08).abs() < 0.01);
/// ```
#[inline]
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (lat2 - lat1).to_radians() / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let a = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    // Rounding can push `a` a hair past 1 for antipodes; asin would give NaN.
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// The `haversine_m` UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HaversineFunc {
    signature: Signature,
}

impl Default for HaversineFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl HaversineFunc {
    pub fn new() -> Self {
        let float = Coercion::new_implicit(
            TypeSignatureClass::Native(logical_float64()),
            vec![TypeSignatureClass::Numeric],
            NativeType::Float64,
        );
        Self {
            signature: Signature::coercible(vec![float; 4], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for HaversineFunc {
    fn name(&self) -> &str {
        "haversine_m"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // Scalars (a fixed reference point) are broadcast: the trigonometry
        // dominates, not reading an 8 KiB array.
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [lat1, lon1, lat2, lon2] = take_function_args(self.name(), &arrays)?;
        let (lat1, lon1, lat2, lon2) = (
            float64(lat1)?,
            float64(lon1)?,
            float64(lat2)?,
            float64(lon2)?,
        );
        let values: ScalarBuffer<f64> = (0..lat1.len())
            .map(|i| haversine_m(lat1.value(i), lon1.value(i), lat2.value(i), lon2.value(i)))
            .collect();
        let nulls =
            NullBuffer::union_many([lat1.nulls(), lon1.nulls(), lat2.nulls(), lon2.nulls()]);
        let result: ArrayRef = Arc::new(Float64Array::try_new(values, nulls)?);
        Ok(ColumnarValue::Array(result))
    }
}

fn float64(array: &ArrayRef) -> Result<&Float64Array> {
    match array.as_primitive_opt::<Float64Type>() {
        Some(array) => Ok(array),
        None => exec_err!(
            "haversine_m expects Float64 arguments, got {}",
            array.data_type()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{column, value};
    use super::*;

    #[test]
    fn plain_function_known_distances() {
        assert_eq!(haversine_m(10.0, 20.0, 10.0, 20.0), 0.0);
        let equator_degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        assert!((haversine_m(0.0, 0.0, 0.0, 1.0) - equator_degree).abs() < 1e-6);
        assert!((haversine_m(0.0, 0.0, 1.0, 0.0) - equator_degree).abs() < 1e-6);
        let half_circumference = EARTH_RADIUS_M * std::f64::consts::PI;
        assert!((haversine_m(0.0, 0.0, 0.0, 180.0) - half_circumference).abs() < 1e-3);
        assert!((haversine_m(90.0, 0.0, -90.0, 0.0) - half_circumference).abs() < 1e-3);
        // London to Paris is about 344 km.
        let london_paris = haversine_m(51.5074, -0.1278, 48.8566, 2.3522);
        assert!((london_paris - 343_560.0).abs() < 1_000.0, "{london_paris}");
        assert_eq!(
            haversine_m(1.0, 2.0, 3.0, 4.0),
            haversine_m(3.0, 4.0, 1.0, 2.0)
        );
    }

    #[tokio::test]
    async fn sql_scalar_call() {
        let km = value("SELECT round(haversine_m(51.5074, -0.1278, 48.8566, 2.3522) / 1000)").await;
        assert_eq!(km, "344.0");
        assert_eq!(
            value("SELECT arrow_typeof(haversine_m(0, 0, 0, 1))").await,
            "Float64"
        );
    }

    #[tokio::test]
    async fn sql_integer_and_decimal_arguments_are_coerced() {
        let metres = value("SELECT round(haversine_m(0, 0, CAST(0 AS INT), 1.0))").await;
        assert_eq!(metres, "111195.0");
        let metres = value(
            "SELECT round(haversine_m(CAST(0 AS DECIMAL(5,2)), 0, 0, arrow_cast(1, 'Float32')))",
        )
        .await;
        assert_eq!(metres, "111195.0");
    }

    #[tokio::test]
    async fn sql_nulls_give_null() {
        assert_eq!(value("SELECT haversine_m(NULL, 0, 0, 1)").await, "NULL");
        let rows = column(
            "SELECT round(haversine_m(lat, lon, 0.0, 0.0)) \
             FROM (VALUES (0.0, 1.0), (NULL, 1.0), (0.0, NULL), (1.0, 0.0)) AS t(lat, lon)",
        )
        .await
        .unwrap();
        assert_eq!(rows, ["111195.0", "NULL", "NULL", "111195.0"]);
    }
}
