"""Segments defined by a rule over a list's columns: the rule language, check, and who gets the mail
from a real SMTP server on loopback."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

import mailserver
from channels import registry
from newsroom.segments import NotANumber, RuleError, parse

from conftest import item

LIST = """\
email,name,plan,country,seats,unsubscribed
ana@customers.example,Ana,enterprise,DE,40,
ben@customers.example,Ben,enterprise,AT,,
chloe@customers.example,Chloé,enterprise,FR,12,
dev@customers.example,Dev,smb,DE,3,
erin@customers.example,Erin,enterprise,,ten,
fay@customers.example,Fay,enterprise,DE,50,yes
"""


def people(**rows):
    return {"plan": "enterprise", "country": "DE", "seats": "40", **rows}


@pytest.mark.parametrize("rule, fields, expected", [
    ("plan == 'enterprise' and country in ['DE', 'AT']", people(), True),
    ("plan == 'enterprise' and country in ['DE', 'AT']", people(country="FR"), False),
    ("plan == 'enterprise' and country in ['DE', 'AT']", people(country=""), False),
    ("country == ''", people(country=""), True),  # the empty cell, said on purpose
    ("country", people(country="  "), False),  # a column alone: not empty
    ("not country", people(country=""), True),
    ("seats >= 40", people(seats="40"), True),
    ("seats > 10", people(seats=""), False),  # an empty cell matches no comparison with a number
    ("seats != 10", people(seats=""), False),
    ("seats == 40", people(seats="40.0"), True),
    ("seats in [3, 40]", people(seats="40"), True),
    ("country not in ['DE']", people(country="AT"), True),
    ("(plan == 'smb' or seats < 5) and not country == 'FR'", people(seats="3"), True),
    ("PLAN == \"enterprise\"", people(), True),  # column names are read as the header is: lowercased
    ("plan == 'it\\'s'", people(plan="it's"), True),
    ("missing == 'x'", people(), False),  # a column the person's list lacks reads as empty
])
def test_rules_select_people(rule, fields, expected):
    assert parse(rule).matches(fields) is expected


def test_a_cell_that_is_not_a_number_is_said():
    with pytest.raises(NotANumber) as exc:
        parse("seats > 10").matches(people(seats="ten"))
    assert (exc.value.column, exc.value.value) == ("seats", "ten")


@pytest.mark.parametrize("rule, message", [
    ("", "at character 1: the rule is empty: write e.g. plan == 'enterprise'"),
    ("plan = 'enterprise'", "at character 6: '=' is not part of a rule (use ==, !=, <, <=, >, >=, in, and, or, not)"),
    ("plan == 'enterprise", "at character 9: the text is never closed: end it with the same quote"),
    ("plan > 'enterprise'", "at character 6: > compares numbers, and 'enterprise' is text (use == or != for text)"),
    ("seats in [1, 'two']", "at character 10: a list holds text or numbers, not both"),
    ("plan ==", "at character 8: expected 'text' or a number, the rule ends here"),
    ("plan == 'a' plan", "at character 13: expected and, or or the end of the rule, found plan"),
    ("== 'a'", "at character 1: expected a column name, found =="),
    ("(plan == 'a'", "at character 13: expected ')', the rule ends here"),
    ("plan not 'a'", "at character 10: expected 'in' after 'not' here (column not in [...])"),
    ("country in ['DE' 'AT']", "at character 18: expected ',' or ']', found 'AT'"),
    ("__import__('os').system('x')", "at character 17: '.' is not part of a rule (use ==, !=, <, <=, >, >=, in, and, "
                                     "or, not)"),
    ("not " * 50 + "plan", "at character 165: the rule is nested more than 40 deep"),
])
def test_rules_that_cannot_be_read_say_where(rule, message):
    with pytest.raises(RuleError) as exc:
        parse(rule)
    assert str(exc.value) == message


_literal = st.one_of(st.text(alphabet="abcDE' \"\\", max_size=5).map(repr), st.integers(-99, 99).map(str))
_column = st.sampled_from(["plan", "country", "seats", "nope"])
_compare = st.tuples(_column, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _literal).map(" ".join)
_inlist = st.tuples(_column, st.sampled_from(["in", "not in"]), st.lists(_literal, max_size=3)).map(
    lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]")
_rule = st.recursive(st.one_of(_compare, _inlist, _column), lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(" ".join),
    inner.map(lambda r: f"not {r}"), inner.map(lambda r: f"({r})")), max_leaves=12)
_cells = st.fixed_dictionaries({"plan": st.text(max_size=4), "country": st.sampled_from(["", "DE", "AT"]),
                                "seats": st.sampled_from(["", "3", "40", "ten", "-1.5", "nan"])})


@hsettings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=80), _rule, _rule.map(lambda r: r[: len(r) // 2])), fields=_cells)
def test_fuzz_any_text_is_a_rule_or_a_rule_error(text, fields):
    """Whatever is written, parsing ends with a rule or a RuleError at a character of the text, and a
    rule run on any cells gives a yes or no (or says which cell is not a number): no traceback."""
    try:
        rule = parse(text)
    except RuleError as exc:
        assert 1 <= exc.at <= max(len(text), 1) + 1
        return
    try:
        assert rule.matches(fields) in (True, False)
    except NotANumber as exc:
        assert exc.column in rule.columns


SETTINGS = """\
    site:
      title: Northwind Notes
      url: https://news.test
    channels:
      newsletter:
        type: email
        from: Northwind Notes <news@news.test>
        host: 127.0.0.1
        port: {port}
        security: none
        unsubscribe_url: https://news.test/unsubscribe?token={{token}}
        lists:
          all: audience/all.csv
    segments:
      enterprise:
        list: all
        where: "plan == 'enterprise' and country in ['DE', 'AT']"
        description: Enterprise customers in Germany and Austria
      big: {{list: all, where: "seats >= 12"}}
      smb: Small teams
"""


def files(body="Hello.\n", **keys) -> dict:
    return {"audience/all.csv": LIST,
            "content/launch.md": item("The launch", status="approved", approved_by="Ed", author="Al",
                                      publish_at="2026-12-01T09:00:00Z", body=body, **keys)}


def test_check_reports_sizes_and_cells_that_are_not_numbers(project, cli):
    root = project(files(channels=["newsletter"]), settings=SETTINGS.format(port=2525))
    result = cli(root, "check", "--offline", "--now", "2026-11-30T09:00:00Z")
    assert result.output.splitlines() == [
        "Warnings",
        "  audience/all.csv:6: seats: 'ten' is not a number, and segment 'big' compares seats with one; the person "
        "is left out of it",
        "segment all: 5 recipients (audience/all.csv)",
        "segment enterprise: 2 of 5 recipients of audience/all.csv (where plan == 'enterprise' and country in "
        "['DE', 'AT'])",
        "segment big: 2 of 5 recipients of audience/all.csv (where seats >= 12)",
        "1 items checked: 0 errors, 1 warning in 1 file",
    ]


def test_check_reports_unknown_columns_and_lists_and_bad_rules(project, cli):
    settings = SETTINGS.format(port=2525).replace("seats >= 12", "seat >= 12") + """\
      nowhere: {list: everyone, where: "plan == 'x'"}
      broken: {list: all, where: "plan > 'x'"}
    """
    root = project(files(), settings=settings)
    result = cli(root, "check", "--offline", "--format", "json")
    errors = [f"{e['path']}:{e['line']}: {e['key']}: {e['message']}" for e in json.loads(result.output)["errors"]]
    assert errors == [
        "publish.yml:19: segments.big.where: no column 'seat' in audience/all.csv (did you mean 'seats'?) "
        "(its columns: email, name, plan, country, seats, unsubscribed)",
        "publish.yml:21: segments.nowhere.list: no email channel has a list named 'everyone' (lists: all)",
        "publish.yml:22: segments.broken.where: at character 6: > compares numbers, and 'x' is text "
        "(use == or != for text) (in: plan > 'x')",
    ]
    assert result.exit_code == 1


@pytest.fixture
def smtp():
    box = mailserver.Mailbox()
    controller = mailserver.start(box)
    yield box, controller.port
    controller.stop()


def deliver(root):
    from datetime import datetime, timezone

    from channels.base import DeliveryContext, Journal
    from channels.render import render_post
    from newsroom.project import load_project

    project = load_project(root, channel_types=registry.option_schemas(), channel_overrides=registry.override_schemas())
    channel = registry.build(project.settings.channels["newsletter"], {})
    channel.prepare(project.settings)
    post = render_post(project, project.items[0], channel)
    assert not [p for p in post.problems if p.severity == "error"], post.problems
    ctx = DeliveryContext(key="launch/newsletter", now=datetime(2026, 12, 1, 9, tzinfo=timezone.utc), journal=Journal({}))
    return channel.deliver(post, ctx)


def test_a_rule_segment_gets_the_mail_and_nobody_else(project, smtp):
    box, port = smtp
    root = project(files(channels={"newsletter": {"segment": "enterprise"}}), settings=SETTINGS.format(port=port))
    receipt = deliver(root)
    assert sorted(box.recipients()) == ["ana@customers.example", "ben@customers.example"]
    assert receipt.data["campaigns"][0]["recipients"] == 2


def test_segment_blocks_go_to_rule_segments_each_their_own(project, smtp):
    box, port = smtp
    body = "For all.\n\n::: segment enterprise\nEnterprise words.\n:::\n\n::: segment big\nBig words.\n:::\n"
    root = project(files(body=body, segments=["enterprise", "big"], channels=["newsletter"]),
                   settings=SETTINGS.format(port=port))
    deliver(root)
    got = {m["To"].addresses[0].addr_spec: m.get_body(("plain",)).get_content() for m in box.parsed()}
    # ana is in both: the first segment's message only; erin's 'ten' seats leave her out of big
    assert sorted(got) == ["ana@customers.example", "ben@customers.example", "chloe@customers.example"]
    assert "Enterprise words." in got["ana@customers.example"] and "Big words." not in got["ana@customers.example"]
    assert "Big words." in got["chloe@customers.example"]


def test_a_rule_on_a_column_the_list_lacks_stops_the_delivery(project, smtp):
    box, port = smtp
    settings = SETTINGS.format(port=port).replace("seats >= 12", "tier == 'gold'")
    root = project(files(channels={"newsletter": {"segment": "big"}}), settings=settings)
    failure = deliver(root)
    assert failure.message == ("segment 'big': no column 'tier' in audience/all.csv "
                               "(its columns: email, name, plan, country, seats, unsubscribed)")
    assert box.messages == []
