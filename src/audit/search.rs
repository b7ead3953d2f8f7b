//! Purpose-bound searches: a query runs only with a purpose category and a
//! case number, and its audit entry (user, time, purpose, case, SQL, bound
//! parameters, tables, columns and plates touched, rows returned) commits
//! before a single row is shown. No audit entry, no data.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::dataframe::DataFrame;

use super::Access;
use super::access::{Action, Purpose};
use super::log::Outcome;
use crate::error::{Error, Result};
use crate::query::elements;

/// Why a search is made.
#[derive(Debug, Clone)]
pub struct Reason {
    pub purpose: Purpose,
    pub case_number: String,
}

/// What the user asked for, as it will be recorded.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Request {
    /// The SQL text (the saved query's, or the user's).
    pub sql: String,
    /// The saved query's name, if one was used.
    pub saved: Option<String>,
    /// Bound parameters as typed.
    pub params: Vec<(String, String)>,
    /// Where rows go beyond the screen (a file), for spotting bulk exports.
    pub output: Option<String>,
}

/// Checks that a case number looks like one: printable, 1-64 characters.
pub fn validate_case_number(case: &str) -> std::result::Result<(), String> {
    let case = case.trim();
    if case.is_empty() {
        return Err("the case number is empty".into());
    }
    if case.chars().count() > 64
        || !case
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_/.#:".contains(c))
    {
        return Err(format!(
            "'{case}' is not a case number: 1-64 letters, digits, spaces and - _ / . # :"
        ));
    }
    Ok(())
}

/// The purpose and case of a search, or an audited refusal naming what is
/// missing.
pub fn require_reason(
    access: &Access,
    purpose: Option<Purpose>,
    case_number: Option<&str>,
    request: &Request,
) -> Result<Reason> {
    let problem = match (purpose, case_number) {
        (None, _) => Some("every search needs --purpose (a category) and --case".to_string()),
        (_, None) => Some("every search needs --case (a case or incident number)".to_string()),
        (Some(_), Some(c)) => validate_case_number(c).err(),
    };
    if let Some(reason) = problem {
        let mut entry = access.principal.entry(
            Action::Query,
            Outcome::Refused,
            serde_json::json!({ "reason": reason, "request": request }),
        );
        entry.purpose = purpose.map(|p| p.as_str().to_string());
        entry.case_number = case_number.map(str::to_string);
        access.record_entry(entry, chrono::Utc::now())?;
        return Err(Error::Refused(reason));
    }
    Ok(Reason {
        purpose: purpose.expect("checked above"),
        case_number: case_number.expect("checked above").trim().to_string(),
    })
}

/// Runs `df` for `reason`, records the search, then returns the rows.
pub async fn run(
    access: &Access,
    reason: &Reason,
    request: &Request,
    df: DataFrame,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema = df.schema().inner().clone();
    let touched = elements::of_plan(&df.clone().into_optimized_plan()?)?;
    let result = df.collect().await;
    let rows = result
        .as_ref()
        .map(|b| b.iter().map(|b| b.num_rows() as i64).sum::<i64>())
        .ok();
    let mut detail = serde_json::json!({ "request": request, "touched": touched });
    if let Err(e) = &result {
        detail["error"] = e.to_string().into();
    }
    let outcome = if result.is_ok() {
        Outcome::Ok
    } else {
        Outcome::Failed
    };
    let mut entry = access.principal.entry(Action::Query, outcome, detail);
    entry.purpose = Some(reason.purpose.as_str().to_string());
    entry.case_number = Some(reason.case_number.clone());
    entry.rows = rows;
    access.record_entry(entry, chrono::Utc::now())?;
    Ok((schema, result?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::log;
    use crate::audit::users::Credentials;
    use crate::audit::users::tests::{PW, setup};
    use crate::query::session;

    #[tokio::test]
    async fn a_search_is_refused_without_purpose_and_recorded_with_one() {
        let (_d, store, _cat) = setup();
        let creds = Credentials {
            user: "analyst".into(),
            password: PW.into(),
        };
        let access = Access::login(&store, &creds, Action::Query).unwrap();
        let request = Request {
            sql: "SELECT count(*) AS n FROM reads WHERE plate = '7ABC123'".into(),
            ..Request::default()
        };
        for (p, c) in [
            (None, Some("C-1")),
            (Some(Purpose::Investigation), None),
            (Some(Purpose::Investigation), Some("  ")),
            (Some(Purpose::Warrant), Some("x'; DROP TABLE audit_log; --")),
        ] {
            let e = require_reason(&access, p, c, &request).unwrap_err();
            assert!(matches!(e, Error::Refused(_)), "{e}");
        }
        let reason = require_reason(
            &access,
            Some(Purpose::Investigation),
            Some("2026-0042"),
            &request,
        )
        .unwrap();
        let ctx = session(&store).await.unwrap();
        let df = ctx.sql(&request.sql).await.unwrap();
        let (_, batches) = run(&access, &reason, &request, df).await.unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);

        let entries = log::entries(&access.catalog, None, None).unwrap();
        assert_eq!(entries.len(), 5);
        assert!(entries[..4].iter().all(|e| e.outcome == "refused"));
        let last = &entries[4];
        assert_eq!(
            (
                last.outcome.as_str(),
                last.purpose.as_deref(),
                last.case_number.as_deref(),
                last.rows
            ),
            ("ok", Some("investigation"), Some("2026-0042"), Some(1))
        );
        let d = last.detail_json();
        assert_eq!(d["touched"]["plates"], serde_json::json!(["7ABC123"]));
        assert_eq!(d["request"]["sql"], request.sql);
        assert!(log::verify(&access.catalog).unwrap().is_intact());
    }
}
