-- name: canvass
-- purpose: Every read within a radius of a point during a time window:
--   who was near the incident.
-- param: lat float            Latitude of the incident (degrees)
-- param: lon float            Longitude of the incident (degrees)
-- param: radius_m float=500   Radius around the point (metres)
-- param: from timestamp       Window start (UTC)
-- param: to timestamp         Window end (UTC)
-- tables: reads, cameras
--
-- The latitude/longitude box around the circle lets Parquet statistics skip
-- data before the exact great-circle distance is computed; the time window
-- also prunes date partitions.
SELECT r.ts,
       r.camera_id,
       c.name AS camera_name,
       r.plate,
       r.confidence,
       round(haversine_m(r.lat, r.lon, $lat, $lon), 1) AS distance_m,
       r.read_id
FROM reads r
LEFT JOIN cameras c ON c.camera_id = r.camera_id
WHERE r.ts BETWEEN $from AND $to
  AND r.lat BETWEEN $lat - $radius_m / 111320.0 AND $lat + $radius_m / 111320.0
  AND r.lon BETWEEN $lon - $radius_m / (111320.0 * cos(radians($lat)))
                AND $lon + $radius_m / (111320.0 * cos(radians($lat)))
  AND haversine_m(r.lat, r.lon, $lat, $lon) <= $radius_m
ORDER BY r.ts, r.read_id
