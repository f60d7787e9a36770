"""``evergreen:``, ``status: withdrawn`` and ``reason:`` as people write them, fuzzed: any value, no
traceback, every problem at a line, and the plan (with a ledger that says the item went out, so
its shares are planned) always finishes."""
from __future__ import annotations

from datetime import datetime, timezone

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from test_after_fuzz import project_settings

NAMES = ["blog", "mastodon", "newsletter", "mastodn", ""]
scalar = st.one_of(st.sampled_from(NAMES), st.text(max_size=8), st.integers(-5, 400), st.none(), st.booleans(),
                   st.sampled_from(["90d", "1d", "0d", "-3d", "2h", "2027-12-31", "2026-11-01", "never"]))
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                     max_leaves=6)
evergreen = st.one_of(value, st.fixed_dictionaries({}, optional={
    "every": value, "until": value, "channels": st.one_of(value, st.lists(st.sampled_from(NAMES), max_size=3)),
    "variants": st.one_of(value, st.lists(st.text(max_size=20), max_size=3)), "extra": value}))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evergreen, st.sampled_from(["approved", "withdrawn"]), st.one_of(st.none(), value))
def test_any_evergreen_and_withdrawal_loads_plans_and_checks_without_a_traceback(spec, status, reason):
    from newsroom.items import load_item
    from newsroom.model import Project
    from newsroom.state import EntryState
    from scheduler import rules
    from scheduler.plan import plan

    settings_ = project_settings()
    front = {"title": "Fuzz", "status": status, "author": "a", "approved_by": "b",
             "publish_at": "2026-11-20T09:00", "channels": ["blog", "mastodon"], "evergreen": spec}
    if reason is not None:
        front["reason"] = reason
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\nBody.\n"
    problems: list = []
    item = load_item("content/fuzz.md", text.encode(), settings_, problems)
    assert all(p.line is not None for p in problems), [str(p) for p in problems]
    if item is None:
        return
    out = EntryState("fuzz/mastodon", state="delivered", channel="mastodon", item="fuzz",
                     receipt={"remote_id": "1", "url": None, "at": "2026-11-20T09:00:00+00:00"})
    project = Project(settings_.root, settings_, [item], problems)
    entries = plan(project, ledger={"fuzz/mastodon": out}, now=datetime(2026, 11, 21, tzinfo=timezone.utc))
    for p in rules.problems(project, entries):
        assert p.line is not None and p.path == "content/fuzz.md"
