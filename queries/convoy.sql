-- name: convoy
-- purpose: Vehicles travelling with a target plate: read at the same camera
--   within a short gap of it, at several distinct cameras.
-- param: plate plate          The target plate
-- param: from timestamp       Window start (UTC)
-- param: to timestamp         Window end (UTC)
-- param: max_gap_s int=120    Most seconds between the two reads at one camera
-- param: min_cameras int=3    Seen together at at least this many cameras
-- tables: reads
WITH target AS (
    SELECT camera_id, ts
    FROM reads
    WHERE plate = $plate AND ts BETWEEN $from AND $to
)
SELECT o.plate,
       count(DISTINCT o.camera_id) AS cameras,
       count(*) AS co_reads,
       min(o.ts) AS first_together,
       max(o.ts) AS last_together
FROM target t
JOIN reads o
  ON o.camera_id = t.camera_id
 AND abs(arrow_cast(o.ts, 'Int64') - arrow_cast(t.ts, 'Int64')) <= $max_gap_s * 1000000
WHERE o.ts BETWEEN $from AND $to
  AND o.plate <> $plate
GROUP BY o.plate
HAVING count(DISTINCT o.camera_id) >= $min_cameras
ORDER BY cameras DESC, co_reads DESC, o.plate
