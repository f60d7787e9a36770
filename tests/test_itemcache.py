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
    assert list((root / ".cache/items").glob("*.pickle"))
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
    from scheduler.project import load_project as load

    root = project({"content/a.md": item("A"), "content/b.md": item("B")})
    assert len(load(root).items) == 2
    (root / "content/b.md").unlink()
    assert [i.id for i in load(root).items] == ["a"]


def test_a_corrupt_cache_is_ignored(cli, project):
    from scheduler.project import load_project as load

    root = project({"content/a.md": item("A")})
    load(root)
    for shard in (root / ".cache/items").glob("*.pickle"):
        shard.write_bytes(b"not a pickle")
    assert [i.title for i in load(root).items] == ["A"]


def test_one_edited_item_rewrites_only_its_shard(project, monkeypatch):
    """The cache is spread over shards: an edit in a large project does not write every item again."""
    from newsroom import items as items_mod
    from newsroom.itemcache import SHARDS, shard_of
    from scheduler.project import load_project as load

    names = [f"content/i{n}.md" for n in range(3 * SHARDS)]
    root = project({name: item(f"I{n}") for n, name in enumerate(names)})
    load(root)
    shards = {p.name: p.stat().st_mtime_ns for p in (root / ".cache/items").glob("*.pickle")}
    assert len(shards) > 2
    for p in (root / ".cache/items").glob("*.pickle"):
        os.utime(p, ns=(1, 1))
    edited = root / names[5]
    edited.write_text(item("I5, edited"), encoding="utf-8")
    os.utime(edited, ns=(2, 2))
    parsed = []
    real = items_mod.load_item
    monkeypatch.setattr(items_mod, "load_item", lambda rel, *a, **k: parsed.append(rel) or real(rel, *a, **k))
    assert "I5, edited" in [i.title for i in load(root).items]
    assert parsed == [names[5]]
    rewritten = sorted(p.name for p in (root / ".cache/items").glob("*.pickle") if p.stat().st_mtime_ns != 1)
    assert rewritten == [f"{shard_of(names[5]):02d}.pickle"]
    parsed.clear()
    assert "I5, edited" in [i.title for i in load(root).items]
    assert parsed == []


def test_a_fresh_checkout_with_the_cache_restored_parses_only_what_changed(project, monkeypatch, tmp_path):
    """CI checks the repository out anew each run (new mtimes and inodes) and restores .cache/."""
    import shutil

    from newsroom import items as items_mod
    from scheduler.project import load_project as load

    # the content key of a plain file is its item's revision; one with CR line ends or a byte order
    # mark, or that gives no item, is digested as it is
    root = project({"content/a.md": item("A"), "content/b.md": item("B"), "content/c.md": item("C"),
                    "content/d.md": item("D").replace("\n", "\r\n").encode(),
                    "content/e.md": b"\xef\xbb\xbf" + item("E").encode(),
                    "content/f.md": b"---\ntitle: [unclosed\n---\nBody.\n"})
    first = load(root)
    assert sorted(i.title for i in first.items) == ["A", "B", "C", "D", "E"]
    checkout = tmp_path / "checkout"
    shutil.copytree(root, checkout, copy_function=shutil.copy)  # contents kept, mtimes and inodes new
    (checkout / "content/c.md").write_text(item("C, edited"), encoding="utf-8")
    parsed = []
    real = items_mod.load_item
    monkeypatch.setattr(items_mod, "load_item", lambda rel, *a, **k: parsed.append(rel) or real(rel, *a, **k))
    again = load(checkout)
    assert sorted(i.title for i in again.items) == ["A", "B", "C, edited", "D", "E"]
    assert parsed == ["content/c.md"]
    assert [p for p in again.problems if p.path == "content/f.md"] == [p for p in first.problems
                                                                      if p.path == "content/f.md"] != []
    parsed.clear()
    load(checkout)  # and the stat keys were brought up to date
    assert parsed == []


def test_cache_fingerprints_follow_contents_not_modification_times(tmp_path):
    from newsroom.fingerprint import CODE_ROOT, code_signature, files_signature

    (tmp_path / "blog").mkdir()
    page = tmp_path / "blog" / "page.html.j2"
    page.write_text("<h1>{{ title }}</h1>", encoding="utf-8")
    before = files_signature([tmp_path])
    os.utime(page, ns=(1, 1))
    assert files_signature([tmp_path]) == before
    page.write_text("<h2>{{ title }}</h2>", encoding="utf-8")
    assert files_signature([tmp_path]) != before

    from newsroom.fingerprint import _package_digest

    module = CODE_ROOT / "newsroom" / "gcpause.py"
    st = module.stat()
    signature = _package_digest.__wrapped__("newsroom")
    try:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        assert _package_digest.__wrapped__("newsroom") == signature
    finally:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert code_signature(("newsroom", "channels")) != code_signature(("newsroom",))


def test_the_code_signature_covers_sub_packages(tmp_path, monkeypatch):
    """channels/blog/site.py builds the site: a change there must invalidate the caches too."""
    from newsroom import fingerprint

    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "top.py").write_text("A = 1\n")
    module = tmp_path / "pkg" / "sub" / "deep.py"
    module.write_text("B = 1\n")
    monkeypatch.setattr(fingerprint, "CODE_ROOT", tmp_path)
    before = fingerprint._package_digest.__wrapped__("pkg")
    module.write_text("B = 2\n")
    assert fingerprint._package_digest.__wrapped__("pkg") != before


def _bodies_read(monkeypatch) -> list:
    """The shards whose bodies were read from the cache, in order."""
    from newsroom import itemcache

    read = []
    real = itemcache._Bodies.read

    def counted(self):
        if self.bodies is None:
            read.append(self.offset)
        return real(self)

    monkeypatch.setattr(itemcache._Bodies, "read", counted)
    return read


def test_items_from_the_cache_read_their_body_only_when_asked(project, monkeypatch):
    """A command that reads no body (check with its renderings cached) does not unpickle the bodies,
    nine tenths of the cache; a body asked for is the one the file had, read once for its shard."""
    from scheduler.project import check, load_project as load

    bodies = {f"content/i{n}.md": f"Body {n}, with ![a chart](images/missing-{n}.png) in it.\n" for n in range(40)}
    root = project({rel: item(f"I{n}", status="approved", body=text, publish_at="2026-12-01T09:00",
                                approved_by="Ed", channels=["blog"])
                    for n, (rel, text) in enumerate(bodies.items())})
    first = check(load(root), _NOW).problems
    read = _bodies_read(monkeypatch)
    project_ = load(root)
    assert all("body" not in i.__dict__ for i in project_.items)
    again = check(project_, _NOW).problems
    assert read == []  # the images of every body were checked from what loading them recorded
    assert [(p.path, p.line, p.key, p.message) for p in again] == [(p.path, p.line, p.key, p.message) for p in first]
    assert sum("missing-" in p.message for p in again) == 40
    one = next(i for i in project_.items if i.path == "content/i7.md")
    assert one.body == bodies["content/i7.md"]
    assert len(read) == 1
    assert all(i.body == bodies[i.path] for i in project_.items)


_NOW = __import__("datetime").datetime(2026, 11, 30, tzinfo=__import__("datetime").timezone.utc)


def test_a_body_is_the_loaded_revision_s_after_another_process_rewrote_the_cache(project):
    """The body comes through the file the load opened: a shard written again since (a second command
    running, or this one saving) is a new file, and the item still gets its own body."""
    from scheduler.project import load_project as load

    root = project({"content/a.md": item("A", body="First words.\n")})
    load(root)
    loaded = load(root).items[0]
    assert "body" not in loaded.__dict__
    path = root / "content/a.md"
    path.write_text(item("A", body="Second words.\n"), encoding="utf-8")
    os.utime(path, ns=(5, 5))
    assert load(root).items[0].body == "Second words.\n"  # its shard is written again, with the new body
    assert loaded.body == "First words.\n"


def test_a_lost_body_is_read_from_the_file_only_while_it_is_the_same_revision(project):
    import pytest

    from newsroom.itemcache import SHARDS, shard_of
    from scheduler.project import load_project as load

    root = project({"content/a.md": item("A", body="Kept words.\n"), "content/b.md": item("B", body="Other.\n")})
    load(root)
    shards = {n: root / f".cache/items/{n:02d}.pickle" for n in {shard_of("content/a.md"), shard_of("content/b.md")}}
    assert len(shards) <= SHARDS
    for path in shards.values():  # the bodies, the shard's last record, cut off
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 8])
    items = {i.path: i for i in load(root).items}
    assert "body" not in items["content/a.md"].__dict__
    assert items["content/a.md"].body == "Kept words.\n"
    (root / "content/b.md").write_text(item("B", body="Changed meanwhile.\n"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="content/b.md: the item cache lost its body and the file has changed"):
        items["content/b.md"].body


def test_a_copied_or_pickled_item_carries_its_body_not_the_cache(project):
    import copy
    import dataclasses
    import pickle

    from scheduler.project import load_project as load

    root = project({"content/a.md": item("A", body="Its words.\n")})
    load(root)
    for made in (lambda i: pickle.loads(pickle.dumps(i)), copy.copy, copy.deepcopy,
                 lambda i: dataclasses.replace(i, title="B")):
        lazy = load(root).items[0]
        assert "body" not in lazy.__dict__
        other = made(lazy)
        assert "_body_source" not in other.__dict__ or other is lazy
        assert other.body == "Its words.\n"
    lazy = load(root).items[0]
    assert dataclasses.replace(lazy, title="B") == dataclasses.replace(load(root).items[0], title="B")
