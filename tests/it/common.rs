//! Shared fixtures: a small generated store, built once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use alpr::store::Store;
use alpr::synth::{Synth, SynthConfig};

/// The config of the small store every SQL test runs on.
pub fn small_config() -> SynthConfig {
    SynthConfig {
        seed: 7,
        reads: 20_000,
        days: 7,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        cameras: 40,
    }
}

/// Password of every user the tests create.
pub const PASSWORD: &str = "integration test password";

/// Adds one trained user per role to `store`'s catalog (created if
/// missing), named `it-<role>`.
pub fn add_users(store: &Store) {
    use alpr::audit::access::Role;
    use alpr::audit::catalog::Catalog;
    use alpr::audit::users::{NewUser, add_in};
    let catalog = if Catalog::exists(store) {
        Catalog::open(store).unwrap()
    } else {
        Catalog::create(store).unwrap()
    };
    let today = chrono::Utc::now().date_naive();
    catalog
        .transaction(|tx| {
            for role in [
                Role::Analyst,
                Role::Supervisor,
                Role::Administrator,
                Role::Auditor,
            ] {
                let user = NewUser {
                    name: format!("it-{}", role.as_str()),
                    organisation: "Test County Sheriff".into(),
                    role,
                    trained_on: Some(today),
                    training_expires: today.checked_add_days(chrono::Days::new(30)),
                };
                add_in(tx, &user, PASSWORD, "test", chrono::Utc::now())?;
            }
            Ok(())
        })
        .unwrap();
}

/// `alpr` logged in as `user` (through the environment, as scripts do).
pub fn alpr_as(user: &str) -> std::process::Command {
    let mut c = std::process::Command::new(alpr_bin());
    c.env("ALPR_USER", user).env("ALPR_PASSWORD", PASSWORD);
    c
}

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub store: Store,
}

/// The small store, generated on first use into a temporary directory
/// removed when the test binary exits normally.
pub fn small_store() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let synth = Synth::new(small_config()).unwrap();
        let store = Store::create(dir.path().join("store")).unwrap();
        alpr::synth::write_store(&synth, &store, |_| {}).unwrap();
        add_users(&store);
        Fixture { _dir: dir, store }
    })
}

/// Path of the `alpr` binary built for these tests.
pub fn alpr_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_alpr"))
}

/// Every `*.parquet` file under `dir`, relative, sorted.
/// `sql`'s rows over `store`, as text, via the library.
pub fn rows(store: &Store, sql: &str) -> Vec<Vec<String>> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ctx = alpr::query::session(store).await.unwrap();
        let batches = alpr::query::run_sql(&ctx, sql).await.unwrap();
        alpr::query::output::rows_as_text(&batches).unwrap()
    })
}

/// The first column of `sql`'s rows over `store`, as text.
pub fn first_column(store: &Store, sql: &str) -> Vec<String> {
    rows(store, sql).into_iter().map(|r| r[0].clone()).collect()
}

pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A JPEG whose frame header claims `width x height` (the pixels stay 8x8).
pub fn lying_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut bytes)
        .encode_image(&image::RgbImage::new(8, 8))
        .unwrap();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}
