-- Carrier trunks (issue 4): what outbound routing needs to know about an
-- extension, and which trunk, DID and route a call took.

-- Permission class for outbound dialling: internal (extensions only),
-- national, international. The dial rules decide what each class may reach.
ALTER TABLE extensions ADD COLUMN class TEXT NOT NULL DEFAULT 'national'
    CHECK (class IN ('internal', 'national', 'international'));
-- The extension's own outside number (E.164, '+' and digits), presented as
-- caller ID on trunks that allow it; '' for none (the trunk's default).
ALTER TABLE extensions ADD COLUMN caller_id TEXT NOT NULL DEFAULT '';
-- 1: withhold the caller ID on outside calls (RFC 3325 §9.3 Privacy: id);
-- 0: present it.
ALTER TABLE extensions ADD COLUMN privacy INTEGER NOT NULL DEFAULT 0
    CHECK (privacy IN (0, 1));

-- The carrier trunk the call came in on or went out through ('' for calls
-- between extensions). For an outbound call this is the trunk that finally
-- carried it (after failover), recorded when the call ends.
ALTER TABLE cdrs ADD COLUMN trunk TEXT NOT NULL DEFAULT '';
-- The number dialled as matched: the DID of an inbound call, the called
-- number of an outbound one (E.164 where it could be normalised).
ALTER TABLE cdrs ADD COLUMN did TEXT NOT NULL DEFAULT '';
-- How the call was routed, for people reading CDRs: e.g.
-- 'did +862155550100 -> extension 1001', 'rule international via carrier-a'.
ALTER TABLE cdrs ADD COLUMN route TEXT NOT NULL DEFAULT '';
