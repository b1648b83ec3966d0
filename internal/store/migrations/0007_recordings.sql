-- Call recordings: one row per WAV file package recordings writes, keyed
-- by its own id (a call may be recorded more than once, e.g. across a
-- transfer). The row is inserted when recording starts (state
-- 'recording'), so a crash leaves it open; start-up repairs the file's
-- header and marks it 'repaired'. The retention sweeper deletes the file
-- and marks the row 'deleted', keeping it as the trace that the recording
-- existed. Times are unix milliseconds; paused is a JSON list of
-- [start_ms, end_ms] offsets from the start, the stretches written as
-- silence (e.g. while card digits were collected).
CREATE TABLE recordings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id        TEXT NOT NULL,                     -- the contact (cdrs.id, queue_events.call_id)
    queue          TEXT NOT NULL DEFAULT '',          -- the queue it was recorded for, '' if none
    caller         TEXT NOT NULL DEFAULT '',
    callee         TEXT NOT NULL DEFAULT '',
    agent          TEXT NOT NULL DEFAULT '',          -- the agent who took the call, '' if none
    path           TEXT NOT NULL UNIQUE,              -- the WAV file, absolute
    format         TEXT NOT NULL CHECK (format IN ('stereo', 'mono')),
    started_at     INTEGER NOT NULL,                  -- the file's first sample
    ended_at       INTEGER,                           -- NULL while recording
    duration_ms    INTEGER NOT NULL DEFAULT 0,        -- audio in the file, paused time included
    bytes          INTEGER NOT NULL DEFAULT 0,        -- file size, header included
    paused         TEXT NOT NULL DEFAULT '[]',        -- JSON [[start_ms, end_ms], ...]
    dropped_frames INTEGER NOT NULL DEFAULT 0,        -- 20 ms frames a slow disk cost (written as silence)
    lost_frames    INTEGER NOT NULL DEFAULT 0,        -- frames the taps dropped or came too late (silence)
    state          TEXT NOT NULL DEFAULT 'recording'
                   CHECK (state IN ('recording', 'complete', 'repaired', 'deleted')),
    deleted_at     INTEGER,                           -- when the sweeper deleted the file
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

-- Listing by time, and the sweeper's scan of what expired.
CREATE INDEX recordings_started_at ON recordings(started_at);
CREATE INDEX recordings_expiry ON recordings(coalesce(ended_at, started_at)) WHERE state <> 'deleted';
-- A contact's recordings (export CALL_ID), a caller's or an agent's.
CREATE INDEX recordings_call_id ON recordings(call_id);
CREATE INDEX recordings_caller ON recordings(caller, started_at) WHERE caller <> '';
CREATE INDEX recordings_agent ON recordings(agent, started_at) WHERE agent <> '';
-- Rows still open: what start-up recovery scans.
CREATE INDEX recordings_open ON recordings(started_at) WHERE state = 'recording';
