-- depositd schema v9, PostgreSQL dialect (see ../009_leases.sql for the
-- meaning): per-chain leases of the leaders and the daemons sharing the store.

CREATE TABLE leases (
    name        text    COLLATE "C" PRIMARY KEY,
    holder      text    COLLATE "C" NOT NULL,
    epoch       bigint  NOT NULL,
    expires_at  bigint  NOT NULL,
    acquired_at bigint  NOT NULL
);

CREATE TABLE instances (
    id          text    COLLATE "C" PRIMARY KEY,
    host        text    COLLATE "C" NOT NULL,
    pid         bigint  NOT NULL,
    boot_id     text    COLLATE "C" NOT NULL,
    pid_ns      text    COLLATE "C" NOT NULL,
    version     text    COLLATE "C" NOT NULL,
    api         text    COLLATE "C" NOT NULL,
    started_at  bigint  NOT NULL,
    seen_at     bigint  NOT NULL
);
