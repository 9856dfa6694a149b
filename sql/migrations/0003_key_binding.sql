-- 0003_key_binding: which keys wrote the data in this database
-- (adversarial.md T-37: "the DB key differs from the key that wrote the data"
-- must make the service refuse to start; privacy.md: keyed hashes and sealed
-- answers are only usable with the keys that made them).
--
-- One row per key file and fingerprint ever accepted.  No row reveals a key:
--   pseudonym.key  crypto_keyed_hash under the key's own CP_KEYCHECK subkey
--                  of a fixed text (a MAC of a constant: 256-bit key, no
--                  brute force);
--   research.pub   BLAKE2b-256 of the public key (public anyway).
-- `pcsurvey serve` binds the keys it starts with when the file has no row
-- yet, and refuses to start with a key whose fingerprint has no row, unless
-- started once with --accept-new-keys after a deliberate rotation
-- (docs/privacy.md section 7).  Keys accepted before stay accepted: they
-- wrote data too (a temporary server on the old key honours withdrawals
-- with receipt codes issued before the rotation).
CREATE TABLE pcs.key_binding (
	name		text NOT NULL CHECK (name IN ('pseudonym.key', 'research.pub')),
	fingerprint	bytea NOT NULL CHECK (length(fingerprint) = 32),
	bound		date NOT NULL,
	PRIMARY KEY (name, fingerprint)
);
