"""``publish import jekyll|hugo|pelican PATH``: another tool's posts become items.

Reads front matter the way each tool writes it: YAML between ``---`` lines (Jekyll, Hugo), TOML
between ``+++`` lines and a JSON object (Hugo, https://gohugo.io/content-management/front-matter/),
and Pelican's ``Key: value`` header ended by a blank line
(https://docs.getpelican.com/en/latest/content.html#file-metadata). Keys are mapped to ours
(``date`` → ``publish_at``, ``draft``/``Status`` → ``status``, ``categories``/``category``/``tags`` →
``tags``, ``slug``/``permalink``/``url`` → ``slug``, ``description``/``excerpt`` → ``summary``);
images the posts use are copied into ``content/images/`` and their references rewritten; what only
the other tool understands (Liquid tags, Hugo shortcodes, Pelican's ``{filename}`` links) is listed as
a problem at its line, never silently kept as if it would work. Nothing is ever overwritten.

Parsing is separate from writing (``parse_post`` is pure) so it can be fuzzed.
"""
from __future__ import annotations

import json
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from . import yamlload
from .items import ITEM_SUFFIXES, slugify

TOOLS = ("jekyll", "hugo", "pelican")
#: Where each tool keeps its posts under the folder given, tried in order (else the folder itself).
POST_FOLDERS = {"jekyll": ("_posts", "_drafts"), "hugo": ("content",), "pelican": ("content",)}
#: Markdown extensions the tools read (Pelican: .md, .markdown, .mkd, .mdown).
MARKDOWN = (".md", ".markdown", ".mkd", ".mdown")
#: Post formats we cannot convert: named for a person.
OTHER_FORMATS = (".html", ".rst", ".adoc", ".asciidoc", ".org", ".textile", ".ipynb")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif")

_PELICAN_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(?:\s+(.*))?$")
_DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
#: Syntax only the other tool renders, by what a person should do about it.
_FOREIGN = (
    (re.compile(r"\{\{[<%].*?[%>]\}\}"), "a Hugo shortcode"),
    (re.compile(r"\{%-?\s*(?:highlight|include|raw|endraw|endhighlight|link|post_url|capture|assign|if|for)\b.*?%\}"),
     "a Liquid tag"),
    (re.compile(r"\{\{-?\s*(?:site|page|post|content|include|paginator|layout)\b.*?\}\}"), "a Liquid variable"),
    (re.compile(r"\{(?:filename|attach|index|tag|category|author)\}"), "a Pelican link"),
)
_IMAGE_REF = re.compile(r"(!\[[^\]\n]*\]\()(\s*<?)([^)\s>]+)")


@dataclass
class Post:
    """One post as read: its front matter as data, the body, and what could not be read."""

    fmt: str  # yaml, toml, json, pelican, none
    meta: dict
    body: str
    body_line: int  # the body's first line in the file
    lines: dict[str, int] = field(default_factory=dict)  # key → line
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


def _toml_line(message: str, offset: int) -> int:
    m = re.search(r"line (\d+)", message)
    return offset + int(m.group(1)) if m else offset + 1


def _key_lines(front: str, offset: int, pattern: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, line in enumerate(front.split("\n")):
        m = re.match(pattern, line)
        if m:
            out.setdefault(m.group(1), offset + n)
    return out


def parse_post(text: str) -> Post:
    """Split ``text`` into front matter and body, in whichever format it starts with."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = lines[0].rstrip() if lines else ""
    if first in ("---", "+++"):
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in (first, "..." if first == "---" else first)),
                   None)
        if end is None:
            return Post("none", {}, text, 1, problems=[(1, f"the front matter opened by '{first}' on line 1 is "
                                                            f"never closed: add a line '{first}' after the last key")])
        front, body = "\n".join(lines[1:end]), "\n".join(lines[end + 1:])
        if first == "---":
            try:
                doc = yamlload.parse(front, line_offset=1)
            except yamlload.YamlError as exc:
                return Post("yaml", {}, body, end + 2, problems=[(exc.line or 1, exc.message)])
            data = doc.data
            lines_of = _key_lines(front, 2, r"^([A-Za-z_][\w-]*)\s*:")
            fmt = "yaml"
        else:
            try:
                data = tomllib.loads(front)
            except tomllib.TOMLDecodeError as exc:
                return Post("toml", {}, body, end + 2, problems=[(_toml_line(str(exc), 1), f"TOML: {exc}")])
            lines_of = _key_lines(front, 2, r"^\s*([A-Za-z_][\w-]*)\s*=")
            fmt = "toml"
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return Post(fmt, {}, body, end + 2, problems=[(2, "the front matter is not keys and values")])
        return Post(fmt, data, body, end + 2, lines_of)
    if text.startswith("{"):
        try:
            data, end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as exc:
            return Post("json", {}, text, 1, problems=[(exc.lineno, f"JSON front matter: {exc.msg}")])
        if not isinstance(data, dict):
            return Post("json", {}, text, 1, problems=[(1, "the front matter is not keys and values")])
        head = text[:end]
        rest = text[end:]
        body_line = head.count("\n") + 1 + (1 if rest.startswith("\n") else 0)
        return Post("json", data, rest[1:] if rest.startswith("\n") else rest, body_line,
                    _key_lines(head, 1, r'^\s*"([^"]+)"\s*:'))
    if _PELICAN_KEY.match(first):
        meta: dict[str, str] = {}
        key_lines: dict[str, int] = {}
        n = 0
        last = None
        while n < len(lines) and lines[n].strip():
            line = lines[n]
            m = _PELICAN_KEY.match(line)
            if m:
                last = m.group(1).lower()
                meta[last] = (m.group(2) or "").strip()
                key_lines.setdefault(last, n + 1)
            elif last is not None and line[:1] in (" ", "\t"):  # a continued value (Python-Markdown meta)
                meta[last] = (meta[last] + " " + line.strip()).strip()
            else:
                break
            n += 1
        return Post("pelican", meta, "\n".join(lines[n + 1:] if n < len(lines) else []), n + 2, key_lines)
    return Post("none", {}, text, 1, problems=[(1, "has no front matter (no '---', '+++', JSON object or "
                                                   "'Title:' header): give it a title and a date by hand")])


def foreign_syntax(body: str, body_line: int) -> list[tuple[int, str]]:
    """Each Liquid tag, Hugo shortcode and Pelican link in ``body``, at its line."""
    out = []
    fence = None
    for n, line in enumerate(body.split("\n")):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence and stripped.startswith(fence) else (fence or stripped[:3])
            continue
        if fence:
            continue  # code shows syntax, it does not run it
        for pattern, what in _FOREIGN:
            for m in pattern.finditer(line):
                snippet = m.group(0) if len(m.group(0)) <= 60 else m.group(0)[:57] + "..."
                out.append((body_line + n, f"{what} ({snippet}) only renders in the old tool: rewrite it "
                                           "as Markdown or HTML"))
    return out


# -- mapping to our keys ----------------------------------------------------------------------------

def _when(value) -> str | None:
    """A publish_at value from the other tool's date, or None when it is not one."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes") if value.tzinfo else value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return f"{value.isoformat()}T09:00"
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                     r"\s*(Z|[+-]\d{2}:?\d{2})?", text)
    if not m:
        return None
    y, mo, d, h, mi, _, tz = m.groups()
    try:
        date(int(y), int(mo), int(d))
    except ValueError:
        return None
    if h is not None and (int(h) > 23 or int(mi) > 59):
        return None
    out = f"{int(y):04d}-{int(mo):02d}-{int(d):02d}T{int(h or 9):02d}:{mi or '00'}"
    if tz:
        out += "+00:00" if tz == "Z" else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}")
    return out


def _words(value, *, pelican: bool = False, spaces: bool = False) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        sep = ";" if pelican and ";" in value else ("," if "," in value or not spaces else None)
        return [w.strip() for w in (value.split(sep) if sep else value.split()) if w.strip()]
    return []


def _slug_from(value: str) -> str | None:
    parts = [p for p in re.split(r"[/]", str(value)) if p and not p.startswith(":")]
    if not parts:
        return None
    return slugify(re.sub(r"\.html?$", "", parts[-1]))


@dataclass
class Converted:
    source: str  # relative to the import folder
    target: str | None  # relative to the project, None when not written
    front: dict
    body: str
    notes: list[tuple[int | None, str]] = field(default_factory=list)  # needs a person: (line, what)
    images: list[tuple[Path, str]] = field(default_factory=list)  # (source file, target relative path)


#: Keys each tool uses that we map (lower case); anything else is named as left out.
_MAPPED = {"title", "date", "publishdate", "draft", "status", "tags", "categories", "category", "slug", "permalink",
           "url", "summary", "description", "excerpt", "author", "authors", "image", "cover", "featured_image",
           "expirydate", "modified", "lastmod", "layout", "published"}


def convert(tool: str, rel: str, post: Post, *, approved_by: str | None, folder_draft: bool = False) -> Converted:
    """Our front matter and body for one parsed post (pure: no files read or written)."""
    meta = {str(k).lower(): v for k, v in post.meta.items()}
    line = {str(k).lower(): v for k, v in post.lines.items()}
    notes: list[tuple[int | None, str]] = list(post.problems)
    name = rel.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0]
    if stem in ("index", "_index") and "/" in rel:
        stem = rel.rsplit("/", 2)[-2]  # a Hugo page bundle: the folder names the page
    dated = _DATED_NAME.match(stem)
    front: dict = {}
    title = meta.get("title")
    front["title"] = str(title).strip() if title not in (None, "") else (dated.group(4) if dated else stem).replace(
        "-", " ").strip().capitalize() or "Untitled"
    if title in (None, ""):
        notes.append((1, f"no title: '{front['title']}' is made from the file name; check it"))

    raw_date = meta.get("publishdate") or meta.get("date")
    at = _when(raw_date) if raw_date is not None else None
    if raw_date is not None and at is None:
        notes.append((line.get("publishdate") or line.get("date"), f"date '{raw_date}' is not a date: set publish_at"))
    if at is None and dated:
        at = f"{dated.group(1)}-{dated.group(2)}-{dated.group(3)}T09:00"
    if at:
        front["publish_at"] = at

    draft = meta.get("draft") in (True, "true", "True", "yes") or folder_draft or meta.get("published") in (False, "false")
    status_text = str(meta.get("status") or "").lower()
    if draft or status_text == "draft":
        front["status"] = "draft"
    elif status_text == "hidden":
        front["status"] = "archived"
    elif approved_by:
        front["status"] = "approved"
        front["approved_by"] = approved_by
    else:
        front["status"] = "review"
    params = meta.get("params") if isinstance(meta.get("params"), dict) else {}
    if "author" not in meta and "authors" not in meta and isinstance(params.get("author"), str):
        meta["author"] = params["author"]  # Hugo keeps custom fields under params
    if "author" in meta or "authors" in meta:
        authors = _words(meta.get("authors") if "authors" in meta else meta.get("author"), pelican=tool == "pelican")
        if isinstance(meta.get("author"), dict):
            authors = [str(meta["author"].get("name") or "")]
        if authors and authors[0]:
            front["author"] = authors[0]
            if len(authors) > 1:
                notes.append((line.get("authors") or line.get("author"),
                              f"several authors ({', '.join(authors)}): author keeps the first"))
    for src, dst in (("summary", "summary"), ("description", "summary"), ("excerpt", "summary")):
        if meta.get(src) and dst not in front and isinstance(meta[src], str):
            front[dst] = meta[src].strip()[:500]

    tags: list[str] = []
    for key in ("tags", "categories", "category"):
        if key in meta:
            tags += _words(meta[key], pelican=tool == "pelican", spaces=tool == "jekyll" and key == "categories")
    tags = [t[:60] for t in dict.fromkeys(tags)]
    if tags:
        front["tags"] = tags

    slug = None
    for key in ("slug", "permalink", "url"):
        if meta.get(key):
            slug = _slug_from(meta[key]) if key != "slug" else slugify(str(meta[key]))
            if slug:
                break
    front["slug"] = slug or slugify(dated.group(4) if dated else stem)
    if meta.get("expirydate"):
        expires = _when(meta["expirydate"])
        if expires:
            front["expires_at"] = expires
    image = meta.get("image") or meta.get("cover") or meta.get("featured_image")
    if isinstance(image, dict):
        image = image.get("path") or image.get("feature") or image.get("image")
    if isinstance(image, str) and image.strip():
        front["image"] = image.strip()
        front["image_alt"] = front["title"]
        notes.append((line.get("image") or line.get("cover"), "image_alt is the title: describe the image instead"))
    front["channels"] = ["blog"]

    left_out = [k for k in post.meta if str(k).lower() not in _MAPPED]
    if left_out:
        notes.append((None, "left out (no such key here): " + ", ".join(str(k) for k in left_out)))
    notes.extend(foreign_syntax(post.body, post.body_line))
    return Converted(rel, None, front, post.body.lstrip("\n"), notes)


# -- a whole folder -------------------------------------------------------------------------------

@dataclass
class ImportResult:
    imported: list[Converted] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # targets that existed: left as they were
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    needs_person: list[tuple[str, int | None, str]] = field(default_factory=list)  # (file, line, what)
    images: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"imported": [{"from": c.source, "to": c.target} for c in self.imported], "kept": self.kept,
                "skipped": [{"file": f, "why": w} for f, w in self.skipped], "images": self.images,
                "needs_a_person": [{"file": f, "line": n, "what": w} for f, n, w in self.needs_person]}

    def lines(self, dry_run: bool, heading=str) -> list[str]:
        """What the import says: each file it made, copied, kept or skipped, what needs a person, a summary."""
        verb = "would import" if dry_run else "imported"
        out = ([f"{verb} {c.source} → {c.target}" for c in self.imported] + [f"copied {i}" for i in self.images]
               + [f"kept {t} (exists)" for t in self.kept] + [f"skipped {s}: {why}" for s, why in self.skipped])
        if self.needs_person:
            out.append(heading("Needs a person"))
            out += [f"  {source}{f':{line}' if line else ''}: {what}" for source, line, what in self.needs_person]
        out.append(f"{len(self.imported)} {verb}, {len(self.kept)} kept, {len(self.skipped)} skipped; "
                   f"{len(self.needs_person)} to look at. Then: publish check")
        return out


def _sources(tool: str, folder: Path) -> list[tuple[Path, bool]]:
    """(file, in a drafts folder) for every candidate post, sorted."""
    roots = [(folder / sub, sub == "_drafts") for sub in POST_FOLDERS[tool] if (folder / sub).is_dir()]
    if not roots:
        roots = [(folder, False)]
    out = []
    for base, drafts in roots:
        for path in sorted(base.rglob("*")):
            if path.is_file() and not any(p.startswith(".") for p in path.relative_to(base).parts):
                out.append((path, drafts))
    return out


def _find_image(ref: str, post_file: Path, folder: Path) -> Path | None:
    ref = re.sub(r"^\{(?:static|attach|filename)\}", "", ref).split("?")[0].split("#")[0]
    if "://" in ref or ref.startswith("//") or not ref.lower().endswith(IMAGE_SUFFIXES) or ".." in ref.split("/"):
        return None
    rel = ref.lstrip("/")
    for candidate in (post_file.parent / ref if not ref.startswith("/") else None, folder / rel,
                      folder / "static" / rel, folder / "content" / rel, folder / "assets" / rel):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def _yaml_front(front: dict) -> str:
    return yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=None)


def run_import(tool: str, folder: Path, root: Path, content_dir: str, *, approved_by: str | None = None,
               dry_run: bool = False) -> ImportResult:
    """Convert every post under ``folder`` into ``root/content_dir``; never overwrite."""
    result = ImportResult()
    images_dir = f"{content_dir}/images"
    taken_images: dict[str, Path] = {}
    for path, in_drafts in _sources(tool, folder):
        rel = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES or suffix in (".css", ".js", ".json", ".yml", ".yaml", ".toml", ".txt"):
            continue  # copied when a post uses it
        if suffix in OTHER_FORMATS:
            result.skipped.append((rel, f"{suffix} posts are not converted: rewrite it as Markdown"))
            result.needs_person.append((rel, None, f"not converted ({suffix}); rewrite it as Markdown"))
            continue
        if suffix not in MARKDOWN:
            continue
        if path.name == "_index.md":
            result.skipped.append((rel, "a Hugo list page, not a post"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            result.skipped.append((rel, f"cannot be read: {exc}"))
            continue
        post = parse_post(text)
        if post.fmt == "none" or (post.problems and not post.meta):
            for line, what in post.problems:
                result.needs_person.append((rel, line, what))
            result.skipped.append((rel, "its front matter cannot be read"))
            continue
        conv = convert(tool, rel, post, approved_by=approved_by, folder_draft=in_drafts)
        at = conv.front.get("publish_at", "")
        folder_part = f"{at[:4]}/{at[5:7]}" if re.match(r"\d{4}-\d{2}", at) else "imported"
        conv.target = f"{content_dir}/{folder_part}/{conv.front['slug']}.md"

        def rewrite(m: re.Match) -> str:
            found = _find_image(m.group(3), path, folder)
            if found is None:
                return m.group(0)
            name = found.name
            while name in taken_images and taken_images[name] != found:
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}-2.{ext}"
            taken_images[name] = found
            conv.images.append((found, f"{images_dir}/{name}"))
            return f"{m.group(1)}{m.group(2)}/images/{name}"

        conv.body = _IMAGE_REF.sub(rewrite, conv.body)
        if isinstance(conv.front.get("image"), str):
            found = _find_image(conv.front["image"], path, folder)
            if found is not None:
                taken_images.setdefault(found.name, found)
                conv.images.append((found, f"{images_dir}/{found.name}"))
                conv.front["image"] = f"/images/{found.name}"
        for n, what in conv.notes:
            result.needs_person.append((rel, n, what))
        target = root / conv.target
        if target.exists():
            result.kept.append(conv.target)
            continue
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "x", encoding="utf-8") as fh:
                fh.write("---\n" + _yaml_front(conv.front) + "---\n" + conv.body)
            for source, dest in conv.images:
                out = root / dest
                if not out.exists():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, out)
                    result.images.append(dest)
        result.imported.append(conv)
    return result
