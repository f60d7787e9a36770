"""Bench: random kill -9 of a whole ``publish`` process, then reruns, counting what reached people.

Each trial makes a fresh project (one item on the blog deployed with ``git`` to a bare repository,
a newsletter to five readers over SMTP, Mastodon and a webhook: the loopback servers of
``tests/faults.py``), starts ``python publish.py publish`` and sends it SIGKILL at a random moment
between its start and the time an uninterrupted run takes (the SMTP server answers each message
after ``--smtp-delay`` seconds, so kills land inside the newsletter too). Then it runs ``publish``
again until the run exits 0, settling what ``status`` lists for a person the way a person would:
by looking at the platform (here, the servers' own records).

Counted over all trials:

- duplicates: a reader mailed twice, a second toot or webhook call;
- losses: an entry recorded delivered whose effect is not on the server (checked after the kill and
  at the end), or, at the end, something never sent that nobody was shown;
- uncertain: entries ``status`` listed for a person after a kill (the goal: at most one per kill).

The goal is 0 duplicates and 0 losses. The figure is trials per second (and ``publish`` processes
per second), beside the baseline measured in the same run: uninterrupted runs of the same project.

    python bench/chaos.py [--trials 200] [--seed 1] [--smtp-delay 0.15]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECIPIENTS = 5
CHANNELS = ("blog", "newsletter", "mastodon", "hook")


@dataclass
class Tally:
    trials: int = 0
    killed: int = 0  # trials whose first run was killed before it ended by itself
    processes: int = 0  # publish processes started (killed ones included)
    duplicates: int = 0
    losses: int = 0
    uncertain: int = 0  # entries listed for a person after a kill, all trials together
    most_uncertain: int = 0  # the most listed after one kill
    unfinished: int = 0  # trials that did not complete within the reruns allowed
    notes: list[str] = field(default_factory=list)


def received(p) -> dict[str, int]:
    """How many times each thing reached people, from the servers' own records."""
    mails = Counter(p.mails())
    out = {f"mail:{r}": n for r, n in mails.items()}
    out["mastodon"] = len(p.toots())
    out["hook"] = len(p.hooks())
    out["blog"] = int("alpha/index.html" in p.deployed())
    return out


def false_records(p, recipients: list[str]) -> list[str]:
    """Entries the ledger calls delivered whose effect is not (all) on the server."""
    got = received(p)
    wrong = []
    for entry in sorted(p.delivered()):
        channel = entry.split("/", 1)[1]
        if channel == "newsletter":
            ok = all(got.get(f"mail:{r}", 0) >= 1 for r in recipients)
        else:
            ok = got.get(channel, 0) >= 1
        if not ok:
            wrong.append(entry)
    return wrong


def listed_for_a_person(p) -> dict[str, str]:
    status = p.cli("status", "--format", "json", "--offline")
    if status.returncode not in (0, 1):
        return {"status": status.stderr.strip()[-200:]}
    return {name: row["needs_person"][0]["error"] for name, row in json.loads(status.stdout)["channels"].items()
            if row["needs_person"]}


def settle(p, listed: dict[str, str], recipients: list[str]) -> None:
    """A person looks at the platform and says whether the listed entry (or recipient) got it."""
    got = received(p)
    for channel in listed:
        if channel == "newsletter":  # every other reader was either mailed or is mailed by the next run
            sent = all(got.get(f"mail:{r}", 0) >= 1 for r in recipients)
        else:
            sent = got.get(channel, 0) >= 1
        p.cli("resolve", f"content/alpha.md:{channel}", "--sent" if sent else "--not-sent")


def trial(servers, base: Path, n: int, rng: random.Random, kill_within: float, tally: Tally,
          reruns: int = 4) -> None:
    from faults import RECIPIENTS as ALL, T, make_project

    recipients = ALL[:RECIPIENTS]
    servers.mailbox.messages.clear()
    servers.mastodon.statuses.clear()
    servers.mastodon.idempotency.clear()
    servers.hook.requests.clear()
    p = make_project(base / f"t{n}", servers, recipients=RECIPIENTS)
    env = p.env
    proc = subprocess.Popen([sys.executable, str(ROOT / "publish.py"), "--root", str(p.root), "publish", "--now", T],
                            cwd=p.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tally.processes += 1
    time.sleep(rng.uniform(0, kill_within))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        tally.killed += 1
    proc.wait()
    wrong = false_records(p, recipients)
    if wrong:
        tally.losses += len(wrong)
        tally.notes.append(f"trial {n}: recorded delivered after the kill but not received: {', '.join(wrong)}")
    first_listing = None
    for k in range(1, reruns + 1):
        again = p.publish(now=f"2026-11-20T09:{10 * k:02d}:00Z")
        tally.processes += 1
        listed = listed_for_a_person(p)
        if first_listing is None:
            first_listing = listed
        if not listed and again.returncode == 0:
            break
        settle(p, listed, recipients)
    else:
        tally.unfinished += 1
        tally.notes.append(f"trial {n}: not complete after {reruns} reruns")
    count = len(first_listing or {})
    tally.uncertain += count
    tally.most_uncertain = max(tally.most_uncertain, count)
    got = received(p)
    dup = sum(max(0, v - 1) for v in got.values())
    if dup:
        tally.duplicates += dup
        tally.notes.append(f"trial {n}: duplicates {({k: v for k, v in got.items() if v > 1})}")
    expected = [f"mail:{r}" for r in recipients] + ["mastodon", "hook", "blog"]
    missing = [k for k in expected if got.get(k, 0) == 0]
    wrong = false_records(p, recipients)
    if missing or wrong:
        tally.losses += len(missing) + len(wrong)
        tally.notes.append(f"trial {n}: lost {missing + wrong} (nothing listed for a person)")
    tally.trials += 1
    shutil.rmtree(p.root, ignore_errors=True)
    if p.remote is not None:
        shutil.rmtree(p.remote, ignore_errors=True)


def baseline(servers, base: Path, runs: int) -> float:
    """The median wall time of an uninterrupted publish of the same project (interpreter start included)."""
    from faults import make_project

    times = []
    for i in range(runs):
        servers.mailbox.messages.clear()
        servers.mastodon.statuses.clear()
        servers.mastodon.idempotency.clear()
        servers.hook.requests.clear()
        p = make_project(base / f"b{i}", servers, recipients=RECIPIENTS)
        start = time.perf_counter()
        done = p.publish()
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"the uninterrupted run failed:\n{done.stdout}{done.stderr}")
    return sorted(times)[len(times) // 2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200, help="kill -9 trials (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the kill moments")
    ap.add_argument("--smtp-delay", type=float, default=0.15, help="seconds the SMTP server takes to answer a message")
    ap.add_argument("--baseline-runs", type=int, default=3, help="uninterrupted runs measured first")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT))
    from faults import Servers

    servers = Servers.start()
    servers.mailbox.delay = args.smtp_delay
    rng = random.Random(args.seed)
    tally = Tally()
    base = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        whole = baseline(servers, base, args.baseline_runs)
        print(f"uninterrupted publish (blog + git deploy, 5 readers at {args.smtp_delay:g} s each, Mastodon, "
              f"webhook): {whole:.2f} s wall (median of {args.baseline_runs}); kills land in [0, {whole:.2f}] s",
              flush=True)
        start = time.perf_counter()
        for n in range(1, args.trials + 1):
            trial(servers, base, n, rng, whole, tally)
            if sys.stderr.isatty():
                sys.stderr.write(f"\r\033[K[{n}/{args.trials}] duplicates {tally.duplicates}, losses {tally.losses}")
                sys.stderr.flush()
        took = time.perf_counter() - start
    finally:
        servers.stop()
        shutil.rmtree(base, ignore_errors=True)
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    for note in tally.notes[:20]:
        print(f"  {note}")
    print(f"trials: {tally.trials} ({tally.killed} killed mid-run, the others had ended first), "
          f"{tally.processes} publish processes")
    print(f"duplicates: {tally.duplicates} (goal 0)")
    print(f"losses: {tally.losses} (goal 0)")
    print(f"uncertain shown to a person: {tally.uncertain} in all, at most {tally.most_uncertain} after one kill "
          f"(goal: at most 1)")
    if tally.unfinished:
        print(f"unfinished: {tally.unfinished} trial(s) not complete after the reruns allowed")
    rate = tally.trials / took if took else 0.0
    print(f"{rate:.2f} trials/s, {tally.processes / took:.2f} publish processes/s over {took:.0f} s; "
          f"a trial takes {took / max(1, tally.trials):.2f} s = {took / max(1, tally.trials) / whole:.1f}x "
          f"the uninterrupted run")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if tally.duplicates == 0 and tally.losses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
