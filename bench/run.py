"""Every benchmark, one after the other: each prints its figures beside the baseline its issue names.

    python bench/run.py            # all of them
    python bench/run.py check blog # some of them

Benchmarks are not timed tests: they print, they do not fail. Ratios use CPU time where the
machine may be shared; each script says which figure it compares.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (script, what it measures), in the order the pipeline runs.
BENCHMARKS = (
    ("newsletter", "10,000 personalised messages to a loopback SMTP server vs 10,000 identical"),
    ("check", "check on 1,000 and 10,000 items vs reading + C-loader YAML"),
    ("calendar_views", "calendar --format json on 10,000 items x 5 channels vs check"),
    ("calendar_page", "the calendar page of 10,000 items in headless Chromium vs the page before (issue 23)"),
    ("render", "rendering every channel for 1,000 items vs the Jinja + Markdown floor"),
    ("publish_noop", "a publish with nothing due on 10,000 items and 100,000 events vs check"),
    ("blog", "full blog build for 1,000 and 10,000 items beside Pelican, and a one-item rebuild"),
    ("peers", "publish beside Pelican and Hugo (whole processes) at 1,000/5,000/10,000 items; check vs its floor"),
    ("social_metrics", "metrics for 10,000 Mastodon and 10,000 Bluesky posts vs the latency floor"),
    ("report", "report over 10,000 entries x 30 snapshots"),
    ("scaling", "entries/s for 1, 2, 4 publish processes on files and PostgreSQL; the report on both"),
)


def main(argv: list[str]) -> int:
    wanted = set(argv) or {name for name, _ in BENCHMARKS}
    unknown = wanted - {name for name, _ in BENCHMARKS}
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
              f"choose from {', '.join(n for n, _ in BENCHMARKS)}", file=sys.stderr)
        return 2
    for name, what in BENCHMARKS:
        if name not in wanted:
            continue
        script = HERE / f"{name}.py"
        print(f"\n== {name}: {what}", flush=True)
        if not script.exists():
            print(f"   ({script.name} is missing)")
            continue
        start = time.perf_counter()
        subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        print(f"   ({time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
