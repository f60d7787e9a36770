"""The collector's pause: a one-shot command freezes what it loads; a service never does."""
from __future__ import annotations

import gc

import pytest

from newsroom import gcpause
from newsroom.gcpause import collector_paused, one_shot


@pytest.fixture
def restored():
    before, frozen = gcpause.is_one_shot(), gc.get_freeze_count()
    yield
    one_shot(before)
    if gc.get_freeze_count() != frozen:
        gc.unfreeze()


def test_a_one_shot_process_freezes_what_a_pause_made(restored):
    one_shot()
    before = gc.get_freeze_count()
    with collector_paused():
        made = [[i] for i in range(1000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(made)


def test_a_long_running_process_never_freezes(restored):
    one_shot(False)
    before = gc.get_freeze_count()
    with collector_paused():
        made = [[i] for i in range(1000)]
    assert gc.isenabled() and made
    assert gc.get_freeze_count() == before


def test_the_pause_keeps_a_disabled_collector_disabled(restored):
    one_shot(False)
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_plan_leaves_no_cycle_for_the_collector(tmp_path):
    """What a frozen plan holds is freed by reference counting once dropped, but for the entries and
    their violations (which point at each other on purpose): no cycle per entry (a closure that calls
    itself) stays behind frozen."""
    from bench.corpus import generate
    from scheduler.plan import plan
    from scheduler.project import load_project

    generate(tmp_path, 60)
    project = load_project(tmp_path, cache=False)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        entries = plan(project)
        assert any(e.after for e in entries)  # dependencies were walked
        del entries
        gc.collect()
        # the planner's own closures (other tests' threads may leave garbage of their own meanwhile)
        functions = [o.__qualname__ for o in gc.garbage
                     if type(o).__name__ == "function" and o.__module__.startswith("scheduler.")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert len(functions) <= 1, functions  # the plan's own resolver, once; not one per entry


@pytest.mark.parametrize("once", [True, False])
def test_templates_are_read_again_only_by_a_long_running_process(restored, tmp_path, once):
    """A command that runs once renders with the templates as it first read them (no stat of each
    at each render); serve and studio pick up a template edited while they run."""
    import os

    from channels.render import Engine

    one_shot(once)
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "note.txt.j2"
    template.write_text("first {{ n }}", encoding="utf-8")
    engine = Engine(tmp_path)
    assert engine.template("note.txt.j2").render(n=1) == "first 1"
    template.write_text("second {{ n }}", encoding="utf-8")
    st = template.stat()
    os.utime(template, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # a later mtime, whatever the clock
    assert engine.template("note.txt.j2").render(n=2) == ("first 2" if once else "second 2")
