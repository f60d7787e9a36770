"""Bench: a personalised newsletter against the same newsletter sent identically, as whole processes.

Goal (issue 26): 10,000 personalised messages (``recipient.*`` in the subject and the body) rendered
and handed to a loopback SMTP server at no less than half the rate of 10,000 identical ones. Each
figure is one ``python publish.py publish`` process from start to end (interpreter start, loading,
rendering, every message over SMTP, the ledger) on a fresh state; the SMTP server (aiosmtpd) runs
in this process on 127.0.0.1 and throws each message away after counting it. The median of
``--runs`` runs of each kind, taken in turn.

    python bench/newsletter.py [--recipients 10000] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = "2026-12-01T09:30:00+00:00"

NAMES = ["Ana", "Zoë", "Łukasz", "Chloé", "Dev", "Erin", "<b>Bob</b> & co", "Sørina", "", "Kenji"]
PLANS = ["free", "smb", "enterprise"]
CITIES = ["Berlin", "Lisboa", "Kraków", "Osaka", "", "São Paulo"]

SETTINGS = """\
site:
  title: Bench Notes
  url: https://news.bench.example
channels:
  newsletter:
    type: email
    from: Bench Notes <news@bench.example>
    host: 127.0.0.1
    port: {port}
    security: none
    unsubscribe_url: https://news.bench.example/unsubscribe?token={{token}}
    batch_size: 1000
    rate: 100000000
    lists:
      all: audience/all.csv
"""

PARAGRAPHS = "\n\n".join(
    f"Paragraph {i}: reorder points, [stock levels](https://news.bench.example/docs/{i}/) and *forecasts* "
    "for the season, with a list:\n\n- one\n- two\n- three" for i in range(12))


def item(personal: bool) -> str:
    hello = 'Hi {{ recipient.first_name | default("there") }},' if personal else "Hi there,"
    plan = "Your plan, {{ recipient.plan }}, in {{ recipient.city | default(\"your city\") }}, gets it first." \
        if personal else "Your plan gets it first."
    return ("---\ntitle: The winter release\nstatus: approved\nauthor: Al\napproved_by: Ed\n"
            "publish_at: 2026-12-01T09:00:00Z\nchannels: [newsletter]\n---\n"
            f"{hello}\n\n{plan}\n\n{PARAGRAPHS}\n")


def make_project(root: Path, port: int, recipients: int, personal: bool) -> None:
    shutil.rmtree(root, ignore_errors=True)
    (root / "content").mkdir(parents=True)
    (root / "audience").mkdir()
    (root / "publish.yml").write_text(SETTINGS.format(port=port), encoding="utf-8")
    (root / "content" / "winter.md").write_text(item(personal), encoding="utf-8")
    rng = random.Random(1)
    lines = ["email,first_name,plan,city"]
    for i in range(recipients):
        name = rng.choice(NAMES)
        lines.append(f'reader{i}@customers.example,"{name}",{rng.choice(PLANS)},{rng.choice(CITIES)}')
    (root / "audience" / "all.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if personal:
        (root / "templates" / "email").mkdir(parents=True)
        (root / "templates" / "email" / "subject.j2").write_text(
            '{{ title }}, {{ recipient.first_name | default("friend") }}\n', encoding="utf-8")


class Counter:
    def __init__(self):
        self.count = 0
        self.sample: bytes | None = None

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.sample is None:
            self.sample = envelope.original_content
        return "250 2.0.0 Ok: queued"


def run_publish(root: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    import resource

    for name in ("state", ".cache"):
        shutil.rmtree(root / name, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "publish", "--now", NOW],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipients", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from aiosmtpd.controller import Controller

    class Loopback(Controller):
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    counter = Counter()
    server = Loopback(counter, hostname="127.0.0.1", port=0, server_hostname="localhost")
    server.start()
    try:
        base = HERE / ".corpus" / "newsletter"
        projects = {kind: base / kind for kind in ("identical", "personalised")}
        for kind, root in projects.items():
            make_project(root, server.port, args.recipients, kind == "personalised")
        print(f"{args.recipients} recipients (seed 1), a 12-paragraph item; SMTP on 127.0.0.1:{server.port}")
        figures: dict[str, list[tuple[float, float]]] = {k: [] for k in projects}
        for _ in range(args.runs):
            for kind, root in projects.items():
                counter.count, counter.sample = 0, None
                wall, cpu, done = run_publish(root)
                if done.returncode != 0 or counter.count != args.recipients:
                    sys.exit(f"{kind}: publish exited {done.returncode} with {counter.count} messages received:\n"
                             f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
                figures[kind].append((wall, cpu))
                print(f"  {kind}: {wall:.2f}s wall, {cpu:.2f}s CPU, {counter.count / wall:.0f} messages/s")
        if any(m in (counter.sample or b"") for m in ("\ue000".encode(), b"=EE=80=80", b"recipient.")):
            sys.exit("a personalised message still holds a field mark")
        rates = {}
        for kind, runs in figures.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            rates[kind] = (args.recipients / wall, args.recipients / cpu)
            print(f"{kind:>12}: {wall:.2f}s wall, {cpu:.2f}s CPU (median of {len(runs)}): "
                  f"{rates[kind][0]:.0f} messages/s wall, {rates[kind][1]:.0f} per CPU second")
        ratio = rates["personalised"][0] / rates["identical"][0]
        ratio_cpu = rates["personalised"][1] / rates["identical"][1]
        print(f"ratio personalised / identical rate: {ratio:.2f} wall, {ratio_cpu:.2f} CPU "
              f"(goal ≥ 0.5: {'met' if min(ratio, ratio_cpu) >= 0.5 else 'NOT met'})")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
