-- 0005_drop_redundant_index: 0001's response_form_submitted (form_id,
-- submitted) is a prefix of 0002's response_form_submitted_id (form_id,
-- submitted, id), which serves every query it served: one index less to
-- update on every submit (perf.md B2).
DROP INDEX pcs.response_form_submitted;
