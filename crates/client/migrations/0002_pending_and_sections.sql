-- Pending ops: sent and not settled, by (chain, account); each expires (its holder may die, or
-- its receipt never come). Sections: who judges an account's next op now (one row per account;
-- a dead holder's row expires).
CREATE TABLE mandate_pending (
    chain_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    user_op_hash TEXT NOT NULL,
    op TEXT NOT NULL,
    session BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, account, id)
);

CREATE TABLE mandate_sections (
    chain_id BIGINT NOT NULL,
    account TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, account)
);
