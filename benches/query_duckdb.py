#!/usr/bin/env python3
"""Times the queries of `alpr bench query` in DuckDB on the same store files.

Usage: benches/query_duckdb.py STORE [RUNS]   (pip install duckdb)

Parameters are chosen exactly as `alpr::query::bench::queries` chooses them
(mid-period partition, first camera by id, first plate by read id that day),
so the two engines answer the same questions on the same Parquet files.
Run both in one session and compare ratios, not absolute times.
"""
import os
import statistics
import sys
import time

import duckdb

store = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
reads = os.path.join(store, "reads")
days = sorted(d.split("=", 1)[1] for d in os.listdir(reads) if d.startswith("date="))
day = days[len(days) // 2]
con = duckdb.connect()
con.execute(
    f"CREATE VIEW reads AS SELECT * FROM read_parquet('{reads}/*/*.parquet', hive_partitioning = true)"
)
lat, lon = con.execute(
    f"SELECT lat, lon FROM read_parquet('{store}/cameras/cameras.parquet') ORDER BY camera_id LIMIT 1"
).fetchone()
(plate,) = con.execute(
    f"SELECT plate FROM reads WHERE date = '{day}' ORDER BY read_id LIMIT 1"
).fetchone()
hav = (
    f"2 * 6371008.8 * asin(sqrt(pow(sin(radians(lat - {lat}) / 2), 2) + "
    f"cos(radians({lat})) * cos(radians(lat)) * pow(sin(radians(lon - {lon}) / 2), 2)))"
)
queries = [
    ("canvass 500 m / 2 h",
     f"SELECT ts, camera_id, plate FROM reads WHERE ts BETWEEN '{day} 16:00:00+00' AND '{day} 18:00:00+00' "
     f"AND lat BETWEEN {lat} - 500 / 111320.0 AND {lat} + 500 / 111320.0 "
     f"AND lon BETWEEN {lon} - 500 / (111320.0 * cos(radians({lat}))) AND {lon} + 500 / (111320.0 * cos(radians({lat}))) "
     f"AND {hav} <= 500"),
    ("exact plate (all days)", f"SELECT ts, camera_id, lat, lon FROM reads WHERE plate = '{plate}'"),
    ("partial plate LIKE '%7C6%'", "SELECT plate, count(*) FROM reads WHERE plate LIKE '%7C6%' GROUP BY plate"),
    ("count per camera per day", "SELECT camera_id, date, count(*) AS n FROM reads GROUP BY camera_id, date"),
]
print(f"duckdb {duckdb.__version__}, store {store}, median of {runs} runs after a warm-up")
for name, sql in queries:
    rows = len(con.execute(sql).fetchall())
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append((time.perf_counter() - t) * 1e3)
    print(f"{name:<34} {statistics.median(times):>10.1f} {min(times):>10.1f} {rows:>8}")
