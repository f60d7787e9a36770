"""``publish.py pull`` of 10,000 delivered blog items × 30 days of page views from Plausible on loopback,
every request 20 ms late.

The project (generated in a scratch folder): a blog whose 10,000 entries were delivered over the last
30 days, one analytics source. The stand-in (``tests/servers/plausible.py``, in its own process so
its work does not compete with the command's interpreter) holds 30 days of page views for each of
the items' pages and a few others; it answers every query from that data.

It runs, as whole processes, the pull with the source (the figure) and the same pull without an
``analytics:`` section (the baseline: loading the project and the ledger, opening the store, exiting),
and prints:

- requests made against the minimum the API allows: the pages' rows ÷ 10,000 a request (Plausible's
  largest page), rounded up; nothing else is needed for blog items;
- the wall time against the floor = baseline + minimum requests × latency, and their ratio
  (goal: ≤ 1.5×): the best time of ``--repeat`` runs of each (the two in turn), so a run slowed by
  the machine's other work counts for neither side.

    python bench/analytics_pull.py [--items 10000] [--days 30] [--latency 0.02] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

EXTRA_PAGES = ("/", "/about/", "/pricing/", "/tags/")  # the site has pages that are no items
SETTINGS = """\
site:
  title: Bench
  url: https://news.test
timezone: UTC
channels:
  blog:
    type: blog
pull:
  replies: false
"""
ANALYTICS = """\
analytics:
  site:
    type: plausible
    url: {url}
    site_id: news.test
    token: env:PLAUSIBLE_KEY
"""


def serve(items: int, days: int, now: datetime, latency: float, pipe) -> None:
    """A Plausible stand-in that answers from precomputed rows: 30 days of views per page."""
    from servers.base import Answer
    from servers.plausible import PlausibleServer

    class Precomputed(PlausibleServer):
        def __init__(self):
            super().__init__(hourly_limit=1_000_000)
            pages = [f"/item-{i}/" for i in range(items)] + list(EXTRA_PAGES)
            # every page seen every day: views and visitors summed over the days asked
            self.rows = [{"dimensions": [p], "metrics": [days * (3 + i % 7), days * (2 + i % 5)]}
                         for i, p in enumerate(pages)]
            self.rows.sort(key=lambda r: (-r["metrics"][0], r["dimensions"]))

        def query(self, seen):
            auth = seen.headers.get("authorization", "")
            body = seen.json or {}
            if auth != f"Bearer {self.key}" or body.get("site_id") != self.site:
                return self.error(401, "Invalid API key or site ID.")
            if body.get("dimensions") != ["event:page"]:
                return self.error(400, "#/dimensions: this stand-in serves event:page only")
            page = body.get("pagination") or {}
            limit, offset = int(page.get("limit", 10_000)), int(page.get("offset", 0))
            meta = {"total_rows": len(self.rows)} if (body.get("include") or {}).get("total_rows") else {}
            return Answer(200, {"results": self.rows[offset:offset + limit], "meta": meta, "query": body})

    server = Precomputed().start()
    server.latency = latency
    pipe.send(server.url)
    while pipe.recv() == "count":
        pipe.send(len(server.requests("/api/v2/query")))
    server.stop()


def make_project(folder: Path, items: int, days: int, now: datetime, url: str | None) -> Path:
    from newsroom.state import FileStore

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "publish.yml").write_text(SETTINGS + (ANALYTICS.format(url=url) if url else ""), encoding="utf-8")
    state = folder / "state"
    if not (state / "ledger.jsonl").exists():
        step = timedelta(days=days) / items
        events = []
        for i in range(items):
            at = (now - timedelta(days=days) + step * i + timedelta(minutes=1)).isoformat()
            events.append({"event": "delivered", "entry": f"item-{i}/blog", "at": at, "revision": "r",
                           "receipt": {"remote_id": f"item-{i}", "url": f"https://news.test/item-{i}/", "at": at,
                                       "parts": [], "data": {}}})
        FileStore(state).append(events)
    return folder


def compile_code() -> None:
    """Write the bytecode of our packages once, before anything is timed: an installed tool imports its
    compiled modules (pip writes them at install), and a shell with ``PYTHONDONTWRITEBYTECODE`` would
    otherwise time Python compiling every module of both pulls, each run."""
    import compileall

    for name in ("publish.py", "newsroom", "scheduler", "channels", "reports"):
        path = ROOT / name
        (compileall.compile_file if path.is_file() else compileall.compile_dir)(str(path), quiet=2)


def timed_pull(root: Path) -> tuple[float, dict]:
    env = {**os.environ, "PLAUSIBLE_KEY": "plausible-key"}
    env.pop("CI", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's: the compiled modules are read, not compiled again
    start = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "pull", "--no-feeds",
                          "--format", "json"], capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"pull failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return took, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    now = datetime.now(timezone.utc)
    compile_code()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.items, args.days, now, args.latency, child), daemon=True)
    server.start()
    url = parent.recv()
    rows = args.items + len(EXTRA_PAGES)
    minimum = math.ceil(rows / 10_000)
    took_best = baseline_best = None
    made_most = stored = 0
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeat):
            # fresh state each time: every entry is due once per slot, and a second pull would find them filled
            base = make_project(Path(scratch) / f"base-{_}", args.items, args.days, now, None)
            full = make_project(Path(scratch) / f"full-{_}", args.items, args.days, now, url)
            baseline, _b = timed_pull(base)
            parent.send("count")
            before = parent.recv()
            took, result = timed_pull(full)
            parent.send("count")
            made_most = max(made_most, parent.recv() - before)
            stored = result.get("snapshots")
            # best of each, not the run with the best ratio: that would be the one whose baseline was unlucky
            took_best = took if took_best is None else min(took_best, took)
            baseline_best = baseline if baseline_best is None else min(baseline_best, baseline)
    parent.send("stop")
    floor = baseline_best + minimum * args.latency
    b = {"took": took_best, "baseline": baseline_best, "floor": floor, "ratio": took_best / floor,
         "requests": made_most, "snapshots": stored}
    print(f"publish.py pull: {args.items:,} blog items delivered over {args.days} days, Plausible on loopback "
          f"(+{args.latency * 1000:.0f} ms a request), best of {args.repeat}")
    print(f"  requests: {b['requests']} made, minimum {minimum} ({rows:,} page rows, 10,000 a request)")
    print(f"  snapshots stored: {b['snapshots']:,}")
    print(f"  time: {b['took']:.2f} s; floor {b['floor']:.2f} s (baseline pull without analytics "
          f"{b['baseline']:.2f} s + {minimum} × {args.latency * 1000:.0f} ms); ratio {b['ratio']:.2f}× (goal ≤ 1.5×)")
    print(f"  load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
