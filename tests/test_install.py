"""The tool as a team installs it: a wheel built from this source, installed into a fresh virtual
environment outside the repository, run in a folder that has none of this repository's files.

The wheel is built without fetching a build backend (the test extras bring setuptools) and installed
without its dependencies, which the fresh environment borrows from this one through a ``.pth`` line:
no test reaches beyond loopback. ``.ci/run`` does the same with the dependencies from the index.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def _source_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    return [p for p in out.split("\0") if p and (ROOT / p).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin/`` folder of a fresh virtual environment with the wheel of this source installed."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    for rel in _source_files():  # a clean copy: the build never writes into the checkout
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, source / rel)
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(source)], check=True, capture_output=True)
    [wheel] = wheels.glob("*.whl")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    purelib = Path(subprocess.run([str(env_dir / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True)
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN") and k != "PYTHONPATH"}
    environment.update(env or {})
    return subprocess.run([str(bin_dir / "publish"), *args], cwd=cwd, capture_output=True, text=True,
                          env=environment, timeout=120)


def test_the_installed_code_is_the_wheel_not_this_checkout(installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c", "import newsroom, channels.render as r; "
                            "print(newsroom.__file__); print(r.TEMPLATES)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split("\n")
    assert str(ROOT) not in where[0] and "site-packages" in where[0]
    assert where[1].endswith("site-packages/newsroom/_shipped/templates")


def test_version_and_completion_use_the_installed_program_name(installed, tmp_path):
    from newsroom.resources import version

    assert run(installed, "--version", cwd=tmp_path).stdout == f"publish {version()}\n"
    script = run(installed, cwd=tmp_path, env={"_PUBLISH_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "complete -o nosort -F _publish_completion publish" in script.stdout
    words = run(installed, cwd=tmp_path, env={"_PUBLISH_COMPLETE": "bash_complete",
                                              "COMP_WORDS": "publish cal", "COMP_CWORD": "1"})
    assert words.stdout.split("\n")[0] == "plain,calendar"
    fish = run(installed, cwd=tmp_path, env={"_PUBLISH_COMPLETE": "fish_source"})
    assert "complete --no-files --command publish" in fish.stdout
    zsh = run(installed, cwd=tmp_path, env={"_PUBLISH_COMPLETE": "zsh_source"})
    assert "#compdef publish" in zsh.stdout


def test_a_project_outside_the_repository_checks_and_publishes_with_the_shipped_templates(installed, tmp_path):
    from newsroom.resources import shipped

    for name in ("publish.yml", "content", "audience"):
        (shutil.copytree if shipped(name).is_dir() else shutil.copy2)(shipped(name), tmp_path / name)
    checked = run(installed, "check", cwd=tmp_path)
    assert "no such template" not in checked.stdout + checked.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    published = run(installed, "publish", "--now", "2026-11-20T10:00Z", cwd=tmp_path)
    assert published.returncode == 0, published.stdout + published.stderr
    assert (tmp_path / "public" / "index.html").is_file() and list((tmp_path / "outbox").rglob("*.eml"))
    written = run(installed, "reference", "--write", cwd=tmp_path)
    assert written.stdout == f"wrote {tmp_path / 'docs' / 'reference.md'}\n"
    assert not list((installed.parent / "lib").rglob("reference.md"))  # nothing written next to the code


def test_init_in_an_empty_folder_then_check_calendar_and_publish(installed, tmp_path):
    """What .ci/run does with the package index: the installed tool starts a repository and runs on it."""
    folder = tmp_path / "newsroom"
    folder.mkdir()
    started = subprocess.run([str(installed / "publish"), "init"], cwd=folder, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=120)
    assert started.returncode == 0 and started.stdout.endswith(f"12 files written, 0 kept in {folder}. Next: publish "
                                                               "check, then set the secrets publish.yml names (see "
                                                               ".github/workflows/publish.yml).\n"), started.stderr
    checked = run(installed, "check", cwd=folder)
    assert (checked.returncode, checked.stdout) == (0, "1 items checked: no problems\n"), checked.stderr
    calendar = run(installed, "calendar", "--format", "json", "--days", "30", cwd=folder)
    assert calendar.returncode == 0
    assert sorted(e["channel"] for e in json.loads(calendar.stdout)) == ["blog", "mastodon", "newsletter"]
    published = run(installed, "publish", cwd=folder)
    assert published.returncode == 0 and published.stdout.startswith("Nothing due at "), published.stderr
