"""Items: Markdown files under content/ with YAML front matter, read into ``model.Item``."""
from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from . import schema as s
from . import times, yamlload
from .bodyscan import body_fields, image_sources
from .itemcache import content_key, known_key, stat_key
from .model import STATUSES, ChannelOverride, Item, Settings, revision_of
from .problems import ERROR, WARNING, Problem, did_you_mean
from .translations import base_language, suffix_language
from .workflow import check_item


class At(s.Kind):
    """``at``: an absolute time, an offset from publish_at (+2h), or ``next`` (the next free slot)."""

    name = "date-time, offset (+2h, -30m) or next"

    def convert(self, value, ctx, key):
        text = str(value).strip()
        if text.lower() == "next":
            return "next"
        if text[:1] in "+-":
            try:
                return times.parse_duration(text, signed=True)
            except times.TimeError as exc:
                raise s.Invalid(str(exc)) from None
        try:
            return times.parse_datetime(text, ctx.tz)
        except times.TimeError as exc:
            raise s.Invalid(f"{exc}, an offset like +2h, or next") from None

    def json_schema(self, ctx):
        return {"anyOf": [{"type": "string", "pattern": times.DATETIME_PATTERN},
                          {"type": "string", "pattern": times.OFFSET_PATTERN},
                          {"type": "string", "pattern": r"^\s*[Nn][Ee][Xx][Tt]\s*$"}]}


EVERGREEN = s.Schema("evergreen", [
    s.Key("every", s.Duration(), "how long after the last share (or the first delivery) it is shared again, "
          "e.g. 90d", required=True),
    s.Key("until", s.Date(), "the last day a share may go out (default: no end)"),
    s.Key("channels", s.ListOf(s.Text()), "the item's social channels it is re-shared on", required=True),
    s.Key("variants", s.ListOf(s.Text()), "post texts used in turn, one a share (default: the channel's "
          "template); write each as it goes out, link included", default=list),
])


class Evergreen(s.Kind):
    """``evergreen``: a mapping of the EVERGREEN keys; absent, the item is shared once."""

    name = "mapping (every, until, channels, variants)"

    def convert(self, value, ctx, key):
        if not isinstance(value, dict):
            raise s.Invalid("expected a mapping: {every: 90d, until: 2027-12-31, channels: [mastodon], variants: [...]}")
        return EVERGREEN.validate(value, ctx, prefix=key)

    def json_schema(self, ctx):
        return EVERGREEN.json_schema(ctx)


OVERRIDE = s.Schema("channel override", [
    s.Key("at", At(), "when on this channel: a date-time, an offset from publish_at like +2h, or next (queue slot)"),
    s.Key("text", s.Text(), "a hand-written post used instead of the template's"),
    s.Key("template", s.Text(), "template name to use for this item on this channel"),
    s.Key("thread", s.Boolean(), "split a long post into a numbered thread where the channel supports it"),
    s.Key("segment", s.Text(), "the audience segment this channel's post addresses"),
    s.Key("enabled", s.Boolean(), "false skips this channel for this item", default=True),
    s.Key("after", s.ListOf(s.Text()), "channels of this item that must be delivered first (after: blog, or "
          "[blog, newsletter]); the entry waits for them, and an offset in at counts from their delivery",
          default=list),
], open=True)


class ChannelOverrides(s.Kind):
    """``channels``: a list of channel names, or a mapping of channel name → overrides."""

    name = "list of channel names, or mapping of channel name → overrides"

    def convert(self, value, ctx, key):
        if value is None:
            return {}
        if isinstance(value, list):
            value = {str(v): {} for v in value}
        if not isinstance(value, dict):
            raise s.Invalid("expected a list of channel names or a mapping (channels: {mastodon: {at: +2h}})")
        out = {}
        for name, override in value.items():
            sub = f"{key}.{name}"
            if override is None:
                override = {}
            elif isinstance(override, bool):
                override = {"enabled": override}
            elif not isinstance(override, dict):
                ctx.add(sub, "expected a mapping of overrides (at, text, template, thread, segment, enabled, after)")
                continue
            out[name] = (OVERRIDE.validate(override, ctx, prefix=sub), set(override))
        return out

    def json_schema(self, ctx):
        """With a project: its channel names, each with the overrides its type takes; without one, any
        name with the overrides every type takes."""
        def overrides(types) -> dict:
            extra = [k for t in types for k in getattr(ctx.channel_overrides.get(t), "keys", ())]
            settings = OVERRIDE.extend(OVERRIDE.title, extra, open=False).json_schema(ctx)
            return {"anyOf": [settings, {"type": "boolean"}, {"type": "null"}]}  # true/false: enabled

        if ctx.channels is None:
            names: dict = {"type": "string"}
            mapping = {"type": "object", "additionalProperties": overrides(sorted(ctx.channel_overrides))}
        else:
            names = {"enum": list(ctx.channels)}
            mapping = {"type": "object", "properties": {name: overrides([t]) for name, t in ctx.channels.items()},
                       "additionalProperties": False}
        return {"anyOf": [{"type": "array", "items": names}, mapping]}


class Status(s.Choice):
    """A workflow state: the built-in ones, or the project's ``workflow.states`` (``ctx.states``)."""

    def __init__(self):
        super().__init__(*STATUSES)
        self.name += " (or the states of workflow.states)"

    def convert(self, value, ctx, key):
        states = getattr(ctx, "states", None) or STATUSES
        text = str(value).lower() if value is not None else ""
        if text not in states:
            if text in STATUSES:  # a built-in state the team's workflow (publish.yml workflow.states) leaves out
                raise s.Invalid(f"'{value}' is not a state of this project's workflow (workflow.states in "
                                f"publish.yml): use one of {', '.join(states)}")
            raise s.Invalid(f"'{value}' is not one of {', '.join(states)}{did_you_mean(text, states)}")
        return text

    def json_schema(self, ctx):
        return {"enum": list(getattr(ctx, "states", None) or STATUSES)}


ITEM = s.Schema("front matter", [
    s.Key("title", s.Text(max_len=300), "the headline", required=True),
    s.Key("id", s.Slug(), "stable identity for the ledger when the slug may change (default: the slug)"),
    s.Key("slug", s.Slug(), "URL path segment (default: the file name without a leading date)"),
    s.Key("summary", s.Text(), "one or two sentences: the excerpt, the meta description, the feed summary", default=""),
    s.Key("status", Status(), "where the item is in the workflow", required=True),
    s.Key("author", s.Text(), "who wrote it (matched against approved_by)", default=""),
    s.Key("reviewers", s.ListOf(s.Text()), "who should review it", default=list),
    s.Key("approved_by", s.Text(), "who approved it; required when status is approved"),
    s.Key("approved_at", s.DateTime(), "when it was approved (orders the queue among equal priorities)"),
    s.Key("publish_at", s.DateTime(), "when it goes out: a date-time with offset, or naive in `timezone`"),
    s.Key("expires_at", s.DateTime(), "after this nothing of the item goes out any more, and what went out is "
                                      "taken down where the channel can (docs/publishing.md)"),
    s.Key("reason", s.Text(), "why the item is withdrawn (status: withdrawn); shown on its blog page"),
    s.Key("evergreen", Evergreen(), "re-share on social channels: {every: 90d, until: 2027-12-31, "
          "channels: [mastodon], variants: [...]}; each share is an entry of its own"),
    s.Key("timezone", s.Timezone(), "timezone of naive times in this file (default: the project's)"),
    s.Key("language", s.Text(), "BCP 47 language of its text (default: site.language); sent with its social "
                                "posts (Bluesky langs, Mastodon language)"),
    s.Key("campaign", s.Text(), "campaign name; also the utm_campaign of its links"),
    s.Key("tags", s.ListOf(s.Text(max_len=60)), "topics; hashtags on social channels", default=list),
    s.Key("segments", s.ListOf(s.Text()), "audience segments with their own blocks in the body", default=list),
    s.Key("image", s.Url(relative_ok=True), "lead image, a URL or a path under the site"),
    s.Key("image_alt", s.Text(), "alt text for the image; required with image"),
    s.Key("canonical_url", s.Url(), "the original's URL when this item is a copy (default: its blog URL)"),
    s.Key("priority", s.Integer(), "higher goes first when queue slots are handed out", default=0),
    s.Key("channels", ChannelOverrides(), "where it goes: channel names, or channel name → overrides", default=dict),
    s.Key("translation_of", s.Text(), "the original this item translates, by id or path (a file named "
                                      "<name>.<language>.md beside its original needs none)"),
    s.Key("translated_from", s.Text(), "which text of the original this translation was made from (check gives "
                                       "the value, and says when the original changes)"),
])


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "item"


#: The file names the loader reads as items (Jekyll writes .markdown by default).
ITEM_SUFFIXES = (".md", ".markdown")
#: Files that live beside items without being items: images and other media the blog copies.
ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".ico", ".pdf", ".mp4", ".webm",
                  ".mp3", ".ogg", ".wav", ".zip", ".css", ".js", ".woff", ".woff2", ".ttf")
#: Keys other tools write in front matter, and what we read instead (Jekyll, Hugo, Pelican).
OTHER_TOOLS_KEYS = {
    "date": "publish_at", "publishDate": "publish_at", "expiryDate": "expires_at", "draft": "status (status: draft)",
    "published": "status", "categories": "tags", "category": "tags", "permalink": "slug", "url": "slug",
    "description": "summary", "excerpt": "summary", "authors": "author",
}


def default_slug(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"^\d{4}-\d{2}-\d{2}-", "", stem)


def _no_front_matter(text: str) -> str:
    """What to do about a file without YAML front matter, naming the format it has when it is another
    tool's (Hugo's TOML or JSON, Pelican's header)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first == "+++":
        found = "TOML front matter (+++, as Hugo writes it)"
    elif first.startswith("{"):
        found = "JSON front matter (as Hugo writes it)"
    elif re.match(r"^[A-Za-z][A-Za-z0-9_-]*:\s", first):
        found = "a 'Key: value' header (as Pelican writes it)"
    else:
        return ("has no front matter: start the file with a line '---', the YAML keys (title, status …), "
                "then another '---'")
    return f"has {found}: write YAML between '---' lines instead (publish import converts a whole folder)"


def load_item(rel: str, raw: bytes, settings: Settings, problems: list[Problem],
              channel_overrides: dict[str, s.Schema] | None = None) -> Item | None:
    """One item from its bytes; problems are appended, and None returned when nothing usable remains."""
    try:
        text = yamlload.decode(raw)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(rel, line, "", f"is not UTF-8 (byte 0x{raw[exc.start]:02x} on this line); "
                                              "save the file as UTF-8"))
        return None
    src = yamlload.split_front_matter(text)
    if src.front is None:
        problems.append(Problem(rel, 1, "", _no_front_matter(text)))
        return None
    if not src.front_closed:
        problems.append(Problem(rel, 1, "", "front matter is not closed: add a line '---' after the last key"))
        return None
    try:
        doc = yamlload.parse(src.front, line_offset=1)
    except yamlload.YamlError as exc:
        problems.append(Problem(rel, exc.line, "", exc.message))
        return None
    data = doc.data
    if data is None:
        problems.append(Problem(rel, 1, "", "front matter is empty: title and status are required"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, 2, "", "front matter must be keys and values (title: …), not "
                                            f"{'a list' if isinstance(data, list) else 'a single value'}"))
        return None
    for dotted, line in doc.duplicates:
        problems.append(Problem(rel, line, dotted, "appears twice; keep one"))

    workflow = settings.workflow
    ctx = s.Context(rel, doc, problems, states=workflow.names)
    tz = settings.timezone
    if "timezone" in data:
        try:
            tz = times.zone(str(data["timezone"]))
        except times.TimeError:
            pass  # reported by the schema below
    ctx.tz = tz
    for key in [k for k in data if k in OTHER_TOOLS_KEYS and k not in ITEM.by_name]:
        # A draft marked the other tool's way must not go out as approved: that one is an error.
        severity = ERROR if key == "draft" and data[key] is True and data.get("status") != "draft" else WARNING
        problems.append(Problem(rel, doc.line(key), key, f"is another tool's key: use {OTHER_TOOLS_KEYS[key]} "
                                                         "(publish import converts a whole folder)", severity))
    v = ITEM.validate({k: val for k, val in data.items() if k not in OTHER_TOOLS_KEYS or k in ITEM.by_name}, ctx,
                      unknown=WARNING)
    known_extra = {k: data[k] for k in data if k not in ITEM.by_name}

    suffix = suffix_language(rel)  # launch.de.md: the de translation of launch.md
    language, translation_of = v.get("language"), v.get("translation_of")
    if suffix is not None:
        if language and base_language(language) != base_language(suffix[1]):
            problems.append(Problem(rel, doc.line("language"), "language", f"is {language}, but the file name says "
                                    f"{suffix[1]}: make them agree"))
        language = language or suffix[1]
        translation_of = translation_of or suffix[0]
    slug = v.get("slug")
    if slug is None:
        slug = default_slug(suffix[0] if suffix is not None else rel)
        if not re.match(s.Slug.PATTERN, slug):
            problems.append(Problem(rel, 1, "slug", f"the file name gives '{slug}', which is not a safe path segment; "
                                                    f"add slug: {slugify(slug)}"))
            slug = slugify(slug)
    overrides: dict[str, ChannelOverride] = {}
    for name, (o, given) in (v.get("channels") or {}).items():
        extra = {k: o[k] for k in o if k not in OVERRIDE.by_name}
        channel = settings.channels.get(name)
        if channel_overrides is not None and channel is not None and extra:
            extra_schema = channel_overrides.get(channel.type)
            if extra_schema is None:
                for k in extra:
                    problems.append(Problem(rel, doc.line(f"channels.{name}.{k}"), f"channels.{name}.{k}",
                                            f"unknown key{did_you_mean(k, OVERRIDE.by_name)}"))
                extra = {}
            else:
                merged = OVERRIDE.extend(extra_schema.title, extra_schema.keys, open=False)
                for k in list(extra):
                    if k not in merged.by_name:
                        problems.append(Problem(rel, doc.line(f"channels.{name}.{k}"), f"channels.{name}.{k}",
                                                f"unknown key{did_you_mean(k, merged.by_name)}"))
                        extra.pop(k)
                extra = s.Schema(extra_schema.title, extra_schema.keys).validate(extra, ctx, prefix=f"channels.{name}")
                extra = {k: val for k, val in extra.items() if k in o}
        overrides[name] = ChannelOverride(
            channel=name, at=o.get("at"), text=o.get("text"), template=o.get("template"), thread=o.get("thread"),
            segment=o.get("segment"), enabled=o.get("enabled", True), after=tuple(o.get("after") or ()),
            options=extra, line=doc.line(f"channels.{name}"))
    _check_after(rel, doc, overrides, problems)
    if v.get("title") is None or v.get("status") is None:
        # Without these the item means nothing to the calendar; its problems are already listed.
        return None
    revision = revision_of(text)
    # the item keeps its document for the lines of its keys; the values live in the item itself, and
    # a second copy of every front matter would cost memory and the item cache's time
    doc.data = None
    return Item(
        path=rel, id=v.get("id") or slug, slug=slug, title=v["title"], status=workflow.status_of(v["status"]),
        state=v["status"], body=src.body,
        body_line=src.body_line, revision=revision, summary=v["summary"], author=v["author"],
        reviewers=v["reviewers"], approved_by=v.get("approved_by"), approved_at=v.get("approved_at"),
        publish_at=v.get("publish_at"), expires_at=v.get("expires_at"), reason=v.get("reason"),
        evergreen=v.get("evergreen") or None,
        timezone=v.get("timezone"), language=language, campaign=v.get("campaign"), tags=v["tags"], segments=v["segments"],
        image=v.get("image"), image_alt=v.get("image_alt"), canonical_url=v.get("canonical_url"),
        priority=v.get("priority") or 0, channels=overrides, extra=known_extra, doc=doc,
        translation_of=translation_of, translated_from=v.get("translated_from"), images=tuple(image_sources(src.body)),
        recipient_fields=tuple(body_fields(src.body)))


def _check_after(rel: str, doc, overrides: dict[str, ChannelOverride], problems: list[Problem]) -> None:
    """``after:`` names channels of the same item, never the entry itself; a name that is not there is
    dropped (the entry would wait for ever) and reported at its line."""
    for name, override in overrides.items():
        kept = []
        for i, dep in enumerate(override.after):
            line = doc.lines.get(f"channels.{name}.after[{i}]") or doc.line(f"channels.{name}.after")
            if dep == name:
                problems.append(Problem(rel, line, f"channels.{name}.after",
                                        f"'{name}' cannot wait for itself; name another channel of this item"))
            elif dep not in overrides:
                problems.append(Problem(rel, line, f"channels.{name}.after",
                                        f"'{dep}' is not one of this item's channels{did_you_mean(dep, overrides)} "
                                        f"(its channels: {', '.join(overrides)})"))
            elif dep not in kept:
                kept.append(dep)
        override.after = tuple(kept)


#: An item file larger than this is not read (a Markdown article is a few kilobytes).
MAX_ITEM_BYTES = 8 << 20
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"))


def content_files(root: Path, content_dir: str, unread: list[Problem] | None = None) -> list[str]:
    """Relative POSIX paths of every item file (``ITEM_SUFFIXES``), sorted; names starting with _ or .
    are skipped. With ``unread``, a warning is added there for each file that is not read and is no
    asset either (an item in another format, a draft named the Jekyll way), so nothing is skipped
    without a word. Only regular files are items: a named pipe would hang the reader, a link that
    leads nowhere or in a loop cannot be read; each is skipped with a note. Links to folders are not
    followed (``ln -s .. content/loop`` would never end)."""
    base = str(root / content_dir)
    out: list[str] = []
    prefix_len = len(str(root)) + 1
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            name = e.name
            rel = e.path[prefix_len:].replace(os.sep, "/")
            if name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    if name.startswith("_"):
                        if unread is not None:
                            unread.append(Problem(rel + "/", None, "", "is not read (a folder whose name starts "
                                                                       "with '_'): rename it to make its files items",
                                                  WARNING))
                        continue
                    stack.append(e.path)
                    continue
                if not name.endswith(ITEM_SUFFIXES) or name.startswith("_"):
                    if unread is None:
                        continue
                    if e.is_symlink() and e.is_dir():
                        unread.append(Problem(rel, None, "", "is a link to a folder; not followed (a link can "
                                                             "loop): move the items into content/", WARNING))
                    elif not name.lower().endswith(ASSET_SUFFIXES):
                        why = ("its name starts with '_'; rename it to make it an item" if name.endswith(ITEM_SUFFIXES)
                               else "only .md and .markdown files are items; rename it if it is one")
                        unread.append(Problem(rel, None, "", f"is not read: {why}", WARNING))
                    continue
                if e.is_file():
                    out.append(rel)
                    continue
                if e.is_dir():
                    continue  # a link to a folder named like an item; not followed either
                mode = e.stat().st_mode
                kind = next((label for test, label in _KINDS if test(mode)), "not a regular file")
                why = f"is {kind}, not a file"
            except OSError as exc:  # a link that leads nowhere, or in a loop
                why = f"is a link that cannot be followed ({exc.strerror})"
            if unread is not None:
                unread.append(Problem(rel, None, "", f"{why}; skipped", WARNING))
    out.sort()
    return out


def load_items(root: Path, settings: Settings, problems: list[Problem],
               channel_overrides: dict[str, s.Schema] | None = None, cache=None,
               stats: dict[str, tuple] | None = None) -> list[Item]:
    """Every item under the content folder. With ``cache`` (an ``ItemCache``), unchanged files are
    taken from it with the problems they had, workflow problems included; the rest are read and
    checked (``workflow.check_item``) and put in it. ``stats``: the files' stat keys by path, taken
    by the caller just before (a file not in it is asked here)."""
    stats = stats or {}
    items = []
    base = str(root) + os.sep  # plain strings for the stat of every file: a Path each costs more than the stat
    for rel in content_files(root, settings.content_dir, problems):
        key = raw = None
        if cache is not None:
            key = stats.get(rel)
            if key is None:
                try:
                    key = stat_key(os.stat(base + rel))
                except OSError:
                    key = None
            hit = cache.get(rel, key) if key else None
            if hit is None and key and cache.knows(rel):  # touched, or a fresh checkout: same bytes?
                raw = _read(root, rel, problems)
                if raw is None:
                    continue
                hit = cache.get_by_content(rel, key, content_key(raw))
            if hit is not None:
                item, own = hit
                problems.extend(own)
                if item is not None:
                    items.append(item)
                continue
        own: list[Problem] = []
        if raw is None:
            raw = _read(root, rel, problems)
            if raw is None:
                continue
        item = load_item(rel, raw, settings, own, channel_overrides)
        if item is not None:
            own.extend(check_item(item, settings))
            items.append(item)
        problems.extend(own)
        if cache is not None and key is not None:
            cache.put(rel, key, item, own, known_key(raw, item))
    return items


def _read(root: Path, rel: str, problems: list[Problem]) -> bytes | None:
    try:
        # O_NONBLOCK: a file swapped for a named pipe since it was listed must not hang the run
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                problems.append(Problem(rel, None, "", "is not a regular file; skipped", WARNING))
                return None
            if st.st_size > MAX_ITEM_BYTES:
                problems.append(Problem(rel, None, "", f"is {st.st_size / (1 << 20):.1f} MB; an item may be at most "
                                                       f"{MAX_ITEM_BYTES >> 20} MB (keep large files out of content/)"))
                return None
            # os.read straight into bytes (no buffered file object each): one read of the size fstat
            # gave and one more that finds the end, more only if the file grew meanwhile
            chunks, left = [], MAX_ITEM_BYTES + 1
            while left > 0:
                chunk = os.read(fd, min(left, st.st_size + 1 if not chunks else 1 << 16))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        finally:
            os.close(fd)
    except OSError as exc:
        problems.append(Problem(rel, None, "", f"cannot be read: {exc.strerror}"))
        return None
