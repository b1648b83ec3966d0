-- Extensions: phones' credentials. Only HA1 digests are stored, each
-- computed for `realm`; the password itself is never written.
CREATE TABLE extensions (
    number      TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    realm       TEXT NOT NULL,
    ha1_md5     TEXT NOT NULL,
    ha1_sha256  TEXT NOT NULL,
    created_at  INTEGER NOT NULL, -- unix milliseconds
    updated_at  INTEGER NOT NULL
) STRICT;

-- Registrar bindings, persisted so a restart keeps UDP phones reachable.
CREATE TABLE registrations (
    aor         TEXT NOT NULL REFERENCES extensions(number) ON DELETE CASCADE,
    binding_key TEXT NOT NULL,
    contact     TEXT NOT NULL,
    instance    TEXT NOT NULL DEFAULT '',
    reg_id      INTEGER NOT NULL DEFAULT 0,
    q           TEXT NOT NULL DEFAULT '',
    call_id     TEXT NOT NULL,
    cseq        INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL, -- unix milliseconds
    source      TEXT NOT NULL,    -- ip:port the REGISTER came from
    transport   TEXT NOT NULL,
    local_addr  TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (aor, binding_key)
) STRICT;

-- API tokens; only the SHA-256 of a token is stored.
CREATE TABLE api_tokens (
    name        TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
