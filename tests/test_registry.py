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
