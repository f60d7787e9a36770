"""The ``postgres`` backend's tables, as versioned migrations applied only by ``publish state migrate``.

Each migration is a version number, a name and SQL; the pending ones run in one transaction; ``newsroom.schema_version``
records the ones applied. Nothing is created or changed silently: a store whose database is behind
refuses to work and says to run ``publish state migrate`` (``SchemaBehind``); one ahead of this
version of the tool says to upgrade the tool (``SchemaAhead``). A migration once released is never
edited: a change is a new version at the end of ``MIGRATIONS``.

Every table has a ``project`` column first in its key, so one database holds many projects (brands)
side by side; a project's rows are found through indexes that start with it. Rows keep the exact JSON
line the files backend would write (``line``), so ``publish state export`` gives back the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..problems import Refusal

SCHEMA = "newsroom"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger, entries, snapshots, replies, mentions, feeds, pulls, credentials", f"""
CREATE TABLE {SCHEMA}.ledger (
    project text NOT NULL,
    seq bigserial NOT NULL,
    entry text,
    line text NOT NULL,
    PRIMARY KEY (project, seq)
);
-- one row per entry claimed: the row a claim locks (FOR UPDATE SKIP LOCKED) while it decides
CREATE TABLE {SCHEMA}.entries (
    project text NOT NULL,
    entry text NOT NULL,
    PRIMARY KEY (project, entry)
);
CREATE TABLE {SCHEMA}.snapshots (
    project text NOT NULL,
    id bigserial NOT NULL,
    at text NOT NULL,
    entry text NOT NULL,
    slot text NOT NULL DEFAULT '',
    line text NOT NULL,
    PRIMARY KEY (project, id)
);
CREATE INDEX snapshots_at ON {SCHEMA}.snapshots (project, at);
CREATE TABLE {SCHEMA}.replies (
    project text NOT NULL,
    id bigserial NOT NULL,
    channel text NOT NULL,
    remote_id text NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (project, id),
    UNIQUE (project, channel, remote_id)
);
CREATE TABLE {SCHEMA}.mentions (
    project text NOT NULL,
    id bigserial NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (project, id)
);
CREATE TABLE {SCHEMA}.feeds (
    project text NOT NULL,
    id bigserial NOT NULL,
    feed text,
    line text NOT NULL,
    PRIMARY KEY (project, id)
);
CREATE TABLE {SCHEMA}.pulls (
    project text NOT NULL,
    id bigserial NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (project, id)
);
-- the encrypted vault (one Fernet token per project, as state/credentials holds it)
CREATE TABLE {SCHEMA}.credentials (
    project text PRIMARY KEY,
    token bytea NOT NULL
);
"""),
    Migration(2, "runs: a run's lock outlives a restart of the database", f"""
-- a run in flight (beside its session lock): when the database restarts, every session lock is
-- gone; a run whose lock was taken before the restart counts as alive for RELOCK_SECONDS after it,
-- long enough to take its lock again, so its claims are not reconciled while it still sends them
CREATE TABLE {SCHEMA}.runs (
    project text NOT NULL,
    run text NOT NULL,
    locked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, run)
);
"""),
    Migration(3, "snapshots: each row's metrics as jsonb, an index by entry and time, the metrics merge", f"""
-- a report asks the database for each entry's latest value of each metric per day (postgres.PERIOD_SQL)
-- instead of reading 300,000 rows: the metrics a report counts (integers; NULL: a row it skips, see
-- periods.int_metrics), kept beside the line so the line is not parsed again for every report
ALTER TABLE {SCHEMA}.snapshots ADD COLUMN metrics jsonb;
UPDATE {SCHEMA}.snapshots s SET metrics = CASE
    WHEN m IS NULL OR m IN ('null', 'false', '0', '""', '[]', '{{}}') THEN '{{}}'::jsonb
    WHEN jsonb_typeof(m) = 'object' THEN (
        SELECT coalesce(jsonb_object_agg(key, value), '{{}}'::jsonb) FROM jsonb_each(m)
        WHERE jsonb_typeof(value) = 'boolean' OR (jsonb_typeof(value) = 'number' AND value::text ~ '^-?[0-9]+$'))
    END
FROM (SELECT id, project, (line::jsonb) -> 'metrics' AS m FROM {SCHEMA}.snapshots) j
WHERE j.project = s.project AND j.id = s.id;
-- rows of one entry in time order, with their metrics: the report's read is an index-only scan
-- whose groups (entry, day) come out nearly sorted (an incremental sort within each entry)
CREATE INDEX snapshots_entry ON {SCHEMA}.snapshots (project, entry, at, id) INCLUDE (metrics);
-- later keys win: merged in time order, a metric a later row lacks keeps its earlier value
CREATE AGGREGATE {SCHEMA}.metrics_merge(jsonb) (sfunc = jsonb_concat, stype = jsonb, initcond = '{{}}');
"""),
)

LATEST = MIGRATIONS[-1].version


class SchemaBehind(Refusal):
    """The database lacks migrations this version needs: ``publish state migrate`` applies them."""

    exit_code = 2


class SchemaAhead(Refusal):
    exit_code = 2


def current_version(conn) -> int:
    """The newest migration applied in the database ``conn`` reaches (0: none, not even the table)."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)).fetchone()
    if row[0] is None:
        return 0
    return conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version").fetchone()[0]


def check(conn, where: str) -> None:
    """Refuse to work on a database whose tables are not the ones this version expects."""
    version = current_version(conn)
    if version < LATEST:
        raise SchemaBehind(f"the state database {where} is at schema version {version}, this version of publish "
                           f"needs {LATEST}: run `publish state migrate` (once, from any one machine), then "
                           "try again")
    if version > LATEST:
        raise SchemaAhead(f"the state database {where} is at schema version {version}, newer than this version "
                          f"of publish knows ({LATEST}): upgrade publish on this machine")


def migrate(conn) -> list[Migration]:
    """Apply the migrations the database lacks, in one transaction (all or none) under one lock, so two
    machines migrating at once take turns; the ones applied (none when it was current)."""
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('newsroom.migrate'))")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version integer PRIMARY KEY, "
                     "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        version = current_version(conn)
        if version > LATEST:
            raise SchemaAhead(f"the state database is at schema version {version}, newer than this version of "
                              f"publish knows ({LATEST}): upgrade publish on this machine")
        for m in MIGRATIONS:
            if m.version <= version:
                continue
            conn.execute(m.sql)
            conn.execute(f"INSERT INTO {SCHEMA}.schema_version (version, name) VALUES (%s, %s)", (m.version, m.name))
            applied.append(m)
    return applied
