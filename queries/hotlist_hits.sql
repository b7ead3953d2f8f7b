-- name: hotlist_hits
-- purpose: Reads of plates on a hot list, during the entry's validity. Hits
--   are leads: a person verifies each one before any enforcement.
-- param: from timestamp          Window start (UTC)
-- param: to timestamp            Window end (UTC)
-- param: list text?              Only this hot list (e.g. stolen)
-- param: confusions bool=false   Also report reads differing only by OCR confusions
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
ORDER BY r.ts, r.read_id
