"""The YAML traps a content team falls into, handled on purpose."""
from datetime import time

import pytest
from hypothesis import given, settings, strategies as st

from newsroom import schema as s
from newsroom import times, yamlload


def parse(text, offset=0):
    return yamlload.parse(text, line_offset=offset)


def test_time_of_day_stays_text_not_base60():
    # YAML 1.1 (PyYAML's default) reads 09:00 as 540.
    assert parse("at: 09:00").data == {"at": "09:00"}
    assert times.parse_time_of_day("09:00") == time(9, 0)


def test_norway_problem_words_stay_text():
    doc = parse("country: NO\nanswer: yes\nswitch: on\nflag: true")
    assert doc.data == {"country": "NO", "answer": "yes", "switch": "on", "flag": True}


def test_boolean_keys_still_accept_yes_and_on():
    ctx = s.Context("x.md", parse(""), [])
    assert s.Boolean().convert("yes", ctx, "k") is True
    assert s.Boolean().convert("off", ctx, "k") is False
    with pytest.raises(s.Invalid, match="expected true or false, got 'maybe'"):
        s.Boolean().convert("maybe", ctx, "k")


def test_text_key_refuses_a_real_boolean_with_advice():
    ctx = s.Context("x.md", parse(""), [])
    with pytest.raises(s.Invalid, match='quote it: "true"'):
        s.Text().convert(True, ctx, "title")


def test_bare_date_and_datetime_stay_text_and_are_told_apart():
    doc = parse("a: 2026-11-27\nb: 2026-11-27T09:00:00+01:00")
    assert doc.data == {"a": "2026-11-27", "b": "2026-11-27T09:00:00+01:00"}
    with pytest.raises(times.TimeError, match="is a date without a time"):
        times.parse_datetime(doc.data["a"], times.zone("UTC"))
    assert times.iso_utc(times.parse_datetime(doc.data["b"], None)) == "2026-11-27T08:00:00Z"


def test_numbers_follow_yaml_12_core():
    assert parse("a: 12\nb: 1.5\nc: 0x1F\nd: 1_000\ne: '7'").data == {"a": 12, "b": 1.5, "c": "0x1F", "d": "1_000", "e": "7"}


def test_lines_of_nested_keys_and_list_items():
    doc = parse("a: 1\nb:\n  c:\n    - x\n    - y\n", offset=1)
    assert doc.lines == {"a": 2, "b": 3, "b.c": 4, "b.c[0]": 5, "b.c[1]": 6}
    assert doc.line("b.c.missing") == 4


def test_tab_indentation_names_the_line():
    with pytest.raises(yamlload.YamlError) as info:
        parse("a:\n  b: 1\n\tc: 2\n", offset=1)
    assert (info.value.line, info.value.message) == (4, "a tab is used for indentation; YAML needs spaces")


def test_bom_and_crlf_are_normalised():
    text = yamlload.decode(b"\xef\xbb\xbf---\r\ntitle: x\r\n---\r\nbody\r\n")
    src = yamlload.split_front_matter(text)
    assert (src.front, src.body, src.body_line) == ("title: x\n", "body\n", 4)


def test_not_utf8_raises_decode_error():
    with pytest.raises(UnicodeDecodeError):
        yamlload.decode(b"caf\xe9")


def test_duplicate_keys_are_recorded_not_silently_overwritten():
    doc = parse("a: 1\nb: 2\na: 3\n")
    assert doc.duplicates == [("a", 3)]


def test_empty_and_missing_front_matter():
    assert yamlload.split_front_matter("---\n---\nbody").front == ""
    assert yamlload.split_front_matter("# title\n").front is None
    assert yamlload.split_front_matter("---\ntitle: x\n").front_closed is False


def test_merge_keys_are_refused():
    with pytest.raises(yamlload.YamlError, match="merge keys"):
        parse("base: &b {x: 1}\nother:\n  <<: *b\n")


def test_c_loader_is_used_when_available():
    import yaml

    assert yamlload.FAST == bool(getattr(yaml, "__with_libyaml__", False))


def test_pure_python_fallback_gives_the_same_document(monkeypatch):
    text = "title: x\nat: 09:00\nlist: [a, 'b', 3]\nnested:\n  k: no\n"
    fast = parse(text)
    monkeypatch.setattr(yamlload, "_Loader", yamlload._PureLoader)
    slow = parse(text)
    assert (fast.data, fast.lines) == (slow.data, slow.lines)


def _split_before(text: str):
    """``split_front_matter`` as it was, each closing marker looked for through the whole text."""
    if not text.startswith("---") or text[3:4] not in ("\n", "", " "):
        return (None, text, 1, True)
    start = text.find("\n") + 1 if "\n" in text else len(text)
    pos = start - 1
    while True:
        candidates = [i for i in (text.find("\n---", pos), text.find("\n...", pos)) if i != -1]
        if not candidates:
            return (text[start:], "", text.count("\n") + 2, False)
        nl = min(candidates)
        line_end = text.find("\n", nl + 1)
        line = text[nl + 1: line_end if line_end != -1 else len(text)]
        if line.rstrip() in ("---", "..."):
            break
        pos = nl + 1
    front = text[start: nl + 1] if nl + 1 > start else ""
    body = text[line_end + 1:] if line_end != -1 else ""
    return (front, body, front.count("\n") + 3, True)


_LINES = st.sampled_from(["---", "...", "--- ", "... ", "----", "-- -", "..", ".. .", "a: 1", "", " ", "x...",
                          "x---", "---x", "...x", "\n", "-", "."])


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(_LINES, max_size=14), joiner=st.sampled_from(["\n", "", "\n\n"]))
def test_the_front_matter_closes_at_the_first_marker_line_as_before(lines, joiner):
    text = joiner.join(lines)
    src = yamlload.split_front_matter(text)
    assert (src.front, src.body, src.body_line, src.front_closed) == _split_before(text)
