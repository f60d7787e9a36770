"""The postgres backend through the command line, on a real server (``pgserver.py``): migrations
applied only by ``publish state migrate``, files → PostgreSQL → files without losing a record,
``status`` naming the backend, many projects in one database, the URL's password never shown, and a
database restart in the middle of a run's writes."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from newsroom.credentials import Credential, new_key
from newsroom.state import open_store
from newsroom.state.migrations import LATEST, MIGRATIONS
from publishing import SETTINGS, approved, make_newsroom
from servers.testchannel import ChannelServer, register

POSTGRES = "state:\n  backend: postgres\n  url: env:DATABASE_URL\n"


@pytest.fixture
def server():
    with ChannelServer() as s:
        yield s


def where(url: str) -> str:
    """The URL as messages show it (no password)."""
    rest = url.split("@", 1)[1]
    return f"postgresql://postgres@{rest}"


def on_postgres(n, url: str, project: str | None = None) -> None:
    """Switch the newsroom ``n`` to the database at ``url``."""
    text = (n.root / "publish.yml").read_text()
    block = POSTGRES + (f"  project: {project}\n" if project else "")
    (n.root / "publish.yml").write_text(text + block)
    n.env["DATABASE_URL"] = url


def test_nothing_is_created_silently_and_migrate_says_what_it_applied(tmp_path, server, monkeypatch, pg_empty_url):
    register(monkeypatch)
    n = make_newsroom(tmp_path / "p", server, {"content/a.md": approved("A")})
    on_postgres(n, pg_empty_url)
    result = n.run("publish")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"error: the state database {where(pg_empty_url)} is at schema version 0, this version of publish needs "
        f"{LATEST}: run `publish state migrate` (once, from any one machine), then try again")
    assert server.posts == []
    result = n.run("state", "migrate")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"applied {m.version}: {m.name}" for m in MIGRATIONS] + [
        f"the state database {where(pg_empty_url)} is at schema version {LATEST}"]
    again = n.run("state", "migrate", "--format", "json")
    assert json.loads(again.output) == {"backend": "postgres", "where": where(pg_empty_url), "version": LATEST,
                                        "applied": []}
    result = n.run("publish")
    assert result.exit_code == 0, result.output
    assert len(server.posts) == 1


def test_the_url_comes_from_the_environment_and_its_password_is_never_shown(tmp_path, server, monkeypatch,
                                                                             pg_cluster, pg_url):
    register(monkeypatch)
    n = make_newsroom(tmp_path / "p", server, {"content/a.md": approved("A")})
    on_postgres(n, pg_url)
    del n.env["DATABASE_URL"]
    result = n.run("status")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "error: state.url names the environment variable DATABASE_URL, which is not set: set it to the database's "
        "URL (postgresql://user:password@host:5432/dbname)")
    wrong = pg_url.replace(pg_cluster.password, "not-the-password")
    result = n.run("publish", env={"DATABASE_URL": wrong})
    assert result.exit_code == 1
    message = result.output.splitlines()[-1]
    assert message.startswith(f"error: cannot reach the state database {where(pg_url)}: ")
    assert "password authentication failed" in message
    assert "not-the-password" not in result.output and pg_cluster.password not in result.output
    assert server.posts == []


def test_a_literal_url_in_publish_yml_is_refused_without_echoing_it(tmp_path, server, monkeypatch):
    register(monkeypatch)
    n = make_newsroom(tmp_path / "p", server, {"content/a.md": approved("A")})
    text = (n.root / "publish.yml").read_text()
    (n.root / "publish.yml").write_text(text + "state:\n  backend: postgres\n  url: postgresql://u:hunter2@db/x\n")
    result = n.run("check", "--offline")
    assert result.exit_code == 2  # an error in publish.yml: publish would not run
    assert "hunter2" not in result.output
    assert "publish.yml:31: state.url: a secret must be named, not written: use env:VARIABLE_NAME" in result.output
    (n.root / "publish.yml").write_text(text + "state:\n  backend: postgres\n")
    result = n.run("check", "--offline")
    assert ("publish.yml:30: state.url: the postgres backend needs the database's URL from the environment: add "
            "url: env:DATABASE_URL under state and set DATABASE_URL") in result.output


def fill(store, env) -> None:
    """One of every kind of record the state holds."""
    store.add_snapshots([{"at": f"2026-{m:02d}-03T10:00:00Z", "entry": "a/social", "item": "a", "channel": "social",
                          "metrics": {"likes": m}, "pull": "p1", "slot": f"2026-{m:02d}-03T09:00:00Z"}
                         for m in (10, 11, 12)])
    store.add_replies([{"channel": "social", "remote_id": "r1", "text": "nice ✓", "at": "2026-11-20T10:00:00Z"}])
    store.add_mentions([{"feed": "news", "id": "g1", "link": "https://n.test/1", "title": "T", "views": None,
                         "comments": 1, "fetched": "2026-11-20T10:00:00Z"}])
    store.add_mentions([{"feed": "news", "id": "g1", "link": "https://n.test/1", "title": "T", "views": None,
                         "comments": 2, "fetched": "2026-11-21T10:00:00Z"}])
    store.set_feed_cache([{"feed": "news", "etag": "a"}])
    store.set_feed_cache([{"feed": "news", "etag": "b"}])
    store.record_pull({"event": "started", "pull": "p1", "at": "2026-11-20T10:00:00Z"})
    store.credentials(env).put("social", Credential(access_token="tok", refresh_token="ref"))


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in (".lock", "credentials") and ".runs" not in p.parts}


def test_files_to_postgres_to_files_loses_no_record(tmp_path, server, monkeypatch, pg_url):
    register(monkeypatch)
    files = {f"content/i{k}.md": approved(f"I{k}", channels=["social", "chat"]) for k in range(3)}
    n = make_newsroom(tmp_path / "p", server, files)
    env = {"NEWSROOM_KEY": new_key()}
    n.env.update(env)
    assert n.run("publish").exit_code == 0
    fill(open_store(n.root, {"backend": "files", "path": "state"}), env)
    before = files_of(n.root / "state")
    token = (n.root / "state" / "credentials").read_bytes()
    events = len(n.ledger())
    assert events > 12  # a claim and a receipt per entry at least

    result = n.run("state", "export", str(tmp_path / "out1"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"moved {events} ledger, 3 snapshots, 1 replies, 2 mentions, 2 feeds, 1 pulls, 1 credentials",
        f"from files in state/ to {tmp_path / 'out1'}"]
    assert files_of(tmp_path / "out1") == before

    on_postgres(n, pg_url)
    result = n.run("state", "import", str(tmp_path / "out1"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (f"from {tmp_path / 'out1'} to postgres at {where(pg_url)}, "
                                             "project https://news.test")
    status = n.run("status", "--offline", "--now", "2026-11-20T09:30:00Z")
    assert "  3 delivered" in status.output.splitlines()[2]
    assert status.output.splitlines()[-1] == f"state: postgres at {where(pg_url)}, project https://news.test"
    data = json.loads(n.run("status", "--offline", "--format", "json").output)
    assert data["state"]["backend"] == "postgres"
    store = open_store(n.root, {"backend": "postgres", "url": pg_url, "project": "https://news.test"})
    assert store.credentials(env).get("social").refresh_token == "ref"
    assert n.run("publish", now="2026-11-20T09:40:00Z").exit_code == 0
    assert len(server.posts) == 6  # nothing sent again after the move

    again = n.run("state", "import", str(tmp_path / "out1"))
    assert again.exit_code == 2
    assert again.output.splitlines()[-1].startswith(
        f"error: the project's state (postgres at {where(pg_url)}, project https://news.test) already holds records "
        f"({events} ledger, 3 snapshots, 1 replies, 2 mentions, 2 feeds, 1 pulls, 1 credentials): import only into an "
        "empty store")

    result = n.run("state", "export", str(tmp_path / "out2"))
    assert result.exit_code == 0, result.output
    assert files_of(tmp_path / "out2") == before
    assert (tmp_path / "out2" / "credentials").read_bytes() == token
    refused = n.run("state", "export", str(tmp_path / "out2"))
    assert refused.output.splitlines()[-1] == (f"error: {tmp_path / 'out2'} is not an empty folder: export into a "
                                               "new one (nothing was written)")


def test_many_projects_share_one_database_and_status_all_lists_them(tmp_path, monkeypatch, pg_url):
    register(monkeypatch)
    servers = [ChannelServer().__enter__() for _ in range(2)]
    try:
        rooms = []
        for k, (brand, srv) in enumerate(zip(("brand-a", "brand-b"), servers)):
            n = make_newsroom(tmp_path / brand, srv, {f"content/x{j}.md": approved(f"X{j}") for j in range(k + 1)},
                              settings=SETTINGS.replace("https://news.test", f"https://{brand}.test"))
            on_postgres(n, pg_url, project=brand)
            assert n.run("publish").exit_code == 0
            rooms.append(n)
        assert [len(s.posts) for s in servers] == [1, 2]
        result = rooms[0].run("status", "--all")
        assert result.output.splitlines()[:2] == [
            "* brand-a: 1 entries (1 delivered); last event 2026-11-20T09:00:00+00:00",
            "  brand-b: 2 entries (2 delivered); last event 2026-11-20T09:00:00+00:00"]
        rows = json.loads(rooms[1].run("status", "--all", "--format", "json").output)
        assert [(r["project"], r["this"], r["entries"]) for r in rows] == [("brand-a", False, 1), ("brand-b", True, 2)]
        # each brand's ledger is its own: brand-a sees none of brand-b's entries
        a = open_store(rooms[0].root, {"backend": "postgres", "url": pg_url, "project": "brand-a"})
        assert sorted(a.entries()) == ["x0/social"]
    finally:
        for s in servers:
            s.__exit__(None, None, None)


def test_writes_wait_for_a_restarted_database_and_nothing_is_lost_or_doubled(pg_cluster, pg_url, tmp_path):
    store = open_store(tmp_path, {"backend": "postgres", "url": pg_url, "project": "p"})
    won = [store.claim(f"e{k}/social", {"event": "claimed", "entry": f"e{k}/social", "run": "r1"},
                       lambda st: st.state == "pending") for k in range(5)]
    restart = threading.Thread(target=pg_cluster.restart)
    restart.start()
    k = 5
    while restart.is_alive() or k < 60:  # across the restart: each waits (backoff) until the database is back
        won.append(store.claim(f"e{k}/social", {"event": "claimed", "entry": f"e{k}/social", "run": "r1"},
                               lambda st: st.state == "pending"))
        store.append([{"event": "delivered", "entry": f"e{k}/social", "receipt": {"remote_id": str(k)}}],
                     durable=False)
        k += 1
    restart.join()
    assert all(won)
    fresh = open_store(tmp_path, {"backend": "postgres", "url": pg_url, "project": "p"})
    events = list(fresh.events())
    assert sorted(e["entry"] for e in events if e["event"] == "claimed") == sorted(f"e{j}/social" for j in range(k))
    assert sorted(e["entry"] for e in events if e["event"] == "delivered") == sorted(
        f"e{j}/social" for j in range(5, k))


def test_a_run_stays_alive_across_a_restart_of_the_database_and_takes_its_lock_again(pg_cluster, pg_url, tmp_path):
    import time

    import psycopg

    from newsroom.state.postgres import lock_key

    settings = {"backend": "postgres", "url": pg_url, "project": "p"}
    run, other = open_store(tmp_path, settings), open_store(tmp_path, settings)
    key = lock_key("p", "run:r1")

    def locked() -> bool:
        with psycopg.connect(pg_url) as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                "AND classid = %s AND objid = %s)", ((key >> 32) & 0xFFFFFFFF,
                                                                    key & 0xFFFFFFFF)).fetchone()[0]

    with run.run_lock("r1"):
        assert locked() and other.run_alive("r1")
        pg_cluster.restart()
        assert other.run_alive("r1")  # its claims are not someone else's to reconcile
        end = time.monotonic() + 20
        while not locked():
            assert time.monotonic() < end, "the run did not take its lock again"
            time.sleep(0.1)
    assert other.run_alive("r1") is False


def test_migration_3_gives_rows_stored_before_it_their_metrics(tmp_path, monkeypatch, pg_empty_url):
    """A database at version 2 holds snapshot lines without the metrics column the report reads: the
    migration fills it from each line, counting what the files backend counts."""
    import psycopg

    from newsroom.state import migrations
    from newsroom.state.fold import dumps

    rows = [{"at": "2026-11-01T09:00:00Z", "entry": "a/m", "metrics": {"likes": 1, "shares": 2}},
            {"at": "2026-11-01T10:00:00Z", "entry": "a/m", "metrics": {"likes": 3, "rate": 0.5, "note": "x"}},
            {"at": "2026-11-01T11:00:00Z", "entry": "b/m", "metrics": None},
            {"at": "2026-11-01T12:00:00Z", "entry": "c/m", "metrics": ["likes", 9]},  # skipped
            {"at": "2026-11-01T12:00:00Z", "entry": "d/m"},
            {"at": "2026-11-02T09:00:00Z", "entry": "a/m", "metrics": {"likes": 4.0, "shares": -1}}]
    with psycopg.connect(pg_empty_url, autocommit=True) as conn:
        with monkeypatch.context() as patch:
            patch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:2])
            patch.setattr(migrations, "LATEST", 2)
            migrations.migrate(conn)
        for r in rows:
            conn.execute("INSERT INTO newsroom.snapshots (project, at, entry, line) VALUES ('p', %s, %s, %s)",
                         (r["at"], r["entry"], dumps(r)))
        assert [m.version for m in migrations.migrate(conn)] == [3]
    files = open_store(tmp_path, {"backend": "files", "path": "state"})
    files.add_snapshots(rows)
    args = ("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", "2026-10-30T00:00:00Z", ["2026-11-02T00:00:00Z"])
    expected = ({"a/m": [[0, {"likes": 3, "shares": 2}], [1, {"shares": -1}]], "b/m": [[0, {}]], "d/m": [[0, {}]]},
                {})
    assert files.period_metrics(*args) == expected
    assert open_store(tmp_path, {"backend": "postgres", "url": pg_empty_url, "project": "p"}).period_metrics(
        *args) == expected
