"""Run a GitHub Actions workflow's ``run:`` steps on this machine, in order, as the runner would."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent  # the test environment's `publish` (and python3)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=_git_env(cwd), timeout=60)
    if check and out.returncode:
        raise AssertionError(f"git {' '.join(args)}: {out.stderr}")
    return out.stdout


def first_pull_request(tmp_path: Path, init) -> tuple[Path, Path]:
    """A repository with a README on ``main`` at a bare ``origin``, and a branch ``start`` made by
    ``init`` (called with the seed's path) and pushed: the team's first pull request, with no
    publish.yml at its base. Returns the bare origin and the runner's clone of ``start``."""
    (tmp_path / "home").mkdir()
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "README.md").write_text("Our content.\n")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "Empty repository")
    git(seed, "remote", "add", "origin", str(bare))
    git(seed, "push", "-q", "origin", "main")
    git(seed, "checkout", "-q", "-b", "start")
    init(seed)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "Start the newsroom")
    git(seed, "push", "-q", "origin", "start")
    work = tmp_path / "runner"
    git(tmp_path, "clone", "-q", "-b", "start", str(bare), str(work))
    return bare, work


def _git_env(home: Path) -> dict:
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": "ana@t",
            "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": "ana@t", "GIT_CONFIG_NOSYSTEM": "1"}


class Runner:
    """Runs a workflow's ``run:`` steps the way GitHub's runner does: bash -e -o pipefail, the
    GitHub variables in the environment, ``${{ … }}`` replaced from ``expressions``, each step's
    ``$GITHUB_OUTPUT`` read back as ``steps.<id>.outputs.<name>``."""

    def __init__(self, workflow: Path, job: str, workspace: Path, github: dict, expressions: dict):
        self.steps = yaml.safe_load(workflow.read_text())["jobs"][job]["steps"]
        self.workspace, self.github, self.expressions = workspace, github, dict(expressions)
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.summary = self.temp / "summary.md"

    def _expand(self, text: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: str(self.expressions.get(m.group(1), "")), text)

    def run(self, name: str) -> subprocess.CompletedProcess:
        step = next(s for s in self.steps if s.get("name") == name)
        output = self.temp / f"output-{name}"
        output.write_text("")
        env = {**_git_env(self.workspace.parent / "home"), **self.github, "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(self.temp),
               **{k: self._expand(str(v)) for k, v in (step.get("env") or {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self._expand(step["run"])],
                              cwd=self.workspace, env=env, capture_output=True, text=True, timeout=120)
        for line in output.read_text().splitlines():
            key, _, value = line.partition("=")
            self.expressions[f"steps.{step.get('id')}.outputs.{key}"] = value
        return done
