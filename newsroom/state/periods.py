"""What a report reads of the snapshots, whatever the backend: each entry's latest value of each metric,
per local day of the period and over the period before it (``StateStore.period_metrics``).

The files backend folds the rows in Python as it reads them (``fold_period``); the postgres backend
asks the database for the same answer (``postgres.PERIOD_SQL``), so 300,000 rows never leave it.
What "latest" means is the same for both, and ``tests/test_state_contract.py`` holds them to it:

- rows are taken in time order (``at``); of rows with the same ``at``, the one stored later wins;
- a metric is kept per entry: a later row that lacks a metric leaves the earlier value in place;
- a metric's value is an integer; any other value in a stored row is left out (``int_metrics``).
- a row whose ``metrics`` is not a mapping is skipped.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import islice
from operator import attrgetter
from typing import Iterable


def int_metrics(metrics) -> dict | None:
    """The metrics of a stored row as a report counts them (the files backend's line-by-line reading,
    ``files.decode_rows``): integers only; None for a row a report skips (metrics that are not a
    mapping)."""
    if not metrics:
        return {}
    if not isinstance(metrics, dict):
        return None
    return {k: v for k, v in metrics.items() if isinstance(v, int)}


def fold_period(batches: Iterable[list], since: str, until: str, prev_since: str,
                bounds: list[str]) -> tuple[dict, dict]:
    """(daily, previous) from one pass over batches of rows (``snapshot_batches``, oldest month first)
    between ``prev_since`` and ``until``.

    daily: entry → [[day index, {metric: latest value that day}], …] in day order, inside
    [``since``, ``until``); ``bounds`` are the stamps where each local day after the first starts, so a
    row's day index is the number of bounds at or before it. previous: entry → {metric: latest
    value} in [``prev_since``, ``since``). Each batch is put in time order first (shards are months,
    read in order), so a plain update leaves every metric at its latest value even when a merge
    shuffled the lines.

    This is the report's hot loop on files (300,000 rows in the benchmark): the rows' own metric
    dicts are kept, not copied, and only merged when a later row carries fewer metrics than an
    earlier one of the same day; the day index moves forward with the rows instead of being searched
    for each.
    """
    prev: dict[str, dict] = {}
    daily: dict[str, list] = {}
    by_time = attrgetter("at")
    last_bound = len(bounds)
    for rows in batches:
        rows.sort(key=by_time)
        lo = bisect_left(rows, prev_since, key=by_time)
        mid = bisect_left(rows, since, lo, key=by_time)
        hi = bisect_left(rows, until, mid, key=by_time)
        get = prev.get
        for r in islice(rows, lo, mid):
            m, d = r.metrics, get(r.entry)
            prev[r.entry] = m if d is None or m.keys() >= d.keys() else {**d, **m}
        if mid == hi:
            continue
        i = bisect_right(bounds, rows[mid].at)
        next_day = bounds[i] if i < last_bound else "\x7f"
        get = daily.get
        for r in islice(rows, mid, hi):
            if r.at >= next_day:
                i = bisect_right(bounds, r.at, i)
                next_day = bounds[i] if i < last_bound else "\x7f"
            per = get(r.entry)
            m = r.metrics
            if per is None:
                daily[r.entry] = [[i, m]]
                continue
            last = per[-1]
            if last[0] != i:
                per.append([i, m])
            elif m.keys() >= last[1].keys():
                last[1] = m
            else:
                last[1] = {**last[1], **m}
    return daily, prev
