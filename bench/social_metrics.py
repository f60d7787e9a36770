"""Fetching engagement for 10,000 Mastodon and 10,000 Bluesky posts from loopback servers that add
20 ms to every request.

For each platform (best of ``--repeat`` runs) it prints the wall time beside the floor (requests needed ÷ allowed concurrency ×
20 ms), their ratio (goal: ≤ 1.5×), and the number of metrics requests made, which must equal the
batch minimum (10,000 ÷ 20 = 500 for Mastodon, 10,000 ÷ 25 = 400 for Bluesky).

    python bench/social_metrics.py [--posts 10000] [--latency 0.02]
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels.base import Receipt  # noqa: E402
from channels.bluesky import Bluesky  # noqa: E402
from channels.mastodon import Mastodon  # noqa: E402
from tests.servers import NOW, channel  # noqa: E402
from tests.servers.bluesky import HANDLE, BlueskyServer  # noqa: E402
from tests.servers.mastodon import MastodonServer  # noqa: E402


def serve(kind: str, n: int, latency: float, pipe) -> None:
    """In its own process, so the server's work does not compete with the client for one interpreter."""
    server = (MastodonServer(limit=1_000_000) if kind == "mastodon" else BlueskyServer(limit=1_000_000)).start()
    if kind == "mastodon":
        ids = [server.add_status(f"post {i}", favourites=i)["id"] for i in range(n)]
    else:
        ids = [server.add_post(f"post {i}", likes=i) for i in range(n)]
    server.latency = latency
    pipe.send((server.url, ids))
    pipe.recv()  # the client is done
    path = r"^/api/v1/statuses$" if kind == "mastodon" else "getPosts"
    pipe.send(len(server.requests(path, "GET")))
    server.stop()


class Remote:
    def __init__(self, url):
        self.url = url


def run(kind: str, n: int, latency: float) -> dict:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(kind, n, latency, child), daemon=True)
    process.start()
    url, ids = parent.recv()
    if kind == "mastodon":
        cls = Mastodon
        adapter = channel(Mastodon, Remote(url), {"instance": "https://mastodon.test", "token": "env:T"},
                          {"T": "secret-token"})
    else:
        cls = Bluesky
        adapter = channel(Bluesky, Remote(url), {"handle": HANDLE, "app_password": "env:P"}, {"P": "app-pass-word"})
        adapter.login()  # one session per run, made before the reads; not a metrics request
    start, cpu = time.perf_counter(), time.process_time()
    got = adapter.fetch_metrics([Receipt(i, None, NOW) for i in ids])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    parent.send("done")
    made = parent.recv()
    process.join(5)
    assert len(got) == n, f"{kind}: {len(got)} of {n} posts measured"
    return {"platform": kind, "seconds": elapsed, "cpu": cpu, "requests": made, "minimum": math.ceil(n / cls.METRICS_BATCH),
            "concurrency": cls.CONCURRENCY}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3, help="runs per platform; the fastest is shown")
    parser.add_argument("--workers", type=int, default=None,
                        help="requests in flight at once (default: each adapter's CONCURRENCY)")
    args = parser.parse_args(argv)
    if args.workers:
        Mastodon.CONCURRENCY = Bluesky.CONCURRENCY = args.workers
    import os

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(client and each server in their own process)")
    ok = True
    print(f"{'platform':10} {'posts':>6} {'requests':>8} {'minimum':>7} {'workers':>7} {'time s':>7} "
          f"{'floor s':>7} {'ratio':>6} {'client cpu s':>12}")
    for kind in ("mastodon", "bluesky"):
        runs = [run(kind, args.posts, args.latency) for _ in range(max(1, args.repeat))]
        result = min(runs, key=lambda r: r["seconds"])  # the least disturbed by other work on the machine
        floor = result["minimum"] / result["concurrency"] * args.latency
        ratio = result["seconds"] / floor
        ok &= result["requests"] == result["minimum"] and ratio <= 1.5
        print(f"{result['platform']:10} {args.posts:>6} {result['requests']:>8} {result['minimum']:>7} "
              f"{result['concurrency']:>7} {result['seconds']:>7.3f} {floor:>7.3f} {ratio:>5.2f}x {result['cpu']:>12.3f}")
    print("goal: requests = minimum, ratio <= 1.50x:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
