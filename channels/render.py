"""Rendering: an item becomes a channel's ``Post`` through the templates in ``templates/<type>/``.

    render_post(project, item, channel, *, segment=None) -> Post

Templates are looked up in the project's ``templates/`` first, then in the shipped defaults. A
template is named by the item (``channels.<name>.template``), the channel (``template`` in
publish.yml) or defaults to ``<type>/post.j2`` (``thread.j2`` for threads; ``email.html.j2``,
``email.txt.j2`` and ``subject.j2`` for email). Problems (over a limit, a template error, a segment
block left open, an image without alt text) are returned on ``Post.problems``, never raised.
"""
from __future__ import annotations

import math
import os
import re
import traceback
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from jinja2 import meta

from newsroom.gcpause import is_one_shot
from newsroom.model import Item, Project
from newsroom.problems import ERROR, WARNING, Problem
from newsroom.resources import shipped
from newsroom.translations import base_language

from . import fields, filters, markdown_engines, text
from .base import Channel, Media, Post
from .context import Body, ChannelInfo, TemplateContext

#: The shipped default templates (inside the installed package, or the checkout's templates/).
TEMPLATES = shipped("templates")


class RenderError(Exception):
    """A template that cannot render: which one, on which line, and why."""

    def __init__(self, template: str, line: int | None, message: str):
        self.template, self.line, self.message = template, line, message
        super().__init__(f"{template}:{line}: {message}" if line else f"{template}: {message}")


def item_url(project: Project, item: Item) -> str:
    """canonical_url, else the blog page: site.url/slug/, a translation's under its language (site.url/de/slug/)."""
    return item.canonical_url or f"{project.settings.site.url.rstrip('/')}/{language_prefix(item)}{item.slug}/"


def language_prefix(item: Item) -> str:
    """``de/`` for a translation into German, else nothing: where the blog writes its page."""
    return f"{base_language(item.language)}/" if item.translation_of and item.language else ""


class Engine:
    """One project's Jinja environment and caches: compiled templates, the variables each uses,
    and each item's body per segment."""

    BODY_CACHE = 512

    def __init__(self, root: Path):
        self.root = root
        folders = [p for p in (root / "templates", TEMPLATES) if p.is_dir()]
        folders = list(dict.fromkeys(folders))
        self.folders = folders
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(f) for f in folders]),
            undefined=jinja2.StrictUndefined,
            # HTML templates only: a post for Mastodon must not turn & into &amp;.
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html", "htm"),
                                                disabled_extensions=(), default_for_string=False, default=False),
            # auto_reload: a long-running process (serve, studio) picks up edited templates, for a stat
            # of each template at each render; a command that runs once renders all it renders with
            # the templates as it first read them (4,018 stats fewer for check at 3,000 items)
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, auto_reload=not is_one_shot(),
            cache_size=-1)
        self.env.filters.update(filters.FILTERS)
        # default gives a recipient field its fallback (channels/fields.py)
        self.env.filters.update({"default": fields.default_filter, "d": fields.default_filter})
        self._needs: dict[str, tuple[jinja2.Template, frozenset[str] | None]] = {}
        self._display: dict[str, str] = {}
        self._exists: dict[str, bool] = {}
        self._bodies: dict[tuple, Body] = {}

    # -- templates ------------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        found = self._exists.get(name)
        if found is None:
            found = self._exists[name] = any((f / name).is_file() for f in self.folders)
        return found

    def display(self, name: str) -> str:
        """templates/<name> as the user finds it (the project's copy, or the shipped default)."""
        shown = self._display.get(name)
        if shown is None:
            shown = self._display[name] = self._find(name)
        return shown

    def _find(self, name: str) -> str:
        for folder in self.folders:
            if (folder / name).is_file():
                try:
                    return str((folder / name).relative_to(self.root))
                except ValueError:
                    return f"templates/{name} (shipped default)"
        return f"templates/{name}"

    def template(self, name: str) -> jinja2.Template:
        try:
            tpl = self.env.get_template(name)
        except jinja2.TemplateNotFound:
            raise RenderError(f"templates/{name}", None, "no such template (looked in "
                              + ", ".join(self._folder_names()) + ")") from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(self.display(name), exc.lineno, exc.message or "syntax error") from None
        known = self._needs.get(name)
        if known is None or known[0] is not tpl:  # new, or reloaded after an edit
            source = self.env.loader.get_source(self.env, name)[0]
            ast = self.env.parse(source)
            # the variables this template reads; a template that includes others gets them all
            self._needs[name] = (tpl, None if list(meta.find_referenced_templates(ast))
                                 else frozenset(meta.find_undeclared_variables(ast)))
        return tpl

    def reads_segment(self, names: list[str]) -> bool:
        """Whether any of these (rendered) templates reads the segment or includes others."""
        for name in names:
            needs = self._needs[name][1] if name in self._needs else None
            if needs is None or "segment" in needs or "segment_description" in needs:
                return True
        return False

    def _folder_names(self) -> list[str]:
        out = []
        for f in self.folders:
            try:
                out.append(str(f.relative_to(self.root)) + "/")
            except ValueError:
                out.append("the shipped templates/")
        return out

    def render(self, name: str, ctx: TemplateContext) -> str:
        tpl = self.template(name)
        try:
            return tpl.render(ctx.as_dict(self._needs[name][1])).strip("\n")
        except RenderError:
            raise
        except Exception as exc:  # noqa: BLE001 - any error inside a template is the template's problem
            raise RenderError(self.display(name), _template_line(exc, tpl), _describe(exc)) from None

    # -- bodies ---------------------------------------------------------------------------------
    def body(self, item: Item, segment: str | None, base: str, quick: bool = False, markdown=None,
             marks: bool = False) -> Body:
        key = (item.path, item.revision, segment, base, quick, markdown, marks)
        body = self._bodies.get(key)
        if body is None:
            if len(self._bodies) >= self.BODY_CACHE:
                self._bodies.pop(next(iter(self._bodies)))
            body = self._bodies[key] = Body(item.body, segment, tuple(item.segments), base, quick, markdown, marks)
        return body


def _template_line(exc: BaseException, tpl: jinja2.Template) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == tpl.filename or (frame.filename or "").endswith(".j2"):
            line = frame.lineno
    return line


_TYPE_NAMES = {"Item": "item", "Site": "site", "ChannelInfo": "channel", "dict": "the mapping", "str": "the text"}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, fields.FieldError):
        return str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        message = str(exc)
        # "'newsroom.model.Item object' has no attribute 'subtitle'" → "item has no attribute 'subtitle'"
        m = re.match(r"'(?:[\w.]+\.)?(\w+) object' has no attribute '([^']+)'", message)
        if m:
            return f"{_TYPE_NAMES.get(m.group(1), m.group(1))} has no attribute '{m.group(2)}' (see docs/templates.md)"
        m = re.match(r"'([^']+)' is undefined", message)
        if m:
            return f"variable '{m.group(1)}' is undefined (see docs/templates.md for the variables)"
        return message
    return f"{type(exc).__name__}: {exc}"


@lru_cache(maxsize=16)
def _engine(root: str) -> Engine:
    return Engine(Path(root))


def engine_for(project: Project) -> Engine:
    return _engine(str(project.root))


# -- the context ----------------------------------------------------------------------------------
def markdown_engine(settings):
    """The Markdown engine publish.yml's ``markdown:`` names (cmark-gfm unless it says otherwise)."""
    conf = settings.raw.get("markdown") or {}
    extensions = conf.get("extensions")
    return markdown_engines.engine(conf.get("engine") or markdown_engines.CMARK_GFM,
                                   tuple(extensions) if extensions else None)


def channel_info(channel: Channel) -> ChannelInfo:
    info = getattr(channel, "_template_info", None)
    if info is None:
        info = channel._template_info = _channel_info(channel)
    return info


def _channel_info(channel: Channel) -> ChannelInfo:
    from newsroom.schema import SecretRef

    rule = channel.length_rule(channel.config.options)
    options = {k: v for k, v in channel.config.options.items() if not isinstance(v, SecretRef)}
    return ChannelInfo(name=channel.name, type=channel.TYPE, limit=rule.limit, unit=rule.unit,
                       utm_source=channel.config.utm_source or channel.name,
                       utm_medium=channel.config.utm_medium or channel.MEDIUM, options=options)


def build_context(project: Project, item: Item, channel: Channel, segment: str | None,
                  quick: bool = False) -> TemplateContext:
    settings = project.settings
    site = settings.site
    base = site.url.rstrip("/")
    info = channel_info(channel)
    url = item_url(project, item)
    override = item.channels.get(channel.name)
    tz = item.timezone or settings.timezone
    publish_at = item.publish_at.astimezone(tz) if item.publish_at is not None and tz else item.publish_at
    transform = None
    if rendered_as(channel) == "email":
        own = urlsplit(base).netloc

        def transform(u: str, _own=own, _info=info, _campaign=item.campaign) -> str:
            return filters.add_utm(u, _info.utm_source, _info.utm_medium, _campaign) if urlsplit(u).netloc == _own else u
    return TemplateContext(
        item=item, title=item.title, summary=item.summary, url=url,
        link=filters.add_utm(url, info.utm_source, info.utm_medium, item.campaign),
        image=filters.absolute(item.image, base) if item.image else None, image_alt=item.image_alt,
        tags=list(item.tags), hashtags=" ".join(filters.hashtags_for(item.tags, channel.TYPE)),
        campaign=item.campaign, segment=segment,
        segment_description=settings.segments.get(segment) if segment else None,
        channel=info, site=site, author=item.author or site.author,
        thread=bool(channel.SUPPORTS_THREADS and override is not None and override.thread),
        publish_at=publish_at, link_transform=transform,
        body=engine_for(project).body(item, segment, base, quick, markdown_engine(settings),
                                      marks=channel.TYPE == "email"),
        recipient=fields.RECIPIENT if channel.TYPE == "email" else fields.NO_RECIPIENT,
        segments=dict(settings.segments))


# -- posts ------------------------------------------------------------------------------------------
def render_post(project: Project, item: Item, channel: Channel, *, segment: str | None = None,
                quick: bool = False) -> Post:
    """The post ``item`` makes on ``channel`` (for ``segment``), with its parts, their lengths by the
    channel's rule and every problem found on the way.

    ``quick`` (for ``check``): HTML bodies (blog, email) get a cheap stand-in instead of the Markdown
    conversion, and the lead image's file is not looked for (``image_problems`` does, once an item);
    every template still renders and every text is still measured."""
    override = item.channels.get(channel.name)
    if segment is None and override is not None and override.segment:
        segment = override.segment
    engine = engine_for(project)
    rule = channel.length_rule(channel.config.options)
    ctx = build_context(project, item, channel, segment, quick)
    post = Post(channel=channel.name, type=channel.TYPE, item_id=item.id, item_path=item.path,
                revision=item.revision, title=item.title, url=ctx.url, segment=segment, tags=list(item.tags),
                limit=rule.limit, language=item.language or project.settings.site.language or None)
    if ctx.image:
        # check (quick) counts the media and never uploads them: their files are looked for by image_problems
        post.media.append(Media(src=ctx.image, alt=item.image_alt or "",
                                path=None if quick else _local_image(project, item.image)))
    where = _Where(item, channel.name)
    if override is not None and override.thread and not channel.SUPPORTS_THREADS:
        post.problems.append(where.problem(f"{channel.TYPE} has no threads: thread: true is ignored here; "
                                           "keep the post within the limit instead", WARNING,
                                           key=f"channels.{channel.name}.thread"))
    for note in ctx.body.notes:
        post.problems.append(Problem(item.path, item.body_line + note.line - 1 if item.body_line else None,
                                     note.key, note.message))
    try:
        RENDERERS.get(rendered_as(channel), _social)(engine, post, ctx, channel, override, rule, where)
    except RenderError as exc:
        post.template = post.template or exc.template
        post.problems.append(where.problem(str(exc)))
    if channel.TYPE in CROSS_POSTS and not item.canonical_url and not any(
            getattr(project.settings.channels.get(n), "type", None) == "blog" for n in item.channels):
        post.data["canonical_url"] = None
    if channel.TYPE == "email" and not item.translation_of:
        _email_languages(project, item, channel, post, quick)
    return post


def _email_languages(project: Project, item: Item, channel: Channel, post: Post, quick: bool) -> None:
    """The newsletter in each language the item is translated into (approved or published; in review
    too for check), for recipients whose ``language`` column asks for it: ``post.data["languages"]``."""
    from newsroom.translations import base_language, translations_of

    ready = ("approved", "published", "review") if quick else ("approved", "published")
    found = {lang: t for lang, t in translations_of(project.items, item).items() if t.status in ready}
    if not found:
        return
    languages = {}
    for lang, translation in sorted(found.items()):
        made = render_post(project, translation, channel, segment=post.segment, quick=quick)
        languages[lang] = {"subject": made.subject, "html": made.html, "text": made.text,
                           "variants": made.data.get("variants") or []}
        post.problems.extend(made.problems)
    post.data["languages"] = languages
    post.data["site_language"] = base_language(project.settings.site.language)


def image_places(project: Project, image: str) -> list[str]:
    """Where a lead image given as a path (``/images/a.png``) may be, relative to the project, in the
    order looked at: under the content folder (the blog copies ``content/images/`` into the site),
    at the project root, in the site's output folder."""
    rel = image.lstrip("/")
    return [f"{project.settings.content_dir}/{rel}", rel, f"{project.settings.output.get('site', 'public')}/{rel}"]


def _local_image(project: Project, image: str) -> str | None:
    """The image's file (an absolute path) when ``image`` is a path in the project, for adapters
    that upload media; None when it is a URL or no such file exists."""
    if "://" in image:
        return None
    root = os.fspath(project.root)
    for candidate in image_places(project, image):
        if os.path.isfile(os.path.join(root, candidate)):  # plain strings: a Path each costs more than the stat
            return str(Path(root) / candidate)
    return None


def image_problems(project: Project, *, only=None) -> list[Problem]:
    """An image given as a path (the lead image, or one in the body) that is in none of the places
    looked at: the page would show a broken image and social channels could not upload it. ``only``:
    the paths of the items to look at (default: all)."""
    from .markup import image_sources

    out = []
    for item in project.items:
        if only is not None and item.path not in only:
            continue
        found = [(item.line("image"), "image", item.image)] if item.image else []
        found += [(item.body_line + n - 1 if item.body_line else None, "body", src)
                  for n, src in (item.images if item.images is not None else image_sources(item.body))]
        for line, key, src in found:
            if urlsplit(src).scheme or src.startswith(("#", "//")) or _local_image(project, src) is not None:
                continue
            first = image_places(project, src)[0]
            out.append(Problem(item.path, line, key, f"'{src}' is not in the project: put the file at {first} "
                                                     "(the blog copies it into the site) or give a full URL", WARNING))
    return out


class _Where:
    """Where an item's problems on one channel point: its channels.<name> line."""

    def __init__(self, item: Item, name: str):
        self.item, self.name = item, name
        override = item.channels.get(name)
        self.line = (override.line if override is not None and override.line else item.line("channels"))

    def problem(self, message: str, severity: str = ERROR, key: str | None = None) -> Problem:
        return Problem(self.item.path, self.line, key or f"channels.{self.name}", message, severity)


def rendered_as(channel: Channel) -> str:
    """The type whose templates and renderer a channel's posts use (a newsletter service: ``email``)."""
    return channel.RENDER_AS or channel.TYPE


def template_name(channel: Channel, override, default: str) -> str:
    """The template a post uses: the item's choice, the channel's, else ``<type>/<default>``."""
    name = (override.template if override is not None and override.template else None) or channel.config.template
    if not name:
        return f"{rendered_as(channel)}/{default}"
    if "/" in name:
        return name if name.endswith(".j2") else name + ".j2"
    if rendered_as(channel) == "email":
        return f"email/{name}"
    return f"{channel.TYPE}/{name if name.endswith('.j2') else name + '.j2'}"


def _measure(post: Post, rule: text.LengthRule, parts: list[str], source: str, where: _Where,
             channel: Channel, override) -> None:
    post.parts = parts
    post.lengths = [rule.measure(p) for p in parts]
    if rule.limit is None:
        return
    n = len(parts)
    for i, (part, length) in enumerate(zip(parts, post.lengths), 1):
        if length <= rule.limit:
            continue
        what = f"part {i} of {n}" if n > 1 else "the post"
        over = length - rule.limit
        hint = ""
        if n == 1 and channel.SUPPORTS_THREADS and not (override is not None and override.thread):
            hint = f", or set channels.{channel.name}.thread: true to post it as a thread"
        elif text.URL_RE.search(part) and n > 1:
            hint = "; a link is never cut, so shorten the link or the text around it"
        post.problems.append(where.problem(
            f"{channel.TYPE}: {what} is {over} {rule.unit} over the limit of {rule.limit} "
            f"({length}/{rule.limit}), from {source}; shorten it{hint}"))
    if channel.MAX_BYTES:
        for i, part in enumerate(parts, 1):
            size = len(part.encode("utf-8"))
            if size > channel.MAX_BYTES:
                what = f"part {i} of {n}" if n > 1 else "the post"
                post.problems.append(where.problem(
                    f"{channel.TYPE}: {what} is {size - channel.MAX_BYTES} bytes over the limit of "
                    f"{channel.MAX_BYTES} bytes of UTF-8 ({size}/{channel.MAX_BYTES}), from {source}; shorten it"))


def _social(engine: Engine, post: Post, ctx: TemplateContext, channel: Channel, override, rule, where) -> None:
    """Mastodon, Bluesky, X, LinkedIn, Telegram, Discord: one text, or a thread of them."""
    threaded = ctx.thread
    if override is not None and override.text:
        body, source = override.text.strip(), f"channels.{channel.name}.text in {post.item_path}"
        post.template = f"channels.{channel.name}.text"
    else:
        name = template_name(channel, override, "post.j2")
        if threaded and name == f"{channel.TYPE}/post.j2" and engine.exists(f"{channel.TYPE}/thread.j2"):
            name = f"{channel.TYPE}/thread.j2"
        post.template = name
        source = engine.display(name)
        body = engine.render(name, ctx)
    if threaded and rule.limit is not None:
        measure = rule.measure
        if channel.MAX_BYTES:  # a part must fit both limits: bytes count as a share of the byte limit
            def measure(part, scale=rule.limit / channel.MAX_BYTES):
                return max(rule.measure(part), math.ceil(len(part.encode("utf-8")) * scale))
        parts = text.split_thread(body, rule.limit, measure)
    else:
        parts = [body]
    _measure(post, rule, parts, source, where, channel, override)
    post.text = body
    # how the parts are written: plain text (send Telegram without parse_mode, LinkedIn escapes its
    # "little text" reserved characters itself), Discord Markdown, or Slack mrkdwn
    post.data["format"] = TEXT_FORMATS.get(channel.TYPE, "text")


def _slack(engine, post, ctx, channel, override, rule, where) -> None:
    _social(engine, post, ctx, channel, override, rule, where)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in post.parts]
    if ctx.image:
        blocks.append({"type": "image", "image_url": ctx.image, "alt_text": ctx.image_alt or ctx.title})
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Read it"}, "url": ctx.link}]})
    post.data["blocks"] = blocks


def _webhook(engine, post, ctx, channel, override, rule, where) -> None:
    _social(engine, post, ctx, channel, override, rule, where)
    item = ctx.item
    post.data["payload"] = {
        "event": "item.published", "id": item.id, "title": item.title, "summary": item.summary, "url": ctx.url,
        "link": ctx.link, "text": post.text, "tags": list(item.tags), "campaign": item.campaign,
        "segment": ctx.segment, "image": ctx.image, "image_alt": ctx.image_alt, "author": ctx.author,
        "html": str(ctx.body_html),
    }


def _blog(engine, post, ctx, channel, override, rule, where) -> None:
    """The blog builds its pages itself: it gets the sanitised body HTML and its plain text."""
    _alt_problems(post, ctx, where)
    if ctx.body.quick:  # check: nothing here can go over a limit or fail a template
        return
    post.html = str(ctx.body_html)
    # no post.text: the site never shows it, and reading it off the HTML is a third of rendering a
    # blog post; a preview reads it off post.html when it shows one (``preview.blog_text``)
    post.data["excerpt"] = ctx.excerpt
    # What the site needs beyond the body (see docs/blog.md, "the contract with the publish run").
    item = ctx.item
    post.data.update({"summary": item.summary, "author": ctx.author or "", "campaign": item.campaign or "",
                      "published": item.publish_at.isoformat() if item.publish_at else None, "slug": item.slug})
    if item.translation_of:  # the blog writes it under its language's prefix, beside its original
        post.data.update({"translation_of": item.translation_of, "language_prefix": language_prefix(item)})


def _alt_problems(post: Post, ctx: TemplateContext, where: _Where) -> None:
    item = ctx.item
    for n, src in ctx.body.images_without_alt:
        post.problems.append(Problem(post.item_path, item.body_line + n - 1 if item.body_line else None, "body",
                                     f"image '{src}' has no alt text: write ![what it shows]({src})"))


def _email_one(engine, ctx: TemplateContext, channel, override) -> tuple[str, str, str, list[str]]:
    base = template_name(channel, override, "email")
    if base.endswith(".j2"):  # a full path: <name>.html.j2 given; its text twin beside it
        html_name = base
        txt_name = base.replace(".html.j2", ".txt.j2")
        subject_name = base.replace(".html.j2", ".subject.j2")
    else:
        html_name, txt_name, subject_name = f"{base}.html.j2", f"{base}.txt.j2", f"{base}.subject.j2"
    if not engine.exists(subject_name):
        subject_name = "email/subject.j2"
    subject = " ".join(engine.render(subject_name, ctx).split())
    return subject, engine.render(html_name, ctx), engine.render(txt_name, ctx), [html_name, txt_name, subject_name]


def _email(engine, post, ctx, channel, override, rule, where) -> None:
    """A newsletter: subject, HTML and text; one variant per segment when the item has segments."""
    quick = ctx.body.quick
    if quick:  # check: nothing in an email is measured, so its text part needs no conversion either
        ctx.__dict__["body_text"] = ctx.body.selected
    post.subject, post.html, post.text, names = _email_one(engine, ctx, channel, override)
    post.template = names[0]
    _alt_problems(post, ctx, where)
    if quick and not engine.reads_segment(names):
        return  # variants differ only in their (stand-in) body: nothing more to check
    if ctx.segment is None and ctx.item.segments:
        variants = []
        for seg in ctx.item.segments:
            # the same context for another segment: only the segment fields and the body change
            seg_ctx = replace(ctx, segment=seg, segment_description=_segment_description(ctx, seg),
                              body=engine.body(ctx.item, seg, ctx.site.url.rstrip("/"), quick, ctx.body.engine,
                                               marks=ctx.body.marks))
            if quick:
                seg_ctx.__dict__["body_text"] = seg_ctx.body.selected
            subject, html, txt, _ = _email_one(engine, seg_ctx, channel, override)
            variants.append({"segment": seg, "subject": subject, "html": html, "text": txt})
        post.data["variants"] = variants


def _segment_description(ctx: TemplateContext, seg: str) -> str | None:
    return ctx.segments.get(seg)


def _devto(engine, post, ctx, channel, override, rule, where) -> None:
    """dev.to: the article's fields (developers.forem.com/api/v1#tag/articles/operation/createArticle)."""
    name = template_name(channel, override, "post.j2")
    post.template = name
    body = engine.render(name, ctx)
    tags = filters.hashtags_for(ctx.tags, "devto", limit=len(ctx.tags))
    if len(tags) > text.DEVTO_MAX_TAGS:
        dropped = ", ".join(tags[text.DEVTO_MAX_TAGS:])
        post.problems.append(where.problem(
            f"dev.to takes at most {text.DEVTO_MAX_TAGS} tags; {dropped} will be left out (order the tags "
            "by importance or set fewer)", WARNING))
    tags = tags[: text.DEVTO_MAX_TAGS]
    post.text = body
    post.tags = tags
    post.data.update({"title": ctx.title, "body_markdown": body, "tags": tags, "canonical_url": ctx.url,
                      "description": filters.excerpt(ctx.excerpt, 150), "main_image": ctx.image,
                      "published": bool(channel.config.options.get("published", True))})
    if channel.config.options.get("organization_id") is not None:
        post.data["organization_id"] = channel.config.options["organization_id"]


def _instagram(engine, post, ctx, channel, override, rule, where) -> None:
    """An Instagram caption, and what Instagram would refuse: no image, more than 30 hashtags or 20 @ tags."""
    _social(engine, post, ctx, channel, override, rule, where)
    for message in channel.caption_problems(post.parts[0] if post.parts else "", len(post.media)):
        post.problems.append(where.problem(f"instagram: {message}"))


def _article(engine, post, ctx, channel, override, rule, where) -> None:
    """Ghost, WordPress, Hashnode: an article whose body the template writes (HTML for Ghost and
    WordPress, Markdown for Hashnode), with its title, tags, excerpt, lead image and time."""
    name = template_name(channel, override, "post.j2")
    post.template = name
    body = engine.render(name, ctx)
    post.text = body
    tags = list(dict.fromkeys(str(t) for t in ctx.tags))
    most = getattr(channel, "MAX_TAGS", None)
    if most is not None and len(tags) > most:
        post.problems.append(where.problem(
            f"{channel.TYPE} takes at most {most} tags; {', '.join(tags[most:])} will be left out (order the tags "
            "by importance or set fewer)", WARNING))
        tags = tags[:most]
    post.tags = tags
    post.data.update({"title": ctx.title, "body": body, "tags": tags, "canonical_url": ctx.url,
                      "custom_excerpt": filters.excerpt(ctx.excerpt, 300), "feature_image_alt": ctx.image_alt,
                      "published_at": ctx.publish_at.isoformat() if ctx.publish_at else None})


TEXT_FORMATS = {"discord": "markdown", "slack": "mrkdwn"}
RENDERERS = {"blog": _blog, "email": _email, "devto": _devto, "slack": _slack, "webhook": _webhook,
             "ghost": _article, "wordpress": _article, "hashnode": _article, "instagram": _instagram}
#: types that copy an article from the blog: their canonical URL points at the blog page only when
#: the item also goes to a blog channel (or names its own ``canonical_url``); otherwise they are the original
CROSS_POSTS = ("ghost", "wordpress", "hashnode")
