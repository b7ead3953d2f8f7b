//! `alpr demo`: the spine end to end. Generates a store with planted truths,
//! sets up its accountability (an administrator and an analyst with random
//! passwords, kept owner-only in `STORE/demo-credentials.txt`), then runs
//! each saved investigation as the analyst, for a purpose and a case
//! number, prints what it finds, and verifies the audit trail it left.

use std::process::ExitCode;

use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::Utc;

use super::{DemoArgs, SynthArgs};
use crate::audit::Access;
use crate::audit::access::{Action, Purpose, Role};
use crate::audit::catalog::Catalog;
use crate::audit::log;
use crate::audit::search::{self, Request};
use crate::audit::users::{self, Credentials, NewUser};
use crate::query::output::{Format, write};
use crate::query::{saved, session};
use crate::store::Store;
use crate::store::durable::write_atomic;
use crate::synth::SynthConfig;

/// One investigation of the demo: a title, a saved query, its parameters.
struct Step {
    title: &'static str,
    query: &'static str,
    params: Vec<(String, String)>,
}

impl Step {
    fn new(title: &'static str, query: &'static str, params: &[(&str, &str)]) -> Step {
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Step {
            title,
            query,
            params,
        }
    }
}

pub async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    // The generator's defaults, which data-samples/stakeout-sites.csv matches.
    let defaults = SynthConfig::default();
    let synth_args = SynthArgs {
        store: args.store.clone(),
        reads: args.reads,
        days: defaults.days,
        start: defaults.start,
        cameras: defaults.cameras,
        seed: defaults.seed,
        truths: None,
        user: None,
        password_file: None,
    };
    let synth = super::synth::generator(&synth_args)?;
    let (admin, analyst) = demo_users(&args.store)?;
    let store = Store::open(&args.store)?;
    let maintainer = Access::login(&store, &admin, Action::Maintain)?;
    let (synth, _) = tokio::task::block_in_place(|| {
        super::synth::generate(&synth_args, synth, &store, Some(&maintainer))
    })?;
    tokio::task::block_in_place(|| ingest_samples(&store, &admin, &args.samples))?;
    let truths = synth.truths();
    let first = truths
        .incidents
        .first()
        .ok_or_else(|| anyhow::anyhow!("the generator planted no incidents"))?;
    let sites: Vec<String> = truths
        .incidents
        .iter()
        .map(|i| format!("{},{},{},{},{}", i.lat, i.lon, i.radius_m, i.from, i.to))
        .collect();
    let (lat, lon) = (first.lat.to_string(), first.lon.to_string());
    let (sites, min_sites) = (sites.join(";"), truths.incidents.len().to_string());
    let partial = format!("{}*", truths.confused_plate.get(..4).unwrap_or("8BD0"));
    let (from, to) = ("2026-10-01", "2026-11-01");
    let steps = [
        Step::new(
            "Canvass 300 m around incident 1 during its window",
            "canvass",
            &[
                ("lat", &lat),
                ("lon", &lon),
                ("radius_m", "300"),
                ("from", &first.from),
                ("to", &first.to),
            ],
        ),
        Step::new(
            "Stakeout: plates near all incident sites",
            "stakeout",
            &[("sites", &sites), ("min_sites", &min_sites)],
        ),
        Step::new(
            "Who travels with the convoy leader",
            "convoy",
            &[("plate", &truths.convoy_leader), ("from", from), ("to", to)],
        ),
        Step::new(
            "Partial plate from a witness, with OCR confusions and likely alternates",
            "partial_plate",
            &[
                ("pattern", &partial),
                ("from", from),
                ("to", to),
                ("alternate_min", "0.05"),
            ],
        ),
        Step::new(
            "Hot-list hits, with OCR-confused reads and likely alternates",
            "hotlist_hits",
            &[
                ("from", from),
                ("to", to),
                ("confusions", "true"),
                ("alternate_min", "0.05"),
            ],
        ),
    ];
    let access = Access::login(&store, &analyst, Action::Query)?;
    let ctx = session(&store).await?;
    for step in steps {
        let shown: String = step
            .params
            .iter()
            .map(|(k, v)| format!(" --param '{k}={v}'"))
            .collect();
        println!(
            "\n== {}\n   alpr query --store {} --user {} --purpose investigation \
             --case {DEMO_CASE} --saved {}{shown}",
            step.title,
            store.root().display(),
            analyst.user,
            step.query
        );
        let query = saved::find(step.query)?;
        let request = Request {
            sql: query.sql.clone(),
            saved: Some(step.query.to_string()),
            params: step.params.clone(),
            output: None,
        };
        let reason = search::require_reason(
            &access,
            Some(Purpose::Investigation),
            Some(DEMO_CASE),
            &request,
        )?;
        let df = query
            .bind(&step.params)?
            .plan(&ctx)
            .await?
            .limit(0, Some(15))?;
        let (schema, batches) = search::run(&access, &reason, &request, df).await?;
        write(schema, &batches, Format::Table, None)?;
    }
    let verified = log::verify(&access.catalog)?;
    println!(
        "\nAudit trail: {} entries, {} (see `alpr audit report --store {} --user {}`; \
         passwords in {}).",
        verified.entries,
        if verified.is_intact() {
            "hash chain intact"
        } else {
            "TAMPERED"
        },
        store.root().display(),
        DEMO_ADMIN,
        store.root().join(CREDENTIALS).display()
    );
    println!(
        "\nPlanted truths: {}",
        serde_json::to_string_pretty(truths)?
    );
    Ok(ExitCode::SUCCESS)
}

const DEMO_CASE: &str = "DEMO-2026-0001";
const DEMO_ADMIN: &str = "demo-admin";
const DEMO_ANALYST: &str = "demo-analyst";
const CREDENTIALS: &str = "demo-credentials.txt";

/// The demo administrator's and analyst's credentials: made with the store's catalog on first
/// run (random passwords, written owner-only beside the catalog), read back
/// on later runs.
fn demo_users(root: &Path) -> anyhow::Result<(Credentials, Credentials)> {
    let store = Store::create(root)?;
    let file = store.root().join(CREDENTIALS);
    if Catalog::exists(&store) {
        let text = std::fs::read_to_string(&file).map_err(|e| {
            anyhow::anyhow!(
                "{} has users but no {CREDENTIALS} ({e}): use a new --store for the demo",
                store.root().display()
            )
        })?;
        let creds = |user: &str| -> anyhow::Result<Credentials> {
            let password = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{user} ")))
                .ok_or_else(|| anyhow::anyhow!("{}: no {user} line", file.display()))?;
            Ok(Credentials {
                user: user.into(),
                password: password.to_string(),
            })
        };
        return Ok((creds(DEMO_ADMIN)?, creds(DEMO_ANALYST)?));
    }
    let random = || {
        let mut bytes = [0u8; 12];
        OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    };
    let (admin_pw, analyst_pw) = (random(), random());
    // The file first: a crash must not leave users nobody can log in as.
    write_atomic(
        &file,
        format!("{DEMO_ADMIN} {admin_pw}\n{DEMO_ANALYST} {analyst_pw}\n").as_bytes(),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    let today = Utc::now().date_naive();
    let user = |name: &str, role| NewUser {
        name: name.into(),
        organisation: "Demo County Sheriff".into(),
        role,
        trained_on: Some(today),
        training_expires: today.checked_add_days(chrono::Days::new(365)),
    };
    users::initialise(
        &store,
        &[
            (user(DEMO_ADMIN, Role::Administrator), admin_pw.as_str()),
            (user(DEMO_ANALYST, Role::Analyst), analyst_pw.as_str()),
        ],
    )?;
    Ok((
        Credentials {
            user: DEMO_ADMIN.into(),
            password: admin_pw,
        },
        Credentials {
            user: DEMO_ANALYST.into(),
            password: analyst_pw,
        },
    ))
}

/// Imports the sample hot list and ingests the sample photos and footage,
/// printing what ingest found and the alerts waiting for a person.
fn ingest_samples(store: &Store, admin: &Credentials, samples: &Path) -> anyhow::Result<()> {
    use crate::ingest::context::{GpsTrack, Rules};
    let access = &Access::login(store, admin, Action::ImportHotlist)?;
    let hotlist = samples.join("hotlist.csv");
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let imported = rt.block_on(crate::audit::alerts::import_hotlist(
        access,
        store,
        &hotlist,
        "demo-stolen",
    ))?;
    println!(
        "\n== Hot list {}: {} entries, {} past reads flagged",
        hotlist.display(),
        imported.entries,
        imported.retro_hits
    );
    let inputs = samples.join("ingest");
    println!(
        "\n== Ingest {} (photos with sidecars, patrol footage with a GPS track)\n   alpr ingest {} \
         --store {} --user {DEMO_ADMIN} --camera-rule '*patrol*=UNIT-7' \
         --video-start 2026-10-02T18:00:00Z --gps-track {}",
        inputs.display(),
        inputs.display(),
        store.root().display(),
        samples.join("unit7-track.csv").display()
    );
    let config = crate::ingest::Config {
        inputs: vec![inputs],
        rules: Rules {
            camera_rules: vec![("*patrol*".into(), "UNIT-7".into())],
            video_start: "2026-10-02T18:00:00Z".parse().ok(),
            track: Some(GpsTrack::load(&samples.join("unit7-track.csv"))?),
            registry: crate::store::cameras::load(store)?,
            ..Rules::default()
        },
        fps: 5.0,
        reprocess: false,
        threads: None,
    };
    let reader = crate::recognize::PlateReader::new(
        crate::gpu::Gpu::new(crate::gpu::GpuMode::Auto)?,
        crate::ocr::Reader::embedded()?.with_views(crate::ocr::DEFAULT_VIEWS)?,
    )?;
    let ingester = Access::login(store, admin, Action::Ingest)?;
    let s = crate::ingest::run(&ingester, store, &config, &reader, &|_| {})?;
    println!(
        "   {} sources ({} already ingested), {} frames, {} reads, {} hot-list alerts, {} skipped",
        s.sources,
        s.already_done,
        s.frames,
        s.reads,
        s.alerts,
        s.skipped.len()
    );
    for (what, why) in &s.skipped {
        println!("   skipped {what}: {why}");
    }
    println!(
        "   (the plates drawn in the photos are listed in {})",
        samples.join("ingest-labels.csv").display()
    );
    Ok(())
}
