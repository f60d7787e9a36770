"""Workflow rules and `publish.py new`."""
import json

from conftest import BASE_SETTINGS, item


def errors(cli, root):
    return [(p["path"], p["key"], p["message"]) for p in
            json.loads(cli(root, "check", "--format", "json").output)["errors"]]


def test_second_pair_of_eyes_only_when_configured(cli, project):
    files = {"content/a.md": item(status="approved", author="Ana", approved_by="Ana",
                                  publish_at="2026-12-01T09:00", channels=["blog"])}
    assert errors(cli, project(files)) == []
    strict = BASE_SETTINGS + "workflow:\n  require_second_pair_of_eyes: true\n"
    assert [k for _, k, _ in errors(cli, project(files, settings=strict))] == ["approved_by"]


def test_approved_item_may_take_its_time_from_slots(cli, project):
    slotted = BASE_SETTINGS.replace("    token: env:MASTODON_TOKEN",
                                    "    token: env:MASTODON_TOKEN\n    slots:\n      - times: ['09:00']")
    files = {"content/a.md": item(status="approved", approved_by="Ben", channels={"mastodon": {"at": "next"}})}
    assert errors(cli, project(files, settings=slotted)) == []
    assert errors(cli, project(files)) == [
        ("content/a.md", "channels.mastodon.at", "'next' takes the next free slot, but channel 'mastodon' has no slots in publish.yml")]


def test_offset_needs_publish_at(cli, project):
    root = project({"content/a.md": item(channels={"mastodon": {"at": "+2h"}})})
    assert errors(cli, root) == [("content/a.md", "channels.mastodon.at",
                                  "an offset needs publish_at to count from; give publish_at or an absolute time")]


def test_id_is_the_identity_when_given(project):
    from scheduler.project import load_project as load

    root = project({"content/2026/a.md": item(id="launch", slug="launch-v2"),
                    "content/2026/2026-11-27-post.md": item()})
    loaded = load(root)
    assert sorted((i.id, i.slug) for i in loaded.items) == [("launch", "launch-v2"), ("post", "post")]


def test_expiry_before_publishing(cli, project):
    root = project({"content/a.md": item(publish_at="2026-12-01T09:00", expires_at="2026-11-30T09:00")})
    assert errors(cli, root) == [("content/a.md", "expires_at", "expires before it is published; move expires_at after publish_at")]


def test_new_scaffolds_a_clean_item_and_refuses_to_overwrite(cli, project):
    root = project({})
    result = cli(root, "new", "Spring Launch: 2.0!", "--channel", "blog", "--at", "2026-12-01T09:00",
                 "--author", "Ana", "--today", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created content/2026/11/spring-launch-2-0.md"
    text = (root / "content/2026/11/spring-launch-2-0.md").read_text()
    assert 'title: "Spring Launch: 2.0!"' in text and "publish_at: 2026-12-01T09:00+01:00" in text
    assert errors(cli, root) == []
    again = cli(root, "new", "Spring Launch: 2.0!", "--today", "2026-11-23")
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_new_names_an_unknown_channel(cli, project):
    result = cli(project({}), "new", "X", "--channel", "mastadon")
    assert result.exit_code == 2
    assert "no channel named 'mastadon' in publish.yml (did you mean 'mastodon'?)" in result.output
