//! The store opens unchanged in another Arrow tool: pyarrow reads `reads/`
//! as a Hive-partitioned dataset and sees the same rows and schema.
//! `.ci/setup` installs pyarrow; without it this test fails and says so.

use std::process::Command;

use alpr::query::output::rows_as_text;
use alpr::query::{run_sql, session};

use crate::common::small_store;

const SCRIPT: &str = r#"
import json, sys
import pyarrow.dataset as ds
import pyarrow.parquet as pq
root = sys.argv[1]
d = ds.dataset(root + "/reads", format="parquet", partitioning="hive")
t = d.to_table(columns=["read_id", "plate", "date"])
one = next(iter(d.get_fragments()))
meta = pq.ParquetFile(one.path).metadata
kv = {k.decode(): v.decode() for k, v in (meta.metadata or {}).items()}
col = meta.schema.names.index("plate")
rg = meta.row_group(0).column(col)
print(json.dumps({
    "rows": t.num_rows,
    "dates": sorted(set(t.column("date").to_pylist())),
    "plate_count_7": sum(1 for p in t.column("plate").to_pylist() if p.startswith("7")),
    "schema_version": kv.get("alpr.schema_version"),
    "has_date_in_file": "date" in meta.schema.names,
    "bloom": rg.bloom_filter_offset is not None if hasattr(rg, "bloom_filter_offset") else None,
}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyarrow_reads_the_store_as_a_hive_dataset() {
    let fixture = tokio::task::block_in_place(small_store);
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(fixture.store.root())
        .output()
        .expect("python3 is needed for the interoperability test");
    assert!(
        out.status.success(),
        "pyarrow could not read the store (install it with `pip install pyarrow`, as .ci/setup does):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let ctx = session(&fixture.store).await.unwrap();
    let ours = rows_as_text(
        &run_sql(
            &ctx,
            "SELECT count(*), count(DISTINCT date), sum(CASE WHEN plate LIKE '7%' THEN 1 ELSE 0 END) FROM reads",
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(got["rows"].to_string(), ours[0][0]);
    assert_eq!(
        got["dates"].as_array().unwrap().len().to_string(),
        ours[0][1]
    );
    assert_eq!(got["plate_count_7"].to_string(), ours[0][2]);
    assert_eq!(got["schema_version"], "2");
    assert_eq!(got["has_date_in_file"], false);
}
