-- 0004_published: the published figures of a form, computed once and shared
-- by every worker (perf.md B3; privacy.md rule 4: "the server may compute
-- them once per data day and keep them").  Applied by `pcsurvey migrate` in
-- one transaction.  IF NOT EXISTS: harmless if it ever runs twice (migrate
-- numbers migrations by their place in sql/migrations, not by file name).
--
-- What a row holds (privacy.md: Disclosure control on every count): only
-- PUBLISHED values, never a true count.  blob is figures.c's serialised
-- lattice: for each figure with at least one response, its key (coordinates)
-- and the value every result shows for it: -1 when suppressed (rules 2, 4),
-- else the count rounded to round_to (rule 3).  That is exactly what the
-- counts API already publishes to an aggregate-scope token (the presence of
-- a figure included), so the table adds nothing an API caller cannot see;
-- the true small counts stay in the memory of the one worker that builds.
--
-- Key: the form, data_as_of (rule 5), the change marker of the rows counted
-- (count, max(id), sum(id): figures.c rebuilds when the rows change) and
-- shape, a fingerprint of the form's codes, questions, options and of the
-- server's suppress_max and round_to, so a reloaded form or another
-- configuration never reads figures numbered for another shape.  The builder
-- deletes the form's older rows; a worker checks the blob (magic, header,
-- checksum, every key) before trusting it and rebuilds when it is damaged.
CREATE TABLE IF NOT EXISTS pcs.published (
	form_id		text NOT NULL,
	data_as_of	date NOT NULL,
	marker_n	bigint NOT NULL,
	marker_max	bigint NOT NULL,
	marker_sum	bigint NOT NULL,
	shape		bigint NOT NULL,
	built		date NOT NULL DEFAULT CURRENT_DATE,
	blob		bytea NOT NULL,
	PRIMARY KEY (form_id, data_as_of, marker_n, marker_max, marker_sum, shape)
);
