"""Channel types: the built-ins, and types registered through ``register_channel_type``."""
import pytest

from channels.base import Channel
from channels.mastodon import Mastodon
from channels.registry import TYPES, build, register_channel_type
from newsroom.model import ChannelConfig


class Gazette(Channel):
    TYPE = "gazette-test"


def test_a_registered_type_is_built_for_channels_of_that_type_and_registering_again_is_harmless():
    assert register_channel_type(Gazette) is Gazette
    register_channel_type(Gazette)
    adapter = build(ChannelConfig("paper", "gazette-test"), {})
    assert type(adapter) is Gazette and adapter.name == "paper"


def test_a_taken_type_name_is_refused_and_the_built_in_kept():
    class Impostor(Channel):
        TYPE = "mastodon"

    with pytest.raises(ValueError) as err:
        register_channel_type(Impostor)
    assert str(err.value) == "channel type 'mastodon' is already registered (channels.mastodon.Mastodon)"
    assert TYPES["mastodon"] is Mastodon


def test_a_built_in_is_replaced_only_when_asked():
    class PointedElsewhere(Mastodon):
        pass

    try:
        assert register_channel_type(PointedElsewhere, replace=True) is PointedElsewhere
        assert TYPES["mastodon"] is PointedElsewhere
    finally:
        register_channel_type(Mastodon, replace=True)
    assert TYPES["mastodon"] is Mastodon


def test_a_type_declares_its_own_limit_and_counting_and_every_caller_reads_them():
    from channels.registry import rule_for
    from channels.text import utf16_units

    class Pager(Channel):
        TYPE = "pager-test"
        MAX_CHARS = 160
        LENGTH = staticmethod(utf16_units)
        LENGTH_UNIT = "UTF-16 units"

    register_channel_type(Pager)
    rule = rule_for("pager-test")
    assert (rule.name, rule.limit, rule.unit, rule.measure("😀a")) == ("pager-test", 160, "UTF-16 units", 3)
    adapter = build(ChannelConfig("pager", "pager-test"), {})
    assert (adapter.limit, adapter.count("😀a")) == (160, 3)
    assert rule_for("no-such-type").limit is None


def test_a_type_that_says_it_edits_or_deletes_implements_it_and_one_that_cannot_says_why():
    from channels.base import Channel

    for cls in TYPES.values():
        if cls.EDITS:
            assert cls.edit is not Channel.edit, f"{cls.TYPE} declares EDITS but has no edit()"
        else:
            assert cls.CANNOT_EDIT, cls.TYPE
        if cls.DELETES:
            assert cls.delete is not Channel.delete, f"{cls.TYPE} declares DELETES but has no delete()"
        else:
            assert cls.CANNOT_DELETE, cls.TYPE


def test_a_command_imports_only_the_adapters_of_the_types_publish_yml_uses(tmp_path):
    """A type's module is imported when a channel of that type is read: a blog-only project's run
    does not import the fifteen platforms' adapters, and an unknown type is still named with the known."""
    import subprocess
    import sys

    from conftest import ROOT, item, write_project

    blog_only = "site:\n  title: T\n  url: https://t.test\ntimezone: UTC\nchannels:\n  blog:\n    type: blog\n"
    probe = ("import sys, pathlib\nfrom newsroom.problems import UnusableSettings\nfrom scheduler.command import publish\n"
             "try:\n    code = publish(pathlib.Path(sys.argv[1]), now='2026-12-01T00:00Z').exit_code\n"
             "except UnusableSettings:\n    code = 'unusable'\n"
             "print(code, *sorted(m for m in sys.modules if m.startswith('channels.')"
             " and m.count('.') == 1 and m.split('.')[1] in %r))" % (sorted(set(TYPES) - {"blog"}),))
    seen = {}
    for name, settings in (("blog", blog_only), ("blog and mastodon", blog_only.replace(
            "type: blog\n", "type: blog\n  masto:\n    type: mastodon\n    instance: https://m.test\n"
            "    token: env:NO_SUCH_TOKEN\n")), ("unknown", blog_only + "  paper:\n    type: gazete\n")):
        root = write_project(tmp_path / name.replace(" ", "-"), {"content/a.md": item("A")}, settings)
        done = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        seen[name] = done.stdout.split()
    assert seen["blog"] == ["0"]
    assert seen["blog and mastodon"] == ["0", "channels.mastodon"]
    assert seen["unknown"] == ["unusable"]
    from scheduler.project import check, load_project

    root = write_project(tmp_path / "shown", {}, blog_only + "  paper:\n    type: gazete\n")
    message = next(p.message for p in check(load_project(root)).problems if p.key.startswith("channels.paper"))
    assert "unknown channel type 'gazete'" in message and "mastodon" in message and "instagram" in message
