"""Rendering every channel for 1,000 generated items beside its floor: the same templates rendered
with Jinja and the same Markdown conversion, without any of the checks (no sanitising, no link
rewriting, no segment blocks, no length rules, no threads, no problems). Goal: at most 1.3x the floor.

    python bench/render.py [--items 1000] [--chunk 50] [--check-items 1000]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402


def channels(project):
    from channels import registry

    return [registry.build(config, {}) for config in project.settings.channels.values()]


def engine(project, items) -> int:
    """What the publish run and `render` do: render_post for every item on every channel."""
    from channels import render

    n = 0
    chans = channels(project)
    for item in items:
        for channel in chans:
            post = render.render_post(project, item, channel)
            n += 1 + len(post.data.get("variants", ()))
    return n


_FLOOR_ENV: dict = {}


def floor(project, items) -> int:
    """The same templates and the same Markdown, nothing else: one conversion per item (and per
    segment variant of the newsletter, as the engine makes), a plain dict as the context."""
    import jinja2
    from markupsafe import Markup

    from channels import filters, markup, plaintext
    from channels.context import ChannelInfo
    from channels.render import TEMPLATES, item_url

    env = _FLOOR_ENV.get("env")
    if env is None:  # one environment for the whole run, as the engine keeps one per project
        env = _FLOOR_ENV["env"] = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, lstrip_blocks=True,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            auto_reload=False, cache_size=-1)
        env.filters.update(filters.FILTERS)
    site = project.settings.site
    infos = []
    for ch in channels(project):
        infos.append(ChannelInfo(ch.name, ch.TYPE, None, "", ch.config.utm_source or ch.name,
                                 ch.config.utm_medium or ch.MEDIUM, dict(ch.config.options)))
    names = {"blog": [], "email": ["email/email.html.j2", "email/email.txt.j2", "email/subject.j2"]}
    n = 0
    for item in items:
        url = item_url(project, item)
        raw = markup.to_html(item.body)
        html, text = Markup(raw), plaintext.html_to_text(raw)
        for info in infos:
            link = filters.add_utm(url, info.utm_source, info.utm_medium, item.campaign)
            ctx = {"item": item, "title": item.title, "summary": item.summary, "url": url, "link": link,
                   "image": item.image, "image_alt": item.image_alt, "tags": item.tags,
                   "hashtags": " ".join(filters.hashtags_for(item.tags, info.type)), "campaign": item.campaign,
                   "segment": None, "segment_description": None, "channel": info, "site": site,
                   "author": item.author, "thread": False, "publish_at": item.publish_at, "body_html": html,
                   "body_text": text, "body_markdown": item.body, "excerpt": item.summary}
            for name in names.get(info.type, [f"{info.type}/post.j2"]):
                env.get_template(name).render(ctx)
            n += 1
            if info.type == "email":
                for segment in item.segments:
                    seg_html = Markup(markup.to_html(item.body))
                    for name in names["email"]:
                        env.get_template(name).render({**ctx, "segment": segment, "body_html": seg_html})
                    n += 1
    return n


def timed(fn, project, items) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn(project, items)
    return time.perf_counter() - wall, time.process_time() - cpu, n


def run(project, chunk: int) -> dict:
    """Floor and engine in alternating chunks of items, so that a change in machine load between
    the two does not bias the ratio; CPU time is reported beside wall time for the same reason."""
    totals = {"floor": [0.0, 0.0, 0], "engine": [0.0, 0.0, 0]}
    items = project.items
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        for name, fn in (("floor", floor), ("engine", engine)):
            wall, cpu, n = timed(fn, project, part)
            totals[name][0] += wall
            totals[name][1] += cpu
            totals[name][2] += n
    return totals


def check_hook(corpus: Path, n: int) -> None:
    """check's rendering hook beside loading the same items: without its cache (a fresh checkout)
    and with it (the next check)."""
    from datetime import datetime, timezone

    from channels.preview import render_problems
    from scheduler.project import load_project as load

    root = corpus / str(n)
    if not (root / "publish.yml").exists() or len(list((root / "content").rglob("*.md"))) != n:
        generate(root, n)
    cpu = time.process_time()
    project = load(root)
    t_load = time.process_time() - cpu
    now = datetime.now(timezone.utc)
    cpu = time.process_time()
    render_problems(project, now, cache=False)
    t_cold = time.process_time() - cpu
    render_problems(project, now)  # fills the cache
    cpu = time.process_time()
    render_problems(project, now)
    t_warm = time.process_time() - cpu
    print(f"check's rendering hook on {n} items: {t_cold:6.2f} s CPU without cache ({t_cold / t_load:.2f}x loading "
          f"them, {t_load:.2f} s), {t_warm:6.2f} s with it ({t_warm / t_load:.2f}x)")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=50, help="items per alternating chunk")
    ap.add_argument("--check-items", type=int, default=1000, help="items for the check hook figure (0: skip)")
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    root = Path(args.corpus) / str(args.items)
    if not (root / "publish.yml").exists() or len(list((root / "content").rglob("*.md"))) != args.items:
        generate(root, args.items)
    from scheduler.project import load_project as load

    project = load(root)
    engine(project, project.items[:5])  # imports and compiled templates: not what is measured
    floor(project, project.items[:5])
    from channels.render import engine_for

    engine_for(project)._bodies.clear()  # but no body converted ahead of the measured run
    totals = run(project, args.chunk)
    (f_wall, f_cpu, n_floor), (e_wall, e_cpu, n_engine) = totals["floor"], totals["engine"]
    ratio = e_cpu / f_cpu
    print(f"floor  (Jinja + Markdown, same templates, no checks): {f_cpu:7.2f} s CPU ({f_wall:7.2f} s wall) "
          f"for {n_floor} posts ({f_cpu / n_floor * 1000:.2f} ms each)")
    print(f"render_post (every channel, every check):            {e_cpu:7.2f} s CPU ({e_wall:7.2f} s wall) "
          f"for {n_engine} posts ({e_cpu / n_engine * 1000:.2f} ms each)")
    print(f"ratio {ratio:.2f}x CPU, {e_wall / f_wall:.2f}x wall (goal <= 1.3x) for {len(project.items)} items x "
          f"{len(project.settings.channels)} channels")
    if args.check_items:
        check_hook(Path(args.corpus), args.check_items)
    return {"items": len(project.items), "floor_cpu_s": round(f_cpu, 3), "render_cpu_s": round(e_cpu, 3),
            "ratio": round(ratio, 3)}


if __name__ == "__main__":
    main()
