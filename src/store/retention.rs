//! Retention on disk: which date partitions have expired on a given day, and
//! dropping one whole partition so that readers see all of it or none.
//!
//! ```text
//! plan(store, today, period) -> expired partitions (cost: one directory listing)
//! drop_partitions: reads/date=D  --rename-->  .trash/date=D.<pid>  (each D), fsync both, remove
//! ```
//!
//! Deciding what must be exported first (legal holds) is the caller's job
//! ([`crate::audit::policy`]); this module only knows dates and directories.
//! The clock is injected: `today` is a parameter, never read here.

use std::path::PathBuf;

use chrono::{Days, NaiveDate};

use super::Store;
use super::durable::sync_dir;
use crate::error::{Error, Result};

/// The retention period agencies must keep at the least (one year).
pub const MIN_PERIOD_DAYS: u32 = 365;

/// Which partitions a retention run drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub today: NaiveDate,
    pub period_days: u32,
    /// Partitions dated before this day have expired.
    pub cutoff: NaiveDate,
    pub expired: Vec<NaiveDate>,
    pub kept: usize,
}

/// The plan for `today` with a period of `period_days`: a partition of day
/// D has expired when D + period < today, i.e. every read in it is older
/// than the period.
pub fn plan(store: &Store, today: NaiveDate, period_days: u32) -> Result<Plan> {
    let cutoff = today
        .checked_sub_days(Days::new(u64::from(period_days)))
        .ok_or_else(|| {
            Error::bad_input(format!("retention period {period_days} days is too long"))
        })?;
    let partitions = store.partitions()?;
    let (expired, kept): (Vec<_>, Vec<_>) = partitions.into_iter().partition(|d| *d < cutoff);
    Ok(Plan {
        today,
        period_days,
        cutoff,
        expired,
        kept: kept.len(),
    })
}

fn trash_dir(store: &Store) -> PathBuf {
    store.root().join(".trash")
}

/// Drops the partitions of `dates`: each one renamed out of `reads/` (one
/// atomic step per partition, so readers see a partition whole or not at
/// all), one fsync of both directories, then the renamed directories are
/// deleted. A crash before the fsync may bring partitions back (a rerun
/// drops them again); after it leaves only trash, which [`empty_trash`]
/// removes.
pub fn drop_partitions(store: &Store, dates: &[NaiveDate]) -> Result<()> {
    let trash = trash_dir(store);
    std::fs::create_dir_all(&trash).map_err(|e| Error::io(&trash, e))?;
    let mut moved = Vec::with_capacity(dates.len());
    for date in dates {
        let dir = store.partition_dir(*date);
        if !dir.exists() {
            continue;
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = trash.join(format!("{name}.{}", std::process::id()));
        std::fs::rename(&dir, &target).map_err(|e| Error::io(&dir, e))?;
        moved.push(target);
    }
    sync_dir(&store.reads_dir())?;
    sync_dir(&trash)?;
    for target in moved {
        std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    }
    Ok(())
}

/// Removes whatever a crashed drop left in the trash.
pub fn empty_trash(store: &Store) -> Result<()> {
    let trash = trash_dir(store);
    if trash.exists() {
        std::fs::remove_dir_all(&trash).map_err(|e| Error::io(&trash, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn plan_splits_at_the_cutoff_and_drop_removes_whole_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        for day in ["2025-01-01", "2025-11-29", "2025-11-30", "2026-06-01"] {
            let p = store.partition_dir(d(day));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("part-x.parquet"), b"x").unwrap();
        }
        let plan = plan(&store, d("2026-11-30"), 365).unwrap();
        assert_eq!(plan.cutoff, d("2025-11-30"));
        assert_eq!(plan.expired, vec![d("2025-01-01"), d("2025-11-29")]);
        assert_eq!(plan.kept, 2);
        drop_partitions(&store, &plan.expired).unwrap();
        assert_eq!(
            store.partitions().unwrap(),
            vec![d("2025-11-30"), d("2026-06-01")]
        );
        assert_eq!(std::fs::read_dir(trash_dir(&store)).unwrap().count(), 0);
        drop_partitions(&store, &[d("2025-01-01")]).unwrap();
        empty_trash(&store).unwrap();
        assert!(!trash_dir(&store).exists());
    }
}
