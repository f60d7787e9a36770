"""Translations of an item: how they are written and tied to their original, and a three-language
item going to the right readers (SMTP on loopback), feeds and pages (the blog) and accounts (three
Mastodon servers on loopback), each through a whole ``publish`` process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import mailserver
from channels import registry
from newsroom.project import load_project
from newsroom.translations import content_hash
from servers.mastodon import MastodonServer

from conftest import ROOT, write_project

NOW = "2026-12-01T09:05:00Z"

SETTINGS = """\
site:
  title: Northwind Notes
  url: https://news.test
  language: en
timezone: UTC
dependencies:
  live_check: false
channels:
  blog:
    type: blog
  newsletter:
    type: email
    host: 127.0.0.1
    port: {smtp}
    security: none
    from: Northwind Notes <news@news.test>
    unsubscribe_url: https://news.test/unsubscribe?token={{token}}
    lists:
      all: audience/all.csv
  mastodon:
    type: mastodon
    instance: {en}
    token: env:MASTODON_TOKEN
  mastodon-de:
    type: mastodon
    instance: {de}
    token: env:MASTODON_DE_TOKEN
    language: de
  mastodon-fr:
    type: mastodon
    instance: {fr}
    token: env:MASTODON_FR_TOKEN
    language: fr
"""

ORIGINAL = """\
---
title: The launch
status: approved
author: Al
approved_by: Ed
publish_at: 2026-12-01T09:00:00Z
tags: [launch]
channels: [blog, newsletter, mastodon, mastodon-de, mastodon-fr]
---
Hello {{ recipient.first_name | default("there") }}. Northwind ships today.
"""

GERMAN = """\
---
title: Der Start
status: approved
author: Al
approved_by: Ed
translated_from: {made_from}
---
Hallo {{{{ recipient.first_name | default("zusammen") }}}}. Northwind erscheint heute.
"""

FRENCH = """\
---
title: Le lancement
translation_of: launch
language: fr
slug: lancement
status: approved
author: Al
approved_by: Ed
translated_from: {made_from}
---
Bonjour {{{{ recipient.first_name | default("à tous") }}}}. Northwind sort aujourd'hui.
"""

READERS = """\
email,first_name,language
anna@customers.example,Anna,de
ben@customers.example,Ben,de-AT
chloe@customers.example,Chloé,fr
dev@customers.example,Dev,en
erin@customers.example,Erin,es
fay@customers.example,Fay,
"""


def original_hash() -> str:
    project = load_project(write_project(Path(tempfile.mkdtemp()) / "p", {"content/launch.md": ORIGINAL},
                                         SETTINGS.format(smtp=25, en="http://a", de="http://b", fr="http://c")))
    return content_hash(project.items[0])


def files(made_from: str | None = None, **extra) -> dict:
    made_from = made_from or original_hash()
    out = {"content/launch.md": ORIGINAL, "content/launch.de.md": GERMAN.format(made_from=made_from),
           "content/fr/lancement.md": FRENCH.format(made_from=made_from), "audience/all.csv": READERS}
    out.update(extra)
    return out


def load(root: Path):
    return load_project(root, channel_types=registry.option_schemas(), channel_overrides=registry.override_schemas())


def settings(smtp=25, en="http://127.0.0.1:9", de="http://127.0.0.1:9", fr="http://127.0.0.1:9") -> str:
    return SETTINGS.format(smtp=smtp, en=en, de=de, fr=fr)


def test_a_translation_is_tied_to_its_original_and_takes_its_own_channels(tmp_path):
    project = load(write_project(tmp_path, files(), settings()))
    items = {i.path: i for i in project.items}
    en, de, fr = items["content/launch.md"], items["content/launch.de.md"], items["content/fr/lancement.md"]
    assert (de.id, de.slug, de.language, de.translation_of) == ("launch.de", "launch", "de", "launch")
    assert (fr.id, fr.slug, fr.language, fr.translation_of) == ("launch.fr", "lancement", "fr", "launch")
    # what the translation does not say comes from the original
    assert de.publish_at == en.publish_at and de.tags == ["launch"]
    # each account gets its own language; the blog gets every language; the newsletter is the original's
    assert list(en.channels) == ["blog", "newsletter", "mastodon"]
    assert list(de.channels) == ["blog", "mastodon-de"]
    assert list(fr.channels) == ["blog", "mastodon-fr"]
    assert [p for p in project.problems if p.severity == "error"] == []


def test_check_says_when_the_original_moved_or_changed(project, cli):
    made_from = original_hash()
    root = project(files(**{
        "content/launch.md": ORIGINAL.replace("ships today", "ships today, with a new price"),
        "content/fr/lancement.md": FRENCH.format(made_from=made_from).replace(f"translated_from: {made_from}\n", ""),
        "content/gone.it.md": "---\ntitle: Il lancio\nstatus: draft\n---\nCiao.\n",
        "content/elsewhere.md": "---\ntitle: Ailleurs\nstatus: draft\ntranslation_of: lanch\nlanguage: fr\n---\nx\n",
        "content/launch.es.md": "---\ntitle: El lanzamiento\nstatus: draft\nlanguage: es\n---\nHola.\n",
        "content/otra.es.md": "---\ntitle: Otra\nstatus: draft\ntranslation_of: launch\n---\nHola.\n",
        "content/launch.en.md": "---\ntitle: Again\nstatus: draft\n---\nHi.\n",
    }), settings=settings())
    now = load(root)
    changed = content_hash(next(i for i in now.items if i.path == "content/launch.md"))
    result = cli(root, "check", "--offline", "--format", "json", "--now", "2026-11-30T09:00:00Z")
    out = json.loads(result.output)
    said = [f"{p['path']}:{p['line']}: {p['key']}: {p['message']}" for p in out["errors"] + out["warnings"]]
    assert said == [
        "content/elsewhere.md:4: translation_of: no item with the id or path 'lanch' (did you mean 'launch'?): did the "
        "original move? Point translation_of: at the original's id, or rename the file; nothing of it goes out until then",
        "content/gone.it.md:1: slug: its name makes it a translation of content/gone.md, which does not exist: did the "
        "original move? Point translation_of: at the original's id, or rename the file; nothing of it goes out until then",
        "content/launch.en.md:1: language: is in en, the language of its original content/launch.md; a translation is "
        "in another language",
        "content/otra.es.md:4: translation_of: content/launch.md already has a es translation: content/launch.es.md; "
        "keep one",
        f"content/fr/lancement.md:1: translated_from: says not which text of content/launch.md it translates: add "
        f"translated_from: {changed} (check then says when the original changes)",
        f"content/launch.de.md:6: translated_from: the original content/launch.md has changed since this translation "
        f"was made ({made_from}, now {changed}): bring the translation up to date, then set translated_from: {changed}",
        f"content/launch.es.md:1: translated_from: says not which text of content/launch.md it translates: add "
        f"translated_from: {changed} (check then says when the original changes)",
        # a translation has its own status: a draft due tomorrow is said like any other
        "content/launch.es.md:2: channels: lead_time: still draft but is due on 'blog' at 2026-12-01 09:00 (lead time "
        "2d): approve it or move it",
    ]
    assert result.exit_code == 1


def test_a_channel_bound_to_a_language_without_its_translation_is_said(project, cli):
    root = project({"content/launch.md": ORIGINAL, "audience/all.csv": READERS}, settings=settings())
    result = cli(root, "check", "--offline", "--format", "json")
    warnings = [f"{p['path']}:{p['line']}: {p['key']}: {p['message']}" for p in json.loads(result.output)["warnings"]]
    assert warnings == [
        "content/launch.md:8: channels.mastodon-de: is bound to de, and this item has no de translation: nothing goes "
        "there until one is written",
        "content/launch.md:8: channels.mastodon-fr: is bound to fr, and this item has no fr translation: nothing goes "
        "there until one is written",
    ]


def test_the_calendar_shows_translations_together(project, cli):
    root = project(files(), settings=settings())
    result = cli(root, "calendar", "--format", "json", "--now", "2026-11-30T09:00:00Z")
    rows = [(r["item_id"], r["channel"], r["title"]) for r in json.loads(result.output)
            if r["date"] == "2026-12-01"]
    assert rows == [
        ("launch", "blog", "The launch"), ("launch", "newsletter", "The launch"), ("launch", "mastodon", "The launch"),
        ("launch.de", "blog", "The launch · de: Der Start"), ("launch.de", "mastodon-de", "The launch · de: Der Start"),
        ("launch.fr", "blog", "The launch · fr: Le lancement"),
        ("launch.fr", "mastodon-fr", "The launch · fr: Le lancement"),
    ]


@pytest.fixture
def servers():
    box = mailserver.Mailbox()
    smtp = mailserver.start(box)
    accounts = {lang: MastodonServer(token=f"token-{lang}").start() for lang in ("en", "de", "fr")}
    yield box, smtp.port, accounts
    smtp.stop()
    for server in accounts.values():
        server.stop()


def publish(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"MASTODON_TOKEN": "token-en", "MASTODON_DE_TOKEN": "token-de", "MASTODON_FR_TOKEN": "token-fr",
                "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_three_languages_reach_their_readers_feeds_and_accounts(tmp_path, servers):
    import feedparser

    box, smtp_port, accounts = servers
    root = write_project(tmp_path / "p", files(), settings(smtp_port, *(accounts[k].url for k in ("en", "de", "fr"))))
    done = publish(root, "publish", "--now", NOW)
    assert done.returncode == 0, done.stdout + done.stderr

    # each account its own language, with the link to its own page
    for lang, words, link in (("en", "The launch", "https://news.test/launch/"),
                              ("de", "Der Start", "https://news.test/de/launch/"),
                              ("fr", "Le lancement", "https://news.test/fr/lancement/")):
        posted = [dict(r.form) for r in accounts[lang].requests("/api/v1/statuses$", "POST")]
        assert len(posted) == 1, (lang, posted)
        assert words in posted[0]["status"] and link in posted[0]["status"]
        assert posted[0].get("language") in (lang, None if lang == "en" else lang)

    # each reader the translation in their language column, else the original
    got = {m["To"].addresses[0].addr_spec: m for m in box.parsed()}
    subjects = {address: m["Subject"] for address, m in got.items()}
    assert subjects == {"anna@customers.example": "Der Start", "ben@customers.example": "Der Start",
                        "chloe@customers.example": "Le lancement", "dev@customers.example": "The launch",
                        "erin@customers.example": "The launch", "fay@customers.example": "The launch"}
    text = got["chloe@customers.example"].get_body(("plain",)).get_content()
    assert "Bonjour Chloé." in text and "https://news.test/fr/lancement/" in text
    assert "Hallo Ben." in got["ben@customers.example"].get_body(("plain",)).get_content()

    # each language under its prefix, with hreflang alternates, and a feed of its own
    site = root / "public"
    pages = {lang: (site / path / "index.html").read_text(encoding="utf-8")
             for lang, path in (("en", "launch"), ("de", "de/launch"), ("fr", "fr/lancement"))}
    alternates = ('<link rel="alternate" hreflang="en" href="https://news.test/launch/">',
                  '<link rel="alternate" hreflang="de" href="https://news.test/de/launch/">',
                  '<link rel="alternate" hreflang="fr" href="https://news.test/fr/lancement/">',
                  '<link rel="alternate" hreflang="x-default" href="https://news.test/launch/">')
    for lang, page in pages.items():
        assert f'<html lang="{lang}">' in page
        assert all(a in page for a in alternates), (lang, page[:1500])
    for folder, title in (("", "The launch"), ("de/", "Der Start"), ("fr/", "Le lancement")):
        for feed in ("atom.xml", "rss.xml"):
            parsed = feedparser.parse((site / folder / feed).read_bytes())
            assert not parsed.bozo, (folder, feed, parsed.bozo_exception)
            assert [e.title for e in parsed.entries] == [title], (folder, feed)

    # a second run sends nothing again
    again = publish(root, "publish", "--now", NOW)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(box.messages) == 6 and sum(len(a.requests("/api/v1/statuses$", "POST")) for a in accounts.values()) == 3


def test_a_translation_not_yet_approved_waits_and_its_readers_get_the_original(tmp_path, servers):
    box, smtp_port, accounts = servers
    german = GERMAN.format(made_from=original_hash()).replace("status: approved\n", "status: review\nreviewers: [Ed]\n")
    root = write_project(tmp_path / "p", files(**{"content/launch.de.md": german}),
                         settings(smtp_port, *(accounts[k].url for k in ("en", "de", "fr"))))
    done = publish(root, "publish", "--now", NOW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert accounts["de"].requests("/api/v1/statuses$", "POST") == []
    subjects = {m["To"].addresses[0].addr_spec: m["Subject"] for m in box.parsed()}
    assert subjects["anna@customers.example"] == "The launch"
    assert not (root / "public" / "de").exists()


_names = st.sampled_from(["launch.de.md", "launch.md", "x.fr.md", "a.b.md", "launch.xx.md", "fr/l.md", "launch.it.md"])
_values = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.lists(st.text(max_size=3), max_size=2),
                    st.sampled_from(["launch", "content/launch.md", "de", "fr", "en", "de-AT", "x"]))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files_=st.dictionaries(_names, st.fixed_dictionaries({}, optional={
    "translation_of": _values, "language": _values, "translated_from": _values, "slug": _values, "id": _values,
    "status": st.sampled_from(["draft", "approved", "review"]), "channels": st.just(["blog", "mastodon-de"])}),
    min_size=1, max_size=4))
def test_fuzz_translation_front_matter_never_breaks_loading(files_):
    """Any mix of translation keys and file names: loading ends with items and problems, each problem at
    a file (and a line when it is about a key), never a traceback."""
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        content = {}
        for name, keys in files_.items():
            front = {"title": "T", "status": "draft", **keys}
            content[f"content/{name}"] = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\nBody.\n"
        project = load(write_project(Path(tmp) / "p", content, settings()))
        for p in project.problems:
            assert p.path and p.message
        ids = [i.id for i in project.items]
        for item in project.items:
            if item.translation_of:
                assert item.translation_of in ids
                assert "mastodon" not in item.channels



def test_an_inherited_after_keeps_only_channels_the_translation_takes(tmp_path):
    original = ORIGINAL.replace("channels: [blog, newsletter, mastodon, mastodon-de, mastodon-fr]",
                                "channels: {blog: {}, newsletter: {}, mastodon-de: {after: [newsletter, blog]}}")
    project = load(write_project(tmp_path, files(**{"content/launch.md": original}), settings()))
    de = next(i for i in project.items if i.id == "launch.de")
    en = next(i for i in project.items if i.id == "launch")
    assert de.channels["mastodon-de"].after == ("blog",)  # the newsletter is the original's: not waited for
    assert "mastodon-de" not in en.channels


def test_calendar_diff_shows_a_new_translation_beside_its_original(project, cli):
    env = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@t",
           "PATH": "/usr/bin:/bin"}
    root = project({"content/launch.md": ORIGINAL, "audience/all.csv": READERS}, settings=settings())
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "before")):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env={**env, "HOME": str(root)})
    (root / "content" / "launch.de.md").write_text(GERMAN.format(made_from=original_hash()), encoding="utf-8")
    result = cli(root, "calendar", "--diff", "main", "--format", "json", "--now", "2026-11-30T09:00:00Z")
    added = [(r["channel"], r["title"]) for r in json.loads(result.output)["added"]]
    assert added == [("blog", "The launch · de: Der Start"), ("mastodon-de", "The launch · de: Der Start")]


def test_a_newsletter_bound_to_a_language_sends_that_translation_to_its_own_list(project, cli):
    extra = """\
  newsletter-de:
    type: email
    language: de
    from: Northwind Notizen <news@news.test>
    unsubscribe_url: https://news.test/abmelden?token={token}
    lists:
      all: audience/de.csv
"""
    original = ORIGINAL.replace("mastodon, mastodon-de, mastodon-fr]", "newsletter-de]").replace(
        "[blog, newsletter,", "[")
    root = project(files(**{"content/launch.md": original, "audience/de.csv": "email\nlena@kunden.example\n"}),
                   settings=settings().replace("    host: 127.0.0.1\n    port: 25\n    security: none\n", "") + extra)
    result = cli(root, "publish", "--now", NOW)
    assert result.exit_code == 0, result.output
    sent = sorted(p.relative_to(root / "outbox").parent.as_posix() for p in (root / "outbox").rglob("*.eml"))
    assert sent == ["launch.de/newsletter-de/all"]
    import email as email_lib

    message = email_lib.message_from_bytes(next((root / "outbox").rglob("*.eml")).read_bytes())
    assert message["Subject"] == "Der Start" and message["To"] == "lena@kunden.example"


def test_check_renders_the_newsletter_again_when_only_a_translation_changed(project, cli):
    german = GERMAN.format(made_from=original_hash()).replace("translated_from:", "channels: []\ntranslated_from:")
    root = project(files(**{"content/launch.de.md": german}), settings=settings())
    args = ("check", "--offline", "--format", "json", "--now", "2026-11-30T09:00:00Z")
    assert json.loads(cli(root, *args).output)["errors"] == []
    (root / "content" / "launch.de.md").write_text(german + "\n![](https://news.test/bild.png)\n", encoding="utf-8")
    errors = [f"{p['path']}:{p['line']}: {p['message']}" for p in json.loads(cli(root, *args).output)["errors"]]
    assert errors == ["content/launch.de.md:11: image 'https://news.test/bild.png' has no alt text: write "
                      "![what it shows](https://news.test/bild.png)"]
