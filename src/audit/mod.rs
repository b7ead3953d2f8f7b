//! Accountability: who may use the system, for what, and the record of
//! everything they did (California Civil Code 1798.90.5 and following).
//!
//! ```text
//! command --Credentials--> Access::login (users::authenticate, refusals audited)
//!         --Principal-->   the command's work, then Access::record (hash-chained log)
//! ```
//!
//! Everything lives in the store's SQLite [`catalog`]: users, the [`log`],
//! legal [`holds`], [`releases`] to other agencies, hot-list [`alerts`] and
//! their dispositions, the retention policy. The partitions themselves are
//! dropped by [`crate::store::retention`], which this module feeds with holds.

pub mod access;
pub mod alerts;
pub mod catalog;
pub mod evidence;
pub mod holds;
pub mod log;
pub mod policy;
pub mod releases;
pub mod report;
pub mod search;
pub mod users;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::Store;
use access::Action;
use catalog::Catalog;
use log::{Entry, NewEntry, Outcome};
use users::{Credentials, Principal};

/// A logged-in user on an open catalog: what every command holds while it
/// works.
#[derive(Debug)]
pub struct Access {
    pub catalog: Catalog,
    pub principal: Principal,
}

impl Access {
    /// Opens the catalog of `store` and logs `creds` in for `action`.
    pub fn login(store: &Store, creds: &Credentials, action: Action) -> Result<Access> {
        let catalog = Catalog::open(store)?;
        let principal = users::authenticate(&catalog, creds, action, Utc::now())?;
        Ok(Access { catalog, principal })
    }

    /// Records `action` with `outcome` and `detail` now.
    pub fn record(
        &self,
        action: Action,
        outcome: Outcome,
        detail: serde_json::Value,
    ) -> Result<Entry> {
        self.record_entry(self.principal.entry(action, outcome, detail), Utc::now())
    }

    /// Records a prepared entry at `now`.
    pub fn record_entry(&self, entry: NewEntry, now: DateTime<Utc>) -> Result<Entry> {
        log::record(&self.catalog, entry, now)
    }

    /// Runs `change` and its audit entry in one transaction: both commit or
    /// neither does.
    pub fn change<T>(
        &self,
        action: Action,
        detail: serde_json::Value,
        change: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        log::commit(&self.catalog, |tx| {
            let out = change(tx)?;
            let entry = log::append_in(
                tx,
                self.principal.entry(action, Outcome::Ok, detail),
                Utc::now(),
            )?;
            Ok((out, entry))
        })
    }
}
