"""``report`` over 10,000 delivered entries × 30 snapshots each (300,000 snapshot rows).

Goals (issue 7): under 2 s and under 300 MB peak memory. The floor printed beside them is what any
report must do at least: load the project (settings and items) and decode every snapshot row; on a
busy or slow machine compare the report with its floor rather than with the absolute goal. Both are
measured in a fresh process running ``publish.py report`` end to end (loading the project, reading
the ledger and every snapshot, building and rendering); time is the best of ``--repeat`` runs, peak
memory is the process's own high-water mark (``bench/memory.py``). Items come through the item
cache, as for every command after the first; one more run without it shows what the first command
on a fresh clone pays for parsing every item file.

    python bench/report.py [--entries 10000] [--snapshots 30] [--format md] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402

GOAL_SECONDS = 2.0
GOAL_MB = 300.0
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=timezone.utc)
METRIC_CHANNELS = {"mastodon": ("likes", "shares", "replies"), "bluesky": ("likes", "shares", "replies", "quotes"),
                   "linkedin": ("impressions", "likes", "shares", "replies", "clicks"),
                   "devto": ("views", "likes", "replies"), "newsletter": ("opens", "clicks"),
                   "blog": ("views",), "team-slack": ()}


def build_state(root: Path, entries: int, snapshots: int, seed: int = 1) -> int:
    """A ledger with ``entries`` delivered entries and ``snapshots`` rows each, like the pull writes."""
    from newsroom.state import FileStore
    from scheduler.project import load_project as load
    from newsroom.times import stamp

    rng = random.Random(seed)
    project = load(root)
    pairs = [(i.id, c) for i in project.items for c in i.channels] or [(i.id, "blog") for i in project.items]
    keys = []
    while len(keys) < entries:  # more entries than the corpus has: the same items again, delivered anew
        for item_id, channel in pairs:
            keys.append((item_id if len(keys) < len(pairs) else f"{item_id}-{len(keys)}", channel))
            if len(keys) == entries:
                break
    files = FileStore(root / "state")
    events, rows = [], []
    for n, (item_id, channel) in enumerate(keys):
        out = NOW - timedelta(days=rng.uniform(0, 80))
        key = f"{item_id}/{channel}"
        events.append({"event": "delivered", "entry": key, "at": out.isoformat(), "revision": "r",
                       "receipt": {"remote_id": f"id{n}", "url": f"https://social.example/{channel}/{n}",
                                   "at": out.isoformat(), "parts": [], "data": {}}})
        names = METRIC_CHANNELS.get(channel) or ("views",)
        values = dict.fromkeys(names, 0)
        for k in range(snapshots):  # hourly the first day, then daily
            at = out + (timedelta(hours=k + 1) if k < 24 else timedelta(days=k - 22))
            for name in names:
                values[name] += rng.randint(0, 40 if name in ("views", "impressions") else 4)
            rows.append({"at": stamp(at), "entry": key, "item": item_id, "channel": channel, "metrics": dict(values),
                         "pull": "bench", "slot": stamp(at)})
    files.append(events)
    rows.sort(key=lambda r: r["at"])
    files.add_snapshots(rows)
    return len(rows)


def ensure(root: Path, entries: int, snapshots: int) -> int:
    marker = root / "state" / "bench.json"
    want = {"entries": entries, "snapshots": snapshots}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return entries * snapshots
    if not (root / "publish.yml").exists():
        generate(root, max(1, entries // 3))
    import shutil

    shutil.rmtree(root / "state", ignore_errors=True)
    n = build_state(root, entries, snapshots)
    marker.write_text(json.dumps(want))
    return n


def run_once(root: Path, fmt: str, env: dict | None = None) -> tuple[float, float, int, float]:
    """(seconds inside the process, peak MB, bytes of output, CPU seconds of the whole process) of one
    ``report`` in a fresh process. CPU time counts only this process's own work, so it says more
    than wall time on a machine other jobs are loading."""
    code = f"""
import resource, sys, time, io, contextlib
sys.path.insert(0, {str(ROOT)!r})
start = time.perf_counter()
import runpy
sys.argv = ["publish.py", "--root", {str(root)!r}, "report", "--since", "2026-10-02", "--until", "2026-12-31",
            "--format", {fmt!r}]
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    try:
        runpy.run_path({str(ROOT / "publish.py")!r}, run_name="__main__")  # the command as a user runs it
    except SystemExit:
        pass
took = time.perf_counter() - start
u = resource.getrusage(resource.RUSAGE_SELF)
from bench.memory import peak_mb
print(took, peak_mb(), len(buf.getvalue()), u.ru_utime + u.ru_stime)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})}).stdout
    took, peak, size, cpu = out.split()
    return float(took), float(peak), int(size), float(cpu)


REFERENCE_LOOP_SECONDS = 0.5  # CPU seconds of reference_loop() on a current laptop with CPython 3.11


def reference_loop() -> float:
    """CPU seconds for ten million additions in pure Python: how fast this machine is right now."""
    start = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - start


def floor_once(root: Path) -> float:
    """Seconds for the least work a report needs: load the project and decode every row."""
    code = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
start = time.perf_counter()
from pathlib import Path
from newsroom.gcpause import collector_paused
from scheduler.project import load_project as load
from newsroom.state import open_store
with collector_paused():  # as the report runs
    project = load(Path({str(root)!r}))
    store = open_store(project.root, project.settings.state)
    n = sum(len(rows) for rows in store.snapshot_batches(slots=False))
print(time.perf_counter() - start)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--snapshots", type=int, default=30)
    ap.add_argument("--format", default="md", choices=["table", "md", "html", "csv", "json"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    root = Path(args.corpus) / f"report-{args.entries}"
    rows = ensure(root, args.entries, args.snapshots)
    runs = [run_once(root, args.format) for _ in range(args.repeat)]
    took = min(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    cpu = min(r[3] for r in runs)
    floor = min(floor_once(root) for _ in range(args.repeat))
    uncached = run_once(root, args.format, {"NEWSROOM_NO_CACHE": "1"})[0]
    speed = reference_loop()
    result = {"entries": args.entries, "snapshot_rows": rows, "format": args.format, "seconds": round(took, 3),
              "peak_mb": round(peak, 1), "output_bytes": runs[0][2], "floor_seconds": round(floor, 3),
              "cpu_seconds": round(cpu, 3), "reference_loop_cpu_seconds": round(speed, 3),
              "seconds_without_item_cache": round(uncached, 3)}
    print(f"report --format {args.format} over {args.entries:,} entries × {args.snapshots} snapshots "
          f"({rows:,} rows)")
    print(f"  time      {took:.2f} s   goal {GOAL_SECONDS:.1f} s   ratio {took / GOAL_SECONDS:.2f}")
    print(f"  CPU time  {cpu:.2f} s   goal {GOAL_SECONDS:.1f} s   ratio {cpu / GOAL_SECONDS:.2f}   "
          "(the process's own CPU seconds, imports included)")
    print(f"  floor     {floor:.2f} s   (load the project, decode every row)   ratio {took / floor:.2f}")
    print(f"  uncached  {uncached:.2f} s   (first command on a fresh clone: every item file parsed, "
          f"{uncached - took:.2f} s of it; see bench/check.py)")
    scale = REFERENCE_LOOP_SECONDS / speed
    print(f"  machine   reference loop {speed:.2f} s CPU (a current laptop: about {REFERENCE_LOOP_SECONDS} s); "
          f"CPU time scaled to such a machine, an estimate: {cpu * scale:.2f} s")
    print(f"  peak RSS  {peak:.0f} MB   goal {GOAL_MB:.0f} MB   ratio {peak / GOAL_MB:.2f}")
    return result


if __name__ == "__main__":
    main()
