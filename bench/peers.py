"""Benchmark: ``publish`` beside Pelican and Hugo on the same corpus, whole processes, interleaved;
and ``check`` beside its floor.

    python bench/peers.py [--sizes 1000,5000,10000] [--repeat 2] [--no-pelican] [--no-hugo] [--no-check]
    python bench/peers.py --sizes 200 --repeat 1          # a quick run

For each size, the seeded corpus of ``bench/corpus.py`` (seed 1, one channel per item: the blog),
then, in turn within each repetition (so a busy machine slows all of them alike):

- **ours, cold**: ``python publish.py publish`` with no ``state/``, ``.cache/`` or ``public/``: every
  approved item due is claimed, rendered, delivered to the blog and recorded; the site is built;
  the run renders in worker processes only where they pay for their fork (``newsroom.workers.pays``);
- **ours, cold, N workers**: the same with a render worker on every core (``NEWSROOM_RENDER_WORKERS``),
  whatever it pays, on a machine with more than one: the wall time the cores give back beside the
  CPU they cost;
- **Pelican, cold**: the same posts (those the cold run delivered, by its ledger) as Pelican Markdown,
  ``pelican`` into an empty folder, no content cache (Pelican lives in ``bench/.venv``, which this
  script creates; it is not a project dependency);
- **Hugo, cold**: the same posts as Hugo content with a minimal theme (page, list, tag pages, RSS,
  sitemap), ``hugo`` into an empty folder (Debian's ``hugo``; skipped with a message when absent);
- **ours, warm**: a CI run with ``.cache/`` restored from the cold run and no ``state/`` or ``public/``;
- **Pelican, warm**: with its content cache filled, into an empty folder; **Hugo, warm**: again into an
  empty folder (Hugo keeps no content cache between runs);
- **ours, one item changed**: after a cold run (``state/``, ``.cache/``, ``public/`` all present), one
  delivered item's body edited, ``publish`` again (the page is rebuilt, nothing is posted again).

What a run leaves behind is cleared before the next by moving it into ``bench/.corpus/.trash``,
which is deleted when the benchmark ends: on a disk where a deletion slows the creation of files for
minutes after it (ext4 without a journal, as on the build machine), the run measured next would pay
for the benchmark's own clean-up (``bench/corpus.py``, ``discard``).

Figures are the CPU seconds of the child process (user + system, its waited-for workers included,
from ``wait4``), its wall time and its peak resident memory (the largest single process), the best of
the repetitions. Ratios compare figures measured in the same run: the best of one beside the best of
the other, and, with more than one repetition, the range of the ratios pair by pair (repetition ``i``
of one beside repetition ``i`` of the other, measured minutes apart): where that range is wide, the
machine's noise is larger than the difference a goal draws. The machine's load average is printed
with them: the build machine is shared.

``check`` (the standard corpus of ``bench/check.py``: three channels per item), whole processes:
the floor (read every item and parse its front matter with PyYAML's C loader, in a fresh
interpreter), ``publish.py check`` cold (no ``.cache/``) and warm (caches filled), and its peak memory.

**Linear, the same mix at every size**: the shared corpus spreads every size over the same 120 days,
so the larger it is, the more of its items collide on the calendar and are held, and the smaller the
share delivered to the blog (a third at 1,000 items, a fifth at 10,000): its cost per item falls
with the work per item. So the cold run is also measured on corpora of the 1,000-item corpus's
density (``n`` items over ``120 × n / 1000`` days, the same seed; at 1,000 items the same corpus),
interleaved across the sizes, each run as of the day after its last item.

Goals (issue 21): linear (the same cost per item ±20% at each size, on the corpora of the same mix;
on the shared corpus, the cost per item, per post and per item added between sizes are printed);
cold at least 3x less CPU than Pelican and within 2x of Hugo; warm within 1.2x of Hugo; one item
changed at 10,000 under 0.5 s; check within 2x (cold) and 1.5x (warm) of the floor, under 250 MB;
publish under 300 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from bench.corpus import discard, generate, settle_note  # noqa: E402

WORK = HERE / ".corpus"
VENV = HERE / ".venv"
PELICAN = VENV / "bin" / "pelican"
CORES = min(os.cpu_count() or 1, 8)  # as the run counts them (newsroom/workers.py)
NOW = "2027-06-01T00:00Z"  # after every publish_at in the corpus: every approved item is due


@dataclass
class Figure:
    cpu: float
    wall: float
    peak_mb: float
    user: float = 0.0  # the CPU seconds split: the process's own work, and the kernel's for it
    system: float = 0.0  # (making folders and files, mostly: it varies several-fold between runs on a busy disk)
    workers: int = 0  # the render worker processes our run said it used (0: none, or not ours)

    def __str__(self) -> str:
        return (f"{self.cpu:8.2f} s CPU ({self.user:5.2f} user + {self.system:5.2f} sys) {self.wall:8.2f} s wall "
                f"{self.peak_mb:7.0f} MB" + (f", {self.workers} render workers" if self.workers else ""))


def pairwise(mine: list[Figure], theirs: list[Figure]) -> str:
    """The range of the CPU ratios of repetition ``i`` of ``mine`` to repetition ``i`` of ``theirs``
    ("" with fewer than two pairs): how much of a ratio of the bests is the machine's noise."""
    ratios = [a.cpu / b.cpu for a, b in zip(mine, theirs) if b.cpu > 0]
    if len(ratios) < 2:
        return ""
    return f"; pair by pair {min(ratios):.2f}–{max(ratios):.2f}x"


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, ok=(0, 1)) -> Figure:
    """Run ``cmd`` as a child process: its CPU seconds (children it waited for included), wall
    seconds and peak RSS (``ru_maxrss`` of wait4: the largest of it and its waited-for children)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = b"", b""
    # read the pipes before waiting, so a chatty child never blocks on a full pipe
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    used = re.search(rb"posts in (\d+) worker processes", out)
    return Figure(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, usage.ru_utime, usage.ru_stime,
                  int(used.group(1)) if used else 0)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cpus"


# -- the corpus as each tool reads it -------------------------------------------------------------
def front_matter(path: Path) -> tuple[dict, str]:
    import yaml

    text = path.read_text(encoding="utf-8")
    end = text.find("\n---", 3)
    return yaml.load(text[4:end], Loader=yaml.CSafeLoader), text[end + 4:].lstrip("\n")


def delivered_posts(root: Path) -> list[tuple[Path, str]]:
    """(item file, slug) of every item the cold run delivered to the blog, from its ledger."""
    paths = set()
    with open(root / "state" / "ledger.jsonl", encoding="utf-8") as fh:
        for line in fh:
            e = json.loads(line)
            if e.get("event") == "delivered" and e.get("channel") == "blog":
                paths.add(e["path"])
    out = []
    for rel in sorted(paths):
        stem = rel.rsplit("/", 1)[-1][:-3]
        out.append((root / rel, stem))
    return out


def _date(value) -> str:
    text = str(value).replace(" ", "T")
    return text if ("+" in text[10:] or text.endswith("Z")) else text + "+00:00"


def pelican_corpus(root: Path, posts: list[tuple[Path, str]], target: Path) -> None:
    """The same posts as Pelican Markdown (header lines, then the same body); settings as close to
    our blog as Pelican's allow (bench/blog.py's, which this follows)."""
    discard(target)
    (target / "content").mkdir(parents=True)
    for path, slug in posts:
        meta, body = front_matter(path)
        at = _date(meta["publish_at"])[:16].replace("T", " ")
        head = [f"Title: {meta['title']}", f"Date: {at}", f"Slug: {slug}", f"Tags: {', '.join(meta.get('tags') or [])}",
                f"Category: {meta.get('campaign') or 'general'}", f"Author: {meta.get('author') or 'Bench Team'}",
                f"Summary: {meta.get('summary') or ''}"]
        (target / "content" / f"{slug}.md").write_text("\n".join(head) + "\n\n" + body, encoding="utf-8")
    (target / "pelicanconf.py").write_text(textwrap.dedent("""\
        SITENAME = "Bench Newsroom"
        SITEURL = "https://bench.example"
        FEED_DOMAIN = SITEURL
        TIMEZONE = "UTC"
        DEFAULT_LANG = "en"
        DEFAULT_PAGINATION = 10
        PAGINATED_TEMPLATES = {"index": None, "tag": None, "category": None}
        ARTICLE_URL = "{slug}/"
        ARTICLE_SAVE_AS = "{slug}/index.html"
        FEED_ALL_ATOM = "atom.xml"
        FEED_ALL_RSS = "rss.xml"
        FEED_MAX_ITEMS = 20
        CATEGORY_FEED_ATOM = None
        CATEGORY_FEED_RSS = None
        AUTHOR_FEED_ATOM = None
        AUTHOR_FEED_RSS = None
        TRANSLATION_FEED_ATOM = None
        ARCHIVES_SAVE_AS = ""
        AUTHOR_SAVE_AS = ""
        AUTHORS_SAVE_AS = ""
        CACHE_CONTENT = False
        LOAD_CONTENT_CACHE = False
        """), encoding="utf-8")
    settings = (target / "pelicanconf.py").read_text(encoding="utf-8")
    (target / "pelicanconf-cached.py").write_text(
        settings + f"CACHE_CONTENT = True\nLOAD_CONTENT_CACHE = True\nCACHE_PATH = {str(target / 'cache')!r}\n",
        encoding="utf-8")


HUGO_LAYOUTS = {
    "_default/baseof.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ .Site.Title }}</title>
<link rel="alternate" type="application/rss+xml" href="{{ "index.xml" | absURL }}"></head>
<body><header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header><main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<time datetime="{{ .Date.Format "2006-01-02T15:04:05Z07:00" }}">{{ .Date.Format "2 January 2006" }}</time>
<p>{{ .Params.author }}</p>{{ .Content }}
<ul>{{ range .Params.tags }}<li><a href="{{ "tags/" | relURL }}{{ . | urlize }}/">{{ . }}</a></li>{{ end }}</ul>
</article>{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Paginator.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p>{{ .Params.summary }}</p></article>{{ end }}
{{ with .Paginator.Next }}<a href="{{ .URL }}">older</a>{{ end }}{{ end }}
""",
}


def hugo_corpus(root: Path, posts: list[tuple[Path, str]], target: Path) -> None:
    """The same posts as Hugo content (YAML front matter, the same body) and a minimal theme of its
    own layouts: a page per post, paginated home, tag and campaign lists with RSS, a sitemap."""
    discard(target)
    (target / "content" / "posts").mkdir(parents=True)
    import yaml

    for path, slug in posts:
        meta, body = front_matter(path)
        head = {"title": meta["title"], "date": _date(meta["publish_at"]), "slug": slug,
                "tags": list(meta.get("tags") or []), "campaigns": [meta.get("campaign") or "general"],
                "author": meta.get("author") or "Bench Team", "summary": meta.get("summary") or ""}
        (target / "content" / "posts" / f"{slug}.md").write_text(
            "---\n" + yaml.safe_dump(head, allow_unicode=True) + "---\n\n" + body, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (target / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (target / "layouts" / name).write_text(text, encoding="utf-8")
    (target / "config.yaml").write_text(textwrap.dedent("""\
        baseURL: https://bench.example/
        title: Bench Newsroom
        languageCode: en
        paginate: 10
        permalinks:
          posts: /:slug/
        taxonomies:
          tag: tags
          campaign: campaigns
        disableKinds: [section]
        markup:
          goldmark:
            extensions:
              typographer: true
        """), encoding="utf-8")


def ensure_pelican() -> bool:
    if PELICAN.exists():
        return True
    print("installing pelican into bench/.venv (once) …", file=sys.stderr, flush=True)
    venv.create(VENV, with_pip=True)
    done = subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pelican", "markdown"])
    return done.returncode == 0 and PELICAN.exists()


# -- one size -------------------------------------------------------------------------------------
def child_env() -> dict:
    """Our processes' environment: as a user's, whose installed package has its bytecode (pip writes it
    at install); a shell that turns bytecode off would time Python compiling our modules every run."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_code() -> None:
    """Write the bytecode of our packages once, before anything is timed."""
    import compileall

    for name in ("publish.py", "newsroom", "scheduler", "channels", "reports"):
        path = REPO / name
        (compileall.compile_file if path.is_file() else compileall.compile_dir)(str(path), quiet=2)


def ours(root: Path, *args: str, env: dict | None = None) -> Figure:
    # exit 2 as well: the seeded corpus holds files with errors (publish_at conflicts) on purpose, and
    # a run holds their entries back and says so with 2; what it delivered is read from the ledger
    return measure([sys.executable, str(REPO / "publish.py"), "--root", str(root), *args],
                   env={**child_env(), **(env or {})}, ok=(0, 1, 2))


def reset(root: Path, *names: str) -> None:
    """Clear ``root``'s ``names`` before a measured run: moved into the trash, not deleted (``discard``)."""
    for name in names:
        discard(root / name)


def change_one(posts: list[tuple[Path, str]]) -> Path:
    target = posts[len(posts) // 2][0]
    with target.open("a", encoding="utf-8") as fh:
        fh.write("\nA correction was added after publication.\n")
    return target


def bench_size(n: int, repeat: int, pelican: bool, hugo: bool) -> dict:
    base = WORK / f"peers-{n}"
    root = generate(base / "project", n, seed=1, channels_per_item=1)
    env_hugo = {**os.environ, "HUGO_CACHEDIR": str(base / "hugo-cache")}
    figures: dict[str, list[Figure]] = {}

    def add(name: str, fig: Figure) -> None:
        figures.setdefault(name, []).append(fig)

    posts: list[tuple[Path, str]] = []
    for rep in range(repeat):
        reset(root, "state", ".cache", "public")
        add("ours cold", ours(root, "publish", "--now", NOW))
        if CORES > 1:
            # the same cold run with a render worker on every core whatever it pays: beside the run's
            # own choice (newsroom.workers.pays), what the cores give back in wall time and cost in CPU
            reset(root, "state", ".cache", "public")
            add(f"ours cold, {CORES} workers", ours(root, "publish", "--now", NOW,
                                                    env={"NEWSROOM_RENDER_WORKERS": str(CORES)}))
        if not posts:
            posts = delivered_posts(root)
            if pelican:
                pelican_corpus(root, posts, base / "pelican")
            if hugo:
                hugo_corpus(root, posts, base / "hugo")
        discard(base / "cache-copy")
        shutil.copytree(root / ".cache", base / "cache-copy")
        if pelican:
            reset(base, "pelican-out")
            add("Pelican cold", measure([str(PELICAN), str(base / "pelican" / "content"), "-s",
                                         str(base / "pelican" / "pelicanconf.py"), "-o", str(base / "pelican-out"), "-q"]))
        if hugo:
            reset(base, "hugo-out")
            add("Hugo cold", measure(["hugo", "--quiet", "-s", str(base / "hugo"), "-d", str(base / "hugo-out")],
                                     env=env_hugo))
        reset(root, "state", "public", ".cache")
        shutil.copytree(base / "cache-copy", root / ".cache")
        add("ours warm", ours(root, "publish", "--now", NOW))
        if pelican:
            if rep == 0:  # fill Pelican's content cache once
                measure([str(PELICAN), str(base / "pelican" / "content"), "-s",
                         str(base / "pelican" / "pelicanconf-cached.py"), "-o", str(base / "pelican-fill"), "-q"])
            reset(base, "pelican-out")
            add("Pelican warm", measure([str(PELICAN), str(base / "pelican" / "content"), "-s",
                                         str(base / "pelican" / "pelicanconf-cached.py"), "-o",
                                         str(base / "pelican-out"), "-q"]))
        if hugo:
            reset(base, "hugo-out")
            add("Hugo warm", measure(["hugo", "--quiet", "-s", str(base / "hugo"), "-d", str(base / "hugo-out")],
                                     env=env_hugo))
        # one item changed after a complete run: state, caches and site all in place
        change_one(posts)
        add("ours one item changed", ours(root, "publish", "--now", NOW))
    best = {name: min(figs, key=lambda f: f.cpu) for name, figs in figures.items()}
    return {"items": n, "posts": len(posts), "best": best, "runs": figures}


def report_size(r: dict) -> None:
    best, posts = r["best"], r["posts"]
    print(f"\n== {r['items']} items ({posts} posts delivered to the blog) — {load()}")
    for name, fig in best.items():
        print(f"  {name:<24} {fig}   {fig.cpu / max(posts, 1) * 1000:6.2f} ms CPU a post")

    def ratio(a: str, b: str, goal: str) -> None:
        if a in best and b in best:
            print(f"  {a} ÷ {b}: {best[a].cpu / best[b].cpu:5.2f}x CPU, "
                  f"{best[a].wall / best[b].wall:5.2f}x wall{pairwise(r['runs'][a], r['runs'][b])}   ({goal})")

    ratio(f"ours cold, {CORES} workers", "ours cold", "workers on every core ÷ the run's own choice")
    ratio("ours cold", "Pelican cold", "goal <= 0.33x")
    ratio("ours cold", "Hugo cold", "goal <= 2x")
    ratio("ours warm", "Hugo warm", "goal <= 1.2x")
    ratio("ours warm", "Pelican warm", "")
    if "ours one item changed" in best:
        f = best["ours one item changed"]
        print(f"  one item changed: {f.wall:.2f} s wall, {f.cpu:.2f} s CPU (goal < 0.5 s at 10,000 items)")
        ratio("ours one item changed", "Hugo warm", "Hugo rebuilds everything for one change")


def linear(results: list[dict]) -> None:
    """The cold run's cost against the corpus's size, three ways: per item (the goal's wording), per
    post delivered (the corpus delivers a smaller share of its items as it grows: more of them collide
    on the calendar), and per item added from one size to the next (the slope, without the start-up
    every run pays once; a run that grew quadratically would show it here first)."""
    def spread(values: list[float]) -> str:
        return f"spread {max(values) / min(values) - 1:.0%}"

    cold = [(r["items"], r["posts"], r["best"]["ours cold"].cpu) for r in results]
    item = [cpu / n for n, _, cpu in cold]
    post = [cpu / max(p, 1) for _, p, cpu in cold]
    print("\n== linear, the shared corpus: ours cold, CPU an item "
          + ", ".join(f"{n}: {v * 1000:.2f} ms" for (n, _, _), v in zip(cold, item))
          + f"; {spread(item)} (goal <= 20%: the work per item differs by size here, see above)")
    print("  CPU a post " + ", ".join(f"{n}: {v * 1000:.2f} ms" for (n, _, _), v in zip(cold, post))
          + f"; {spread(post)}")
    slope = [((a[0], b[0]), (b[2] - a[2]) / (b[0] - a[0])) for a, b in zip(cold, cold[1:]) if b[0] > a[0]]
    if len(slope) > 1 and min(v for _, v in slope) > 0:
        print("  CPU an item added " + ", ".join(f"{a}→{b}: {v * 1000:.2f} ms" for (a, b), v in slope)
              + f"; {spread([v for _, v in slope])}")
    for peer in ("Pelican cold", "Hugo cold"):  # the peers' own, measured in the same run
        if all(peer in r["best"] for r in results):
            theirs = [r["best"][peer].cpu / r["items"] for r in results]
            print(f"  {peer}, CPU an item " + ", ".join(f"{r['items']}: {v * 1000:.2f} ms" for r, v in zip(results, theirs))
                  + f"; {spread(theirs)}")


# -- check ----------------------------------------------------------------------------------------
def bench_check(n: int, repeat: int) -> None:
    root = WORK / str(n)  # bench/check.py's corpus
    if not (root / "publish.yml").exists() or sum(1 for _ in (root / "content").rglob("*.md")) != n:
        generate(root, n)
    floor = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
                                   f"from bench.check import floor; floor(Path({str(root)!r}))"]
    check = [sys.executable, str(REPO / "publish.py"), "--root", str(root), "check"]
    measure(check, env=child_env())  # the page cache warm, as for the others
    runs: dict[str, list[Figure]] = {}
    for _ in range(repeat):
        runs.setdefault("floor", []).append(measure(floor, env=child_env()))
        reset(root, ".cache")
        runs.setdefault("check cold", []).append(measure(check, env=child_env()))
        runs.setdefault("check warm", []).append(measure(check, env=child_env()))
    best = {name: min(figs, key=lambda f: f.cpu) for name, figs in runs.items()}
    print(f"\n== check, {n} items (three channels each) — {load()}")
    for name, fig in best.items():
        print(f"  {name:<24} {fig}")
    print(f"  check cold ÷ floor: {best['check cold'].cpu / best['floor'].cpu:5.2f}x CPU"
          f"{pairwise(runs['check cold'], runs['floor'])} (goal <= 2x)")
    print(f"  check warm ÷ floor: {best['check warm'].cpu / best['floor'].cpu:5.2f}x CPU"
          f"{pairwise(runs['check warm'], runs['floor'])} (goal <= 1.5x)")
    print(f"  check peak memory: {max(best['check cold'].peak_mb, best['check warm'].peak_mb):.0f} MB (goal < 250 MB)")


def even_days(n: int) -> int:
    """The days ``n`` items span at the density of the 1,000-item corpus (120 days)."""
    return max(1, round(120 * n / 1000))


def bench_even(sizes: list[int], repeat: int) -> None:
    """The cold run on corpora of one mix at every size (``even_days``), interleaved across sizes."""
    from datetime import datetime, timedelta

    roots = {}
    for n in sizes:
        days = even_days(n)
        roots[n] = (generate(WORK / f"even-{n}" / "project", n, seed=1, channels_per_item=1, days=days),
                    f"{datetime(2026, 9, 1) + timedelta(days=days + 2):%Y-%m-%dT00:00Z}", days)
    runs: dict[int, list[Figure]] = {}
    for _ in range(repeat):
        for n, (root, now, _) in roots.items():
            reset(root, "state", ".cache", "public")
            runs.setdefault(n, []).append(ours(root, "publish", "--now", now))
    best = {n: min(figs, key=lambda f: f.cpu) for n, figs in runs.items()}
    posts = {n: len(delivered_posts(roots[n][0])) for n in sizes}
    print(f"\n== linear, the same mix at every size: ours cold — {load()}")
    for n in sizes:
        print(f"  {n:>6} items over {roots[n][2]:>4} days ({posts[n]:>5} posts)  {best[n]}   "
              f"{best[n].cpu / n * 1000:5.2f} ms CPU an item, {best[n].cpu / max(posts[n], 1) * 1000:5.2f} ms a post")
    item = [best[n].cpu / n for n in sizes]
    mean = sum(item) / len(item)
    worst = max(abs(v / mean - 1) for v in item)
    print(f"  CPU an item: the furthest {worst:.0%} from their mean ({mean * 1000:.2f} ms; goal ±20%); the largest "
          f"{max(item) / min(item) - 1:.0%} above the smallest (the stricter reading: goal <= 20%)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,10000", help="corpus sizes, comma separated")
    ap.add_argument("--repeat", type=int, default=2, help="interleaved repetitions (the best is kept)")
    ap.add_argument("--no-pelican", action="store_true")
    ap.add_argument("--no-hugo", action="store_true")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--check-size", type=int, default=None, help="items for the check figures (default: the largest size)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    pelican = not args.no_pelican and ensure_pelican()
    if not args.no_pelican and not pelican:
        print("Pelican could not be installed into bench/.venv: skipped", flush=True)
    hugo = not args.no_hugo and shutil.which("hugo") is not None
    if not args.no_hugo and not hugo:
        print("hugo is not installed (apt-get install hugo): skipped", flush=True)
    elif hugo:
        print(subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip())
    compile_code()
    print(f"python {sys.version.split()[0]}, {load()}", flush=True)
    if note := settle_note():
        print(note, flush=True)
    results = []
    for n in sizes:
        r = bench_size(n, args.repeat, pelican, hugo)
        report_size(r)
        results.append(r)
    if len(results) > 1:
        linear(results)
        bench_even(sizes, args.repeat)
    if not args.no_check:
        bench_check(args.check_size or max(sizes), args.repeat)


if __name__ == "__main__":
    main()
