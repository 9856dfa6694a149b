-- pgbench-insert.sql: baseline of B2 (perf.md): one single-row INSERT
-- transaction into pcs.response, a row like the ones B2's respondents submit
-- (same table, same indexes, an answers document of the same size).  Its own
-- form_id, so the respondents' rows are counted apart; bench.py deletes these
-- rows afterwards.  Run with synchronous_commit=on.
INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, icb, region, role, staff_group, answers) VALUES (decode(md5(random()::text || clock_timestamp()::text), 'hex'), 'bench-pgbench', 1, current_date, sha256((random()::text || clock_timestamp()::text)::bytea), 'QYG', 'Y62', 'practice_nurse', 'nursing', '{"icb": "QYG", "role": "practice_nurse", "consent": "yes", "offered": ["eap", "peer_support", "flexible_working"], "providers": ["employer", "icb"], "arrs_funded": "no", "work_setting": "gp_practice", "years_in_role": "3_to_5", "hours_per_week": 37, "access__know_what": "4", "access__time_to_use": "2", "access__confidential": "4", "access__easy_to_access": "3"}'::jsonb);
