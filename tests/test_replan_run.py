"""A publish run that brings its plan up to date after the deliveries (``scheduler/run/replan.py``)
decides exactly as one that plans in full every time: the same report, exit code, notes, next entry,
no-op cache, ledger and site, run after run on a project edited between runs (a body, a time, a
status, the channels, an error and its fix)."""
from __future__ import annotations

import json
import re

import pytest

from conftest import item
from publishing import HEAD, approved, make_newsroom, run
from servers.testchannel import TOKEN, ChannelServer, register

SETTINGS = HEAD + """\
channels:
  blog:
    type: blog
  social:
    type: testchannel
    url: {url}/social
    token: env:TC_TOKEN
    timeout: "0.3"
calendar:
  lead_time: 3h
  blackout:
    - {{date: 2026-11-23, reason: Embargo}}
"""
SLOTS = """\
  slots:
    - days: daily
      times: ['09:00', '15:00']
"""


def files() -> dict[str, str]:
    return {
        "content/a.md": approved("A", ("blog", "social")),
        "content/b.md": approved("B", ("blog",), at="2026-11-20T10:00"),
        "content/c.md": item("C", status="approved", approved_by="editor", author="writer",
                             publish_at="2026-11-20T11:20",
                             channels={"blog": {}, "social": {"after": "blog", "at": "+30m"}}),
        "content/d.md": item("D", status="approved", approved_by="editor", author="writer",
                             channels={"social": {"at": "next"}}),
        "content/e.md": approved("E", ("blog",), at="2026-11-22T09:00"),
        "content/f.md": approved("F", ("blog",), at="2026-11-20T08:00"),
        "content/g.md": item("G", status="review", author="writer", publish_at="2026-11-20T13:00",
                             channels=["blog"]),
        "content/h.md": approved("H", ("blog",), at="2026-11-23T10:00"),
        "content/i.md": item("I", status="approved", approved_by="editor", author="writer",
                             publish_at="2026-11-20T12:12", expires_at="2026-11-20T12:14", channels=["social"]),
    }


def edit(root, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1))


#: (the edit before the run, the run's time)
STEPS = [
    (lambda r: None, "2026-11-20T10:30:00Z"),
    (lambda r: edit(r, "content/b.md", "Body text.", "Body text, corrected."), "2026-11-20T11:05:00Z"),
    (lambda r: edit(r, "content/a.md", "Body text.", "Body text, again."), "2026-11-20T11:40:00Z"),
    (lambda r: edit(r, "content/a.md", "again.", "and again."), "2026-11-20T11:45:00Z"),
    (lambda r: edit(r, "content/e.md", "2026-11-22T09:00", "2026-11-20T12:00"), "2026-11-20T12:05:00Z"),
    (lambda r: edit(r, "content/f.md", "status: approved", "status: withdrawn\nreason: Wrong"), "2026-11-20T12:10:00Z"),
    (lambda r: edit(r, "content/b.md", "channels: [blog]", "channels: [blog, social]"), "2026-11-20T12:15:00Z"),
    (lambda r: edit(r, "content/c.md", "publish_at: '2026-11-20T11:20'", "publish_at: 20/11"),
     "2026-11-20T12:20:00Z"),
    (lambda r: edit(r, "content/b.md", "corrected.", "corrected twice."), "2026-11-20T12:25:00Z"),
    (lambda r: edit(r, "content/c.md", "publish_at: 20/11", "publish_at: '2026-11-20T11:20'"),
     "2026-11-20T12:30:00Z"),
    (lambda r: None, "2026-11-20T15:05:00Z"),
]


def _same(text: str, newsroom) -> str:
    """``text`` without what differs between two projects: their folders, servers and run ids."""
    text = text.replace(str(newsroom.root), "ROOT").replace(newsroom.server.url, "SERVER")
    return re.sub(r"[\w.-]+-\d+-\d{8}T\d{6}-[0-9a-f]{6}", "RUN", text)


def _ledger(newsroom) -> list[dict]:
    lines = (newsroom.root / "state" / "ledger.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(_same(line, newsroom)).items() if k != "run"} for line in lines]


def _site(newsroom) -> dict[str, str]:
    public = newsroom.root / "public"
    return {p.relative_to(public).as_posix(): _same(p.read_text(errors="replace"), newsroom)
            for p in sorted(public.rglob("*")) if p.is_file() and not p.name.startswith(".")}  # (stamps: digests of
    #                                                                                     the pages, with the URLs)


def _index(newsroom) -> str:
    data = json.loads((newsroom.root / ".cache" / "publish-index.json").read_text())
    data["derived"] = sorted(data["derived"])  # (their digests: of pages with the URLs)
    return _same(json.dumps({k: data[k] for k in ("quiet_until", "next", "notes", "exit_code", "derived")}), newsroom)


@pytest.mark.parametrize("slots", [True, False], ids=["slots", "no-slots"])
def test_runs_that_patch_their_plan_decide_as_runs_that_plan_in_full(tmp_path, monkeypatch, slots):
    """Without slots a run also plans as of its own time, the plan check's verdict is given on."""
    import scheduler.run.core
    from scheduler.run import replan

    register(monkeypatch)
    monkeypatch.setattr(scheduler.run.core, "pause", lambda seconds: None)
    planned = []
    real = replan.Plan.__init__

    def counting(self, *args, **kw):
        planned.append(kw.get("entries") is None)
        real(self, *args, **kw)

    monkeypatch.setattr(replan.Plan, "__init__", counting)
    import scheduler.plan

    verdicts = []  # plans made for check's verdict apart from the run's (scheduler/layer.py plans them)
    real_plan = scheduler.plan.plan

    def planning(*args, **kw):
        verdicts.append(1)
        return real_plan(*args, **kw)

    monkeypatch.setattr(scheduler.plan, "plan", planning)
    with ChannelServer() as patched_server, ChannelServer() as full_server:
        settings = SETTINGS + (SLOTS if slots else "")
        patched = make_newsroom(tmp_path / "patched", patched_server, files(), settings)
        full = make_newsroom(tmp_path / "full", full_server, files(), settings)
        env = {"TC_TOKEN": TOKEN, "GITHUB_STEP_SUMMARY": ""}
        full_plans = patched_plans = 0
        verdict_plans = {"patched": 0, "full": 0}
        for n, (change, now) in enumerate(STEPS):
            change(patched.root)
            change(full.root)
            planned.clear()
            verdicts.clear()
            one = run(patched.root, "publish", "--format", "json", now=now, env=env)
            verdict_plans["patched"] += len(verdicts)
            patched_plans += len(planned)
            ours = len(planned)
            with monkeypatch.context() as m:
                m.setattr(replan, "MOST", 0)  # every change in the ledger: a full plan
                m.setattr(scheduler.run.core, "plan_time", lambda project, now, lookback: lookback)  # and
                #                                     the run's own plan as of a little earlier, check's apart
                planned.clear()
                verdicts.clear()
                other = run(full.root, "publish", "--format", "json", now=now, env=env)
                verdict_plans["full"] += len(verdicts)
                full_plans += len(planned)
            assert one.exit_code == other.exit_code, (n, one.output, other.output)
            assert "rebuilt from the ledger" not in one.output, (n, one.output)  # its site is never removed
            assert _same(one.output, patched) == _same(other.output, full), n
            assert _ledger(patched) == _ledger(full), n
            assert _site(patched) == _site(full), n
            assert _index(patched) == _index(full), n
            assert ours <= len(planned), n
        assert [p["item"] for p in patched_server.posts] == [p["item"] for p in full_server.posts]
        # what was compared: deliveries, corrections, a withdrawal, an error held and every run's plan
        outcomes = {e["event"] for e in _ledger(patched)}
        print([(e["event"], e["entry"]) for e in _ledger(patched)])
        assert {"delivered", "corrected", "withdrawn"} <= outcomes, outcomes
        # the runs that planned in full planned again after their deliveries; the others patched some
        assert full_plans > patched_plans >= len(STEPS), (full_plans, patched_plans)
        assert verdict_plans["full"] >= len(STEPS) - 1  # (a run with nothing due before later asks nothing)
        # without slots check's verdict is given on the run's plan (tests/test_replan.py: and with evergreen
        # items expiring within the hour, on a plan of its own)
        assert verdict_plans["patched"] == (verdict_plans["full"] if slots else 0), verdict_plans
