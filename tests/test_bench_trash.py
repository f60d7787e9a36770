"""The benchmarks' trash: what a benchmark clears between measured runs is moved aside, not deleted,
and deleted only when the benchmark ends (bench/corpus.py, ``discard``)."""
from __future__ import annotations

import time

import pytest

from bench import corpus


@pytest.fixture
def bench_folder(tmp_path, monkeypatch):
    work = tmp_path / ".corpus"
    monkeypatch.setattr(corpus, "TRASH", work / ".trash")
    monkeypatch.setattr(corpus, "EMPTIED", work / ".trash-emptied")
    monkeypatch.setattr(corpus, "_registered", True)  # emptied by the test, not at the test run's exit
    return work


def test_a_cleared_folder_waits_in_the_trash_until_the_benchmark_ends(bench_folder):
    site = bench_folder / "peers-10" / "project" / "public"
    (site / "a-post").mkdir(parents=True)
    (site / "a-post" / "index.html").write_text("<p>kept until the end</p>", encoding="utf-8")

    corpus.discard(site)
    corpus.discard(site)  # already gone: nothing to do

    assert not site.exists()
    moved = list(corpus.TRASH.iterdir())
    assert [p.name.endswith("-public") for p in moved] == [True]
    assert (moved[0] / "a-post" / "index.html").read_text(encoding="utf-8") == "<p>kept until the end</p>"
    assert corpus.settle_note() is None  # never emptied yet

    corpus.empty_trash()

    assert not corpus.TRASH.exists()
    note = corpus.settle_note()
    assert note is not None and "emptied" in note


def test_an_old_emptying_is_not_mentioned(bench_folder):
    bench_folder.mkdir(parents=True)
    corpus.EMPTIED.write_text(f"{time.time() - corpus.SETTLE - 5:.0f}\n", encoding="utf-8")
    assert corpus.settle_note() is None
    corpus.EMPTIED.write_text("not a time\n", encoding="utf-8")
    assert corpus.settle_note() is None


def test_outside_the_bench_folder_a_corpus_is_replaced_at_once(bench_folder, tmp_path):
    root = tmp_path / "elsewhere"
    corpus.generate(root, 3)
    (root / "stale.md").write_text("left from before", encoding="utf-8")

    corpus.generate(root, 3)

    assert not (root / "stale.md").exists()
    assert len(list((root / "content").rglob("*.md"))) == 3
    assert not corpus.TRASH.exists()
