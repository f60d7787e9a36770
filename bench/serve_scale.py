"""Bench: ``publish serve`` on 10,000 items (about 11,000 approved entries planned of 30,000).

Each figure is taken from a whole ``python publish.py serve`` process, started on the generated
corpus (every time in the next 120 days, so nothing is sent) with its health probe on loopback:

- ready: from the process's start until ``/status`` shows its first re-plan done;
- re-plan: from a new content file written until ``/status`` shows the re-plan it caused (the
  watch looks every 0.3 s, so a figure includes up to 0.3 s of waiting);
- RSS after that re-plan, and the process's peak RSS (``VmHWM``);
- stop: from SIGTERM until the process has exited.

The baseline is the service as it was with one APScheduler job per entry (``--baseline``, a
commit of this repository, run from a ``git archive`` of it in a temporary folder), measured in the
same run on the same corpus; every figure is printed beside it with the ratio.

    python bench/serve_scale.py [--items 10000] [--baseline REV]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

BASELINE = "d1ec9fd5"  # main before the service kept its own schedule: one date job per entry
TOKENS = {"BENCH_MASTODON_TOKEN": "bench", "BENCH_BLUESKY_PASSWORD": "bench", "BENCH_LINKEDIN_TOKEN": "bench",
          "BENCH_DEVTO_KEY": "bench", "BENCH_SLACK_WEBHOOK": "https://hooks.slack.invalid/bench"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def until(predicate, process, timeout: float = 600.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = predicate()
        if found:
            return found
        if process.poll() is not None:
            raise SystemExit(f"the service exited ({process.returncode}) before it was ready")
        time.sleep(0.05)
    raise SystemExit("the service did not answer in time")


def measure(tree: Path, corpus: Path, log: Path) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, **TOKENS, "PYTHONPATH": str(tree)}
    with open(log, "w") as out:
        began = time.monotonic()
        child = subprocess.Popen([sys.executable, str(tree / "publish.py"), "--root", str(corpus), "serve",
                                  "--health", str(port), "--watch", "0.3", "--replan", "600", "--log-format", "json"],
                                 cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            first = until(lambda: (s := status(port)) and s["last_replan"] and s, child)
            ready = time.monotonic() - began
            added = corpus / "content" / "bench-added" / "one-more.md"
            added.parent.mkdir(exist_ok=True)
            wrote = time.monotonic()
            added.write_text("---\ntitle: One more\nstatus: draft\n---\nBody.\n", encoding="utf-8")
            until(lambda: (s := status(port)) and s["last_replan"] != first["last_replan"], child)
            replan = time.monotonic() - wrote
            mem = memory(child.pid)
            asked = time.monotonic()
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=300)
            stop = time.monotonic() - asked
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            added = corpus / "content" / "bench-added"
            if added.exists():
                for f in added.iterdir():
                    f.unlink()
                added.rmdir()
    return {"ready s": ready, "re-plan s": replan, "RSS MB": mem["VmRSS"], "peak RSS MB": mem["VmHWM"],
            "stop s": stop, "entries scheduled": first["entries_scheduled"]}


def baseline_tree(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="fully_trusted")  # this repository's own history
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--baseline", default=BASELINE, help="the commit whose service is the baseline")
    args = parser.parse_args()

    from bench.corpus import generate

    corpus = HERE / ".corpus" / f"serve-{args.items}"
    start = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    print(f"corpus: {args.items} items from {start:%Y-%m-%d} over 120 days in {corpus}", flush=True)
    generate(corpus, args.items, start=start)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        old = measure(baseline_tree(args.baseline, Path(tmp) / "baseline"), corpus, Path(tmp) / "baseline.log")
        new = measure(ROOT, corpus, Path(tmp) / "now.log")
    print(f"publish serve, {args.items} items (load average {load:.1f} → {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"{'':20}{'baseline ' + args.baseline:>20}{'now':>12}{'ratio':>9}")
    for key in old:
        ratio = new[key] / old[key] if old[key] else float("nan")
        fmt = "{:.0f}" if key == "entries scheduled" else "{:.2f}"
        print(f"{key:20}{fmt.format(old[key]):>20}{fmt.format(new[key]):>12}{ratio:>8.2f}×")


if __name__ == "__main__":
    main()
