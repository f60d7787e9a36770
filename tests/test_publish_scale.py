"""What keeps a publish run linear in the size of the project: kept posts reused, the ledger read
once, syndication kept up as entries go out rather than rebuilt for each."""
import shutil

import pytest
from click.testing import CliRunner

from conftest import item, write_project

SETTINGS = """\
site:
  title: Scale News
  url: https://scale.example
timezone: UTC
channels:
  blog:
    type: blog
calendar:
  severity:  # many items at one time: the calendar's rules are tested elsewhere
    conflict: warning
    max_per_day: warning
"""
NOW = "2026-11-21T00:00Z"


def newsroom(root, n: int = 12):
    files = {f"content/post-{i:02d}.md": item(f"Post {i}", status="approved", approved_by="Ed", author="Writer",
                                              publish_at=f"2026-11-20T{i % 24:02d}:00", channels=["blog"],
                                              body=f"Some *text* for post {i}.\n")
             for i in range(n)}
    return write_project(root, files, SETTINGS)


def publish(root, *args):
    from publish import cli

    result = CliRunner().invoke(cli, ["--root", str(root), "publish", "--now", NOW, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def count_renders(monkeypatch) -> list:
    import channels.render

    class Calls(list):
        quick: list

    calls = Calls()
    calls.quick = []
    real = channels.render.render_post

    def counting(project, item, channel, **kw):
        # check's quick renders (the verdict the run shares with check: stand-in bodies, kept in
        # .cache/render-check.json) are counted apart from the renders made for delivery
        (calls.quick if kw.get("quick") else calls).append((item.path, channel.name))
        return real(project, item, channel, **kw)

    monkeypatch.setattr(channels.render, "render_post", counting)
    return calls


def test_a_ci_run_with_the_cache_restored_renders_nothing_it_kept(tmp_path, monkeypatch):
    root = newsroom(tmp_path / "news")
    calls = count_renders(monkeypatch)
    publish(root)
    assert len(calls) == 12  # the cold run renders each post once, for delivery and the site alike
    assert len(calls.quick) == 12  # and check's verdict once (its quick render), kept for the next run
    calls.quick.clear()
    page = (root / "public" / "post-03" / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(root / "state")
    shutil.rmtree(root / "public")
    calls.clear()
    publish(root)
    assert calls == [] and calls.quick == []
    assert (root / "public" / "post-03" / "index.html").read_text(encoding="utf-8") == page
    # an edited item is rendered again, and only that one
    (root / "content" / "post-05.md").write_text(
        item("Post 5", status="approved", approved_by="Ed", author="Writer", publish_at="2026-11-20T05:00",
             channels=["blog"], body="Corrected *text*.\n"), encoding="utf-8")
    shutil.rmtree(root / "state")
    calls.clear()
    publish(root)
    assert calls == [("content/post-05.md", "blog")]
    assert "Corrected" in (root / "public" / "post-05" / "index.html").read_text(encoding="utf-8")


class LedgerReads:
    """Bytes read from the ledger and fsync calls, by the files backend."""

    def __init__(self, monkeypatch, ledger):
        import os

        import newsroom.state.files as files

        self.ledger, self.read, self.fsyncs = str(ledger), 0, 0
        real_open, real_fsync = open, os.fsync
        reads = self

        class Counted:
            def __init__(self, f):
                self.f = f

            def read(self, *args):
                data = self.f.read(*args)
                reads.read += len(data)
                return data

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        def counted_open(path, *args, **kw):
            f = real_open(path, *args, **kw)
            return Counted(f) if str(path) == self.ledger else f

        def counted_fsync(fd):
            self.fsyncs += 1
            return real_fsync(fd)

        monkeypatch.setattr(files, "open", counted_open, raising=False)
        monkeypatch.setattr(os, "fsync", counted_fsync)


def test_a_run_reads_the_ledger_once_and_syncs_the_blogs_claims_once(tmp_path, monkeypatch):
    root = newsroom(tmp_path / "news", n=24)
    publish(root, "--now", "2026-11-20T11:30Z")  # the first twelve go out; the ledger has their events
    ledger = root / "state" / "ledger.jsonl"
    before = ledger.stat().st_size
    for cache in (True, False):  # with the ledger's fold kept in .cache/, and without it
        if not cache:
            (root / ".cache" / "ledger-fold.marshal").unlink()
        reads = LedgerReads(monkeypatch, ledger)
        publish(root, "--now", "2026-11-20T17:30Z" if cache else NOW)  # six more each time
        delivered = [line for line in ledger.read_text().splitlines() if '"event":"delivered"' in line]
        assert len(delivered) == (18 if cache else 24)
        # each byte that was there before the run read at most once (a 4 KiB tail check aside),
        # the run's own events never read back, and the "also on" links not rebuilt per entry
        assert reads.read <= (0 if cache else before) + 4096, (reads.read, before)
        # the blog's claims guard nothing sent (its pages go out when the site is built): no fsync
        # each (test_publish_run.py shows a platform's claims on disk before their posts), one at
        # the end for the claims and receipts
        assert reads.fsyncs == 1
        before = ledger.stat().st_size
        monkeypatch.undo()


def test_posts_rendered_in_worker_processes_are_the_same_posts(tmp_path):
    """A whole process (a test worker has threads, where forking is not done): two runs of the same
    project, one rendering in two worker processes, give the same site and the same ledger."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    def run(root, workers):
        done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "publish", "--now", NOW],
                              capture_output=True, text=True, env={**os.environ, "NEWSROOM_RENDER_WORKERS": workers})
        assert done.returncode == 0, done.stderr
        assert ("rendered 12 posts in 2 worker processes" in done.stdout) == (workers == "2"), done.stdout

    sites = {}
    for workers in ("1", "2", "2 from the item cache"):
        root = newsroom(tmp_path / f"news-{workers[0]}{len(workers)}", n=12)
        if workers.endswith("cache"):
            # the items come from .cache/items/ without their bodies: the workers render with the
            # bodies read once in the parent; the posts and pages it kept are gone, so all are rendered
            run(root, "1")
            for name in ("state", "public", ".cache/site-blog"):
                shutil.rmtree(root / name)
            shutil.rmtree(root / ".cache/posts-blog")
        run(root, workers[0])
        sites[workers] = {p.relative_to(root / "public").as_posix(): p.read_bytes()
                          for p in sorted((root / "public").rglob("*")) if p.is_file()}
        events = [line.split('"run":')[0] for line in (root / "state" / "ledger.jsonl").read_text().splitlines()]
        sites[workers]["ledger"] = "\n".join(events).encode()
    assert sites["1"] == sites["2"] == sites["2 from the item cache"] and len(sites["1"]) > 12


def test_render_workers_only_when_the_posts_pay_for_the_fork(monkeypatch):
    """Forking write-protects every page the run holds, and the run then faults on each one it writes
    again: the posts the other processes take off it must outweigh that (figures in newsroom/workers.py)."""
    import multiprocessing
    import threading

    from newsroom import workers

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here: workers are never used")
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # as the command line: no other thread
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    # the benchmark's 10,000 items: 1,455 posts in a 197 MB process gave no time back on two cores
    assert workers.workers(1455, {}, resident_mb=197) == 1
    # every item approved at 5,000: 1,930 posts in 117 MB, and they did
    assert workers.workers(1930, {}, resident_mb=117) == 2
    # the balance moves with the cores: four share the same posts three ways more
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 4)
    assert workers.workers(1455, {}, resident_mb=197) == 4
    # few posts never fork, however small the process
    assert workers.workers(workers.MIN_JOBS - 1, {}, resident_mb=1) == 1
    # asked for by number: that many, whatever the memory
    assert workers.workers(1455, {"NEWSROOM_RENDER_WORKERS": "2"}, resident_mb=10_000) == 2
    assert workers.workers(1455, {"NEWSROOM_RENDER_WORKERS": "1"}, resident_mb=1) == 1
    # and the memory read off the system is this process's, in MB
    assert 1 < workers.resident() < 100_000


def test_a_run_asks_each_content_file_for_its_stat_once(tmp_path, monkeypatch):
    """The no-op cache's signature stats every item file; the load reuses those stat keys (10,000 files
    are not asked twice), and an item edited after the signature is seen, as the signature says, next run."""
    import os

    from newsroom import items as items_module

    root = newsroom(tmp_path / "news", n=6)
    publish(root)
    asked = []

    class CountingOs:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def stat(path, *a, **k):
            asked.append(str(path))
            return os.stat(path, *a, **k)

    monkeypatch.setattr(items_module, "os", CountingOs())
    edited = root / "content/post-03.md"
    edited.write_text(edited.read_text().replace("Some *text*", "Other *text*"))
    os.utime(edited, ns=(7, 7))
    assert "corrected" in publish(root, "--now", "2026-11-21T01:00Z").output
    assert [p for p in asked if "/content/" in p] == []


def test_a_correction_rewrites_only_the_kept_posts_of_its_shard(tmp_path, monkeypatch):
    """The blog's kept posts are spread over shards: one corrected item of many does not write every
    rendered post again, and the next run finds every post it kept."""
    import os

    from channels.postcache import _shard

    root = newsroom(tmp_path / "news", n=24)
    publish(root)
    folder = root / ".cache/posts-blog"
    shards = sorted(p.name for p in folder.glob("*.pickle"))
    assert len(shards) > 4
    for p in folder.glob("*.pickle"):
        os.utime(p, ns=(1, 1))
    edited = root / "content/post-05.md"
    edited.write_text(edited.read_text().replace("Some *text*", "Other *text*"))
    os.utime(edited, ns=(9, 9))
    assert "corrected" in publish(root, "--now", "2026-11-21T01:00Z").output
    rewritten = sorted(p.name for p in folder.glob("*.pickle") if p.stat().st_mtime_ns != 1)
    assert rewritten == [f"{_shard('post-05|x|content/post-05.md'):02d}.pickle"]
    shutil.rmtree(root / "public")  # a rebuild from what is kept renders no post again
    renders = count_renders(monkeypatch)
    publish(root, "--now", "2026-11-21T02:00Z")
    assert renders == []
    assert "Other <em>text</em>" in (root / "public/post-05/index.html").read_text()
    assert "Some <em>text</em> for post 6" in (root / "public/post-06/index.html").read_text()
