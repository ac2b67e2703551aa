-- Secrets every replica shares (`Reader::secret`): the key of the visitors' IP
-- hashes and of the page tokens, made once by whichever replica asks first.
CREATE TABLE sharelog_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) = 32)
);
