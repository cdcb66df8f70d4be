-- Standby daemons (SPEC §11, issue 24): several processes share one store;
-- for each chain exactly one of them (the leader) scans it.

-- One lease per chain ("chain:<id>"). The leader renews it; every scanner
-- commit proves it in the same transaction (UPDATE ... WHERE holder = me AND
-- epoch = mine: no row, no commit), so a leader whose lease was taken can
-- never write that chain again. epoch grows by one each time the lease
-- changes hands. Times are the database's clock (unix ms), so the clocks of
-- the daemons' machines need not agree.
--   holder      instance id of the leader ('' when released)
--   expires_at  free to take from then on (0 when released)
CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    epoch       INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);

-- The daemons sharing the store, for spreading chains across them and for
-- operators (`depositctl status`). A row is refreshed with the leases; one
-- not seen for a lease period is gone.
--   id         host:pid (the /health instance id)
--   host, pid  where it runs; boot_id and pid_ns tell whether a pid on this
--              host is still that process (a crashed daemon's leases are
--              taken at once by a process on the same host)
CREATE TABLE instances (
    id          TEXT    PRIMARY KEY,
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    boot_id     TEXT    NOT NULL,
    pid_ns      TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    api         TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL
);
