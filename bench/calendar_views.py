#!/usr/bin/env python3
"""``calendar --format json`` beside ``check`` on one corpus of 10,000 items × 5 channels each.

    python bench/calendar_views.py [--items 10000] [--repeat 3]

Both commands run as a user runs them, ``python publish.py …`` in a process of their own (output
captured), best of ``--repeat`` after one warm-up run. Ratios use the child's CPU time, as
bench/check.py does: it is what the code costs, and it holds still when other work shares the machine. Goal: calendar at most 1.5×
check (check already plans the calendar to test its rules; calendar adds the rows and the JSON).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this file's folder comes first on sys.path and its name would hide the standard
# library's calendar module (which http.cookiejar and the month view import): put the project first.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.modules.pop("calendar", None)

import argparse  # noqa: E402

from bench.corpus import generate  # noqa: E402

NOW = "2026-11-16T00:00Z"  # fixed, so the lead-time rule and the queue see the same moment each run
GOAL = 1.5


def command(root: Path, *args: str):
    """A function that runs ``python publish.py --root ROOT <args>`` as a process of its own and
    returns (output size, the child's CPU seconds)."""
    import resource
    import subprocess

    def run(_root: Path) -> tuple[int, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), *args],
                              capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr.decode()[-2000:]}")
        return len(done.stdout), (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    return run


def best_child(fn, root: Path, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeat`` runs, CPU being the child process's own."""
    import time

    walls, cpus = [], []
    for _ in range(repeat):
        wall = time.perf_counter()
        _, cpu = fn(root)
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu)
    return min(walls), min(cpus)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    root = Path(args.corpus) / f"calendar-{args.items}x5"
    if not (root / "publish.yml").exists() or len(list((root / "content").rglob("*.md"))) != args.items:
        generate(root, args.items, seed=1, channels_per_item=5)
    check = command(root, "check", "--format", "json", "--now", NOW)
    calendar = command(root, "calendar", "--format", "json", "--now", NOW)
    check(root)  # warm the page cache and the project's .cache/
    size, _ = calendar(root)
    w_check, t_check = best_child(check, root, args.repeat)
    w_cal, t_cal = best_child(calendar, root, args.repeat)
    ratio = t_cal / t_check
    print(f"corpus: {args.items} items × 5 channels ({root})")
    print(f"check --format json:    {t_check:7.3f} s CPU ({w_check:.3f} s wall)   baseline")
    print(f"calendar --format json: {t_cal:7.3f} s CPU ({w_cal:.3f} s wall)   {size / 1e6:.1f} MB of JSON   "
          f"ratio {ratio:4.2f}x check (goal <= {GOAL}x)" + ("" if ratio <= GOAL else "   OVER GOAL"))
    return {"items": args.items, "check_cpu_s": round(t_check, 3), "calendar_cpu_s": round(t_cal, 3),
            "ratio": round(ratio, 2)}


if __name__ == "__main__":
    main()
