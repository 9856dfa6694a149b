-- 0001_init: the pcsurvey schema (privacy.md is the contract for what is kept).
-- Applied by `pcsurvey migrate` in one transaction and recorded in
-- pcs.schema_migrations.  No column holds a time finer than a day.

CREATE SCHEMA IF NOT EXISTS pcs;

-- Reference lists (sql/reference/*.csv, loaded by migrate on every run).
CREATE TABLE pcs.region (
	code		text PRIMARY KEY,
	ons_code	text,
	name		text NOT NULL
);
CREATE TABLE pcs.icb (
	code		text PRIMARY KEY,
	ons_code	text,
	name		text NOT NULL,
	short_name	text NOT NULL,
	region_code	text NOT NULL REFERENCES pcs.region (code),
	valid_from	date,
	valid_to	date
);
CREATE TABLE pcs.staff_group (
	code		text PRIMARY KEY,
	label		text NOT NULL
);
CREATE TABLE pcs.staff_role (
	code		text PRIMARY KEY,
	label		text NOT NULL,
	staff_group	text NOT NULL REFERENCES pcs.staff_group (code)
);
CREATE TABLE pcs.org_type (
	code		text PRIMARY KEY,
	label		text NOT NULL
);

-- One row per submitted response.  Dimension codes are copied out of the
-- answers (region and staff group derived, forms.md: Dimensions) so counts
-- are one GROUP BY.  answers: clear values as JSON; sealed ones as
-- {"sealed": base64 of crypto_box_seal}; pseudonyms as {"pseudonym": hex}.
CREATE TABLE pcs.response (
	id		bigserial PRIMARY KEY,
	rid		bytea NOT NULL UNIQUE CHECK (length(rid) = 16),
	form_id		text NOT NULL,
	form_version	integer NOT NULL,
	submitted	date NOT NULL,
	receipt_hash	bytea NOT NULL UNIQUE,	-- keyed hash; also the idempotency key
	pseudonym	bytea,			-- keyed hash, one_per_person forms only
	icb		text,
	region		text,
	role		text,
	staff_group	text,
	org_type	text,
	answers		jsonb NOT NULL,
	UNIQUE (form_id, pseudonym)
);
CREATE INDEX response_form_submitted ON pcs.response (form_id, submitted);

-- Drafts: answers not yet submitted, sealed with crypto_secretbox under a
-- key derived from the resume token, which only the respondent holds.
CREATE TABLE pcs.draft (
	id_hash		bytea PRIMARY KEY,	-- keyed hash of the resume token
	form_id		text NOT NULL,
	expires		date NOT NULL,
	box		bytea NOT NULL
);
CREATE INDEX draft_expires ON pcs.draft (expires);

-- One-time invitation codes (access: invite), stored as keyed hashes.
CREATE TABLE pcs.invitation (
	code_hash	bytea PRIMARY KEY,
	form_id		text NOT NULL,
	label		text,
	issued		date NOT NULL,
	used		boolean NOT NULL DEFAULT false
);
