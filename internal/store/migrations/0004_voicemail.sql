-- Voicemail: messages callers left in IVR voicemail nodes. The audio is a
-- WAV file (path); the row ties it to the call (call_id, the CDR's id) and
-- the caller. Times are unix milliseconds.
CREATE TABLE voicemails (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT NOT NULL,             -- call.ID of the call that left it
    caller      TEXT NOT NULL DEFAULT '',  -- the caller's number
    box         TEXT NOT NULL,             -- mailbox: a name or an extension number
    path        TEXT NOT NULL,             -- the WAV file
    duration_ms INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    heard_at    INTEGER                    -- NULL: not listened to yet
) STRICT;

CREATE INDEX voicemails_box ON voicemails(box, created_at);
