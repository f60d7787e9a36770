"""Bench: a no-op ``publish`` (nothing due) on 10,000 items with a ledger of 100,000 events.

Goals (issue 8): under 1 second, and at most 0.3× a full ``check`` of the same repository, so a
15-minute cron costs nothing. Times are wall-clock times of ``python publish.py …`` processes
(interpreter start included), the median of several runs after one run that fills the caches.

    python bench/publish_noop.py [--items 10000] [--events 100000] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import json
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)


def generate_state(root: Path, events: int) -> int:
    """A ledger for ``root`` as if every run so far had gone right: each approved entry up to NOW was
    claimed and delivered; earlier attempts (a 503, then a retry) pad it to ``events`` lines."""
    sys.path.insert(0, str(ROOT))
    from channels import registry
    from newsroom.project import load_project
    from scheduler.plan import plan

    project = load_project(root, channel_types=registry.option_schemas(),
                           channel_overrides=registry.override_schemas())
    done = [e for e in plan(project, now=NOW) if e.item.status == "approved" and e.at is not None and e.at <= NOW]
    lines: list[str] = []

    def add(**e):
        lines.append(json.dumps(e, sort_keys=True, separators=(",", ":")))

    pairs = max(0, (events - 3 * len(done)) // 2)  # (claimed, failed) pairs to spread over the entries
    for i, e in enumerate(done):
        retries = pairs // len(done) + (1 if i < pairs % len(done) else 0)
        at = (e.at + timedelta(minutes=2)).isoformat()
        base = {"entry": e.key, "item": e.item.id, "channel": e.channel, "path": e.item.path,
                "revision": e.item.revision, "run": f"bench-{i // 50}", "at": at}
        for _ in range(retries):
            add(event="claimed", **base)
            add(event="failed", error="HTTP 503: Service Unavailable", retryable=True, status=503, **base)
        add(event="claimed", **base)
        add(event="progress", name="tries", value=1, **base)
        add(event="delivered", receipt={"remote_id": str(i), "url": f"https://{e.channel}.example/{i}", "at": at,
                                        "parts": [], "data": {}}, **base)
    (root / "state").mkdir(exist_ok=True)
    (root / "state" / "ledger.jsonl").write_text("\n".join(lines[:events]) + "\n", encoding="utf-8")
    return len(done)


ENV = {"PATH": "/usr/bin:/bin", "BENCH_MASTODON_TOKEN": "x", "BENCH_BLUESKY_PASSWORD": "x",
       "BENCH_LINKEDIN_TOKEN": "x", "BENCH_DEVTO_KEY": "x", "BENCH_SLACK_WEBHOOK": "https://hooks.example/x"}


def timed(root: Path, *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the child, result) of one ``python publish.py …`` process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), *args], env=ENV,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--reuse", action="store_true", help="keep the corpus and ledger of an earlier run")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    root = HERE / ".corpus" / "publish-noop"
    t0 = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from bench.corpus import generate

    if args.reuse and (root / "state" / "ledger.jsonl").exists():
        shutil.rmtree(root / ".cache", ignore_errors=True)
        delivered = sum(1 for line in open(root / "state" / "ledger.jsonl") if '"delivered"' in line)
    else:
        generate(root, args.items)
        delivered = generate_state(root, args.events)
    events = sum(1 for _ in open(root / "state" / "ledger.jsonl"))
    print(f"corpus: {args.items} items (bench/corpus.py, seed 1), {events} ledger events, {delivered} entries "
          f"delivered ({time.perf_counter() - t0:.1f}s to generate)")

    now = NOW.isoformat()
    cold, cold_cpu, first = timed(root, "publish", "--now", now)
    if "Nothing due" not in first.stdout:
        sys.exit(f"the corpus is not a no-op: {first.stdout[:500]}{first.stderr[:500]}")
    print(f"first publish (fills .cache/): {cold:.2f}s wall, {cold_cpu:.2f}s CPU")
    noop, noop_cpu = [], []
    for _ in range(args.runs):
        wall, cpu, done = timed(root, "publish", "--now", now)
        assert "Nothing due" in done.stdout, done.stdout + done.stderr
        noop.append(wall)
        noop_cpu.append(cpu)
    checks, checks_cpu = [], []
    for _ in range(max(1, args.runs // 2)):
        wall, cpu, done = timed(root, "check")
        checks.append(wall)
        checks_cpu.append(cpu)
    t_noop, t_check = statistics.median(noop), statistics.median(checks)
    c_noop, c_check = statistics.median(noop_cpu), statistics.median(checks_cpu)
    print(f"no-op publish: {t_noop:.3f}s wall, {c_noop:.3f}s CPU (median of {len(noop)}; goal < 1 s: "
          f"{'met' if t_noop < 1 else 'NOT met'} on wall time, {'met' if c_noop < 1 else 'NOT met'} on CPU time)")
    print(f"full check:    {t_check:.3f}s wall, {c_check:.3f}s CPU (median of {len(checks)})")
    ratio, ratio_cpu = t_noop / t_check, c_noop / c_check
    print(f"ratio no-op publish / check: {ratio:.3f} wall, {ratio_cpu:.3f} CPU (goal ≤ 0.3: "
          f"{'met' if max(ratio, ratio_cpu) <= 0.3 else 'NOT met'})")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    # The ledger alone: a fresh fold of every event, and the cached fold after one more line.
    sys.path.insert(0, str(ROOT))
    from newsroom.state import FileStore

    cache = root / ".cache" / "bench-fold"
    shutil.rmtree(cache, ignore_errors=True)
    t = time.perf_counter()
    FileStore(root / "state", cache_dir=cache).entries()
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    FileStore(root / "state", cache_dir=cache).entries()
    warm = time.perf_counter() - t
    print(f"ledger fold of {events} events: {fresh:.2f}s fresh, {warm:.2f}s from the cache")


if __name__ == "__main__":
    main()
