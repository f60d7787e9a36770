"""bench/mutation.py's own mutants of what mutmut leaves alone: constants and regular expressions
outside functions, and the names it matches mutmut's mutants by."""
import re

from bench.mutation import constant_mutants, patterns, qualname, regex_variants

SOURCE = '''"""A docstring is no constant."""
import re

LIMIT = 300
NAMES = ("a", "b")
_TIME = re.compile(r"^2[0-3]:\\d+$")


class Rule:
    """Nor is a class docstring."""
    MAX = 5

    def method(self):
        return 7


def f():
    return 9
'''


def test_regex_variants_drop_quantifiers_and_anchors_move_digits_and_flip_classes():
    variants = regex_variants(r"^2[0-3]:\d+$")
    assert set(variants) == {r"2[0-3]:\d+$", r"^2[0-3]:\d+", r"^2[0-3]:\d$", r"^2[0-3]:\D+$",
                             r"^3[0-3]:\d+$", r"^1[0-3]:\d+$", r"^2[1-3]:\d+$", r"^2[9-3]:\d+$",
                             r"^2[0-4]:\d+$", r"^2[0-2]:\d+$"}


def test_regex_variants_keep_group_syntax_and_drop_a_class_negation():
    variants = regex_variants(r"(?:a|b)[^x]")
    assert r"(?:a|b)[x]" in variants
    assert not any(v.startswith("(:") for v in variants)


def test_constant_mutants_cover_module_and_class_constants_only():
    labels = [label for label, _ in constant_mutants(SOURCE, None)]
    owners = {label.split(":")[0] for label in labels}
    assert owners == {"LIMIT", "NAMES", "_TIME", "Rule.MAX"}
    assert "LIMIT: 300 -> 301 (line 4)" in labels and "LIMIT: 300 -> 299 (line 4)" in labels
    assert "NAMES: 'a' -> 'XXaXX' (line 5)" in labels
    assert any(label.startswith("_TIME: '^2[0-3]:\\\\d+$' -> '^2[0-4]:\\\\d+$'") for label in labels)
    assert not any("7" in label or "9 ->" in label for label in labels)  # function bodies are mutmut's


def test_constant_mutants_change_one_thing_each_and_can_be_limited_by_name():
    for label, mutated in constant_mutants(SOURCE, ["LIMIT"]):
        assert label.startswith("LIMIT:")
        assert re.search(r"LIMIT = (301|299)", mutated)
        assert "MAX = 5" in mutated


def test_mutmut_names_map_to_functions_and_methods():
    assert qualname("channels.text.x_split_thread__mutmut_12") == "split_thread"
    assert qualname("channels.text.x__pack__mutmut_3") == "_pack"
    assert qualname("channels.bluesky.xǁBlueskyǁrecord_key__mutmut_1") == "Bluesky.record_key"
    assert patterns("newsroom/state/fold.py", ["EntryState.apply", "dumps"]) == [
        "newsroom.state.fold.xǁEntryStateǁapply__mutmut_*", "newsroom.state.fold.x_dumps__mutmut_*"]
    assert patterns("scheduler/due.py", None) == ["scheduler.due.*"]
