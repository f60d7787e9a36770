"""``publish init``: a content repository a team can commit as it is.

What it writes: a commented ``publish.yml`` (a blog, a newsletter and one social channel, the latter two
inactive until their secrets are set), one example item, an audience list with its header row,
``.gitignore``, ``state/`` with its ignore and merge rules, and the three workflows (publish, check,
pull) that run the tool through its GitHub Action, so the repository needs no copy of the tool's
source. With ``example=True`` it copies the full example newsroom instead of the small start.

Nothing is ever overwritten: a file that exists is kept and named. The files' texts are in
``newsroom/starter_files/`` (package data), the example is the shipped one (``newsroom/resources``).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from .editor_schemas import MODELINE
from .resources import shipped, version
from .state.files import GITATTRIBUTES, GITIGNORE

#: The GitHub repository whose root holds action.yml; the workflows pin it to this version's tag.
ACTION = "newsroom-publish/newsroom-publish"


@dataclass(frozen=True)
class Answers:
    """What the small start asks for (on a terminal) or takes as given (options, defaults)."""

    title: str
    url: str = "https://example.com"
    timezone: str = "UTC"
    author: str = "Your Name"


@dataclass
class InitResult:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # existed already: left as they were


def _starter(name: str) -> str:
    return (resources.files("newsroom") / "starter_files" / name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"@([A-Z_]+)@", lambda m: values.get(m.group(1), m.group(0)), text)


def secrets_named(settings_text: str) -> list[str]:
    """Every ``env:NAME`` a publish.yml names, in order: the workflows pass each from the repository's
    secrets."""
    code = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in settings_text.splitlines())  # not comments
    return list(dict.fromkeys(re.findall(r"env:([A-Za-z_][A-Za-z0-9_]*)", code)))


#: The key of state/credentials (tokens from `publish auth`, renewed by publish and pull runs).
CREDENTIALS_KEY = "NEWSROOM_KEY"


def _secret_lines(names: list[str]) -> str:
    names = list(dict.fromkeys([*names, CREDENTIALS_KEY]))
    return "\n          ".join(f"{n}: ${{{{ secrets.{n} }}}}" for n in names)


def _workflows(settings_text: str) -> dict[str, str]:
    tag = version()
    values = {"ACTION_USES": f"{ACTION}@v{tag}", "VERSION": tag,
              "SECRETS": _secret_lines(secrets_named(settings_text))}
    return {f".github/workflows/{name}": _fill(_starter(f"workflows/{name}"), values)
            for name in ("publish.yml", "check.yml", "pull.yml")}


def starter_files(answers: Answers, today: date) -> dict[str, str]:
    """The small start: path (relative to the repository) → text."""
    q = json.dumps  # YAML reads a JSON string as the same string, whatever quotes it holds
    at = today + timedelta(days=7)
    settings = _fill(_starter("publish.yml"), {
        "MODELINE": MODELINE, "TITLE": q(answers.title), "URL": q(answers.url), "TIMEZONE": answers.timezone,
        "FROM": q(f"{answers.title} <news@example.com>"),
        "UNSUBSCRIBE_URL": q(answers.url.rstrip("/") + "/unsubscribe?token={token}")})
    item = _fill(_starter("item.md"), {"ITEM_TITLE": q(f"Welcome to {answers.title}"), "AUTHOR": q(answers.author),
                                       "PUBLISH_AT": f"{at.isoformat()}T09:00"})
    return {"publish.yml": settings, f"content/{at:%Y}/{at:%m}/welcome.md": item,
            "audience/subscribers.csv": _starter("subscribers.csv"), **_common(settings)}


def _common(settings_text: str) -> dict[str, str]:
    return {".gitignore": _starter("gitignore"), "state/.gitignore": GITIGNORE,
            "state/.gitattributes": GITATTRIBUTES, **_workflows(settings_text)}


def example_files() -> dict[str, str | bytes]:
    """The full example newsroom (every channel type and status), with the same repository files."""
    files: dict[str, str | bytes] = {}
    for name in ("publish.yml", "content", "audience", "sample"):  # sample/: the report's recorded month
        source = shipped(name)
        paths = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        for path in paths:
            rel = name if path == source else f"{name}/{path.relative_to(source).as_posix()}"
            files[rel] = path.read_bytes()
    files.update(_common(shipped("publish.yml").read_text(encoding="utf-8")))
    return files


def write(root: Path, files: dict[str, str | bytes]) -> InitResult:
    """Write ``files`` under ``root``, never over an existing file."""
    result = InitResult()
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "xb") as fh:  # x: fails when the file exists, atomically
                fh.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        except FileExistsError:
            result.kept.append(rel)
        else:
            result.written.append(rel)
    return result



def init(root: Path, answers: Answers | None, today: date) -> InitResult:
    """Scaffold ``root``: the small start from ``answers``, or the full example when ``answers`` is None."""
    files = example_files() if answers is None else starter_files(answers, today)
    return write(root, files)


def default_answers(root: Path, author: str = "") -> Answers:
    """What a run that may not ask takes: the folder's name as the title."""
    words = re.sub(r"[-_.]+", " ", root.resolve().name).strip()
    return Answers(title=words.title() if words else "Our Newsroom", author=author or "Your Name")
