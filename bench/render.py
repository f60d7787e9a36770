"""Rendering every channel for 1,000 generated items beside its floor: the same templates rendered
with Jinja and the same Markdown conversion, without any of the checks (no sanitising, no link
rewriting, no segment blocks, no length rules, no threads, no problems). Goal: at most 1.3x the floor.

    python bench/render.py [--items 1000] [--repeat 1]
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


def engine(project) -> int:
    """What the publish run and `render` do: render_post for every item on every channel."""
    from channels import render

    render._engine.cache_clear()  # a cold engine: compiled templates and body caches rebuilt
    n = 0
    chans = channels(project)
    for item in project.items:
        for channel in chans:
            post = render.render_post(project, item, channel)
            n += 1 + len(post.data.get("variants", ()))
    return n


def floor(project) -> int:
    """The same templates and the same Markdown, nothing else: one conversion per item (and per
    segment variant of the newsletter, as the engine makes), a plain dict as the context."""
    import jinja2
    from markupsafe import Markup

    from channels import filters, markup
    from channels.context import ChannelInfo
    from channels.render import TEMPLATES, item_url

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True, lstrip_blocks=True,
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
    for item in project.items:
        url = item_url(project, item)
        html = Markup(markup.to_html(item.body))
        text = markup.quick_text(item.body)
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


def best(fn, project, repeat: int) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn(project)
        times.append(time.perf_counter() - start)
    return min(times), count


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    root = Path(args.corpus) / str(args.items)
    if not (root / "publish.yml").exists() or len(list((root / "content").rglob("*.md"))) != args.items:
        generate(root, args.items)
    from publish import load

    project = load(root)
    engine(project) if args.items <= 50 else None  # warm imports
    t_floor, n_floor = best(floor, project, args.repeat)
    t_engine, n_engine = best(engine, project, args.repeat)
    ratio = t_engine / t_floor
    print(f"floor  (Jinja + Markdown, same templates, no checks): {t_floor:7.2f} s for {n_floor} posts "
          f"({t_floor / n_floor * 1000:.2f} ms each)")
    print(f"render_post (every channel, every check):            {t_engine:7.2f} s for {n_engine} posts "
          f"({t_engine / n_engine * 1000:.2f} ms each)")
    print(f"ratio {ratio:.2f}x (goal <= 1.3x) for {len(project.items)} items x "
          f"{len(project.settings.channels)} channels")
    return {"items": len(project.items), "floor_s": round(t_floor, 3), "render_s": round(t_engine, 3),
            "ratio": round(ratio, 3)}


if __name__ == "__main__":
    main()
