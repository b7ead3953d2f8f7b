//! `alpr demo`: the spine end to end. Generates a store with planted truths,
//! then runs each saved investigation with parameters an analyst would
//! type, and prints what it finds.

use std::process::ExitCode;

use super::{DemoArgs, SynthArgs};
use crate::query::output::{Format, write};
use crate::query::{saved, session};
use crate::store::Store;
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
    };
    let (synth, _) = tokio::task::block_in_place(|| super::synth::run(&synth_args))?;
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
            "Partial plate from a witness, tolerant of OCR confusions",
            "partial_plate",
            &[("pattern", &partial), ("from", from), ("to", to)],
        ),
        Step::new(
            "Hot-list hits, including OCR-confused reads",
            "hotlist_hits",
            &[("from", from), ("to", to), ("confusions", "true")],
        ),
    ];
    let store = Store::open(&args.store)?;
    let ctx = session(&store).await?;
    for step in steps {
        let shown: String = step
            .params
            .iter()
            .map(|(k, v)| format!(" --param '{k}={v}'"))
            .collect();
        println!(
            "\n== {}\n   alpr query --store {} --saved {}{shown}",
            step.title,
            store.root().display(),
            step.query
        );
        let df = saved::find(step.query)?
            .bind(&step.params)?
            .plan(&ctx)
            .await?
            .limit(0, Some(15))?;
        let schema = df.schema().inner().clone();
        write(schema, &df.collect().await?, Format::Table, None)?;
    }
    println!(
        "\nPlanted truths: {}",
        serde_json::to_string_pretty(truths)?
    );
    Ok(ExitCode::SUCCESS)
}
