-- gen-responses.sql: synthetic submitted responses of the staff-wellbeing
-- form for the benchmarks (perf.md B3, B4), made inside PostgreSQL in one
-- INSERT ... SELECT (no client round trips).
--
--   psql -v n=900000 -v first=100001 -f tests/bench/gen-responses.sql
--
-- adds rows first .. first+n-1 (run it again with the next first to grow
-- the table).  Realistic spread, fixed seed so every run makes the same data:
--  * icb: the 42 ICBs valid on the form's reference date (2026-03-31, from
--    pcs.icb, loaded by `pcsurvey migrate`), skewed: the largest ICB gets
--    about 6x the responses of the smallest; region derived from the ICB;
--  * role: the 39 roles of pcs.staff_role, weighted by staff group roughly
--    like the primary care workforce (admin and nursing most, then GPs, ARRS
--    roles, pharmacy ...); staff_group derived from the role; 'other' roles
--    carry a sealed role__other;
--  * answers: valid for forms/staff-wellbeing.json, show_if respected
--    (providers unless offered=none, leave_reasons only for yes/maybe, the
--    ARRS page only for arrs_funded=yes, contact_email only for interview=yes);
--    free text and the email stored sealed ({"sealed": base64}, the sizes of
--    crypto_box_seal of 20-600 bytes of text; random bytes, not decryptable);
--  * submitted: the 120 days before today (so counts_lag_days 0 or 1 sees
--    them all).
-- The answer documents come from a pool of 20000 (generated with the full
-- logic); each row then gets its own icb and role: that keeps 1M rows to
-- well under a minute.
\set ON_ERROR_STOP 1
SET synchronous_commit = off;
SET search_path = '';
SELECT pg_catalog.setseed(0.4242);

BEGIN;

CREATE TEMP TABLE bench_sealed ON COMMIT DROP AS
SELECT pg_catalog.array_agg(pg_catalog.translate(pg_catalog.encode(pg_catalog.decode(
           pg_catalog.repeat(pg_catalog.md5('sealed' || s), 4 + (s * 7919) % 38), 'hex'),
           'base64'), E'\n', '') ORDER BY s) AS b64
FROM pg_catalog.generate_series(0, 499) s;

-- the answer pool: everything but consent, role, icb
CREATE TEMP TABLE bench_pool ON COMMIT DROP AS
WITH r AS (
	SELECT p,
	       pg_catalog.random() AS ws, pg_catalog.random() AS af, pg_catalog.random() AS yr,
	       pg_catalog.random() AS hw, pg_catalog.random() AS li, pg_catalog.random() AS iv,
	       pg_catalog.random() AS t1, pg_catalog.random() AS t2, pg_catalog.random() AS t3,
	       pg_catalog.random() AS t4, pg_catalog.random() AS ofk,
	       (pg_catalog.random() * 16383)::int & (pg_catalog.random() * 16383)::int AS ofm,
	       (pg_catalog.random() * 127)::int & (pg_catalog.random() * 127)::int AS prm,
	       (pg_catalog.random() * 8191)::int & (pg_catalog.random() * 8191)::int AS lrm,
	       pg_catalog.floor(pg_catalog.random() * 500)::int AS s1, pg_catalog.floor(pg_catalog.random() * 500)::int AS s2,
	       pg_catalog.floor(pg_catalog.random() * 500)::int AS s3, pg_catalog.floor(pg_catalog.random() * 500)::int AS s4,
	       pg_catalog.floor(pg_catalog.random() * 500)::int AS s5,
	       ARRAY(SELECT (1 + (pg_catalog.random() * 4.4)::int)::text
	             FROM pg_catalog.generate_series(1, 15) g WHERE g > p * 0) AS sc
	FROM pg_catalog.generate_series(1, 20000) p
), d AS (
	SELECT r.*,
	       CASE WHEN ofk < 0.05 THEN ARRAY['none']
	            WHEN ofk < 0.10 THEN ARRAY['not_sure']
	            ELSE ARRAY(SELECT o FROM pg_catalog.unnest(ARRAY['eap', 'practitioner_health',
	                'occupational_health', 'wellbeing_hub', 'schwartz_rounds', 'peer_support',
	                'clinical_supervision', 'mentoring_coaching', 'napc_care',
	                'protected_learning', 'flexible_working', 'physical_health',
	                'financial_wellbeing', 'wellbeing_conversations']) WITH ORDINALITY AS u(o, k)
	                WHERE (ofm >> (k::int - 1)) & 1 = 1) END AS offered,
	       CASE WHEN li < 0.20 THEN 'yes' WHEN li < 0.45 THEN 'maybe'
	            WHEN li < 0.90 THEN 'no' WHEN li < 0.97 THEN 'prefer_not' END AS leave,
	       CASE WHEN af < 0.25 THEN 'yes' WHEN af < 0.83 THEN 'no'
	            WHEN af < 0.95 THEN 'not_sure' END AS arrs,
	       CASE WHEN iv < 0.15 THEN 'yes' WHEN iv < 0.85 THEN 'no' END AS interview
	FROM r
)
SELECT p, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
	'work_setting', CASE WHEN ws < 0.55 THEN 'gp_practice' WHEN ws < 0.68 THEN 'pcn'
	    WHEN ws < 0.80 THEN 'community_pharmacy' WHEN ws < 0.87 THEN 'dental_practice'
	    WHEN ws < 0.90 THEN 'optometry_practice' WHEN ws < 0.94 THEN 'gp_federation'
	    WHEN ws < 0.98 THEN 'urgent_care' WHEN ws < 0.99 THEN 'other' END,
	'work_setting__other', CASE WHEN ws >= 0.98 AND ws < 0.99 THEN
	    pg_catalog.jsonb_build_object('sealed', sl.b64[1 + s1]) END,
	'arrs_funded', arrs,
	'years_in_role', CASE WHEN yr < 0.15 THEN 'under_1' WHEN yr < 0.40 THEN '1_to_3'
	    WHEN yr < 0.60 THEN '3_to_5' WHEN yr < 0.80 THEN '5_to_10' WHEN yr < 0.98 THEN '10_plus' END,
	'hours_per_week', CASE WHEN hw < 0.97 THEN 8 + (hw * 55)::int END,
	'offered', CASE WHEN pg_catalog.cardinality(offered) > 0 THEN pg_catalog.to_jsonb(offered) END,
	'providers', CASE WHEN offered <> ARRAY['none'] AND prm > 0 THEN pg_catalog.to_jsonb(
	    ARRAY(SELECT o FROM pg_catalog.unnest(ARRAY['employer', 'pcn', 'icb', 'nhse',
	        'professional_body', 'lmc', 'charity']) WITH ORDINALITY AS u(o, k)
	        WHERE (prm >> (k::int - 1)) & 1 = 1)) END,
	'access__know_what', sc[1], 'access__easy_to_access', sc[2],
	'access__time_to_use', sc[3], 'access__confidential', sc[4],
	'wellbeing__valued', sc[5], 'wellbeing__part_of_team', sc[6],
	'wellbeing__workload', sc[7], 'wellbeing__burnt_out', sc[8],
	'wellbeing__manager_cares', sc[9], 'wellbeing__raise_concerns', sc[10],
	'leave_intention', leave,
	'leave_reasons', CASE WHEN leave IN ('yes', 'maybe') AND lrm > 0 THEN pg_catalog.to_jsonb(
	    ARRAY(SELECT o FROM pg_catalog.unnest(ARRAY['workload', 'stress_burnout', 'pay_contract',
	        'career', 'not_valued', 'no_team', 'supervision', 'abuse', 'work_life', 'own_health',
	        'retirement', 'other_job', 'another_reason']) WITH ORDINALITY AS u(o, k)
	        WHERE (lrm >> (k::int - 1)) & 1 = 1)) END,
	'arrs_practices', CASE WHEN arrs = 'yes' THEN (t4 * 12)::int END,
	'arrs_experience__supervision', CASE WHEN arrs = 'yes' THEN sc[11] END,
	'arrs_experience__one_team', CASE WHEN arrs = 'yes' THEN sc[12] END,
	'arrs_experience__role_understood', CASE WHEN arrs = 'yes' THEN sc[13] END,
	'arrs_experience__career_pathway', CASE WHEN arrs = 'yes' THEN sc[14] END,
	'arrs_experience__training', CASE WHEN arrs = 'yes' THEN sc[15] END,
	'arrs_support', CASE WHEN arrs = 'yes' AND t1 < 0.3 THEN
	    pg_catalog.jsonb_build_object('sealed', sl.b64[1 + s2]) END,
	'helped_most', CASE WHEN t2 < 0.35 THEN
	    pg_catalog.jsonb_build_object('sealed', sl.b64[1 + s3]) END,
	'icb_should_provide', CASE WHEN t3 < 0.30 THEN
	    pg_catalog.jsonb_build_object('sealed', sl.b64[1 + s4]) END,
	'interview', interview,
	'contact_email', CASE WHEN interview = 'yes' THEN
	    pg_catalog.jsonb_build_object('sealed', sl.b64[1 + (s5 % 40)]) END
)) AS doc
FROM d CROSS JOIN bench_sealed sl;

-- weighted picks: 1000 slots per list, filled in proportion to the weights
CREATE TEMP TABLE bench_icb_slots ON COMMIT DROP AS
WITH i AS (
	SELECT code, region_code,
	       1.0 + 5.0 * ((pg_catalog.hashtext(code) & 1023) / 1023.0) ^ 2 AS w
	FROM pcs.icb
	WHERE valid_from <= DATE '2026-03-31' AND (valid_to IS NULL OR valid_to >= DATE '2026-03-31')
), c AS (
	SELECT code, region_code, sum(w) OVER (ORDER BY code) - w AS lo,
	       sum(w) OVER (ORDER BY code) AS hi, sum(w) OVER () AS tot
	FROM i
)
SELECT pg_catalog.array_agg(code ORDER BY s) AS codes,
       pg_catalog.array_agg(region_code ORDER BY s) AS regions
FROM pg_catalog.generate_series(0, 999) s
JOIN c ON s * c.tot / 1000.0 >= c.lo AND s * c.tot / 1000.0 < c.hi;

CREATE TEMP TABLE bench_role_slots ON COMMIT DROP AS
WITH g(staff_group, gw) AS (VALUES
	('admin_non_clinical', 30.0), ('nursing', 18.0), ('gp', 15.0),
	('arrs_direct_patient_care', 14.0), ('pharmacy', 10.0), ('dental', 6.0),
	('optometry', 3.0), ('other', 4.0)
), i AS (
	SELECT r.code, r.staff_group,
	       g.gw * (0.5 + ((pg_catalog.hashtext(r.code) & 1023) / 1023.0)) /
	       sum(0.5 + ((pg_catalog.hashtext(r.code) & 1023) / 1023.0))
	           OVER (PARTITION BY r.staff_group) AS w
	FROM pcs.staff_role r JOIN g USING (staff_group)
), c AS (
	SELECT code, staff_group, sum(w) OVER (ORDER BY code) - w AS lo,
	       sum(w) OVER (ORDER BY code) AS hi, sum(w) OVER () AS tot
	FROM i
)
SELECT pg_catalog.array_agg(code ORDER BY s) AS codes,
       pg_catalog.array_agg(staff_group ORDER BY s) AS groups
FROM pg_catalog.generate_series(0, 999) s
JOIN c ON s * c.tot / 1000.0 >= c.lo AND s * c.tot / 1000.0 < c.hi;

INSERT INTO pcs.response (rid, form_id, form_version, submitted, receipt_hash, pseudonym,
    icb, region, role, staff_group, org_type, answers)
SELECT pg_catalog.decode(pg_catalog.md5('bench-rid-' || x.i), 'hex'),
       'staff-wellbeing', 1,
       CURRENT_DATE - 1 - (x.rd * 120)::int,
       pg_catalog.sha256(('bench-receipt-' || x.i)::bytea),
       NULL,
       ic.codes[1 + x.ki], ic.regions[1 + x.ki],
       ro.codes[1 + x.kr], ro.groups[1 + x.kr],
       NULL,
       pool.doc || pg_catalog.jsonb_build_object('consent', 'yes',
           'role', ro.codes[1 + x.kr], 'icb', ic.codes[1 + x.ki]) ||
       CASE WHEN ro.codes[1 + x.kr] = 'other' THEN pg_catalog.jsonb_build_object('role__other',
           pg_catalog.jsonb_build_object('sealed', sl.b64[1 + (x.i % 500)::int]))
       ELSE '{}'::jsonb END
FROM (
	SELECT i, pg_catalog.random() AS rd,
	       pg_catalog.floor(pg_catalog.random() * 1000)::int AS ki,
	       pg_catalog.floor(pg_catalog.random() * 1000)::int AS kr,
	       1 + pg_catalog.floor(pg_catalog.random() * 20000)::int AS kp
	FROM pg_catalog.generate_series(:first::bigint, :first::bigint + :n - 1) i
) x
CROSS JOIN bench_icb_slots ic
CROSS JOIN bench_role_slots ro
CROSS JOIN bench_sealed sl
JOIN bench_pool pool ON pool.p = x.kp;

COMMIT;
VACUUM (ANALYZE) pcs.response;
