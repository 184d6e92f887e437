-- An incident's expected resolution is shown on the page every customer reads: a date outside
-- what the application can represent (year 0 once in UTC was accepted, committed, then made
-- every reload of the status board fail) must never be stored. The application refuses it with
-- a 422 (observability/status/service.py); the database keeps the same bounds. Dates already
-- outside them are dropped, not the incidents.
-- depends: 0008_take_slot_place

UPDATE incident SET expected_resolution_at = NULL
WHERE NOT (expected_resolution_at >= '2000-01-01 00:00:00+00'
    AND expected_resolution_at < '2200-01-01 00:00:00+00');

UPDATE incident_update SET expected_resolution_at = NULL
WHERE NOT (expected_resolution_at >= '2000-01-01 00:00:00+00'
    AND expected_resolution_at < '2200-01-01 00:00:00+00');

ALTER TABLE incident ADD CONSTRAINT incident_expected_resolution_bounds
    CHECK (expected_resolution_at >= '2000-01-01 00:00:00+00'
        AND expected_resolution_at < '2200-01-01 00:00:00+00');

ALTER TABLE incident_update ADD CONSTRAINT incident_update_expected_resolution_bounds
    CHECK (expected_resolution_at >= '2000-01-01 00:00:00+00'
        AND expected_resolution_at < '2200-01-01 00:00:00+00');
