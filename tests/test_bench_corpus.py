"""The benchmarks' corpus: the same seed gives the same items, and ``days`` spreads them over the span
asked (bench/peers.py measures linearity on corpora of one density: ``n`` items over 120 × n/1000 days)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bench import corpus


@pytest.fixture(autouse=True)
def _trash(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "TRASH", tmp_path / ".trash")
    monkeypatch.setattr(corpus, "EMPTIED", tmp_path / ".trash-emptied")
    monkeypatch.setattr(corpus, "_registered", True)


def times_of(root) -> list[datetime]:
    out = []
    for path in sorted((root / "content").rglob("*.md")):
        stamp = re.search(r"^publish_at: (\d{4}-\d\d-\d\dT\d\d:\d\d)", path.read_text(encoding="utf-8"), re.M)
        out.append(datetime.fromisoformat(stamp.group(1)))
    return out


def files_of(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.md"))}


def test_days_spread_the_items_and_the_default_is_the_shared_corpus(tmp_path):
    start = datetime(2026, 9, 1, 9, 0)
    shared = corpus.generate(tmp_path / "shared", 300, seed=3)
    same = corpus.generate(tmp_path / "same", 300, seed=3, days=120)
    assert files_of(shared) == files_of(same)

    wide = corpus.generate(tmp_path / "wide", 300, seed=3, days=600)
    narrow, broad = times_of(shared), times_of(wide)
    assert len(broad) == 300
    assert all(start <= t <= start + timedelta(days=120, hours=1) for t in narrow)
    assert all(start <= t <= start + timedelta(days=600, hours=1) for t in broad)
    assert max(broad) - min(broad) > timedelta(days=400)  # spread over the span, not bunched at its start
