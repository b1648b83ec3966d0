-- Call detail records: one row per contact (call or chat), keyed by its
-- call ID (a UUIDv7, so ids sort by start). The row is inserted when the
-- call starts, so a crash mid-call leaves it open (end_at NULL); start-up
-- closes such rows with cause 'switch_restart'. Times are unix
-- milliseconds; enumerations are the snake_case names of package call.
CREATE TABLE cdrs (
    id             TEXT PRIMARY KEY,          -- call.ID
    medium         TEXT NOT NULL DEFAULT '',  -- voice, chat
    direction      TEXT NOT NULL DEFAULT '',  -- inbound, outbound, internal
    caller         TEXT NOT NULL DEFAULT '',
    caller_name    TEXT NOT NULL DEFAULT '',
    callee         TEXT NOT NULL DEFAULT '',
    callee_name    TEXT NOT NULL DEFAULT '',
    start_at       INTEGER NOT NULL,
    answer_at      INTEGER,                   -- NULL: never answered
    end_at         INTEGER,                   -- NULL: in progress (or lost in a crash)
    duration_ms    INTEGER NOT NULL DEFAULT 0, -- end - start, set at the end
    billable_ms    INTEGER NOT NULL DEFAULT 0, -- end - answer, set at the end
    cause          TEXT NOT NULL DEFAULT '',  -- call.Cause, '' while in progress
    hangup_side    TEXT NOT NULL DEFAULT '',  -- caller, callee, switch
    codec_a        TEXT NOT NULL DEFAULT '',  -- the caller's leg
    codec_b        TEXT NOT NULL DEFAULT '',  -- the callee's leg
    a_packets_lost INTEGER,                   -- RFC 3550 cumulative lost, received from leg A; NULL: not measured
    a_jitter_ms    REAL,                      -- RFC 3550 interarrival jitter of leg A
    b_packets_lost INTEGER,
    b_jitter_ms    REAL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX cdrs_start_at ON cdrs(start_at);
-- Rows still open: what start-up recovery scans.
CREATE INDEX cdrs_open ON cdrs(start_at) WHERE end_at IS NULL;
