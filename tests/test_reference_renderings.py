"""Reference renderings: fixture items and, beside them, what every channel should send, once per
Markdown engine (``expected/``: cmark-gfm, the default; ``expected-python-markdown/``).

Compared as a diff. After an intended change to a template or a rule, regenerate with
``UPDATE_REFERENCE=1 python -m pytest tests/test_reference_renderings.py`` and review the diff in git.
"""
import difflib
import os
import shutil

import pytest

from channels import preview, registry
from channels.render import render_post
from channels.registry import rule_for
from conftest import FIXTURES

CASES = FIXTURES / "render"
EXPECTED = {"cmark-gfm": CASES / "expected", "python-markdown": CASES / "expected-python-markdown"}
ITEMS = sorted(p.stem for p in (CASES / "content").glob("*.md"))


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def fixture_project(request, tmp_path_factory):
    from scheduler.project import load_project as load

    root = tmp_path_factory.mktemp("render") / "project"
    shutil.copytree(CASES, root, ignore=shutil.ignore_patterns("expected*"))
    if request.param != "cmark-gfm":
        with open(root / "publish.yml", "a", encoding="utf-8") as f:
            f.write(f"markdown:\n  engine: {request.param}\n")
    project = load(root)
    assert project.problems == []
    return request.param, project


def renderings(project, stem):
    it = project.item_by_path(f"content/{stem}.md")
    out = {}
    for name in it.channels:
        config = project.settings.channels[name]
        post = render_post(project, it, registry.build(config, {}))
        out[f"{name}.txt"] = preview.text_report([post], {name: rule_for(config.type, config.options).unit})
        if post.html is not None:
            out[f"{name}.html"] = post.html + "\n"
        for variant in post.data.get("variants", []):
            out[f"{name}.{variant['segment']}.html"] = variant["html"] + "\n"
        if post.data.get("blocks"):
            import json
            out[f"{name}.blocks.json"] = json.dumps(post.data["blocks"], indent=2, ensure_ascii=False) + "\n"
    return out


@pytest.mark.parametrize("stem", ITEMS)
def test_reference_rendering(fixture_project, stem):
    engine, project = fixture_project
    got = renderings(project, stem)
    folder = EXPECTED[engine] / stem
    if os.environ.get("UPDATE_REFERENCE"):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, text in got.items():
            (folder / name).write_text(text, encoding="utf-8")
    expected = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*"))}
    assert sorted(got) == sorted(expected), "channels differ from the reference files"
    diffs = []
    for name in sorted(got):
        if got[name] != expected[name]:
            diffs.extend(difflib.unified_diff(expected[name].splitlines(keepends=True), got[name].splitlines(keepends=True),
                                              f"expected/{stem}/{name}", "rendered"))
    assert not diffs, "".join(diffs)


def test_the_fixtures_cover_what_they_claim():
    text = "".join((CASES / "content" / f"{s}.md").read_text(encoding="utf-8") for s in ITEMS)
    for needle in ("🎉", "東京", "שלום", "العربية", "café-talks", "Q&A: <templates> & you", "https://docs.fixture"):
        assert needle in text
