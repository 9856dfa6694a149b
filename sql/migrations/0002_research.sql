-- 0002_research: the researchers' side (http-api.md: Researcher API,
-- /research pages; privacy.md: tokens and session ids only as keyed hashes).
-- Applied by `pcsurvey migrate` in one transaction.  Dates are days, as in
-- 0001, except research_session.expires (see there).

-- API tokens (`pcsurvey token create`).  The token itself is printed once
-- and never stored: token_hash is crypto_keyed_hash(CP_API_TOKEN, token).
CREATE TABLE pcs.api_token (
	id		serial PRIMARY KEY,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	scope		text NOT NULL CHECK (scope IN ('aggregate', 'export')),
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created		date NOT NULL,
	last_used	date,			-- day of the last authenticated call
	revoked		date			-- NULL while the token is valid
);

-- Researcher sessions (POST /research/login).  id_hash is
-- crypto_keyed_hash(CP_SESSION, session id); the id is only in the
-- researcher's pcs_session cookie.  expires is a timestamptz because a
-- session lasts 8 hours (Max-Age=28800), which a day cannot express; it
-- is not tied to any response, so privacy.md's day precision for
-- submissions is not weakened.  Revoking or deleting a token ends its
-- sessions.
CREATE TABLE pcs.research_session (
	id_hash		bytea PRIMARY KEY CHECK (length(id_hash) = 32),
	token_id	integer NOT NULL REFERENCES pcs.api_token (id) ON DELETE CASCADE,
	expires		timestamptz NOT NULL
);
CREATE INDEX research_session_expires ON pcs.research_session (expires);
CREATE INDEX research_session_token ON pcs.research_session (token_id);

-- Every call to /api/v1 and every researcher page (adversarial.md T-27:
-- access attempts logged): which token (NULL when none or unknown), what
-- was asked (the endpoint, the form and the validated by/question; never
-- the token or a raw query value), the day and the status answered.
CREATE TABLE pcs.access_audit (
	id		bigserial PRIMARY KEY,
	day		date NOT NULL,
	token_id	integer REFERENCES pcs.api_token (id) ON DELETE SET NULL,
	via		text NOT NULL CHECK (via IN ('api', 'session', 'login')),
	what		text NOT NULL,
	form_id		text,
	detail		text,
	status		integer NOT NULL
);
CREATE INDEX access_audit_token_day ON pcs.access_audit (token_id, day);

-- The change marker of the published figures (figures.c: count, max(id) and
-- sum(id) of a form's rows up to data_as_of) as an index-only scan.
CREATE INDEX response_form_submitted_id ON pcs.response (form_id, submitted, id);
