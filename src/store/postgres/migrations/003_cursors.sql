-- Followers' cursors (`Reader::cursor`): how far a piece of work that follows the
-- log (the notification worker) has got, kept with the log so that whichever
-- replica leads that work next goes on from there.
CREATE TABLE sharelog_cursors (
    name text PRIMARY KEY,
    seq bigint NOT NULL CHECK (seq >= 0)
);
