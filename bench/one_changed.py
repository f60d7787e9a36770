"""One item changed after a complete run, end to end: ``python publish.py publish`` as a user runs it
(state/, .cache/ and public/ all in place), beside Hugo building the same posts (Hugo has no content
cache between builds: one change costs it a whole build). Goal (issue 21): under 0.5 s at 10,000 items.

    python bench/one_changed.py [--items 10000] [--repeat 3] [--no-hugo] [--base CHECKOUT]

The corpus is ``bench/peers.py``'s (seed 1, one channel per item: the blog), built cold once. Then, in
turn within each repetition: one delivered item's body edited and ``publish`` run (the item's page,
the lists and feeds it is on and the ledger follow; nothing is posted again), and Hugo into an empty
folder. Figures are each child's CPU seconds (user + system, from ``wait4``), wall seconds and peak
resident memory, the best of the repetitions; the ratio compares figures of the same run (the bests,
then the range pair by pair: ``bench/peers.py``'s ``pairwise``), and the machine's load average is
printed with them.

``--base CHECKOUT`` (another checkout of this project, e.g. ``git worktree add /tmp/base main``) runs
that checkout's ``publish.py`` as well, on its own copy of the same project after the same cold run
(one run first, unmeasured, to fill its caches), interleaved with ours: the same item edited the same
way before each, and the ratio of the two printed.
"""
from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bench.corpus import discard, generate, settle_note  # noqa: E402
from bench.peers import (NOW, WORK, child_env, compile_code, delivered_posts, hugo_corpus, load, measure,  # noqa: E402
                         ours, pairwise, reset)


def theirs(checkout: Path, root: Path, *args: str):
    """``publish.py`` of another checkout, as ``ours`` runs this one's."""
    return measure([sys.executable, str(checkout / "publish.py"), "--root", str(root), *args], env=child_env(),
                   ok=(0, 1, 2))


def edit(path: Path, rep: int) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\nA correction was added after publication ({rep + 1}).\n")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-hugo", action="store_true")
    ap.add_argument("--base", type=Path, help="another checkout of this project to measure beside ours")
    args = ap.parse_args(argv)
    compile_code()
    if note := settle_note():
        print(note, flush=True)
    base_code = args.base.resolve() if args.base else None
    if base_code is not None:
        if not (base_code / "publish.py").is_file():
            sys.exit(f"--base {args.base}: no publish.py there (give a checkout of this project)")
        for name in ("publish.py", "newsroom", "scheduler", "channels", "reports"):  # its bytecode, as ours
            path = base_code / name
            (compileall.compile_file if path.is_file() else compileall.compile_dir)(str(path), quiet=2)
    hugo = not args.no_hugo and shutil.which("hugo") is not None
    if not args.no_hugo and not hugo:
        print("hugo is not installed (apt-get install hugo): skipped", flush=True)
    base = WORK / f"one-{args.items}"
    root = generate(base / "project", args.items, seed=1, channels_per_item=1)
    reset(root, "state", ".cache", "public")
    cold = ours(root, "publish", "--now", NOW)
    posts = delivered_posts(root)
    if not posts:
        sys.exit("the cold run delivered nothing to the blog")
    if hugo:
        hugo_corpus(root, posts, base / "hugo")
    env_hugo = {**os.environ, "HUGO_CACHEDIR": str(base / "hugo-cache")}
    target = posts[len(posts) // 2][0]
    other = None
    if base_code is not None:
        other = base / "base-project"
        discard(other)
        shutil.copytree(root, other, symlinks=True)
        theirs(base_code, other, "publish", "--now", NOW)  # its caches filled by its own code (not measured)
    runs: dict[str, list] = {}
    for rep in range(args.repeat):
        edit(target, rep)
        runs.setdefault("ours, one item changed", []).append(ours(root, "publish", "--now", NOW))
        if other is not None:
            edit(other / target.relative_to(root), rep)
            runs.setdefault("base, one item changed", []).append(theirs(base_code, other, "publish", "--now", NOW))
        if hugo:
            reset(base, "hugo-out")
            runs.setdefault("Hugo, whole build", []).append(
                measure(["hugo", "--quiet", "-s", str(base / "hugo"), "-d", str(base / "hugo-out")], env=env_hugo))
    best = {name: min(figs, key=lambda f: f.cpu) for name, figs in runs.items()}
    print(f"== one item changed, {args.items} items ({len(posts)} posts on the blog) — {load()}")
    print(f"  {'ours, cold (for scale)':<28} {cold}")
    for name, fig in best.items():
        print(f"  {name:<28} {fig}")
    mine = best["ours, one item changed"]
    print(f"  one item changed: {mine.wall:.2f} s wall, {mine.cpu:.2f} s CPU (goal < 0.5 s at 10,000 items); "
          f"{mine.cpu / cold.cpu:.1%} of the cold run's CPU")
    if other is not None:
        was = best["base, one item changed"]
        print(f"  ours ÷ base ({base_code}), one item changed: {mine.cpu / was.cpu:5.2f}x CPU, "
              f"{mine.wall / was.wall:5.2f}x wall"
              f"{pairwise(runs['ours, one item changed'], runs['base, one item changed'])}")
    if hugo:
        hugo_fig = best["Hugo, whole build"]
        noise = pairwise(runs["ours, one item changed"], runs["Hugo, whole build"])
        print(f"  ours one item changed ÷ Hugo whole build: {mine.cpu / hugo_fig.cpu:5.2f}x CPU, "
              f"{mine.wall / hugo_fig.wall:5.2f}x wall{noise}")
    return {name: fig.cpu for name, fig in best.items()}


if __name__ == "__main__":
    main()
