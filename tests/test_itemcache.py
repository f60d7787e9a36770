"""The item cache: unchanged files come from .cache, an edited file or setting is read again."""
import json
import os

from conftest import BASE_SETTINGS, item


def problems(cli, root):
    report = json.loads(cli(root, "check", "--format", "json").output)
    return [(p["path"], p["key"], p["message"]) for p in report["errors"] + report["warnings"]]


def test_cached_items_keep_their_problems_and_edits_are_seen(cli, project):
    root = project({"content/a.md": item("A", status="drafted"), "content/b.md": item("B")})
    first = problems(cli, root)
    assert (root / ".cache/items.pickle").exists()
    assert problems(cli, root) == first  # from the cache, the same problems
    assert first[0][:2] == ("content/a.md", "status")

    path = root / "content/a.md"
    path.write_text(item("A", status="draft"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    assert problems(cli, root) == []


def test_settings_change_invalidates_every_item(cli, project):
    root = project({"content/a.md": item("A", channels=["newsletter"])})
    assert problems(cli, root) == [("content/a.md", "channels.newsletter",
                                    "no channel named 'newsletter' in publish.yml")]
    (root / "publish.yml").write_text(BASE_SETTINGS + "  newsletter:\n    type: blog\n", encoding="utf-8")
    assert problems(cli, root) == []


def test_duplicates_are_found_among_cached_items(cli, project):
    root = project({"content/a.md": item("A", slug="same")})
    assert problems(cli, root) == []
    (root / "content/b.md").write_text(item("B", slug="same"), encoding="utf-8")
    assert [p[0] for p in problems(cli, root)] == ["content/a.md", "content/b.md"]


def test_a_deleted_item_is_gone(cli, project):
    from publish import load

    root = project({"content/a.md": item("A"), "content/b.md": item("B")})
    assert len(load(root).items) == 2
    (root / "content/b.md").unlink()
    assert [i.id for i in load(root).items] == ["a"]


def test_a_corrupt_cache_is_ignored(cli, project):
    from publish import load

    root = project({"content/a.md": item("A")})
    load(root)
    (root / ".cache/items.pickle").write_bytes(b"not a pickle")
    assert [i.title for i in load(root).items] == ["A"]
