-- Every use of a supervisor mode on a live call (listen, whisper, barge):
-- who, from which phone, which call and agent, when, what. Kept like CDRs
-- (compliance); times are unix milliseconds.
CREATE TABLE monitor_audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    supervisor     TEXT NOT NULL,              -- API user name ('' when refused before one was known)
    supervisor_ext TEXT NOT NULL DEFAULT '',   -- the phone the supervisor used
    call_id        TEXT NOT NULL DEFAULT '',   -- the monitored call
    agent_ext      TEXT NOT NULL DEFAULT '',   -- the extension asked for
    action         TEXT NOT NULL,              -- start, mode, stop, refused
    mode           TEXT NOT NULL DEFAULT '',   -- listen, whisper, barge
    detail         TEXT NOT NULL DEFAULT ''    -- why refused, who stopped
) STRICT;

CREATE INDEX monitor_audit_at ON monitor_audit(at);
CREATE INDEX monitor_audit_call ON monitor_audit(call_id) WHERE call_id <> '';
