-- name: partial_plate
-- purpose: Plates matching a partial plate from a witness, tolerant of OCR
--   confusions (0/O/D/Q, 1/I/T, 2/Z, 5/S, 8/B, 6/G), optionally near a place.
-- param: pattern pattern      Partial plate: * any run, ? one character (e.g. 7C6*, ?ABC12?)
-- param: from timestamp       Window start (UTC)
-- param: to timestamp         Window end (UTC)
-- param: max_subst int=1      OCR-confusion substitutions allowed per plate
-- param: lat float?           Centre of an optional area (degrees)
-- param: lon float?           Centre of an optional area (degrees)
-- param: radius_m float=2000  Radius of the optional area (metres)
-- tables: reads
SELECT plate,
       count(*) AS reads,
       count(DISTINCT camera_id) AS cameras,
       min(ts) AS first_seen,
       max(ts) AS last_seen,
       round(max(confidence), 3) AS best_confidence
FROM reads
WHERE ts BETWEEN $from AND $to
  AND plate_match(plate, $pattern, $max_subst)
  AND ($lat IS NULL OR haversine_m(lat, lon, $lat, $lon) <= $radius_m)
GROUP BY plate
ORDER BY reads DESC, plate
