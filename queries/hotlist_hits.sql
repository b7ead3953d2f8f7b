-- name: hotlist_hits
-- purpose: Reads of plates on a hot list, during the entry's validity. Hits
--   are leads: a person verifies each one before any enforcement. The
--   confidence is the matched text's: the read's, or its alternate's.
-- param: from timestamp          Window start (UTC)
-- param: to timestamp            Window end (UTC)
-- param: list text?              Only this hot list (e.g. stolen)
-- param: confusions bool=false   Also report reads differing only by OCR confusions
-- param: alternate_min float?    Also report reads with a listed plate among their alternates at least this likely (alerts use 0.05)
-- tables: reads, hotlist
SELECT r.ts,
       r.plate AS read_plate,
       h.plate AS hotlist_plate,
       CASE WHEN r.plate = h.plate THEN 'exact' ELSE 'confusion' END AS match_kind,
       h.list,
       h.reason,
       h.vehicle,
       r.camera_id,
       round(r.confidence, 3) AS confidence,
       r.read_id
FROM reads r
JOIN hotlist h ON plate_confusion_key(r.plate) = plate_confusion_key(h.plate)
WHERE r.ts BETWEEN $from AND $to
  AND ($list IS NULL OR h.list = $list)
  AND (h.expires IS NULL OR h.expires >= CAST(r.ts AS DATE))
  AND (r.plate = h.plate OR $confusions)
UNION ALL
SELECT a.ts,
       a.plate AS read_plate,
       h.plate AS hotlist_plate,
       'alternate' AS match_kind,
       h.list,
       h.reason,
       h.vehicle,
       a.camera_id,
       round(a.alt['confidence'], 3) AS confidence,
       a.read_id
FROM (SELECT ts, plate, camera_id, read_id, unnest(alternates) AS alt
      FROM reads WHERE ts BETWEEN $from AND $to) a
JOIN hotlist h ON a.alt['plate'] = h.plate
WHERE $alternate_min IS NOT NULL
  AND a.alt['confidence'] >= $alternate_min
  AND ($list IS NULL OR h.list = $list)
  AND (h.expires IS NULL OR h.expires >= CAST(a.ts AS DATE))
  -- Already reported above as a confusion of the read.
  AND NOT ($confusions AND plate_confusion_key(a.plate) = plate_confusion_key(h.plate))
ORDER BY ts, read_id
