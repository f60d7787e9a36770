"""Shared helpers: a temporary project built from a dict of files, and a CLI runner."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgserver import pg_cluster, pg_empty_url, pg_url  # noqa: F401  (a real PostgreSQL server's fixtures)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

BASE_SETTINGS = """\
site:
  title: Test Newsroom
  url: https://news.test
timezone: Europe/Berlin
channels:
  blog:
    type: blog
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
"""


def write_project(root: Path, files: dict[str, str | bytes], settings: str | None = BASE_SETTINGS) -> Path:
    """Write ``files`` (path → text, dedented; bytes kept as they are) and publish.yml under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    if settings is not None:
        (root / "publish.yml").write_text(textwrap.dedent(settings), encoding="utf-8")
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def item(title: str = "An item", status: str = "draft", body: str = "Body text.\n", **keys) -> str:
    """Front matter + body for an item file; ``keys`` are written as YAML lines in order."""
    import yaml

    lines = [f"title: {yaml.safe_dump(title, default_style=chr(34)).strip()}", f"status: {status}"]
    for key, value in keys.items():
        dumped = yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False, allow_unicode=True).strip()
        lines.append(dumped[1:-1] if dumped.startswith("{") else dumped)
    return "---\n" + "\n".join(lines) + "\n---\n" + body


@pytest.fixture
def project(tmp_path):
    """``project(files={...}, settings=...)`` → the root of a fresh temporary project."""
    counter = {"n": 0}

    def make(files: dict[str, str | bytes] | None = None, settings: str | None = BASE_SETTINGS) -> Path:
        counter["n"] += 1
        return write_project(tmp_path / f"p{counter['n']}", files or {}, settings)

    return make


@pytest.fixture(autouse=True)
def _not_in_ci():
    """CI runs this suite with CI=true, which makes a blog without a deploy target and a newsletter
    without a mail host inactive. A test that means to be in CI says so itself (``env={"CI": "true"}``),
    so no result depends on where the suite runs. (A patch of its own: a test's ``monkeypatch.undo()``
    must not bring CI back.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CI", raising=False)
        yield


@pytest.fixture
def cli():
    """Run ``publish.py`` in-process: ``cli(root, "check", "--format", "json")`` → click Result."""
    from publish import cli as group

    runner = CliRunner()

    def run(root: Path, *args: str, env: dict | None = None):
        return runner.invoke(group, ["--root", str(root), *args], env=env, catch_exceptions=False)

    return run
