"""A real browser completes the PKCE flow: headless Chromium opens X's authorize page (on loopback),
runs its consent page's script, follows the redirect to the one-shot callback server, and the tokens
land encrypted in state/credentials."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from channels.auth import Person, connect
from channels.x import X
from newsroom.credentials import new_key
from newsroom.state import FileStore
from tests.servers import channel
from tests.servers.oauth import CLIENT_ID, XAuthServer

CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_headless_chromium_completes_the_pkce_flow(tmp_path):
    env = {"NEWSROOM_KEY": new_key()}
    browsers: list[subprocess.Popen] = []

    def open_browser(url: str) -> bool:
        browsers.append(subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={tmp_path / 'profile'}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return True

    said: list[str] = []
    with XAuthServer() as server:
        adapter = channel(X, server, {"client_id": CLIENT_ID}, env)
        adapter.use_credentials(FileStore(tmp_path / "state").credentials(env), None)
        try:
            result = connect(adapter, Person(say=said.append, open_browser=open_browser, ask_secret=lambda q: ""),
                             port=0, timeout=60)
        finally:
            for b in browsers:
                b.terminate()
                b.wait(10)
        # The browser itself submitted the consent form (a POST with its own User-Agent), then went home.
        decided = server.requests("/i/oauth2/authorize", "POST")
    assert len(decided) == 1 and "HeadlessChrome" in decided[0].headers["user-agent"]
    assert result.lines[0] == "x: connected as @newsroom; the tokens are stored encrypted in state/credentials."
    cred = FileStore(tmp_path / "state").credentials(env).get("x")
    assert cred.access_token == server.token and cred.refresh_token in server.refreshes
