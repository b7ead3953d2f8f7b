-- name: frequency
-- purpose: Plates by number of reads at one camera or in an area during a
--   window: regulars, and vehicles loitering near a place.
-- param: from timestamp       Window start (UTC)
-- param: to timestamp         Window end (UTC)
-- param: camera text?         Only this camera
-- param: lat float?           Centre of an optional area (degrees)
-- param: lon float?           Centre of an optional area (degrees)
-- param: radius_m float=500   Radius of the optional area (metres)
-- param: min_reads int=2      Report plates read at least this often
-- tables: reads
SELECT plate,
       count(*) AS reads,
       count(DISTINCT camera_id) AS cameras,
       count(DISTINCT date) AS days,
       min(ts) AS first_seen,
       max(ts) AS last_seen
FROM reads
WHERE ts BETWEEN $from AND $to
  AND ($camera IS NULL OR camera_id = $camera)
  AND ($lat IS NULL OR haversine_m(lat, lon, $lat, $lon) <= $radius_m)
GROUP BY plate
HAVING count(*) >= $min_reads
ORDER BY reads DESC, plate
