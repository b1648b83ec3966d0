-- Agents of the ACD: who answers queue contacts, on which devices, with
-- which skills, how many contacts of each medium at once, in which queues.
-- The live agent state (available, busy, ...) belongs to the running
-- switch's ACD engine; agent_states keeps its last snapshot so a restart
-- recovers it. Times are unix milliseconds.
CREATE TABLE agents (
    id          TEXT PRIMARY KEY,          -- agent ID (also the API user name when the agent signs in)
    name        TEXT NOT NULL DEFAULT '',
    devices     TEXT NOT NULL DEFAULT '',  -- extension numbers rung for offers, comma-separated
    wrap_up_ms  INTEGER,                   -- overrides the queue's wrap-up; NULL: the queue's
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE agent_skills (
    agent       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    skill       TEXT NOT NULL,
    proficiency INTEGER NOT NULL CHECK (proficiency BETWEEN 1 AND 5),
    PRIMARY KEY (agent, skill)
) STRICT;

CREATE TABLE agent_capacity (
    agent       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    medium      TEXT NOT NULL,             -- voice, chat
    contacts    INTEGER NOT NULL CHECK (contacts >= 0),
    PRIMARY KEY (agent, medium)
) STRICT;

CREATE TABLE agent_queues (
    agent       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    queue       TEXT NOT NULL,
    penalty     INTEGER NOT NULL DEFAULT 0,  -- lower is offered first within the queue
    priority    INTEGER NOT NULL DEFAULT 0,  -- higher: the agent's queues served first
    PRIMARY KEY (agent, queue)
) STRICT;

CREATE TABLE agent_states (
    agent       TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,             -- logged_out, available, not_ready, ...
    reason      TEXT NOT NULL DEFAULT '',  -- not-ready reason code
    since       INTEGER NOT NULL
) STRICT;
