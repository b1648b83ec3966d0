-- ACD events: every decision of the queue engine (a contact joined,
-- was offered to an agent and why, was answered, abandoned, overflowed,
-- moved, lost in a restart...) and every agent state change, in the order
-- the switch recorded them. It is the routing trace of a contact (by
-- call_id), of a queue or of an agent, and what queue reports replay to
-- compute service level, ASA, AHT and abandonment (docs/ACD_METRICS.md).
-- Rows are only ever appended. Times are unix milliseconds; enumerations
-- are the snake_case names of package call; '' means unknown or none.
CREATE TABLE queue_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT, -- order of recording (not the bus's Seq, which restarts)
    at       INTEGER NOT NULL,                  -- when it happened (the bus's time)
    type     TEXT NOT NULL,                     -- queue_joined, queue_offered, ..., agent_state
    call_id  TEXT NOT NULL DEFAULT '',          -- the contact; '' for agent_state
    queue    TEXT NOT NULL DEFAULT '',          -- data.queue (queue_moved: the queue moved to)
    agent    TEXT NOT NULL DEFAULT '',          -- data.agent (offers, answers, agent_state)
    medium   TEXT NOT NULL DEFAULT '',          -- voice, chat
    caller   TEXT NOT NULL DEFAULT '',          -- the caller's number
    cause    TEXT NOT NULL DEFAULT '',          -- call.Cause, e.g. switch_restart on queue_lost
    data     TEXT NOT NULL DEFAULT '{}'         -- JSON object of the event's data: reason, wait_ms, ...
) STRICT;

-- Report intervals and restart recovery scan by time.
CREATE INDEX queue_events_at ON queue_events(at);
-- A queue's or an agent's trace over an interval. Partial: most rows
-- have no agent, and agent_state rows no queue (queries add "<> ''").
CREATE INDEX queue_events_queue_at ON queue_events(queue, at) WHERE queue <> '';
CREATE INDEX queue_events_agent_at ON queue_events(agent, at) WHERE agent <> '';
-- One contact's trace, and its latest event at restart.
CREATE INDEX queue_events_call_id ON queue_events(call_id) WHERE call_id <> '';
