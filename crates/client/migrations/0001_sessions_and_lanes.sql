-- Sessions: one row per (chain, account, permission id), the record as JSON and the key as a
-- Web3 Secret Storage keystore (scrypt, AES-128-CTR) under the store's password.
-- Lanes: one row per nonce lane leased, by whom and until when (a dead holder's lease expires).
-- Portable SQL: the same migration runs on PostgreSQL and SQLite.
CREATE TABLE mandate_sessions (
    chain_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    permission_id TEXT NOT NULL,
    session_key TEXT NOT NULL,
    record TEXT NOT NULL,
    keystore TEXT NOT NULL,
    PRIMARY KEY (chain_id, account, permission_id)
);

CREATE TABLE mandate_lanes (
    chain_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    lane BIGINT NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, account, lane)
);
