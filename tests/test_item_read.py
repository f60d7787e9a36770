"""Reading item files: whole, at any size up to the limit, an empty one reported, a huge one refused."""
from __future__ import annotations

from newsroom.items import MAX_ITEM_BYTES, load_items
from newsroom.settings import load_settings

SETTINGS = "site: {title: T, url: https://example.org}\nchannels:\n  blog: {type: blog}\n"


def write(root, files: dict) -> None:
    (root / "publish.yml").write_text(SETTINGS)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def load(root):
    settings, problems = load_settings(root)
    items = load_items(root, settings, problems)
    return {i.path: i for i in items}, [(p.path, p.message) for p in problems]


def test_an_item_is_read_whole_at_any_size(tmp_path):
    body = "".join(f"Paragraph {n} of a long article.\n\n" for n in range(20000))  # about 700 KB
    write(tmp_path, {"content/long.md": f"---\ntitle: Long\nstatus: draft\n---\n{body}".encode()})
    items, problems = load(tmp_path)
    assert problems == []
    assert items["content/long.md"].body == body


def test_an_empty_item_file_is_reported_not_a_crash(tmp_path):
    write(tmp_path, {"content/empty.md": b"", "content/fine.md": b"---\ntitle: Fine\nstatus: draft\n---\nText\n"})
    items, problems = load(tmp_path)
    assert list(items) == ["content/fine.md"]
    assert problems == [("content/empty.md", "has no front matter: start the file with a line '---', the YAML "
                                             "keys (title, status …), then another '---'")]


def test_an_item_file_over_the_limit_is_refused_with_its_size(tmp_path):
    huge = b"---\ntitle: Huge\nstatus: draft\n---\n" + b"x" * MAX_ITEM_BYTES
    write(tmp_path, {"content/huge.md": huge, "content/fine.md": b"---\ntitle: Fine\nstatus: draft\n---\nText\n"})
    items, problems = load(tmp_path)
    assert list(items) == ["content/fine.md"]
    assert problems == [("content/huge.md", "is 8.0 MB; an item may be at most 8 MB (keep large files out of content/)")]


def test_an_item_keeps_its_keys_lines_without_a_second_copy_of_its_front_matter(tmp_path):
    write(tmp_path, {"content/a.md": b"---\ntitle: A\nstatus: draft\ntags: [x, y]\nchannels:\n  blog: {}\n---\nText\n"})
    items, problems = load(tmp_path)
    item = items["content/a.md"]
    assert (item.title, item.tags, list(item.channels)) == ("A", ["x", "y"], ["blog"])
    assert (item.line("status"), item.line("tags"), item.line("channels.blog"), item.line("nothing")) == (3, 4, 6, 1)
    assert item.doc.data is None  # the values live in the item: 10,000 items keep one copy, and cache one
