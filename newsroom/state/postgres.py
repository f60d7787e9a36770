"""The ``postgres`` state backend (``PostgresStore``): the same events as the files backend, in tables
of one PostgreSQL database that any number of ``publish`` and ``serve`` processes on any number of
machines share (docs/scaling.md).

- **The ledger** is one table of events in the order appended (``seq``). Every append takes the
  project's ledger lock (``pg_advisory_xact_lock``) before its rows get their numbers and lets it go
  at commit, so numbers become visible in order: a reader that has folded up to ``seq`` N only ever
  needs the rows after N (``entries`` reads just those, as the files backend reads new lines).
- **A claim** locks the entry's row (``INSERT … ON CONFLICT DO NOTHING`` makes it, ``SELECT … FOR
  UPDATE SKIP LOCKED`` takes it), reads the entry's freshest state, asks ``may_claim`` and appends the
  claim in the same transaction. Of any number of processes racing for an entry one holds the row; the
  others skip it at once (it is being claimed) instead of queueing behind it, which is what makes the
  claim table a work queue several ``serve`` processes share.
- **Runs in flight** hold a session lock (``pg_advisory_lock``) on a connection of their own for as
  long as they live; a killed process's connection closes and its lock goes with it, so its claims
  are seen as abandoned and reconciled by the next run (never sent blindly). A restart of the
  database drops every session lock too: claims of runs in flight are then reconciled as well.
- **Connections** come from a ``psycopg_pool.ConnectionPool`` per process and URL. A lost connection
  (the database restarting, a failover) is retried with backoff for ``RETRY_SECONDS``; a retried
  claim re-reads the entry, so a claim whose commit was lost with the connection is never made twice.
- **The URL** comes from the environment (``url: env:DATABASE_URL``); messages show it without its
  password (``where``), and any error text from the driver is scrubbed of it.

Rows keep the exact JSON line the files backend writes, so ``publish state export`` writes the same
files back (``interchange.py``). Tables are created by ``publish state migrate`` (``migrations.py``).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..credentials import KEY_VARIABLE, Vault
from ..problems import Refusal
from .fold import EntryState, dumps, fold_mentions, fold_replies, fresh_mentions
from .migrations import SCHEMA, check, migrate
from .periods import int_metrics

RETRY_SECONDS = 60.0  # how long an operation waits for a lost database to come back
RELOCK_SECONDS = 30  # after a restart of the database, how long a run that held its lock before has to take it again
CONNECT_TIMEOUT = 10  # seconds, for each connection attempt
SYNC_OFF = ", set_config('synchronous_commit', 'off', true)"  # for this transaction only

SNAPSHOT_COLUMNS = ("project", "at", "entry", "slot", "line", "metrics")

# The report's read (``period_metrics``; what it means: ``periods.py``). Each row falls in day -1 (the
# period before) or in the day ``width_bucket`` gives, the number of day starts at or before it (as
# ``bisect_right``; stamps compare byte by byte, so "C"). Per (entry, day) the rows' metrics are merged
# in time order, the later row stored winning a tie, so each metric keeps its latest value. The
# index ``snapshots_entry`` gives the rows of each entry in time order with their metrics.
PERIOD_SQL = f"""
SELECT entry, day, {SCHEMA}.metrics_merge(metrics ORDER BY at, id)::text
FROM (SELECT entry, at, id, metrics,
             CASE WHEN at < %(since)s THEN -1
                  WHEN cardinality(%(bounds)s::text[]) = 0 THEN 0
                  ELSE width_bucket(at COLLATE "C", %(bounds)s::text[]) END AS day
      FROM {SCHEMA}.snapshots
      WHERE project = %(p)s AND at >= %(prev)s AND at < %(until)s AND metrics IS NOT NULL) rows
GROUP BY entry, day
ORDER BY entry, day"""
# For this transaction only: room to sort in memory, and no JIT compilation (it costs more than it
# saves on a query that runs for about a second).
PERIOD_SETTINGS = "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"

_POOLS: dict[tuple[int, str], object] = {}
_POOLS_LOCK = threading.Lock()


def close_pools() -> None:
    """Close this process's connection pools (a test's end; a process's end closes them anyway)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


class StateUnavailable(Refusal):
    """The state database cannot be reached or used: the command stops with one clear message."""


def _drivers():
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise Refusal("the postgres state backend needs psycopg: pip install 'newsroom-publish[postgres]'") from None
    return psycopg, psycopg_pool


def _metrics(row: dict) -> str | None:
    """The ``metrics`` column of a snapshot row: what a report counts of it, as JSON (None: skipped)."""
    m = int_metrics(row.get("metrics"))
    return None if m is None else dumps(m)


def where(url: str) -> str:
    """The URL as messages show it: ``postgresql://user@host:port/dbname``, never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        d = conninfo_to_dict(url)
    except Exception:  # an unreadable URL: say nothing of it
        return "(the URL in state.url)"
    user = f"{d['user']}@" if d.get("user") else ""
    port = f":{d['port']}" if d.get("port") else ""
    return f"postgresql://{user}{d.get('host') or 'localhost'}{port}/{d.get('dbname') or ''}"


def scrub(text: str, url: str) -> str:
    """``text`` with the URL and its password taken out (a driver's message may quote either)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(url).get("password")
    except Exception:
        password = None
    text = text.replace(url, where(url))
    return text.replace(password, "***") if password else text


def lock_key(project: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` within ``project``."""
    digest = hashlib.blake2b(f"{project}\0{name}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def resolve_url(settings: dict, env) -> str:
    """The connection URL ``state.url`` names (``env:DATABASE_URL``); a clear refusal when unset."""
    ref = settings.get("url")
    name = getattr(ref, "env", None) or (ref[4:] if isinstance(ref, str) and ref.startswith("env:") else None)
    if name is None:
        if isinstance(ref, str) and ref:
            return ref  # given by code (a test, a bench), never by publish.yml, which refuses a literal
        raise StateUnavailable("state.backend is postgres but state.url is not set: add url: env:DATABASE_URL "
                               "under state in publish.yml and set DATABASE_URL")
    value = env.get(name)
    if not value:
        raise StateUnavailable(f"state.url names the environment variable {name}, which is not set: set it to "
                               "the database's URL (postgresql://user:password@host:5432/dbname)")
    return value


def connect(url: str):
    """One connection of its own (migrations, a run's lock), with the URL's password kept out of errors."""
    psycopg, _ = _drivers()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise StateUnavailable(f"cannot reach the state database {where(url)}: {scrub(str(exc).strip(), url)}"
                               ) from None


def apply_migrations(url: str) -> tuple[list, int]:
    """``publish state migrate``: the migrations applied now, and the version the database is at."""
    from .migrations import LATEST

    with connect(url) as conn:
        return migrate(conn), LATEST


class PostgresStore:
    """The ``postgres`` backend for project ``project`` in the database at ``url``."""

    backend = "postgres"

    def __init__(self, url: str | Callable[[], str], project: str, *, retry_seconds: float = RETRY_SECONDS):
        """``url``, or a function that gives it when first needed (a command that never touches the
        state, such as ``check``, works without the database or its variable)."""
        if not project:
            raise StateUnavailable("state.project is empty: name this project's key in the database")
        self._url, self.project, self.retry_seconds = url, project, retry_seconds
        self._entries: dict[str, EntryState] = {}
        self._seq = 0  # the ledger folded into _entries up to this seq
        self._ready = False

    @property
    def url(self) -> str:
        if callable(self._url):
            self._url = self._url()
        return self._url

    @property
    def where(self) -> str:
        return where(self.url)

    def describe(self) -> str:
        return f"postgres at {self.where}, project {self.project}"

    # -- connections --------------------------------------------------------------------------
    def _pool(self):
        _, psycopg_pool = _drivers()
        key = (os.getpid(), self.url)
        with _POOLS_LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                pool = psycopg_pool.ConnectionPool(
                    self.url, min_size=1, max_size=8, open=True, timeout=CONNECT_TIMEOUT, name="newsroom-state",
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT}, reconnect_timeout=0)
                # No check of each borrowed connection (a round trip each time): a broken one fails its
                # first statement, the pool drops it, and _run retries on a fresh one.
                _POOLS[key] = pool
        return pool

    def _first_use(self) -> None:
        """Before the first operation: reach the database once (a wrong URL or password fails at once,
        with the driver's reason) and refuse tables that are not the ones this version expects."""
        if self._ready:
            return
        with connect(self.url) as conn:
            check(conn, self.where)
        self._ready = True

    def _run(self, work: Callable):
        """``work(conn)`` on a pooled connection; a lost connection is retried with backoff."""
        psycopg, psycopg_pool = _drivers()
        self._first_use()
        delay, deadline = 0.1, None
        while True:
            try:
                with self._pool().connection() as conn:
                    return work(conn)
            except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
                now = time.monotonic()
                deadline = deadline or now + self.retry_seconds
                if now >= deadline:
                    raise StateUnavailable(f"lost the state database {self.where} and it did not come back within "
                                           f"{self.retry_seconds:g} s ({scrub(str(exc).strip(), self.url)}). "
                                           "Nothing more is sent; what was claimed is reconciled by the next "
                                           "run") from None
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _ledger_lock(self, conn) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.project, "ledger"),))

    # -- the ledger ---------------------------------------------------------------------------
    def _insert_events(self, conn, lines: list[str], entries: list, *, durable: bool = True) -> None:
        """Append in one statement (one round trip, its own transaction unless the caller's): the
        project's ledger lock is taken before any row gets its number and is let go at commit, so
        numbers become visible in order."""
        conn.execute(
            f"WITH lk AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s){SYNC_OFF if not durable else ''}) "
            f"INSERT INTO {SCHEMA}.ledger (project, entry, line) SELECT %s, t.entry, t.line "
            "FROM lk, unnest(%s::text[], %s::text[]) WITH ORDINALITY AS t(entry, line, n) ORDER BY t.n",
            (lock_key(self.project, "ledger"), self.project, entries, lines))

    def append(self, events: Iterable[dict], *, durable: bool = True) -> None:
        """``durable=False``: the commit does not wait for the disk (``synchronous_commit off`` for
        this transaction); the next durable commit, which flushes the log up to itself, covers it."""
        events = list(events)
        if not events:
            return
        lines, keys = [dumps(e) for e in events], [e.get("entry") for e in events]
        self._run(lambda conn: self._insert_events(conn, lines, keys, durable=durable))

    def _catch_up(self, conn) -> None:
        self._fold_rows(self._ask_new_rows(conn).fetchall())

    def _ask_new_rows(self, conn):
        return conn.execute(f"SELECT seq, line FROM {SCHEMA}.ledger WHERE project = %s AND seq > %s ORDER BY seq",
                            (self.project, self._seq))

    def _fold_rows(self, rows) -> None:
        if not rows:
            return
        entries = self._entries
        for e in json.loads("[" + ",".join(line for _, line in rows) + "]"):
            key = e.get("entry")
            if key:
                st = entries.get(key)
                if st is None:
                    st = entries[key] = EntryState(key)
                st.apply(e)
        self._seq = rows[-1][0]

    def events(self) -> Iterator[dict]:
        rows = self._run(lambda conn: conn.execute(
            f"SELECT line FROM {SCHEMA}.ledger WHERE project = %s ORDER BY seq", (self.project,)).fetchall())
        return iter([json.loads(line) for (line,) in rows])

    def entries(self) -> dict[str, EntryState]:
        self._run(self._catch_up)
        return self._entries

    def claim(self, key: str, event: dict, may_claim: Callable[[EntryState], bool], *,
              durable: bool = True) -> bool:
        # ``durable`` is not needed here: the claim's commit is durable either way, and costs the same
        line = dumps(event)

        def work(conn) -> bool:
            # Two round trips, each several statements in one simple query: (1) begin, make the entry's
            # row, take it (or skip it: another process is claiming it), read the ledger since our
            # last look (after the lock: every claim committed before is seen); (2) append the claim
            # and commit, or just commit.
            from psycopg import sql

            p, k = sql.Literal(self.project), sql.Literal(key)
            first = sql.SQL(
                "BEGIN; INSERT INTO {s}.entries (project, entry) VALUES ({p}, {k}) ON CONFLICT DO NOTHING; "
                "SELECT 1 FROM {s}.entries WHERE project = {p} AND entry = {k} FOR UPDATE SKIP LOCKED; "
                "SELECT seq, line FROM {s}.ledger WHERE project = {p} AND seq > {n} ORDER BY seq").format(
                s=sql.Identifier(SCHEMA), p=p, k=k, n=sql.Literal(self._seq))
            try:
                cur = conn.execute(first.as_string(conn))
                cur.nextset()
                cur.nextset()
                taken = cur.fetchall()
                cur.nextset()
                self._fold_rows(cur.fetchall())
                if not taken or not may_claim(self._entries.get(key) or EntryState(key)):
                    conn.execute("COMMIT")
                    return False
                conn.execute(sql.SQL(
                    "WITH lk AS MATERIALIZED (SELECT pg_advisory_xact_lock({lock})) "
                    "INSERT INTO {s}.ledger (project, entry, line) SELECT {p}, {e}, {line} FROM lk; COMMIT").format(
                    lock=sql.Literal(lock_key(self.project, "ledger")), s=sql.Identifier(SCHEMA), p=p,
                    e=sql.Literal(event.get("entry")), line=sql.Literal(line)).as_string(conn))
                return True
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise

        return self._run(work)

    def ledger_version(self) -> object:
        return self._run(lambda conn: conn.execute(f"SELECT max(seq) FROM {SCHEMA}.ledger WHERE project = %s",
                                                   (self.project,)).fetchone()[0])

    def save(self) -> None:
        """Nothing to keep: every commit is already durable (or made so by the next durable one)."""

    # -- runs in flight -----------------------------------------------------------------------
    @contextlib.contextmanager
    def run_lock(self, run: str):
        """A session lock on a connection of its own, and a row in ``runs``. A watcher thread takes the
        lock again whenever its connection is lost (the database restarted); until then the row says
        the run was alive before the restart (``run_alive``)."""
        self._first_use()
        key = lock_key(self.project, "run:" + run)
        stop = threading.Event()

        def lock(conn) -> None:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            conn.execute(f"INSERT INTO {SCHEMA}.runs (project, run) VALUES (%s, %s) ON CONFLICT (project, run) "
                         "DO UPDATE SET locked_at = now()", (self.project, run))

        held = [connect(self.url)]
        lock(held[0])

        def watch() -> None:
            delay = 0.2
            while not stop.wait(delay):
                try:
                    held[0].execute("SELECT 1")
                    delay = 0.5
                except Exception:
                    with contextlib.suppress(Exception):
                        held[0].close()
                    try:
                        conn = connect(self.url)
                        lock(conn)
                        held[0] = conn
                    except Exception:
                        delay = 0.5  # still down: try again

        watcher = threading.Thread(target=watch, name=f"run-lock {run}", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(5)
            with contextlib.suppress(Exception):
                held[0].execute(f"DELETE FROM {SCHEMA}.runs WHERE project = %s AND run = %s", (self.project, run))
                # let go before returning: a closed connection's locks go only once its server process sees it
                held[0].execute("SELECT pg_advisory_unlock(%s)", (key,))
            with contextlib.suppress(Exception):
                held[0].close()

    def run_alive(self, run: str | None) -> bool:
        """Whether run ``run`` holds its lock, or held it before the database restarted less than
        ``RELOCK_SECONDS`` ago (it may not have taken it again yet). A killed process's connection
        closes and its lock goes with it: its claims are reconciled by the next run."""
        if not run:
            return False
        sql, args = self._alive(run)
        return self._run(lambda conn: conn.execute(f"SELECT {sql}", args).fetchone()[0])

    def _alive(self, run: str) -> tuple[str, tuple]:
        """The SQL condition (and its arguments) that run ``run`` is alive (``run_alive``)."""
        key = lock_key(self.project, "run:" + run)
        return ("(EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND classid = %s AND objid = %s) "
                f"OR EXISTS (SELECT 1 FROM {SCHEMA}.runs WHERE project = %s AND run = %s "
                "AND locked_at < pg_postmaster_start_time() AND now() < pg_postmaster_start_time() + %s))",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF, self.project, run, timedelta(seconds=RELOCK_SECONDS)))

    def ended_runs(self) -> list[str]:
        """The ``runs`` rows whose run holds no lock (a killed run cannot delete its own)."""
        runs = [r for (r,) in self._run(lambda conn: conn.execute(
            f"SELECT run FROM {SCHEMA}.runs WHERE project = %s ORDER BY run", (self.project,)).fetchall())]
        return [run for run in runs if not self.run_alive(run)]

    def forget_run(self, run: str) -> bool:
        """One ``DELETE`` that checks the lock in the same statement: a run taking its lock again (after
        a restart of the database) writes its row again, so it is never left without one."""
        sql, args = self._alive(run)
        return self._run(lambda conn: conn.execute(
            f"DELETE FROM {SCHEMA}.runs WHERE project = %s AND run = %s AND NOT {sql}",
            (self.project, run, *args)).rowcount) == 1

    # -- what pulls found ---------------------------------------------------------------------
    def add_snapshots(self, rows: Iterable[dict]) -> int:
        data = [(self.project, r["at"], r["entry"], r.get("slot") or "", dumps(r), _metrics(r)) for r in rows]
        if data:
            self._run(lambda conn: self._copy(conn, "snapshots", SNAPSHOT_COLUMNS, data))
        return len(data)

    def period_metrics(self, since: str, until: str, prev_since: str, bounds: list[str]) -> tuple[dict, dict]:
        """Asked of the database (``PERIOD_SQL``): 300,000 rows become one row per entry and day, and
        only those cross the connection, their metrics decoded at once."""
        import msgspec

        args = {"p": self.project, "since": since, "until": until, "prev": prev_since, "bounds": list(bounds)}

        def work(conn):
            with conn.transaction():
                conn.execute(PERIOD_SETTINGS)
                return conn.execute(PERIOD_SQL, args).fetchall()

        rows = self._run(work)
        metrics = msgspec.json.decode(("[" + ",".join(m for _, _, m in rows) + "]").encode("utf-8"))
        daily: dict[str, list] = {}
        prev: dict[str, dict] = {}
        for (entry, day, _), m in zip(rows, metrics):
            if day < 0:
                prev[entry] = m
            else:
                per = daily.get(entry)
                if per is None:
                    daily[entry] = [[day, m]]
                else:
                    per.append([day, m])
        return daily, prev

    @staticmethod
    def _copy(conn, table: str, columns: tuple[str, ...], data: list[tuple]) -> None:
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(f"COPY {SCHEMA}.{table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)

    def _range(self, since: str | None, until: str | None) -> tuple[str, list]:
        sql, args = "project = %s", [self.project]
        if since is not None:
            sql, args = sql + " AND at >= %s", args + [since]
        if until is not None:
            sql, args = sql + " AND at < %s", args + [until]
        return sql, args

    def snapshots(self, since: str | None = None, until: str | None = None) -> Iterator[dict]:
        sql, args = self._range(since, until)
        rows = self._run(lambda conn: conn.execute(
            f"SELECT line FROM {SCHEMA}.snapshots WHERE {sql} ORDER BY left(at, 7), id", args).fetchall())
        return iter([json.loads(line) for (line,) in rows])

    def snapshot_batches(self, since: str | None = None, until: str | None = None, *,
                         slots: bool = True) -> Iterator[list]:
        """Per month, its rows joined by the database into one text and decoded at once (msgspec),
        the files backend's fast path: 300,000 rows come back as a dozen values, not 300,000."""
        from .files import decode_rows

        sql, args = self._range(since, until)
        months = self._run(lambda conn: conn.execute(
            f"SELECT string_agg(line, E'\\n' ORDER BY id) FROM {SCHEMA}.snapshots WHERE {sql} "
            "GROUP BY left(at, 7) ORDER BY left(at, 7)", args).fetchall())
        for (text,) in months:
            yield decode_rows(text.encode("utf-8") + b"\n", slots)

    def filled_slots(self, since: str | None = None) -> set[tuple[str, str]]:
        sql, args = self._range(since[:7] if since else None, None)  # whole months, as the files backend
        rows = self._run(lambda conn: conn.execute(
            f"SELECT DISTINCT entry, slot FROM {SCHEMA}.snapshots WHERE {sql}", args).fetchall())
        return {(e, s) for e, s in rows}

    def _lines(self, table: str) -> list[dict]:
        rows = self._run(lambda conn: conn.execute(
            f"SELECT line FROM {SCHEMA}.{table} WHERE project = %s ORDER BY id", (self.project,)).fetchall())
        return [json.loads(line) for (line,) in rows]

    def replies(self) -> list[dict]:
        return fold_replies(self._lines("replies"))

    def add_replies(self, rows: Iterable[dict]) -> int:
        rows = list(rows)

        def work(conn) -> int:
            added = 0
            with conn.transaction():
                for r in rows:
                    cur = conn.execute(f"INSERT INTO {SCHEMA}.replies (project, channel, remote_id, line) "
                                       "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                       (self.project, r["channel"], str(r["remote_id"]), dumps(r)))
                    added += cur.rowcount
            return added

        return self._run(work) if rows else 0

    def mentions(self) -> list[dict]:
        return fold_mentions(self._lines("mentions"))

    def add_mentions(self, rows: Iterable[dict]) -> tuple[int, int]:
        rows = list(rows)

        def work(conn) -> tuple[int, int]:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.project, "mentions"),))
                known = [json.loads(line) for (line,) in conn.execute(
                    f"SELECT line FROM {SCHEMA}.mentions WHERE project = %s ORDER BY id", (self.project,))]
                fresh, added, updated = fresh_mentions(known, rows)
                with conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {SCHEMA}.mentions (project, line) VALUES (%s, %s)",
                                    [(self.project, dumps(r)) for r in fresh])
            return added, updated

        return self._run(work)

    def feed_cache(self) -> dict[str, dict]:
        return {r.get("feed"): r for r in self._lines("feeds")}

    def set_feed_cache(self, rows: Iterable[dict]) -> None:
        data = [(self.project, r.get("feed"), dumps(r)) for r in rows]
        if data:
            self._run(lambda conn: self._copy(conn, "feeds", ("project", "feed", "line"), data))

    def record_pull(self, event: dict) -> None:
        self._run(lambda conn: conn.execute(f"INSERT INTO {SCHEMA}.pulls (project, line) VALUES (%s, %s)",
                                            (self.project, dumps(event))))

    def pulls(self) -> list[dict]:
        return self._lines("pulls")

    # -- credentials --------------------------------------------------------------------------
    def credentials(self, env) -> Vault:
        return DatabaseVault(self, env.get(KEY_VARIABLE))

    def credential_token(self) -> bytes:
        row = self._run(lambda conn: conn.execute(f"SELECT token FROM {SCHEMA}.credentials WHERE project = %s",
                                                  (self.project,)).fetchone())
        return bytes(row[0]) if row else b""

    def set_credential_token(self, token: bytes, conn=None) -> None:
        sql = (f"INSERT INTO {SCHEMA}.credentials (project, token) VALUES (%s, %s) "
               "ON CONFLICT (project) DO UPDATE SET token = excluded.token")
        if conn is not None:
            conn.execute(sql, (self.project, token))
        else:
            self._run(lambda c: c.execute(sql, (self.project, token)))

    # -- moving between backends (interchange.py) ---------------------------------------------
    def export_lines(self, kind: str) -> Iterator[str]:
        """The stored JSON lines of ``kind`` in the order stored (``interchange.KINDS``)."""
        table, order = ("ledger", "seq") if kind == "ledger" else (kind, "left(at, 7), id" if kind == "snapshots"
                                                                   else "id")
        rows = self._run(lambda conn: conn.execute(
            f"SELECT line FROM {SCHEMA}.{table} WHERE project = %s ORDER BY {order}", (self.project,)).fetchall())
        return (line for (line,) in rows)

    def import_lines(self, kind: str, lines: Iterable[str]) -> int:
        """Store JSON lines of ``kind`` exactly as given (``publish state import``)."""
        p = self.project
        columns = {"ledger": ("project", "entry", "line"), "snapshots": SNAPSHOT_COLUMNS,
                   "replies": ("project", "channel", "remote_id", "line"), "mentions": ("project", "line"),
                   "feeds": ("project", "feed", "line"), "pulls": ("project", "line")}[kind]
        data = []
        for line in lines:
            r = json.loads(line)
            data.append({"ledger": lambda: (p, r.get("entry"), line),
                         "snapshots": lambda: (p, r["at"], r["entry"], r.get("slot") or "", line, _metrics(r)),
                         "replies": lambda: (p, r["channel"], str(r["remote_id"]), line),
                         "feeds": lambda: (p, r.get("feed"), line)}.get(kind, lambda: (p, line))())
        if data:
            def work(conn):
                with conn.transaction():
                    if kind == "ledger":
                        self._ledger_lock(conn)
                    with conn.cursor() as cur, cur.copy(
                            f"COPY {SCHEMA}.{'ledger' if kind == 'ledger' else kind} ({', '.join(columns)}) "
                            "FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)

            self._run(work)
            if kind == "snapshots":  # many rows at once: the report's index-only scan needs them vacuumed
                self._run(lambda conn: conn.execute(f"VACUUM (ANALYZE) {SCHEMA}.snapshots"))
        return len(data)

    def counts(self) -> dict[str, int]:
        """How many rows of each kind this project holds (an import goes only into an empty store)."""
        from .interchange import KINDS

        def work(conn):
            return {k: conn.execute(f"SELECT count(*) FROM {SCHEMA}.{k} WHERE project = %s",
                                    (self.project,)).fetchone()[0] for k in KINDS}

        out = self._run(work)
        out["credentials"] = int(bool(self.credential_token()))
        return out

    def projects(self) -> list[str]:
        """Every project key with rows in this database (``status --all``)."""
        return [p for (p,) in self._run(lambda conn: conn.execute(
            f"SELECT DISTINCT project FROM {SCHEMA}.ledger ORDER BY project").fetchall())]


class DatabaseVault(Vault):
    """The encrypted credentials in the ``credentials`` table: ``newsroom.credentials.Vault`` with the
    Fernet token kept in a row, changed under the project's credentials lock inside one transaction."""

    def __init__(self, store: PostgresStore, key: str | None):
        super().__init__(path=Path(store.project), key=key, lock=self._locked,
                         label=f"the credentials of project {store.project} in the state database")
        self.store = store
        self._conn = None

    @contextlib.contextmanager
    def _locked(self):
        store = self.store
        store._first_use()
        with store._pool().connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(store.project, "credentials"),))
            self._conn = conn
            try:
                yield
            finally:
                self._conn = None

    @property
    def exists(self) -> bool:
        return bool(self.store.credential_token())

    def _read_token(self) -> bytes:
        if self._conn is None:
            return self.store.credential_token()
        row = self._conn.execute(f"SELECT token FROM {SCHEMA}.credentials WHERE project = %s",
                                 (self.store.project,)).fetchone()
        return bytes(row[0]) if row else b""

    def _write_token(self, token: bytes) -> None:
        self.store.set_credential_token(token, self._conn)
