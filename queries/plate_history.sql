-- name: plate_history
-- purpose: Where and when one plate was read (locate a vehicle), oldest first.
-- param: plate plate                 The plate (spaces and dashes ignored)
-- param: from timestamp=1970-01-01   Window start (UTC)
-- param: to timestamp=9999-12-31     Window end (UTC)
-- tables: reads, cameras
SELECT r.ts,
       r.camera_id,
       c.name AS camera_name,
       r.lat,
       r.lon,
       r.heading,
       round(r.confidence, 3) AS confidence,
       r.source_file,
       r.read_id
FROM reads r
LEFT JOIN cameras c ON c.camera_id = r.camera_id
WHERE r.plate = $plate
  AND r.ts BETWEEN $from AND $to
ORDER BY r.ts, r.read_id
