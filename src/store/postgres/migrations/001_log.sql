-- The event log, its head, the projection rows and the idempotency keys.
-- Every table is written only by `sharelog_append` (and by a rebuild), inside a
-- transaction that holds the log's write lock: one writer at a time, whatever
-- the number of replicas.

-- Each event's canonical export line, byte for byte as it is exported and hashed.
-- (stream, version) is unique: a stream's events have one version each, and the
-- index reads a share's history in order.
CREATE TABLE sharelog_events (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    stream text NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    line bytea NOT NULL,
    UNIQUE (stream, version)
);

-- The chain's head (the last event's seq and hash), and the schema version of
-- the projection rows, which are as of that head. One row.
CREATE TABLE sharelog_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32),
    rows_version integer NOT NULL
);
INSERT INTO sharelog_head (seq, hash, rows_version) VALUES (0, decode(repeat('00', 32), 'hex'), 0);

-- The projection rows, as every engine keeps them (`projection::rows`): a share's
-- state (key 'P' || id) and its counters (key 'V' || id), as JSON.
CREATE TABLE sharelog_projection (
    key bytea PRIMARY KEY,
    value bytea NOT NULL
);

-- Idempotency-Key of each create, scoped to its user, with the head after the
-- batch that used it (other replicas catch up with the keys after their head).
CREATE TABLE sharelog_idempotency (
    user_id text NOT NULL,
    key text NOT NULL,
    share_id text NOT NULL,
    fingerprint text NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX sharelog_idempotency_seq ON sharelog_idempotency (seq);

-- Appends one decided batch right after `p_after`, in the caller's transaction,
-- and tells every listening replica (delivered when the transaction commits).
-- The head is checked here, not by the caller, so that the COMMIT sent right
-- behind this call never commits a batch at the wrong place.
CREATE FUNCTION sharelog_append(
    p_after bigint,
    p_seqs bigint[], p_streams text[], p_versions bigint[], p_lines bytea[],
    p_row_keys bytea[], p_row_values bytea[],
    p_key_users text[], p_key_keys text[], p_key_shares text[], p_key_fingerprints text[],
    p_head_seq bigint, p_head_hash bytea, p_rows_version integer
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sharelog_head
       SET seq = p_head_seq, hash = p_head_hash, rows_version = p_rows_version
     WHERE seq = p_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sharelog: a batch decided after seq % does not follow the log''s head', p_after;
    END IF;
    INSERT INTO sharelog_events (seq, stream, version, line)
        SELECT * FROM unnest(p_seqs, p_streams, p_versions, p_lines);
    INSERT INTO sharelog_projection (key, value)
        SELECT * FROM unnest(p_row_keys, p_row_values)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;
    INSERT INTO sharelog_idempotency (user_id, key, share_id, fingerprint, seq)
        SELECT u, k, s, f, p_head_seq
          FROM unnest(p_key_users, p_key_keys, p_key_shares, p_key_fingerprints) AS t(u, k, s, f);
    PERFORM pg_notify('sharelog', p_head_seq::text);
END
$$;
