"""The team's own workflow states (publish.yml ``workflow.states``): declared, checked with lines, and
honoured by check, plan, the calendar, the JSON Schemas and the run (only the final state goes out)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from conftest import BASE_SETTINGS, item, write_project

LEGAL = BASE_SETTINGS + """\
  team:
    type: slack
    webhook: env:SLACK_HOOK
workflow:
  require_second_pair_of_eyes: true
  people:
    Dana: {slack: U024BE7LH, email: dana@example.org}
    Lee: {email: lee@example.org}
    Sam: {email: sam@example.org}
  approvers: [Dana]
  editor: Dana
  notify: [team]
  states:
    - draft
    - review
    - {name: legal-review, approval: true, approvers: [Lee]}
    - cleared
"""


def check(cli, root):
    out = json.loads(cli(root, "check", "--format", "json", "--now", "2026-11-30T10:00").output)
    return ([(p["path"], p["line"], p["key"], p["message"]) for p in out["errors"]],
            [(p["path"], p["line"], p["key"], p["message"]) for p in out["warnings"]])


def test_items_take_the_teams_states_and_the_built_in_ones_it_left_out_are_refused(cli, project):
    root = project({
        "content/a.md": item("A", status="cleared", author="Sam", approved_by="Lee", publish_at="2026-12-01T09:00",
                             channels=["blog"]),
        "content/b.md": item("B", status="legal-review", author="Sam", channels=["blog"]),
        "content/c.md": item("C", status="approved", approved_by="Lee", channels=["blog"]),
        "content/d.md": item("D", status="legal-reviw", channels=["blog"]),
    }, settings=LEGAL)
    errors, _ = check(cli, root)
    assert errors == [
        ("content/c.md", 3, "status", "'approved' is not a state of this project's workflow (workflow.states in "
                                      "publish.yml): use one of idea, draft, review, legal-review, cleared, published, "
                                      "archived, withdrawn"),
        ("content/d.md", 3, "status", "'legal-reviw' is not one of idea, draft, review, legal-review, cleared, "
                                      "published, archived, withdrawn (did you mean 'legal-review'?)"),
    ]


def test_who_may_approve_is_the_approving_states_approvers_and_never_the_author(cli, project):
    root = project({
        "content/a.md": item("A", status="cleared", author="Sam", approved_by="Dana", channels=["blog"],
                             publish_at="2026-12-01T09:00"),
        "content/b.md": item("B", status="cleared", author="Lee", approved_by="lee", channels=["blog"],
                             publish_at="2026-12-02T09:00"),
        "content/c.md": item("C", status="cleared", author="Sam", channels=["blog"], publish_at="2026-12-03T09:00"),
    }, settings=LEGAL)
    errors, _ = check(cli, root)
    assert errors == [
        ("content/a.md", 5, "approved_by", "'Dana' may not approve in legal-review (approvers: Lee): ask one of them, "
                                           "or add the name to the approvers in publish.yml"),
        ("content/b.md", 5, "approved_by", "'lee' wrote this item and cannot also approve it "
                                           "(require_second_pair_of_eyes is on): ask another editor"),
        ("content/c.md", 3, "approved_by", "an item in cleared needs approved_by: the name of who approved it"),
    ]


def test_the_default_workflow_is_unchanged_without_states(cli, project):
    root = project({"content/a.md": item("A", status="approved", channels=["blog"], publish_at="2026-12-01T09:00")})
    errors, _ = check(cli, root)
    assert errors == [("content/a.md", 3, "approved_by", "an approved item needs approved_by: the name of who "
                                                         "approved it")]


def test_bad_states_are_each_named_at_their_line(cli, project):
    settings = BASE_SETTINGS + """\
  team:
    type: slack
    webhook: env:SLACK_HOOK
workflow:
  people:
    Dana: {slack: dana, email: not-an-address}
  approvers: [Dana, Kim]
  editor: Ed
  notify: [team, blog, teem]
  states:
    - idea
    - draft
    - {name: legal-review, approval: true}
    - draft
    - {name: Legal Review}
    - {approval: true}
    - {name: copy-edit, approvers: [Dana]}
    - {name: sign-off, approval: true}
"""
    root = project({"content/a.md": item("A", status="sign-off")}, settings=settings)
    errors, warnings = check(cli, root)
    assert errors == [
        ("publish.yml", 17, "workflow.people.Dana.email", "'not-an-address' is not an email address (use "
                                                          "name@example.com)"),
        ("publish.yml", 17, "workflow.people.Dana.slack", "'dana' is not a Slack member ID (copy it from the person's "
                                                          "Slack profile: Copy member ID, e.g. U024BE7LH)"),
        ("publish.yml", 20, "workflow.notify[1]", "'blog' is a blog channel; notifications go through slack, "
                                                  "discord, email, webhook channels"),
        ("publish.yml", 20, "workflow.notify[2]", "no channel named 'teem' (did you mean 'team'?) (channels: blog, "
                                                  "mastodon, team)"),
        ("publish.yml", 22, "workflow.states[0]", "'idea' is where every workflow starts; list only the states "
                                                  "between idea and published"),
        ("publish.yml", 25, "workflow.states[3]", "'draft' is listed twice; a state appears once"),
        ("publish.yml", 26, "workflow.states[4].name", "'Legal Review' is not a safe path segment (use lowercase "
                                                       "letters, digits and dashes, e.g. spring-launch)"),
        ("publish.yml", 27, "workflow.states[5]", "name is required (the state's name, as front matter's status "
                                                  "writes it)"),
        ("publish.yml", 29, "workflow.states[7]", "'sign-off' is the last state, where approved items wait to go out, "
                                                  "so nothing is approved in it: add the state its approval leads to "
                                                  "(e.g. approved) after it"),
    ]
    assert [w for w in warnings if w[0] == "publish.yml"] == [
        ("publish.yml", 18, "workflow.approvers", "'Kim' is not in workflow.people, so cannot be told: add their "
                                                  "handles there"),
        ("publish.yml", 19, "workflow.editor", "'Ed' is not in workflow.people, so cannot be told: add their handles "
                                               "there"),
        ("publish.yml", 28, "workflow.states[6].approvers", "'copy-edit' does not need approval, so nobody approves "
                                                            "in it: add approval: true or remove approvers"),
    ]


def test_approved_comes_last_or_not_at_all(cli, project):
    settings = BASE_SETTINGS + "workflow:\n  states: [draft, approved, legal-review]\n"
    root = project({"content/a.md": item("A", status="legal-review", channels=["blog"])}, settings=settings)
    errors, _ = check(cli, root)
    assert errors == [("publish.yml", 13, "workflow.states[1]", "'approved' is the final approval state, so it comes "
                                                                "last (the last state is the one whose items may go "
                                                                "out)")]
    empty = project({}, settings=BASE_SETTINGS + "workflow:\n  states: []\n")
    assert check(cli, empty)[0] == [("publish.yml", 13, "workflow.states", "lists no state: name at least the final "
                                                                           "approval state (e.g. [draft, review, "
                                                                           "approved])")]


def test_the_settings_model_keeps_what_is_right(project):
    from newsroom.settings import load_settings
    from newsroom.workflow import approval_refusal, may_go_out, next_state, states

    settings, _ = load_settings(project({}, settings=LEGAL))
    assert states(settings) == ("idea", "draft", "review", "legal-review", "cleared", "published", "archived",
                                "withdrawn")
    wf = settings.workflow
    assert [wf.status_of(s) for s in states(settings)] == ["idea", "draft", "review", "review", "approved",
                                                           "published", "archived", "withdrawn"]
    assert (next_state(settings, "review"), next_state(settings, "legal-review"), next_state(settings, "draft")) == \
        ("legal-review", "cleared", None)
    assert [may_go_out(settings, s) for s in ("legal-review", "cleared", "approved")] == [False, True, False]
    assert wf.people["Dana"].slack == "U024BE7LH" and wf.editor == "Dana" and wf.notify == ("team",)

    from newsroom.model import Item
    piece = Item(path="content/a.md", id="a", slug="a", title="A", status="review", state="review", body="",
                 body_line=1, revision="r", author="Dana")
    assert approval_refusal(piece, "Dana", settings) == (
        "'Dana' wrote this item and cannot also approve it (require_second_pair_of_eyes is on): ask another editor")
    assert approval_refusal(piece, "Lee", settings) == ("'Lee' may not approve in review (approvers: Dana): ask one "
                                                        "of them, or add the name to the approvers in publish.yml")
    assert approval_refusal(piece, "Lee", settings, state="legal-review") is None
    assert approval_refusal(piece, " ", settings) == "approved_by is empty: write the name of who approved it"


def cleared_and_in_legal_review(project):
    """Two items on the team's states: A cleared (the final state) at 09:00, B in legal-review at 11:00."""
    return project({
        "content/a.md": item("A", status="cleared", author="Sam", approved_by="Lee", publish_at="2026-12-01T09:00",
                             channels=["blog"]),
        "content/b.md": item("B", status="legal-review", author="Sam", publish_at="2026-12-01T11:00",
                             channels=["blog"]),
    }, settings=LEGAL)


def test_plan_calendar_and_ics_show_the_teams_states_and_the_lead_time_rule_holds(cli, project):
    root = cleared_and_in_legal_review(project)
    _, warnings = check(cli, root)
    assert ("content/b.md", 5, "publish_at", "lead_time: still legal-review but is due on 'blog' at 2026-12-01 "
                                             "11:00 (lead time 2d): approve it or move it") in \
        [(p, ln, k, m) for p, ln, k, m in warnings]
    rows = json.loads(cli(root, "calendar", "--now", "2026-11-30T10:00", "--format", "json").output)
    assert [(r["title"], r["state"], r["status"]) for r in rows] == [("A", "cleared", "approved"),
                                                                     ("B", "legal-review", "review")]
    only = json.loads(cli(root, "calendar", "--now", "2026-11-30T10:00", "--format", "json",
                          "--status", "legal-review").output)
    assert [r["title"] for r in only] == ["B"]
    ics = cli(root, "calendar", "--now", "2026-11-30T10:00", "--format", "ics").output
    assert [line for line in ics.splitlines() if line.startswith("STATUS:")] == ["STATUS:CONFIRMED", "STATUS:TENTATIVE"]
    cli(root, "calendar", "--now", "2026-11-30T10:00", "--format", "html")
    page = (root / "public" / "calendar" / "index.html").read_text(encoding="utf-8")
    assert '"legal-review":"#0891b2"' in page and '"cleared":"#16a34a"' in page


def test_the_terminal_calendar_keeps_its_columns_with_a_long_state_name(cli, project):
    root = cleared_and_in_legal_review(project)
    out = cli(root, "calendar", "--now", "2026-11-30T10:00").output
    rows = [line for line in out.splitlines() if line.startswith("  1") or line.startswith("  0")]
    # 'legal-review' is 12 characters: every title starts in the same column, one space after the widest state
    assert rows == ["  09:00  blog  cleared      A", "  11:00  blog  legal-review B ! lead_time"]


def test_only_the_final_state_goes_out(cli, project):
    root = project({
        "content/a.md": item("A", status="cleared", author="Sam", approved_by="Lee", publish_at="2026-12-01T09:00",
                             channels=["blog"]),
        "content/b.md": item("B", status="legal-review", author="Sam", publish_at="2026-12-01T09:30",
                             channels=["blog"]),
    }, settings=LEGAL)
    out = json.loads(cli(root, "publish", "--now", "2026-12-01T10:00", "--format", "json").output)
    assert [(e["item"], e["result"]) for e in out["entries"]] == [("a", "delivered")]
    assert (root / "public" / "a" / "index.html").exists() and not (root / "public" / "b").exists()


def test_the_schemas_for_editors_take_the_projects_states(cli, project):
    root = project({}, settings=LEGAL)
    front = json.loads(cli(root, "schema", "front-matter").output)
    assert front["properties"]["status"]["enum"] == ["idea", "draft", "review", "legal-review", "cleared",
                                                     "published", "archived", "withdrawn"]
    publish = json.loads(cli(root, "schema", "publish").output)
    state = publish["properties"]["workflow"]["properties"]["states"]
    assert state["items"]["anyOf"][1]["required"] == ["name"]
    assert set(state["items"]["anyOf"][1]["properties"]) == {"name", "approval", "approvers"}


# --- fuzz: the workflow section as people might write it ----------------------------------------

_names = st.sampled_from(["draft", "review", "approved", "legal-review", "idea", "published", "Bad Name", "", "x",
                          "cleared"])
_scalar = st.one_of(_names, st.text(max_size=10), st.integers(-3, 3), st.booleans(), st.none())
_value = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["name", "approval", "approvers", "slack", "email", "x"]), inner, max_size=3)),
    max_leaves=10)
_state = st.one_of(_names, st.fixed_dictionaries({}, optional={"name": _value, "approval": _value,
                                                               "approvers": _value, "extra": _value}), _value)
_workflow = st.fixed_dictionaries({}, optional={
    "states": st.one_of(st.lists(_state, max_size=6), _value),
    "approvers": _value, "editor": _value, "notify": st.one_of(st.lists(st.sampled_from(["blog", "team", "x"])), _value),
    "people": st.one_of(st.dictionaries(st.sampled_from(["Dana", "Lee", "1"]), _value, max_size=3), _value),
    "require_second_pair_of_eyes": _value,
})


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(workflow=st.one_of(_workflow, _value), status=_names)
def test_fuzz_any_workflow_section_loads_with_every_problem_at_a_line(workflow, status):
    from newsroom.items import load_item
    from newsroom.problems import UnusableSettings
    from newsroom.settings import load_settings

    text = BASE_SETTINGS + "  team:\n    type: slack\n    webhook: env:SLACK_HOOK\n" + \
        yaml.safe_dump({"workflow": workflow}, allow_unicode=True)
    root = write_project(Path(tempfile.mkdtemp(prefix="workflow-fuzz-")), {}, text)
    try:
        settings, problems = load_settings(root)
    except UnusableSettings as exc:
        problems, settings = exc.problems, None
    assert all(p.line for p in problems), problems
    if settings is None:
        return
    names = settings.workflow.names
    assert names[0] == "idea" and names[-3:] == ("published", "archived", "withdrawn")
    assert len(set(names)) == len(names) and not settings.workflow.states[-1].approval
    own: list = []
    got = load_item("content/a.md", item("A", status=status or "x").encode(), settings, own)
    assert all(p.line for p in own), own
    if got is not None:
        assert got.state in names and got.status == settings.workflow.status_of(got.state)
