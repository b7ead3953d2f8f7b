//! Users and logging in: Argon2id password hashes, training records,
//! disabled accounts, and the one door every command goes through,
//! [`authenticate`], which audits each refusal.
//!
//! Password checks take the same time whether or not the user exists (an
//! unknown user is checked against a dummy hash) and compare hashes in
//! constant time (the `password-hash` crate's comparison).

use std::fmt;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

use super::access::{Action, Role};
use super::catalog::Catalog;
use super::log::{self, NewEntry, Outcome};
use crate::error::{Error, Result};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// A user name and password as typed. Debug never shows the password.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub name: String,
    pub organisation: String,
    pub role: Role,
}

impl Principal {
    /// An audit entry by this user with no purpose.
    pub fn entry(&self, action: Action, outcome: Outcome, detail: serde_json::Value) -> NewEntry {
        NewEntry {
            user: self.name.clone(),
            organisation: self.organisation.clone(),
            role: self.role.as_str().to_string(),
            action: action.as_str().to_string(),
            outcome,
            purpose: None,
            case_number: None,
            detail,
            rows: None,
        }
    }
}

/// A user as listed (no hash).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserInfo {
    pub name: String,
    pub organisation: String,
    pub role: String,
    pub trained_on: Option<String>,
    pub training_expires: Option<String>,
    pub disabled: bool,
}

/// A new user's details.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub organisation: String,
    pub role: Role,
    pub trained_on: Option<NaiveDate>,
    pub training_expires: Option<NaiveDate>,
}

/// Checks a new password against the policy; the error never echoes it.
pub fn check_password_policy(user: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::bad_input(format!(
            "the password is too short: at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.eq_ignore_ascii_case(user) {
        return Err(Error::bad_input("the password may not be the user name"));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::bad_input(format!("cannot hash the password: {e}")))
}

/// A hash no password matches, checked for unknown users so that a wrong
/// user name costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no user has this password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "bad user name '{name}': 1-64 letters, digits, '.', '-', '_' or '@'"
        )))
    }
}

/// Adds a user inside `tx` (the caller audits).
pub fn add_in(
    tx: &rusqlite::Connection,
    user: &NewUser,
    password: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    validate_name(&user.name)?;
    check_password_policy(&user.name, password)?;
    let hash = hash_password(password)?;
    let exists: bool = tx
        .query_row("SELECT 1 FROM users WHERE name = ?1", [&user.name], |_| {
            Ok(())
        })
        .optional()
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?
        .is_some();
    if exists {
        return Err(Error::bad_input(format!(
            "user '{}' already exists",
            user.name
        )));
    }
    tx.execute(
        "INSERT INTO users (name, organisation, role, password_hash, trained_on,
         training_expires, disabled, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)",
        params![
            user.name,
            user.organisation,
            user.role.as_str(),
            hash,
            user.trained_on.map(|d| d.to_string()),
            user.training_expires.map(|d| d.to_string()),
            now.to_rfc3339(),
            by
        ],
    )
    .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    Ok(())
}

/// Sets a user's password inside `tx`.
pub fn set_password_in(tx: &rusqlite::Connection, name: &str, password: &str) -> Result<()> {
    check_password_policy(name, password)?;
    let hash = hash_password(password)?;
    let n = tx
        .execute(
            "UPDATE users SET password_hash = ?1 WHERE name = ?2",
            params![hash, name],
        )
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    require_one(n, name)
}

/// Disables (or re-enables) a user inside `tx`.
pub fn set_disabled_in(tx: &rusqlite::Connection, name: &str, disabled: bool) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE users SET disabled = ?1 WHERE name = ?2",
            params![disabled, name],
        )
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    require_one(n, name)
}

/// Records a user's training inside `tx`.
pub fn set_training_in(
    tx: &rusqlite::Connection,
    name: &str,
    on: NaiveDate,
    expires: NaiveDate,
) -> Result<()> {
    if expires <= on {
        return Err(Error::bad_input(
            "training must expire after the day it was taken",
        ));
    }
    let n = tx
        .execute(
            "UPDATE users SET trained_on = ?1, training_expires = ?2 WHERE name = ?3",
            params![on.to_string(), expires.to_string(), name],
        )
        .map_err(|e| Error::bad_input(format!("catalog: {e}")))?;
    require_one(n, name)
}

fn require_one(changed: usize, name: &str) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::bad_input(format!("no user '{name}'")))
    }
}

/// Creates the catalog of `store` with its first users, in one audited
/// transaction recorded as done by the first of them (the administrator
/// setting the store up).
pub fn initialise(store: &crate::store::Store, first: &[(NewUser, &str)]) -> Result<Catalog> {
    let Some((by, _)) = first.first() else {
        return Err(Error::bad_input("a catalog starts with at least one user"));
    };
    let catalog = Catalog::create(store)?;
    let now = Utc::now();
    let added: Vec<serde_json::Value> = first
        .iter()
        .map(|(u, _)| serde_json::json!({ "user": u.name, "role": u.role.as_str() }))
        .collect();
    log::commit(&catalog, |tx| {
        for (user, password) in first {
            add_in(tx, user, password, &by.name, now)?;
        }
        let entry = log::append_in(
            tx,
            NewEntry {
                user: by.name.clone(),
                organisation: by.organisation.clone(),
                role: by.role.as_str().into(),
                action: Action::ManageUsers.as_str().into(),
                outcome: Outcome::Ok,
                purpose: None,
                case_number: None,
                detail: serde_json::json!({ "init": true, "added": added }),
                rows: None,
            },
            now,
        )?;
        Ok(((), entry))
    })?;
    Ok(catalog)
}

/// Every user, by name.
pub fn list(catalog: &Catalog) -> Result<Vec<UserInfo>> {
    catalog.read(|c| {
        let mut stmt = c
            .prepare(
                "SELECT name, organisation, role, trained_on, training_expires, disabled
                 FROM users ORDER BY name",
            )
            .map_err(|e| catalog.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(UserInfo {
                    name: r.get(0)?,
                    organisation: r.get(1)?,
                    role: r.get(2)?,
                    trained_on: r.get(3)?,
                    training_expires: r.get(4)?,
                    disabled: r.get(5)?,
                })
            })
            .map_err(|e| catalog.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| catalog.err(e))
    })
}

struct Row {
    organisation: String,
    role: String,
    hash: String,
    expires: Option<String>,
    disabled: bool,
}

/// Logs `creds` in for `action` at `now`. Every refusal is written to the
/// audit log (never the password) and returned as [`Error::Refused`]; a
/// wrong user name and a wrong password get the same message.
pub fn authenticate(
    catalog: &Catalog,
    creds: &Credentials,
    action: Action,
    now: DateTime<Utc>,
) -> Result<Principal> {
    let row: Option<Row> = catalog.read(|c| {
        c.query_row(
            "SELECT organisation, role, password_hash, training_expires, disabled
             FROM users WHERE name = ?1",
            [&creds.user],
            |r| {
                Ok(Row {
                    organisation: r.get(0)?,
                    role: r.get(1)?,
                    hash: r.get(2)?,
                    expires: r.get(3)?,
                    disabled: r.get(4)?,
                })
            },
        )
        .optional()
        .map_err(|e| catalog.err(e))
    })?;
    // Always run one Argon2 verification, whether or not the user exists.
    let hash = row.as_ref().map_or(dummy_hash(), |r| r.hash.as_str());
    let password_ok = password_matches(&creds.password, hash) && row.is_some();
    let refuse = |organisation: &str, role: &str, reason: String| -> Error {
        let entry = NewEntry {
            user: creds.user.clone(),
            organisation: organisation.to_string(),
            role: role.to_string(),
            action: action.as_str().to_string(),
            outcome: Outcome::Refused,
            purpose: None,
            case_number: None,
            detail: serde_json::json!({ "reason": reason }),
            rows: None,
        };
        match log::record(catalog, entry, now) {
            Ok(_) => Error::Refused(reason),
            Err(e) => e,
        }
    };
    let Some(row) = row.filter(|_| password_ok) else {
        return Err(refuse("", "", "wrong user name or password".into()));
    };
    let role = Role::parse(&row.role).ok_or_else(|| Error::BadData {
        path: catalog.path().to_path_buf(),
        message: format!("user '{}' has unknown role '{}'", creds.user, row.role),
    })?;
    if row.disabled {
        return Err(refuse(
            &row.organisation,
            &row.role,
            format!("user '{}' is disabled", creds.user),
        ));
    }
    let today = now.date_naive();
    let trained = row
        .expires
        .as_deref()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .is_some_and(|d| d >= today);
    if !trained {
        let why = match &row.expires {
            Some(d) => format!("training of user '{}' expired on {d}", creds.user),
            None => format!("user '{}' has no training on record", creds.user),
        };
        return Err(refuse(
            &row.organisation,
            &row.role,
            format!("{why}; an administrator records training with `alpr users train`"),
        ));
    }
    if !role.may(action) {
        return Err(refuse(
            &row.organisation,
            &row.role,
            format!(
                "role {role} may not {} (allowed: {})",
                action.as_str(),
                Role::allowed_for(action).join(", ")
            ),
        ));
    }
    Ok(Principal {
        name: creds.user.clone(),
        organisation: row.organisation,
        role,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::Store;

    pub(crate) const PW: &str = "correct horse battery";

    /// A store with a catalog and one trained user of each role, named
    /// after the role.
    pub(crate) fn setup() -> (tempfile::TempDir, Store, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let cat = Catalog::create(&store).unwrap();
        let today = Utc::now().date_naive();
        cat.transaction(|tx| {
            for role in [
                Role::Analyst,
                Role::Supervisor,
                Role::Administrator,
                Role::Auditor,
            ] {
                let u = NewUser {
                    name: role.as_str().into(),
                    organisation: "Sheriff".into(),
                    role,
                    trained_on: Some(today),
                    training_expires: Some(today + chrono::Days::new(365)),
                };
                add_in(tx, &u, PW, "test", Utc::now())?;
            }
            Ok(())
        })
        .unwrap();
        (dir, store, cat)
    }

    fn creds(user: &str, pw: &str) -> Credentials {
        Credentials {
            user: user.into(),
            password: pw.into(),
        }
    }

    fn refused(cat: &Catalog, user: &str, pw: &str, action: Action) -> String {
        match authenticate(cat, &creds(user, pw), action, Utc::now()) {
            Err(Error::Refused(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_right_password_logs_in() {
        let (_d, _s, cat) = setup();
        let p = authenticate(&cat, &creds("analyst", PW), Action::Query, Utc::now()).unwrap();
        assert_eq!(
            (p.role, p.organisation.as_str()),
            (Role::Analyst, "Sheriff")
        );
    }

    #[test]
    fn every_refusal_is_audited_without_the_password() {
        let (_d, _s, cat) = setup();
        let wrong = "not the password at all";
        assert_eq!(
            refused(&cat, "analyst", wrong, Action::Query),
            "wrong user name or password"
        );
        assert_eq!(
            refused(&cat, "nobody", wrong, Action::Query),
            "wrong user name or password"
        );
        let m = refused(&cat, "auditor", PW, Action::Query);
        assert!(m.contains("role auditor may not query"), "{m}");
        cat.transaction(|tx| set_disabled_in(tx, "supervisor", true))
            .unwrap();
        assert!(refused(&cat, "supervisor", PW, Action::Query).contains("disabled"));
        let past = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        cat.transaction(|tx| set_training_in(tx, "analyst", past, past + chrono::Days::new(365)))
            .unwrap();
        let m = refused(&cat, "analyst", PW, Action::Query);
        assert!(m.contains("expired on 2020-12-31"), "{m}");

        let entries = log::entries(&cat, None, None).unwrap();
        assert_eq!(entries.len(), 5);
        assert!(entries.iter().all(|e| e.outcome == "refused"));
        let bytes = std::fs::read(cat.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(wrong) && !text.contains(PW));
        for e in entries {
            assert!(!e.detail.contains(wrong) && !e.detail.contains(PW));
        }
    }

    #[test]
    fn password_policy_and_changes() {
        let (_d, _s, cat) = setup();
        let e = cat
            .transaction(|tx| set_password_in(tx, "analyst", "short"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("too short") && !e.contains("short\""), "{e}");
        let new = "a much longer passphrase";
        cat.transaction(|tx| set_password_in(tx, "analyst", new))
            .unwrap();
        refused(&cat, "analyst", PW, Action::Query);
        authenticate(&cat, &creds("analyst", new), Action::Query, Utc::now()).unwrap();
        assert!(
            cat.transaction(|tx| set_password_in(tx, "ghost", new))
                .is_err()
        );
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let s = format!("{:?}", creds("a", PW));
        assert!(!s.contains(PW) && s.contains("redacted"));
    }

    #[test]
    fn bad_names_and_duplicates_are_refused() {
        let (_d, _s, cat) = setup();
        let u = |name: &str| NewUser {
            name: name.into(),
            organisation: "x".into(),
            role: Role::Analyst,
            trained_on: None,
            training_expires: None,
        };
        for bad in ["", "a b", "x'; DROP TABLE users; --"] {
            assert!(
                cat.transaction(|tx| add_in(tx, &u(bad), PW, "t", Utc::now()))
                    .is_err()
            );
        }
        let e = cat
            .transaction(|tx| add_in(tx, &u("analyst"), PW, "t", Utc::now()))
            .unwrap_err();
        assert!(e.to_string().contains("already exists"));
    }
}
