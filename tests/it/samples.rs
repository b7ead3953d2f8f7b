//! The bundled samples stay true to the generator they describe.

use alpr::synth::{Synth, SynthConfig};

#[test]
fn stakeout_sites_sample_matches_the_demo_store() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data-samples/stakeout-sites.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let sample: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("lat"))
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    // The demo's generator; the read count does not move the incidents.
    let synth = Synth::new(SynthConfig {
        reads: 10_000,
        ..SynthConfig::default()
    })
    .unwrap();
    let planted: Vec<Vec<String>> = synth
        .truths()
        .incidents
        .iter()
        .map(|i| {
            vec![
                i.lat.to_string(),
                i.lon.to_string(),
                format!("{:.1}", i.radius_m),
                i.from.clone(),
                i.to.clone(),
            ]
        })
        .collect();
    assert_eq!(sample, planted);
}
