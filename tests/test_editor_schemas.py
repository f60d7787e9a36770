"""`publish schema`: JSON Schema (draft 2020-12) of front matter and publish.yml for editors, made from
the declarations `check` reads. The example project passes them; on broken items and settings the
schema and `check` refuse the same things; the committed schemas of the example are current."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conftest import BASE_SETTINGS, ROOT, write_project
from newsroom import yamlload
from newsroom.editor_schemas import FRONT_MATTER, MODELINE, NAMES, SETTINGS_FILE
from newsroom.problems import ERROR, UnusableSettings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def schemas(root: Path | None) -> tuple[Draft202012Validator, Draft202012Validator]:
    from scheduler.project import editor_schemas

    documents = editor_schemas(root)
    for document in documents.values():
        Draft202012Validator.check_schema(document)  # a valid 2020-12 schema, or this raises
    return Draft202012Validator(documents[FRONT_MATTER]), Draft202012Validator(documents[SETTINGS_FILE])


def front_matter(path: Path):
    """The front matter as the loader reads it (YAML 1.2 core, as yaml-language-server does)."""
    source = yamlload.split_front_matter(path.read_text(encoding="utf-8"))
    return yamlload.parse(source.front, line_offset=1).data


def refusals(validator: Draft202012Validator, data) -> list[str]:
    return sorted(".".join(map(str, e.absolute_path)) or "(top)" for e in validator.iter_errors(data))


def check_errors(root: Path) -> list[tuple[str, str]]:
    """(path, key) of every error `check` reports; publish.yml that cannot be used at all counts too."""
    from scheduler.project import check, load_project

    try:
        project = load_project(root, cache=False)
    except UnusableSettings as exc:
        return [(p.path, p.key) for p in exc.problems]
    return [(p.path, p.key) for p in check(project, NOW).errors]


def test_the_example_project_passes_the_schemas_generated_for_it():
    items, settings = schemas(ROOT)
    assert refusals(settings, yamlload.parse((ROOT / "publish.yml").read_text(encoding="utf-8")).data) == []
    files = sorted([*(ROOT / "content").rglob("*.md"), *(ROOT / "content").rglob("*.markdown")])
    assert len(files) >= 10
    assert {str(f.relative_to(ROOT)): refusals(items, front_matter(f)) for f in files} == \
        {str(f.relative_to(ROOT)): [] for f in files}
    assert check_errors(ROOT) == []  # and check agrees: no error either


def test_the_committed_schemas_of_the_example_are_current():
    """As a separate process prints them: a test's own channel types (register_channel_type) stay out."""
    for name, path in NAMES.items():
        printed = subprocess.run([sys.executable, str(ROOT / "publish.py"), "schema", name], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120)
        assert printed.returncode == 0, printed.stderr
        committed = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else None
        assert committed == printed.stdout, f"{path} is stale: run python publish.py schema --write"


def test_the_schemas_carry_the_declarations_help_choices_patterns_and_defaults():
    from newsroom.items import ITEM
    from newsroom.settings import SETTINGS

    items, settings = schemas(None)
    status = items.schema["properties"]["status"]
    assert status["enum"] == list(ITEM.by_name["status"].kind.options)
    assert status["description"].startswith(ITEM.by_name["status"].help)
    assert items.schema["required"] == ["title", "status"]
    assert items.schema["properties"]["slug"]["pattern"] == "^[a-z0-9]+(?:-[a-z0-9]+)*$"
    calendar = settings.schema["properties"]["calendar"]
    assert calendar["properties"]["lead_time"]["default"] == "2d"
    assert settings.schema["properties"]["content"]["default"] == SETTINGS.by_name["content"].default
    channel = settings.schema["properties"]["channels"]["additionalProperties"]
    assert "mastodon" in channel["properties"]["type"]["enum"]
    mastodon = next(rule["then"] for rule in channel["allOf"] if rule["if"]["properties"]["type"]["const"] == "mastodon")
    assert mastodon["required"] == ["instance", "token"]
    assert mastodon["properties"]["visibility"]["enum"][:4] == ["public", "unlisted", "private", "direct"]


VALID = """\
    title: A valid item
    status: approved
    author: Ana
    approved_by: Ben
    publish_at: 2026-12-01T09:00
    tags: [stock, guides]
    channels:
      blog: {}
      mastodon: {at: +2h, thread: true}
    """

#: front matter → the key `check` names in its error. Each is a wrong type, a value outside the
#: choices, a missing or empty required key, an unknown key where none is allowed, or a form a
#: pattern refuses.
BROKEN_ITEMS = {
    "status: draft": "",  # "title is required", said of the whole front matter
    "title: A\nstatus: \n": "status",
    "title: '   '\nstatus: draft": "title",
    "title: [a, b]\nstatus: draft": "title",
    "title: A\nstatus: finished": "status",
    "title: A\nstatus: draft\npriority: high": "priority",
    "title: A\nstatus: draft\ntags: {a: 1}": "tags",
    "title: A\nstatus: draft\nslug: Not A Slug": "slug",
    "title: A\nstatus: draft\npublish_at: 2026-11-27": "publish_at",
    "title: A\nstatus: draft\npublish_at: next tuesday": "publish_at",
    "title: A\nstatus: draft\ncanonical_url: not-a-url": "canonical_url",
    "title: A\nstatus: draft\nimage: my picture.png\nimage_alt: x": "image",
    "title: A\nstatus: draft\ntimezone: [UTC]": "timezone",
    "title: A\nstatus: draft\nchannels: {nosuch: {}}": "channels.nosuch",
    "title: A\nstatus: draft\nchannels: [blog, nosuch]": "channels.nosuch",
    "title: A\nstatus: draft\nchannels: {blog: {colour: red}}": "channels.blog.colour",
    "title: A\nstatus: draft\nchannels: {mastodon: {at: someday}}": "channels.mastodon.at",
    "title: A\nstatus: draft\nchannels: {mastodon: {thread: maybe}}": "channels.mastodon.thread",
    "title: A\nstatus: draft\nchannels: {mastodon: 5}": "channels.mastodon",
}


@pytest.mark.parametrize("front", list(BROKEN_ITEMS), ids=lambda f: f.replace("\n", " | "))
def test_schema_and_check_refuse_the_same_broken_items(tmp_path, front):
    root = write_project(tmp_path, {"content/2026/12/ok.md": f"---\n{textwrap.dedent(VALID)}---\nBody.\n",
                                    "content/2026/12/broken.md": f"---\n{front}\n---\nBody.\n"})
    items, _ = schemas(root)
    assert (("content/2026/12/broken.md", BROKEN_ITEMS[front]) in check_errors(root)), check_errors(root)
    assert refusals(items, front_matter(root / "content/2026/12/broken.md")) != []
    top = BROKEN_ITEMS[front].split(".")[0] or "(top)"
    assert all(path.split(".")[0] in (top, "(top)") for path in
               refusals(items, front_matter(root / "content/2026/12/broken.md")))
    assert refusals(items, front_matter(root / "content/2026/12/ok.md")) == []
    assert [e for e in check_errors(root) if e[0] == "content/2026/12/ok.md"] == []


#: publish.yml (after the site) → the key `check` names in its error.
BROKEN_SETTINGS = {
    "site: {title: T}": "site",
    "site: {title: T, url: ftp://x}": "site.url",
    "channels: {m: {type: pigeon}}": "channels.m.type",
    "channels: {m: {type: mastodon, token: env:T}}": "channels.m",
    "channels: {m: {type: mastodon, instance: 'https://m.test', token: env:T, colour: red}}": "channels.m.colour",
    "channels: {m: {type: mastodon, instance: 'https://m.test', token: env:T, max_chars: lots}}": "channels.m.max_chars",
    "channels: {m: {type: mastodon, instance: 'https://m.test', token: abc}}": "channels.m.token",
    "channels: {m: {type: mastodon, instance: 'https://m.test', token: env:T, visibility: friends}}":
        "channels.m.visibility",
    "channels: {m: {type: blog, enabled: perhaps}}": "channels.m.enabled",
    "calendar: {lead_time: soon}": "calendar.lead_time",
    "calendar: {max_per_day: 0}": "calendar.max_per_day",
    "calendar: {quiet_hours: late}": "calendar.quiet_hours",
    "calendar: {slots: [{days: weekdays}]}": "calendar.slots[0]",
    "markdown: {engine: pandoc}": "markdown.engine",
    "alerts: {chanel: blog}": "alerts.chanel",
    "timezone: 5": "timezone",
    "segments: {big: {list: all}}": "segments.big",  # a segment by rule needs its rule
}


@pytest.mark.parametrize("broken", list(BROKEN_SETTINGS))
def test_schema_and_check_refuse_the_same_broken_settings(tmp_path, broken):
    site = "" if broken.startswith("site:") else "site: {title: T, url: 'https://news.test'}\n"
    root = write_project(tmp_path, {}, settings=site + broken + "\n")
    _, settings = schemas(None)
    assert any(key == BROKEN_SETTINGS[broken] for _, key in check_errors(root)), check_errors(root)
    found = refusals(settings, yamlload.parse((root / "publish.yml").read_text()).data)
    assert found != []
    assert all(path.split(".")[0] in (BROKEN_SETTINGS[broken].split(".")[0], "(top)") for path in found), found


def test_valid_settings_pass_both(tmp_path):
    root = write_project(tmp_path, {}, settings=BASE_SETTINGS)
    _, settings = schemas(None)
    assert refusals(settings, yamlload.parse((root / "publish.yml").read_text()).data) == []
    assert check_errors(root) == []


def test_front_matter_schema_names_the_projects_channels(project):
    root = project()
    items, _ = schemas(root)
    channels = items.schema["properties"]["channels"]["anyOf"]
    assert channels[0]["items"]["enum"] == ["blog", "mastodon"]
    assert sorted(channels[1]["properties"]) == ["blog", "mastodon"]


def test_publish_schema_prints_one_and_writes_both(cli, project):
    root = project()
    printed = cli(root, "schema", "front-matter")
    assert printed.exit_code == 0
    assert json.loads(printed.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(cli(root, "schema", "publish").output)["title"] == "publish.yml"
    nothing = cli(root, "schema")
    assert nothing.exit_code == 2
    assert nothing.output == ("error: name the schema to print: publish schema front-matter (items) or publish "
                              "schema publish (publish.yml); --write writes both into schemas/\n")
    wrote = cli(root, "schema", "--write")
    assert wrote.output == "wrote schemas/front-matter.schema.json\nwrote schemas/publish.schema.json\n"
    assert (root / "schemas/front-matter.schema.json").read_text() == printed.output
    assert cli(root, "schema", "publish", "--write").output == "wrote schemas/publish.schema.json\n"


def test_init_wires_the_schemas_for_yaml_language_server(cli, tmp_path):
    root = tmp_path / "team"
    assert cli(tmp_path, "init", str(root)).exit_code == 0
    settings_text = (root / "publish.yml").read_text()
    assert settings_text.splitlines()[0] == MODELINE == "# yaml-language-server: $schema=schemas/publish.schema.json"
    assert json.loads((root / ".vscode/settings.json").read_text()) == {
        "yaml.schemas": {"./schemas/publish.schema.json": "/publish.yml"}}
    items = Draft202012Validator(json.loads((root / FRONT_MATTER).read_text()))
    settings = Draft202012Validator(json.loads((root / SETTINGS_FILE).read_text()))
    assert refusals(settings, yamlload.parse(settings_text).data) == []
    [item] = (root / "content").rglob("*.md")
    assert refusals(items, front_matter(item)) == []
    assert sorted(items.schema["properties"]["channels"]["anyOf"][1]["properties"]) == ["blog", "mastodon",
                                                                                      "newsletter"]
    (root / ".vscode/settings.json").write_text("{}\n")
    again = cli(tmp_path, "init", str(root))
    assert "kept .vscode/settings.json (exists)\n" in again.output
    assert (root / ".vscode/settings.json").read_text() == "{}\n"


def test_what_the_loader_refuses_for_a_keys_type_or_choice_the_schema_refuses_too(project):
    """Any JSON value under any front-matter key: when loading the item reports an error at that key,
    the schema refuses the front matter too. Text under a time or a timezone is left out: whether it
    names a real time or zone is check's alone (docs/getting-started.md), as are floats for whole
    numbers (JSON Schema cannot tell 1.0 from 1)."""
    from hypothesis import HealthCheck, assume, given, settings, strategies as st

    from newsroom.items import ITEM, At, load_item
    from newsroom.schema import DateTime, Timezone
    from scheduler.project import load_project

    root = project()
    loaded = load_project(root, cache=False)
    items, _ = schemas(root)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.text(max_size=12),
                        st.sampled_from(["draft", "approved", "2026-12-01T09:00", "+2h", "next", "blog", "x y"]))
    values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(["blog", "at", "a"]),
                                                                               scalars, max_size=2))

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from([k.name for k in ITEM.keys]), values)
    def agree(key, value):
        assume(not (isinstance(value, str) and isinstance(ITEM.by_name[key].kind, (At, DateTime, Timezone))))
        data = {"title": "T", "status": "draft", key: value}
        raw = ("---\n" + json.dumps(data, ensure_ascii=False) + "\n---\nBody.\n").encode()  # JSON is YAML
        problems = []
        load_item("content/x.md", raw, loaded.settings, problems)
        refused_by_check = any(p.severity == ERROR and p.key.split(".")[0].split("[")[0] == key for p in problems)
        if refused_by_check:
            assert refusals(items, data) != [], (key, value, [str(p) for p in problems])

    agree()
