"""The CI workflows run commands this version has, with options it accepts, and pass every secret."""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def commands(path):
    """Every ``publish`` invocation in the workflow's run steps, as argument lists."""
    data = yaml.safe_load(path.read_text())
    out = []
    for job in data["jobs"].values():
        for step in job["steps"]:
            for line in (step.get("run") or "").splitlines():
                m = re.match(r"\s*publish\s+(.*)", line)
                if not m:
                    continue  # not an invocation (an echo that names the command, a comment)
                rest = m.group(1).replace('"origin/$GITHUB_BASE_REF"', "origin/main")
                rest = re.split(r"\s[>|]|\s2>", rest)[0].rstrip("\\ ")
                out.append(shlex.split(rest))
    return out


def test_the_workflows_exist():
    assert {"check.yml", "publish.yml"} <= {p.name for p in WORKFLOWS}
    assert [c[0] for c in commands(ROOT / ".github/workflows/publish.yml")] == ["publish", "publish"]
    assert [c[0] for c in commands(ROOT / ".github/workflows/check.yml")] == ["check", "calendar", "preview"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_a_workflow_runs_exists_and_takes_those_options(path):
    from publish import cli

    for args in commands(path):
        name, rest = args[0], args[1:]
        command = cli.commands.get(name)
        assert command is not None, f"{path.name} runs 'publish.py {name}', which does not exist"
        command.make_context(f"publish {name}", list(rest))  # raises on an unknown option or bad value


def test_the_publish_workflow_is_scheduled_serialised_and_pushes_the_ledger():
    data = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text())
    triggers = data[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "*/15 * * * *"}] and "workflow_dispatch" in triggers
    assert data["concurrency"]["cancel-in-progress"] is False
    steps = data["jobs"]["publish"]["steps"]
    commit = next(s for s in steps if s.get("name") == "Commit the ledger")
    assert "always()" in commit["if"]
    assert data["concurrency"]["group"] == yaml.safe_load((ROOT / ".github/workflows/pull.yml").read_text())[
        "concurrency"]["group"], "every writer of state/ shares one concurrency group"


def test_every_secret_the_example_settings_name_is_passed_from_repository_secrets():
    settings = (ROOT / "publish.yml").read_text()
    names = set(re.findall(r"env:([A-Z_][A-Z0-9_]*)", settings)) | {"SMTP_USER", "SMTP_PASSWORD", "NEWSROOM_KEY"}
    data = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text())
    step = next(s for s in data["jobs"]["publish"]["steps"] if s.get("name") == "Publish due entries")
    assert {k: v for k, v in step["env"].items()} == {n: f"${{{{ secrets.{n} }}}}" for n in names}


@pytest.mark.parametrize("workflow,job,step", [("publish.yml", "publish", "Commit the ledger"),
                                               ("pull.yml", "pull", "Commit the snapshots (and the report)")])
def test_this_repositorys_state_commit_keeps_the_lock_files_out(tmp_path, workflow, job, step):
    """Here state/ is ignored (it is the example's), so the step adds it with -f: the lock files must
    still stay out. Run in a scratch clone whose origin is a bare repository."""
    from workflowrun import Runner, git

    (tmp_path / "home").mkdir()
    bare, seed, work = tmp_path / "origin.git", tmp_path / "seed", tmp_path / "runner"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed.mkdir()
    (seed / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "start")
    git(seed, "push", "-q", str(bare), "main")
    git(tmp_path, "clone", "-q", str(bare), str(work))
    (work / "state/.runs").mkdir(parents=True)
    for name, text in {"ledger.jsonl": '{"event": "delivered"}\n', ".lock": "", ".runs/1.lock": "",
                       ".gitignore": ".lock\n.runs/\n", ".gitattributes": "*.jsonl merge=union\n"}.items():
        (work / "state" / name).write_text(text)
    runner = Runner(ROOT / ".github/workflows" / workflow, job, work,
                    {"GITHUB_RUN_ID": "9", "GITHUB_REF_NAME": "main"}, {"steps.weekly.outputs.write": "false"})
    done = runner.run(step)
    assert done.returncode == 0, done.stderr
    tree = git(bare, "ls-tree", "-r", "--name-only", "main").split()
    assert sorted(tree) == [".gitignore", "state/.gitattributes", "state/.gitignore", "state/ledger.jsonl"]
def test_runs_that_may_renew_a_token_take_turns_and_have_the_key():
    """publish and pull both renew tokens in state/credentials (X accepts each refresh token once):
    one concurrency group for both, and NEWSROOM_KEY passed to the steps that do it."""
    publish = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text())
    pull = yaml.safe_load((ROOT / ".github/workflows/pull.yml").read_text())
    assert publish["concurrency"]["group"] == pull["concurrency"]["group"]
    step = next(s for s in pull["jobs"]["pull"]["steps"] if s.get("name") == "Pull")
    assert step["env"]["NEWSROOM_KEY"] == "${{ secrets.NEWSROOM_KEY }}"
