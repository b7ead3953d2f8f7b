//! `alpr demo`: the spine end to end. Generates a store with planted truths,
//! then runs each saved investigation with parameters an analyst would
//! type, and prints what it finds.

use std::process::ExitCode;

use serde_json::Value;

use super::{DemoArgs, SynthArgs};
use crate::query::output::{Format, write};
use crate::query::{saved, session};
use crate::store::Store;

pub async fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let synth_args = SynthArgs {
        store: args.store.clone(),
        reads: args.reads,
        days: 30,
        start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).expect("valid date"),
        cameras: 300,
        seed: 42,
        truths: None,
    };
    let (synth, _) = tokio::task::block_in_place(|| super::synth::run(&synth_args))?;
    let truths = serde_json::to_value(synth.truths())?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let incidents = truths["incidents"].as_array().cloned().unwrap_or_default();
    let first = incidents
        .first()
        .ok_or_else(|| anyhow::anyhow!("the generator planted no incidents"))?;
    let sites: Vec<String> = incidents
        .iter()
        .map(|i| {
            format!(
                "{},{},{},{},{}",
                text(&i["lat"]),
                text(&i["lon"]),
                text(&i["radius_m"]),
                text(&i["from"]),
                text(&i["to"])
            )
        })
        .collect();
    let (from, to) = ("2026-10-01", "2026-10-31");
    let confused = text(&truths["confused_plate"]);
    let partial = format!("{}*", &confused[..confused.len().min(4)]);
    let steps: Vec<(&str, &str, Vec<(String, String)>)> = vec![
        (
            "Canvass 300 m around incident 1 during its window",
            "canvass",
            kv(&[
                ("lat", text(&first["lat"])),
                ("lon", text(&first["lon"])),
                ("radius_m", "300".into()),
                ("from", text(&first["from"])),
                ("to", text(&first["to"])),
            ]),
        ),
        (
            "Stakeout: plates near all incident sites",
            "stakeout",
            kv(&[
                ("sites", sites.join(";")),
                ("min_sites", incidents.len().to_string()),
            ]),
        ),
        (
            "Who travels with the convoy leader",
            "convoy",
            kv(&[
                ("plate", text(&truths["convoy_leader"])),
                ("from", from.into()),
                ("to", to.into()),
            ]),
        ),
        (
            "Partial plate from a witness, tolerant of OCR confusions",
            "partial_plate",
            kv(&[
                ("pattern", partial),
                ("from", from.into()),
                ("to", to.into()),
            ]),
        ),
        (
            "Hot-list hits, including OCR-confused reads",
            "hotlist_hits",
            kv(&[
                ("from", from.into()),
                ("to", to.into()),
                ("confusions", "true".into()),
            ]),
        ),
    ];
    let store = Store::open(&args.store)?;
    let ctx = session(&store).await?;
    for (title, name, params) in steps {
        println!(
            "\n== {title}\n   alpr query --store {} --saved {name}{}",
            store.root().display(),
            params
                .iter()
                .map(|(k, v)| format!(" --param '{k}={v}'"))
                .collect::<String>()
        );
        let df = saved::find(name)?
            .bind(&params)?
            .plan(&ctx)
            .await?
            .limit(0, Some(15))?;
        let schema = df.schema().inner().clone();
        write(schema, &df.collect().await?, Format::Table, None)?;
    }
    println!(
        "\nPlanted truths: {}",
        serde_json::to_string_pretty(&truths)?
    );
    Ok(ExitCode::SUCCESS)
}

fn kv(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
