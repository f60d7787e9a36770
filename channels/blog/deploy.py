"""Deploying the built blog where people see it: ``git`` (push to a branch of a remote) or ``command``.

- ``git``: the site folder becomes one commit on ``branch`` of the remote (a URL or a path), on top
  of what the branch holds, and is pushed without force. This is how GitHub Pages, Codeberg Pages
  and branch-deploying hosts (Netlify, Cloudflare Pages) serve a site. Nothing is pushed when the
  branch already holds exactly this tree, so running it again is safe. The commit is made with a
  private index and object store in the cache folder: the project's own repository, working tree
  and index are never touched. (git plumbing: ``write-tree``, ``commit-tree``, ``push``; see
  https://git-scm.com/book/en/v2/Git-Internals-Git-Objects.)
- ``command``: the team's own (``rsync -a --delete public/ host:/srv/www``, ``aws s3 sync``,
  ``netlify deploy --prod``), run by the shell in the project folder with ``SITE_DIR`` set; its exit
  code decides.

A deploy returns None when the site is where people see it, else what went wrong (a value, not an
exception: the run records the blog's entries as failed and tries again next run).
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Mapping

from newsroom import schema as s

DEFAULT_BRANCH = "gh-pages"
DEFAULT_TIMEOUT = 600  # seconds a deploy may take
IDENTITY = {"GIT_AUTHOR_NAME": "newsroom-publish", "GIT_AUTHOR_EMAIL": "publish@newsroom.invalid",
            "GIT_COMMITTER_NAME": "newsroom-publish", "GIT_COMMITTER_EMAIL": "publish@newsroom.invalid"}
#: Files of the site folder that are the build's own bookkeeping, not pages: never deployed.
PRIVATE = (".newsroom-blog.json", ".newsroom-site.json")


class Deploy(s.Kind):
    """``deploy: {git: REMOTE, branch: gh-pages}`` or ``deploy: {command: "…"}``."""

    name = "deploy target (git: REMOTE, branch: NAME | command: COMMAND)"
    SCHEMA = s.Schema("deploy", [
        s.Key("git", s.Text(), "remote to push the built site to (URL or path)"),
        s.Key("branch", s.Text(), "branch of the remote that serves the site", default=DEFAULT_BRANCH),
        s.Key("command", s.Text(), "shell command that publishes the site folder (SITE_DIR); its exit code decides"),
        s.Key("timeout", s.Integer(minimum=1), "seconds the deploy may take", default=DEFAULT_TIMEOUT),
    ])

    def convert(self, value, ctx, key):
        if not isinstance(value, dict):
            raise s.Invalid("expected a mapping: git: REMOTE (and branch:), or command: COMMAND")
        out = self.SCHEMA.validate(value, ctx, prefix=key)
        if bool(out.get("git")) == bool(out.get("command")):
            raise s.Invalid("give exactly one of git: REMOTE or command: COMMAND")
        return out

    def json_schema(self, ctx):
        return {**self.SCHEMA.json_schema(ctx), "oneOf": [{"required": ["git"]}, {"required": ["command"]}]}


def describe(spec: Mapping) -> str:
    if spec.get("git"):
        return f"git {spec['git']} {spec.get('branch') or DEFAULT_BRANCH}"
    return f"command `{spec.get('command')}`"


def deploy(site_dir: Path, spec: Mapping, *, root: Path, cache: Path, env: Mapping[str, str]) -> str | None:
    """Put ``site_dir`` where people see it. None: done (or already there); else why not."""
    timeout = int(spec.get("timeout") or DEFAULT_TIMEOUT)
    if spec.get("git"):
        return _git(site_dir, str(spec["git"]), str(spec.get("branch") or DEFAULT_BRANCH), cache, env, timeout)
    return _command(site_dir, str(spec["command"]), root, env, timeout)


def _command(site_dir: Path, command: str, root: Path, env: Mapping[str, str], timeout: int) -> str | None:
    try:
        done = subprocess.run(command, shell=True, cwd=root, env={**env, "SITE_DIR": str(site_dir)},
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"the deploy command did not finish in {timeout}s"
    except OSError as exc:
        return f"the deploy command could not be started: {exc.strerror or exc}"
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
        return f"the deploy command exited with {done.returncode}" + (f": {said[0][:300]}" if said[0] else "")
    return None


def _git(site_dir: Path, remote: str, branch: str, cache: Path, env: Mapping[str, str], timeout: int) -> str | None:
    git_dir = cache / "deploy.git"
    base = {k: v for k, v in env.items() if not k.startswith("GIT_") or k in IDENTITY or k.startswith("GIT_SSH")}
    base = {**IDENTITY, **base, "GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(site_dir),
            "GIT_INDEX_FILE": str(git_dir / "site-index"), "GIT_TERMINAL_PROMPT": "0"}

    def git(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["git", *args], env=base, cwd=site_dir, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise _GitFailed(f"git {args[0]} failed: {(done.stderr.strip() or done.stdout.strip())[-300:]}")
        return done

    try:
        if not (git_dir / "HEAD").exists():
            git_dir.mkdir(parents=True, exist_ok=True)
            bare = {k: v for k, v in base.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
            subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], env=bare, capture_output=True, check=True,
                           timeout=timeout)
        git("add", "-A", "--force", "--", ".", *(f":!{name}" for name in PRIVATE))
        tree = git("write-tree").stdout.strip()
        ref = f"refs/newsroom/{branch}"
        fetched = git("fetch", "-q", "--no-tags", remote, f"+refs/heads/{branch}:{ref}", check=False)
        parent = git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).stdout.strip() \
            if fetched.returncode == 0 else ""
        if fetched.returncode != 0 and "couldn't find remote ref" not in fetched.stderr.lower():
            raise _GitFailed(f"cannot read the branch {branch} of {remote}: "
                             f"{fetched.stderr.strip().splitlines()[-1] if fetched.stderr.strip() else 'git fetch failed'}")
        if parent and git("rev-parse", f"{parent}^{{tree}}").stdout.strip() == tree:
            return None  # the branch already serves exactly this site
        commit = git("commit-tree", tree, *(["-p", parent] if parent else []), "-m",
                     "Site built from the ledger by newsroom-publish").stdout.strip()
        git("push", "-q", remote, f"{commit}:refs/heads/{branch}")
    except _GitFailed as exc:
        return str(exc)
    except subprocess.TimeoutExpired:
        return f"the git deploy to {remote} did not finish in {timeout}s"
    except subprocess.CalledProcessError as exc:
        return f"git init failed: {(exc.stderr or b'').decode(errors='replace').strip()[-300:]}"
    except OSError as exc:
        return f"git could not be run: {exc.strerror or exc}"
    return None


class _GitFailed(Exception):
    pass


def cache_folder(root: Path, channel: str) -> Path:
    return Path(root) / ".cache" / f"deploy-{channel}"

