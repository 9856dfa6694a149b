-- 0006_change_marker: a change marker for the published figures that costs
-- one index probe instead of a scan of every counted row (perf.md B3: the
-- old marker, count/max/sum of the ids, read 1M index entries per request).
--
-- The counted rows of a form (submitted < before, figures.c) change only by
--   * a new row: ids only grow, so the highest counted id moves, found by a
--     backward walk of response_form_id that stops at the first row with
--     submitted < before (live rows of today are skipped: few);
--   * a deleted row (withdrawal, retention purge, an operator): a statement
--     trigger bumps pcs.response_deletions.n (rare, so one counter row is
--     no point of contention).
-- An UPDATE of a stored response is not something pcsurvey does.
CREATE TABLE pcs.response_deletions (
	one	boolean PRIMARY KEY DEFAULT true CHECK (one),
	n	bigint NOT NULL
);
INSERT INTO pcs.response_deletions (one, n) VALUES (true, 0);

CREATE FUNCTION pcs.response_deleted() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
	UPDATE pcs.response_deletions SET n = n + 1;
	RETURN NULL;
END
$$;
CREATE TRIGGER response_deleted AFTER DELETE ON pcs.response
	FOR EACH STATEMENT EXECUTE FUNCTION pcs.response_deleted();
CREATE TRIGGER response_truncated AFTER TRUNCATE ON pcs.response
	FOR EACH STATEMENT EXECUTE FUNCTION pcs.response_deleted();

-- The marker's walk (and the form totals, an index-only count).  Replaces
-- 0002's (form_id, submitted, id), which no query needs any more.
CREATE INDEX response_form_id ON pcs.response (form_id, id) INCLUDE (submitted);
DROP INDEX pcs.response_form_submitted_id;
