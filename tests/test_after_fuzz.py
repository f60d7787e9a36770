"""``after:`` as people write it, fuzzed: any value, any names, any cycle — no traceback, no hang,
every problem at a line, and the plan of what loads always finishes."""
from __future__ import annotations

import functools
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import BASE_SETTINGS, write_project

NAMES = ["blog", "mastodon", "newsletter", "blgo", "", "x" * 3]
value = st.recursive(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=8), st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(NAMES), inner, max_size=3)),
    max_leaves=8)
channel = st.fixed_dictionaries({}, optional={"after": value, "at": st.sampled_from(["+30m", "-1h", "next", "2026-11-20T08:00"])})
channels = st.dictionaries(st.sampled_from(["blog", "mastodon", "newsletter"]), channel, max_size=3)


@functools.lru_cache(maxsize=1)
def project_settings():
    from newsroom.settings import load_settings

    root = write_project(Path(tempfile.mkdtemp(prefix="after-fuzz-")), {}, BASE_SETTINGS + """\
  newsletter:
    type: blog
""")
    return load_settings(root)[0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(channels)
def test_any_after_loads_plans_and_checks_without_a_traceback(chans):
    from newsroom.items import load_item
    from newsroom.model import Project
    from scheduler import rules
    from scheduler.plan import plan

    settings_ = project_settings()
    front = {"title": "Fuzz", "status": "approved", "author": "a", "approved_by": "b",
             "publish_at": "2026-11-20T09:00", "channels": chans}
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\nBody.\n"
    problems: list = []
    item = load_item("content/fuzz.md", text.encode(), settings_, problems)
    assert all(p.line is not None for p in problems), [str(p) for p in problems]
    if item is None:
        return
    for name, override in item.channels.items():
        # what is kept names other channels of the item, once each
        assert all(dep in item.channels and dep != name for dep in override.after)
        assert len(set(override.after)) == len(override.after)
    project = Project(settings_.root, settings_, [item], problems)
    entries = plan(project, now=datetime(2026, 11, 1, tzinfo=timezone.utc))
    for p in rules.problems(project, entries):
        assert p.line is not None and p.path == "content/fuzz.md"
