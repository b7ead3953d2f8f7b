-- name: stakeout
-- purpose: Plates seen near at least K of N incident sites, each within its
--   own time window: the vehicle common to a series of incidents.
-- param: sites sites       Incident sites: lat,lon,radius_m,from,to;... or @sites.csv
-- param: min_sites int=2   Seen near at least this many of the sites
-- tables: reads, sites (the parameter)
--
-- $sites_from and $sites_to (the span of all windows) are bound with the
-- sites so the scan prunes date partitions before the join.
SELECT r.plate,
       count(DISTINCT s.site) AS sites_seen,
       count(*) AS reads,
       array_sort(array_agg(DISTINCT s.site)) AS sites,
       min(r.ts) AS first_seen,
       max(r.ts) AS last_seen
FROM reads r
JOIN sites s
  ON r.ts BETWEEN s.from_ts AND s.to_ts
 AND haversine_m(r.lat, r.lon, s.lat, s.lon) <= s.radius_m
WHERE r.ts BETWEEN $sites_from AND $sites_to
GROUP BY r.plate
HAVING count(DISTINCT s.site) >= $min_sites
ORDER BY sites_seen DESC, reads DESC, r.plate
