//! Accountability through the binary (issue 6): every door refuses a wrong
//! login and audits it, roles limit commands, searches need a purpose,
//! tampering is reported, retention keeps held reads, releases need an
//! approved request, hot-list hits wait for a person.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alpr::audit::catalog::Catalog;
use alpr::audit::log;
use alpr::store::Store;
use alpr::synth::{Synth, SynthConfig};

use crate::common::{PASSWORD, add_users, alpr_as, alpr_bin, first_column};

/// A store of reads from more than a year ago (2025), with users.
struct Old {
    dir: tempfile::TempDir,
    store: Store,
}

impl Old {
    fn new() -> Old {
        let dir = tempfile::tempdir().unwrap();
        let synth = Synth::new(SynthConfig {
            seed: 11,
            reads: 3_000,
            days: 4,
            start: chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            cameras: 12,
        })
        .unwrap();
        let store = Store::create(dir.path().join("store")).unwrap();
        alpr::synth::write_store(&synth, &store, |_| {}).unwrap();
        add_users(&store);
        Old { dir, store }
    }

    fn root(&self) -> String {
        self.store.root().display().to_string()
    }

    /// `alpr CMD... --store STORE ARGS...` as `user`, in the fixture's
    /// folder (so output paths may be relative to it).
    fn run(&self, user: &str, cmd: &[&str], args: &[&str]) -> Output {
        alpr_as(user)
            .current_dir(self.dir.path())
            .args(cmd)
            .args(["--store", &self.root()])
            .args(args)
            .output()
            .unwrap()
    }

    fn entries(&self) -> Vec<log::Entry> {
        log::entries(&Catalog::open(&self.store).unwrap(), None, None).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_refused(o: &Output, why: &str) {
    assert_eq!(o.status.code(), Some(4), "{}", text(o));
    assert!(text(o).contains(why), "expected '{why}' in: {}", text(o));
}

const SEARCH: [&str; 4] = ["--purpose", "investigation", "--case", "IT-1"];

#[test]
fn every_door_refuses_a_wrong_password_and_audits_it() {
    let s = Old::new();
    let doors: [&[&str]; 10] = [
        &[
            "query",
            "SELECT 1",
            "--purpose",
            "investigation",
            "--case",
            "X",
        ],
        &["hits", "list"],
        &["release", "list"],
        &["audit", "verify"],
        &["audit", "report"],
        &["retention", "run", "--dry-run"],
        &["hold", "list"],
        &["users", "list"],
        &["users", "train", "it-analyst", "--on", "2026-01-01"],
        &["hotlist", "import", "x.csv", "--list", "stolen"],
    ];
    let wrong = "not-the-password-123";
    for door in doors {
        let o = Command::new(alpr_bin())
            .args(&door[..2])
            .args(["--store", &s.root(), "--user", "it-administrator"])
            .args(&door[2..])
            .env("ALPR_PASSWORD", wrong)
            .output()
            .unwrap();
        assert_refused(&o, "wrong user name or password");
        assert!(!text(&o).contains(wrong), "password echoed: {}", text(&o));
    }
    let entries = s.entries();
    assert_eq!(entries.len(), doors.len());
    assert!(entries.iter().all(|e| e.outcome == "refused"));
    let catalog = std::fs::read(Catalog::path_in(&s.store)).unwrap();
    assert!(!String::from_utf8_lossy(&catalog).contains(wrong));
    assert!(!String::from_utf8_lossy(&catalog).contains(PASSWORD));

    // No password at all, and no terminal to ask on: a clear error.
    let o = Command::new(alpr_bin())
        .args([
            "hold",
            "list",
            "--store",
            &s.root(),
            "--user",
            "it-administrator",
        ])
        .env_remove("ALPR_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no password"), "{}", text(&o));
}

#[test]
fn roles_limit_commands_and_training_gates_login() {
    let s = Old::new();
    let o = s.run(
        "it-auditor",
        &["query"],
        &[&SEARCH[..], &["SELECT 1"]].concat(),
    );
    assert_refused(&o, "role auditor may not query");
    let o = s.run(
        "it-administrator",
        &["query"],
        &[&SEARCH[..], &["SELECT 1"]].concat(),
    );
    assert_refused(&o, "role administrator may not query");
    let o = s.run("it-analyst", &["users", "list"], &[]);
    assert_refused(&o, "may not users");
    let o = s.run(
        "it-analyst",
        &["release", "approve"],
        &["1", "--note", "ok"],
    );
    assert_refused(&o, "may not release.decide");
    let o = s.run("it-supervisor", &["retention", "run"], &["--dry-run"]);
    assert_refused(&o, "may not retention");

    let o = s.run(
        "it-administrator",
        &["users", "train"],
        &["it-analyst", "--on", "2024-01-01"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-analyst",
        &["query"],
        &[&SEARCH[..], &["SELECT 1"]].concat(),
    );
    assert_refused(&o, "training of user 'it-analyst' expired on 2024-12-31");
    let o = s.run(
        "it-administrator",
        &["users", "disable"],
        &["it-supervisor"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run("it-supervisor", &["hits", "list"], &[]);
    assert_refused(&o, "is disabled");
}

#[test]
fn a_search_needs_a_purpose_and_is_recorded_with_what_it_touched() {
    let s = Old::new();
    let sql = "SELECT read_id FROM reads WHERE plate = '7ABC123' OR plate LIKE '8BD%'";
    let o = s.run("it-analyst", &["query"], &[sql]);
    assert_refused(&o, "needs --purpose");
    let o = s.run("it-analyst", &["query"], &["--purpose", "warrant", sql]);
    assert_refused(&o, "needs --case");
    let o = s.run(
        "it-analyst",
        &["query"],
        &["--purpose", "warrant", "--case", "2026-CR-0042", sql],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Ad-hoc SQL reads; it never writes files or changes tables.
    let out = s.path("stolen.csv");
    let copy = format!("COPY (SELECT * FROM reads) TO '{}'", out.display());
    let o = s.run(
        "it-analyst",
        &["query"],
        &[&SEARCH[..], &[copy.as_str()]].concat(),
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(!out.exists());

    let entries = s.entries();
    let ok: Vec<_> = entries.iter().filter(|e| e.outcome == "ok").collect();
    assert_eq!(ok.len(), 1);
    let e = ok[0];
    assert_eq!(
        (
            e.user.as_str(),
            e.organisation.as_str(),
            e.purpose.as_deref(),
            e.case_number.as_deref()
        ),
        (
            "it-analyst",
            "Test County Sheriff",
            Some("warrant"),
            Some("2026-CR-0042")
        )
    );
    let d = e.detail_json();
    assert_eq!(d["request"]["sql"], sql);
    assert_eq!(
        d["touched"]["plates"],
        serde_json::json!(["7ABC123", "8BD%"])
    );
    assert!(e.rows.is_some());

    // The administrator reads plates in the log; the auditor reads counts.
    let o = s.run("it-administrator", &["audit", "log"], &[]);
    assert!(text(&o).contains("7ABC123"), "{}", text(&o));
    let o = s.run("it-auditor", &["audit", "log"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("7ABC123"), "{}", text(&o));
    assert!(text(&o).contains("2 plate(s), redacted"), "{}", text(&o));
    let o = s.run("it-auditor", &["audit", "report"], &[]);
    assert!(
        text(&o).contains("it-analyst") && text(&o).contains("refused"),
        "{}",
        text(&o)
    );
}

#[test]
fn audit_verify_reports_tampering() {
    let s = Old::new();
    s.run(
        "it-analyst",
        &["query"],
        &[&SEARCH[..], &["SELECT 1"]].concat(),
    );
    let o = s.run("it-auditor", &["audit", "verify"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("intact"));
    let raw = rusqlite::Connection::open(Catalog::path_in(&s.store)).unwrap();
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET case_number = 'NONE' WHERE seq = 1;",
    )
    .unwrap();
    let o = s.run("it-auditor", &["audit", "verify"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("TAMPERED: entry 1"), "{}", text(&o));
}

fn package_ids(dir: &Path) -> Vec<String> {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m["read_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Read ids of the reads of one plate, via the library.
fn reads_of(store: &Store, plate: &str) -> Vec<String> {
    first_column(
        store,
        &format!("SELECT read_id FROM reads WHERE plate = '{plate}' ORDER BY read_id"),
    )
}

/// Reads whose plate is not `plate` but which hold it as an alternate at
/// least `min` likely (by position, not as the alerts find them).
fn reads_with_alternate(store: &Store, plate: &str, min: f32) -> Vec<String> {
    let any: Vec<String> = (1..=alpr::ingest::passes::MAX_ALTERNATES)
        .map(|i| {
            format!(
                "(alternates[{i}]['plate'] = '{plate}' \
                 AND alternates[{i}]['confidence'] >= {min})"
            )
        })
        .collect();
    first_column(
        store,
        &format!(
            "SELECT read_id FROM reads WHERE plate <> '{plate}' AND ({}) ORDER BY read_id",
            any.join(" OR ")
        ),
    )
}

/// The plate the most reads misread: for a misread, the synthetic reader's
/// runner-up is the true plate, which its right reads spell too.
fn most_misread_plate(store: &Store) -> String {
    first_column(
        store,
        "SELECT a.p FROM (SELECT alternates[1]['plate'] AS p FROM reads) a \
         JOIN (SELECT DISTINCT plate FROM reads) b ON a.p = b.plate \
         GROUP BY a.p ORDER BY count(*) DESC, a.p LIMIT 1",
    )
    .remove(0)
}

/// `hotlist_hits`'s rows for list `stolen` over the whole fixture, with
/// alternates at least `min` likely: (match kind, read id), in its order.
fn saved_hotlist_hits(store: &Store, min: f32) -> Vec<(String, String)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ctx = alpr::query::session(store).await.unwrap();
        let params: Vec<(String, String)> = [
            ("from", "2025-03-01".to_string()),
            ("to", "2025-03-06".to_string()),
            ("list", "stolen".to_string()),
            ("alternate_min", min.to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into();
        let df = alpr::query::saved::find("hotlist_hits")
            .unwrap()
            .bind(&params)
            .unwrap()
            .plan(&ctx)
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        alpr::query::output::rows_as_text(&batches)
            .unwrap()
            .into_iter()
            .map(|r| (r[3].clone(), r[9].clone()))
            .collect()
    })
}

fn busiest_plate(store: &Store) -> String {
    first_column(
        store,
        "SELECT plate FROM reads GROUP BY plate ORDER BY count(*) DESC, plate LIMIT 1",
    )
    .remove(0)
}

#[test]
fn retention_exports_held_reads_to_evidence_then_drops_the_partitions() {
    let s = Old::new();
    let plate = busiest_plate(&s.store);
    let held = reads_of(&s.store, &plate);
    assert!(held.len() >= 2, "{plate}: {held:?}");
    let o = s.run(
        "it-administrator",
        &["hold", "add"],
        &[
            "--case",
            "2025-HOM-7",
            "--reason",
            "court order 12",
            "--plate",
            &plate,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-administrator",
        &["retention", "period"],
        &["--days", "90", "--reason", "test"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--confirm-shorter"));

    let o = s.run("it-administrator", &["retention", "run"], &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("4 expired partition(s)"), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("{} held read(s)", held.len())),
        "{}",
        text(&o)
    );
    assert_eq!(
        s.store.partitions().unwrap().len(),
        4,
        "a dry run drops nothing"
    );

    // A relative, not yet existing evidence folder: made under the
    // working directory.
    let evidence = s.path("held/evidence");
    let o = s.run(
        "it-administrator",
        &["retention", "run"],
        &["--evidence", "held/evidence"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.store.partitions().unwrap().is_empty());
    let packages: Vec<PathBuf> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(packages.len(), 1, "{packages:?}");
    let mut exported = package_ids(&packages[0]);
    exported.sort();
    assert_eq!(exported, held);
    assert!(
        alpr::audit::evidence::verify(&packages[0])
            .unwrap()
            .is_empty()
    );
    let custody = std::fs::read_to_string(packages[0].join("custody.json")).unwrap();
    assert!(custody.contains("2025-HOM-7") && custody.contains("it-administrator"));
    let last = s.entries().pop().unwrap();
    assert_eq!(last.action, "retention");
    assert_eq!(last.detail_json()["dropped"], 4);
}

#[test]
fn releases_need_an_approved_written_request_and_flag_federal_agencies() {
    let s = Old::new();
    let plate = busiest_plate(&s.store);
    let letter = s.path("request.pdf");
    std::fs::write(&letter, b"%PDF-1.4 written request from the FBI").unwrap();
    let request = |agency_type: &str| {
        s.run(
            "it-analyst",
            &["release", "request"],
            &[
                "--agency",
                "FBI Los Angeles",
                "--agency-type",
                agency_type,
                "--requester",
                "SA Smith",
                "--purpose",
                "kidnapping investigation",
                "--case",
                "FBI-123",
                "--plate",
                &plate,
                "--window",
                "2025-03-01,2025-03-10",
                "--document",
                letter.to_str().unwrap(),
            ],
        )
    };
    let o = request("federal");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("FLAGGED"));
    // A relative, not yet existing output folder: made under the working
    // directory.
    let out = s.path("exports/out");
    let out_arg = "exports/out";
    let o = s.run(
        "it-supervisor",
        &["release", "export"],
        &["1", "--out", out_arg],
    );
    assert_refused(&o, "only an approved request");
    let o = s.run(
        "it-supervisor",
        &["release", "approve"],
        &["1", "--note", "ok"],
    );
    assert_refused(&o, "needs --override");
    let o = s.run(
        "it-supervisor",
        &["release", "approve"],
        &[
            "1",
            "--note",
            "ok",
            "--override",
            "exigent: child abduction, DA approved",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-supervisor",
        &["release", "export"],
        &["1", "--out", out_arg],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut ids = package_ids(&out.join("release-1"));
    ids.sort();
    assert_eq!(ids, reads_of(&s.store, &plate));
    let o = s.run(
        "it-supervisor",
        &["release", "export"],
        &["1", "--out", out_arg],
    );
    assert_refused(&o, "release 1 is exported");

    let o = request("local");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-supervisor",
        &["release", "deny"],
        &["2", "--note", "no case"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-supervisor",
        &["release", "export"],
        &["2", "--out", out_arg],
    );
    assert_refused(&o, "release 2 is denied");
    let kept: Vec<_> = std::fs::read_dir(s.store.root().join("releases"))
        .unwrap()
        .collect();
    assert_eq!(kept.len(), 1, "the written request is on file once");
    let overrides = s
        .entries()
        .into_iter()
        .filter(|e| e.detail.contains("exigent: child abduction"))
        .count();
    assert_eq!(overrides, 1);
}

#[test]
fn a_hot_list_import_finds_past_reads_and_a_person_disposes_each_hit() {
    let s = Old::new();
    let plate = most_misread_plate(&s.store);
    // Reads of the plate, and misreads whose alternates hold it likely
    // enough (`alerts::ALTERNATE_MIN`): each is a hit a person checks.
    let min = alpr::audit::alerts::ALTERNATE_MIN;
    let (right, misread) = (
        reads_of(&s.store, &plate),
        reads_with_alternate(&s.store, &plate, min),
    );
    assert!(
        !right.is_empty() && !misread.is_empty(),
        "{plate}: {right:?} {misread:?}"
    );
    let n = right.len() + misread.len();
    let csv = s.path("stolen.csv");
    std::fs::write(
        &csv,
        format!(
            "plate,reason,source,vehicle,expires\n{plate},stolen vehicle,NCIC,blue Civic,\n\
             ZZZ0000,warrant,Case 1,,2030-01-01\n"
        ),
    )
    .unwrap();
    let csv_arg = csv.to_str().unwrap();
    let o = s.run(
        "it-analyst",
        &["hotlist", "import"],
        &[csv_arg, "--list", "stolen"],
    );
    assert_refused(&o, "may not hotlist.import");
    let o = s.run(
        "it-supervisor",
        &["hotlist", "import"],
        &[csv_arg, "--list", "stolen"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("{n} new alert(s)")),
        "{}",
        text(&o)
    );
    // Importing again finds nothing new.
    let o = s.run(
        "it-supervisor",
        &["hotlist", "import"],
        &[csv_arg, "--list", "stolen"],
    );
    assert!(text(&o).contains("0 new alert(s)"), "{}", text(&o));
    // The saved query finds the same reads, each as what it matched.
    let mut found = saved_hotlist_hits(&s.store, min);
    found.sort();
    let mut want: Vec<(String, String)> = misread
        .iter()
        .map(|id| ("alternate".to_string(), id.clone()))
        .chain(right.iter().map(|id| ("exact".to_string(), id.clone())))
        .collect();
    want.sort();
    assert_eq!(found, want);

    let o = s.run("it-analyst", &["hits", "list"], &["--status", "unverified"]);
    assert_eq!(text(&o).matches("unverified").count(), n, "{}", text(&o));
    let alternate_rows = text(&o)
        .lines()
        .filter(|l| l.contains(&format!(" {plate} ")) && l.contains(" alternate "))
        .count();
    assert_eq!(alternate_rows, misread.len(), "{}", text(&o));
    let o = s.run(
        "it-analyst",
        &["hits", "dispose"],
        &["1", "--as", "misread", "--note", ""],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = s.run(
        "it-analyst",
        &["hits", "dispose"],
        &[
            "1",
            "--as",
            "wrong-state",
            "--note",
            "Arizona plate, same characters",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = s.run(
        "it-analyst",
        &["hits", "list"],
        &["--status", "wrong-state"],
    );
    assert_eq!(text(&o).matches("wrong-state").count(), 1, "{}", text(&o));
    let last = s.entries().pop().unwrap();
    assert_eq!(last.action, "hits.list");
    assert!(
        s.entries()
            .iter()
            .any(|e| e.action == "hits.dispose" && e.detail.contains("Arizona plate"))
    );
}

#[test]
fn admin_init_creates_the_first_administrator_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let init_with = |user: &str, password: &str| {
        Command::new(alpr_bin())
            .args([
                "admin",
                "init",
                "--store",
                root.to_str().unwrap(),
                "--user",
                user,
            ])
            .args(["--organisation", "SO", "--trained-on", "2026-11-01"])
            .env("ALPR_NEW_PASSWORD", password)
            .output()
            .unwrap()
    };
    let init = |user: &str| init_with(user, PASSWORD);
    // A refused password leaves no store behind.
    let o = init_with("chief", "short");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("too short"), "{}", text(&o));
    assert!(!root.exists(), "a store was made for a refused init");
    let o = init("chief");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = init("chief2");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already has users"));
    let add_ann = |password: &str| {
        alpr_as("chief")
            .args([
                "users",
                "add",
                "ann",
                "--role",
                "analyst",
                "--organisation",
                "SO",
            ])
            .args(["--store", root.to_str().unwrap()])
            .env("ALPR_NEW_PASSWORD", password)
            .output()
            .unwrap()
    };
    let o = add_ann("short");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("too short") && !text(&o).contains("\"short\""));
    // A user without training cannot log in until it is recorded.
    let o = add_ann("a long enough password");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = Command::new(alpr_bin())
        .args([
            "hits",
            "list",
            "--store",
            root.to_str().unwrap(),
            "--user",
            "ann",
        ])
        .env("ALPR_PASSWORD", "a long enough password")
        .output()
        .unwrap();
    assert_refused(&o, "no training on record");
}
