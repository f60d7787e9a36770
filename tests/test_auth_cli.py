"""`publish auth` from the command line: the thin CLI around channels/auth.py; secrets reach stdout
only when asked, everything for the person goes to stderr."""
from __future__ import annotations

import threading

from cryptography.fernet import Fernet

from channels import registry
from channels.mastodon import Mastodon
from channels.x import X
from conftest import write_project
from newsroom.credentials import new_key
from newsroom.state import FileStore
from servers.oauth import CLIENT_ID, MastodonAuthServer, XAuthServer, approve

SETTINGS = f"""\
site:
  title: Test Newsroom
  url: https://news.test
timezone: UTC
channels:
  x:
    type: x
    client_id: {CLIENT_ID}
  mastodon:
    type: mastodon
    instance: https://mastodon.test
    token: env:MASTODON_TOKEN
"""


def aim(monkeypatch, cls, url):
    class Aimed(cls):
        def __init__(self, config, env, *, base_url=None):
            super().__init__(config, env, base_url=base_url or url)

    monkeypatch.setitem(registry.TYPES, cls.TYPE, Aimed)


def browser(monkeypatch):
    opened = []

    def open_(url, *a, **k):
        opened.append(url)
        threading.Thread(target=approve, args=(url,), daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", open_)
    return opened


def test_new_key(tmp_path, cli):
    result = cli(write_project(tmp_path / "p", {}, SETTINGS), "auth", "--new-key")
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())  # a usable key
    assert result.stderr == ("Keep it as NEWSROOM_KEY in your shell and as a CI secret (gh secret set NEWSROOM_KEY); "
                             "whoever has it can read state/credentials.\n")


def test_auth_x_from_the_command_line(tmp_path, cli, monkeypatch):
    root = write_project(tmp_path / "p", {}, SETTINGS)
    key = new_key()
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        opened = browser(monkeypatch)
        result = cli(root, "auth", "x", "--port", "0", env={"NEWSROOM_KEY": key})
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # nothing secret, nothing on stdout
    lines = result.stderr.splitlines()
    assert lines[:2] == ["Opening the authorization page in your browser. If it does not open, visit:",
                         f"  {opened[0]}"]
    assert lines[2] == "x: connected as @newsroom; the tokens are stored encrypted in state/credentials."
    assert lines[-1] == "Commit state/credentials with the ledger, and give CI the same key: gh secret set NEWSROOM_KEY"
    assert FileStore(root / "state").credentials({"NEWSROOM_KEY": key}).get("x").account == "@newsroom"


def test_mastodon_token_goes_to_stdout_for_a_pipe_only(tmp_path, cli, monkeypatch):
    root = write_project(tmp_path / "p", {}, SETTINGS)
    with MastodonAuthServer() as m:
        aim(monkeypatch, Mastodon, m.url)
        browser(monkeypatch)
        result = cli(root, "auth", "mastodon")  # stdout is not a terminal here: a pipe into gh
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{m.token}\n"
    assert m.token not in result.stderr


def test_errors_exit_1_with_a_message(tmp_path, cli, monkeypatch):
    root = write_project(tmp_path / "p", {}, SETTINGS)
    result = cli(root, "auth", "nosuch")
    assert result.exit_code == 1
    assert result.stderr == "error: no channel named 'nosuch' in publish.yml (channels: mastodon, x)\n"
    result = cli(root, "auth")
    assert result.exit_code == 2 and result.stderr == "error: name the channel to connect, e.g. publish auth x\n"
    with XAuthServer() as x:
        aim(monkeypatch, X, x.url)
        result = cli(root, "auth", "x", "--port", "0", "--no-browser", "--timeout", "1",
                     env={"NEWSROOM_KEY": new_key()})
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[1].startswith(f"  {x.url}/i/oauth2/authorize?response_type=code&client_id=client-abc")
    assert lines[2] == ("error: no answer from the browser within 1 second: run the command again and approve the "
                        "app in the page it opens")
