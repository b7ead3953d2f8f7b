-- name: partial_plate
-- purpose: Plates matching a partial plate from a witness, tolerant of OCR
--   confusions (0/O/D/Q, 1/I/T, 2/Z, 5/S, 8/B, 6/G), optionally near a place,
--   and optionally reads whose plate does not match but an alternate does
--   (counted under that alternate, its likeliest matching one, in
--   via_alternates; best_confidence is then the alternate's).
-- param: pattern pattern        Partial plate: * any run, ? one character (e.g. 7C6*, ?ABC12?)
-- param: from timestamp         Window start (UTC)
-- param: to timestamp           Window end (UTC)
-- param: max_subst int=1        OCR-confusion substitutions allowed per plate
-- param: lat float?             Centre of an optional area (degrees)
-- param: lon float?             Centre of an optional area (degrees)
-- param: radius_m float=2000    Radius of the optional area (metres)
-- param: alternate_min float?   Also match alternates at least this likely (e.g. 0.05)
-- tables: reads
WITH window_reads AS (
  SELECT read_id, camera_id, ts, plate, confidence, alternates,
         plate_match(plate, $pattern, $max_subst) AS hit
  FROM reads
  WHERE ts BETWEEN $from AND $to
    AND ($lat IS NULL OR haversine_m(lat, lon, $lat, $lon) <= $radius_m)
),
by_alternate AS (
  SELECT a.alt['plate'] AS matched,
         a.camera_id,
         a.ts,
         a.alt['confidence'] AS confidence,
         row_number() OVER (PARTITION BY a.read_id ORDER BY a.alt['confidence'] DESC, a.alt['plate']) AS rank
  FROM (SELECT read_id, camera_id, ts, hit, unnest(alternates) AS alt FROM window_reads) a
  WHERE $alternate_min IS NOT NULL
    AND a.alt['confidence'] >= $alternate_min
    AND plate_match(a.alt['plate'], $pattern, $max_subst)
    AND NOT a.hit
),
matches AS (
  SELECT plate AS matched, camera_id, ts, confidence, 0 AS via_alternate
  FROM window_reads
  WHERE hit
  UNION ALL
  SELECT matched, camera_id, ts, confidence, 1 AS via_alternate
  FROM by_alternate
  WHERE rank = 1
)
SELECT matched AS plate,
       count(*) AS reads,
       count(DISTINCT camera_id) AS cameras,
       min(ts) AS first_seen,
       max(ts) AS last_seen,
       round(max(confidence), 3) AS best_confidence,
       sum(via_alternate) AS via_alternates
FROM matches
GROUP BY matched
ORDER BY reads DESC, plate
