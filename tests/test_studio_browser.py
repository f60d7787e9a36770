"""`publish studio` in a real headless Chromium (bench/chromium.py, the DevTools protocol on a pipe),
driven with the mouse as an editor would: drag an entry to another day, drop one into a blackout
date, drag a card to `approved` (refused for its author, then done by another editor), open an item
and watch its preview follow an edit on disk. Then the file and the git log are read. The
screenshots in docs/studio.md are made here (when NEWSROOM_SCREENSHOTS=1 or when they are missing)."""
import os
import time

import pytest

from bench.chromium import BINARY, Chromium
from conftest import ROOT
from studio_process import Studio, git, git_repo
from test_studio import CLASH, LAUNCH, NOW, SETTINGS, files

needs_chromium = pytest.mark.skipif(not BINARY.exists(), reason=f"needs Chromium at {BINARY} "
                                    "(Debian: apt-get install chromium; .ci/run installs it)")


def wait(browser, expression: str, timeout: float = 20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = browser.js(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression}")


def centre(browser, selector: str) -> tuple[float, float]:
    box = browser.js(f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect(); "
                     "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    assert box, selector
    return box[0], box[1]


def drag(browser, source: str, target: str) -> None:
    """Press the mouse on ``source``, move in steps onto ``target``, release: what a person's hand does."""
    (x0, y0), (x1, y1) = centre(browser, source), centre(browser, target)
    mouse = lambda kind, x, y, **kw: browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, **kw)  # noqa: E731
    mouse("mouseMoved", x0, y0)
    mouse("mousePressed", x0, y0, button="left", buttons=1, clickCount=1)
    for k in range(1, 11):
        mouse("mouseMoved", x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10, button="left", buttons=1)
    mouse("mouseReleased", x1, y1, button="left", buttons=0, clickCount=1)


def click(browser, selector: str) -> None:
    x, y = centre(browser, selector)
    browser.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", buttons=1, clickCount=1)
    browser.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", buttons=0, clickCount=1)


MESSAGE = "document.getElementById('msg').hidden ? '' : document.getElementById('msg').textContent"


def said(browser, before: str = "") -> str:
    """The studio's next message (different from ``before``)."""
    return wait(browser, f"(() => {{ const m = {MESSAGE}; return m && m !== {before!r} ? m : ''; }})()")


def shoot(browser, name: str) -> None:
    target = ROOT / "docs" / name
    if os.environ.get("NEWSROOM_SCREENSHOTS") == "1" or not target.exists():
        browser.screenshot(target)


@pytest.mark.browser
@needs_chromium
def test_an_editor_drags_approves_is_refused_and_previews_in_the_browser(project):
    root = git_repo(project(files(), settings=SETTINGS))
    launch = root / "content" / "launch.md"
    with Studio(root, "--now", NOW) as studio, Chromium() as browser:
        browser.viewport(1400, 950)
        browser.open(studio.url)
        wait(browser, "document.querySelectorAll('#grid .chip').length === 3")
        assert browser.js("document.getElementById('span').textContent") == "November 2026"
        # Problems are on the cards: the two 09:30 mastodon entries conflict.
        marks = browser.js("[...document.querySelectorAll('#grid .chip')].map((n) => [n.dataset.key, n.dataset.marks || ''])")
        assert sorted(marks) == [["clash/mastodon", "conflict"], ["launch/blog", "lead_time"],
                                 ["launch/mastodon", "conflict lead_time"]]
        assert "We launch" not in browser.js("document.body.innerText")
        title = browser.js("document.querySelector('[data-key=\"launch/blog\"]').title")
        assert title.startswith("Launch; big, bold\ncontent/launch.md\n2026-12-01 09:00 · blog · review")
        shoot(browser, "studio-month.png")

        # Drag the launch's blog entry from 1 December to 3 December: same time of day, committed.
        drag(browser, '[data-key="launch/blog"]', '.day[data-date="2026-12-03"]')
        message = said(browser)
        sha = git(root, "rev-parse", "--short", "HEAD").strip()
        assert message == f"Move 'Launch; big, bold' on blog to 2026-12-03 09:00 (was 2026-12-01 09:00) (committed {sha})"
        assert launch.read_text() == LAUNCH.replace("channels: {blog: {}", "channels: {blog: {at: 2026-12-03T09:00+01:00}")
        assert git(root, "log", "-1", "--format=%s").strip() == \
            "Move 'Launch; big, bold' on blog to 2026-12-03 09:00 (was 2026-12-01 09:00)"
        wait(browser, "!!document.querySelector('.day[data-date=\"2026-12-03\"] [data-key=\"launch/blog\"]')")

        # A drop on Christmas Eve (a blackout date) is refused, and says why; nothing changes.
        click(browser, "#next")
        wait(browser, "document.getElementById('span').textContent === 'December 2026'")
        drag(browser, '[data-key="clash/mastodon"]', '.day[data-date="2026-12-24"]')
        assert said(browser, message) == \
            "2026-12-24 is a blackout date on 'mastodon' (2026-12-24: Christmas Eve); nothing was written"
        assert browser.js("document.getElementById('msg').className") == "refused"
        assert (root / "content" / "clash.md").read_text() == CLASH

        # The week, hour by hour: a drop on 11:00 keeps the minutes; a drop at 23:00 is in the quiet hours.
        click(browser, "#v-week")
        click(browser, "#today")
        wait(browser, "!!document.querySelector('.slot[data-date=\"2026-12-01\"][data-hour=\"09\"] [data-key=\"clash/mastodon\"]')")
        before = browser.js(MESSAGE)
        drag(browser, '[data-key="clash/mastodon"]', '.slot[data-date="2026-12-02"][data-hour="23"]')
        assert said(browser, before) == ("2026-12-02 23:30 is in the quiet hours of 'mastodon' (22:00-07:00 "
                                         "Europe/Berlin); nothing was written")
        before = browser.js(MESSAGE)
        drag(browser, '[data-key="clash/mastodon"]', '.slot[data-date="2026-12-02"][data-hour="11"]')
        assert said(browser, before).startswith("Move 'Clash' on mastodon to 2026-12-02 11:30 (was 2026-12-01 09:30) "
                                                "(committed ")
        assert (root / "content" / "clash.md").read_text() == CLASH.replace(
            "channels: [mastodon]", "channels: {mastodon: {at: 2026-12-02T11:30+01:00}}")
        wait(browser, "!!document.querySelector('.slot[data-date=\"2026-12-02\"][data-hour=\"11\"] [data-key=\"clash/mastodon\"]')")
        shoot(browser, "studio-week.png")

        # The board: the launch goes from review to approved. Ana wrote it, so Ana may not approve it.
        click(browser, "#v-board")
        wait(browser, "!!document.querySelector('.column[data-state=\"review\"] .card')")
        shoot(browser, "studio-board.png")
        before = browser.js(MESSAGE)
        drag(browser, '.card[data-path="content/launch.md"]', '.column[data-state="approved"]')
        refusal = said(browser, before)
        assert refusal == ("'Ana' wrote this item and cannot also approve it (require_second_pair_of_eyes is on): "
                           "ask another editor; nothing was written")
        git(root, "config", "user.name", "Ben Okafor")
        drag(browser, '.card[data-path="content/launch.md"]', '.column[data-state="approved"]')
        sha = wait(browser, f"({MESSAGE}).startsWith('Approve') && ({MESSAGE})")
        assert sha == f"Approve 'Launch; big, bold' (approved_by: Ben Okafor) (committed {git(root, 'rev-parse', '--short', 'HEAD').strip()})"
        assert "status: approved\napproved_by: Ben Okafor\n" in launch.read_text()
        assert git(root, "log", "--format=%s|%an", "-4").splitlines() == [
            "Approve 'Launch; big, bold' (approved_by: Ben Okafor)|Ben Okafor",
            "Move 'Clash' on mastodon to 2026-12-02 11:30 (was 2026-12-01 09:30)|Ana",
            "Move 'Launch; big, bold' on blog to 2026-12-03 09:00 (was 2026-12-01 09:00)|Ana", "the newsroom|Ana"]
        wait(browser, "!!document.querySelector('.column[data-state=\"approved\"] .card[data-path=\"content/launch.md\"]')")

        # Open the item: each channel's rendering, with its length against the limit.
        click(browser, '.card[data-path="content/launch.md"]')
        frame = "(document.getElementById('preview').contentDocument || {body: null}).body"
        text = wait(browser, f"{frame} && {frame}.innerText.includes('characters') && {frame}.innerText")
        assert "mastodon" in text and "/500 characters" in text and "We launch today." in text
        # Edited on disk, the preview follows.
        launch.write_text(launch.read_text().replace("We launch today.", "We launch today, live."))
        wait(browser, f"{frame} && {frame}.innerText.includes('We launch today, live.')")
        shoot(browser, "studio-item.png")
        assert browser.js("location.hash").endswith("item=content%2Flaunch.md")


PROBLEMS = SETTINGS.replace("""  quiet_hours: "22:00-07:00"
""", """  quiet_hours: "22:00-07:00"
  slots:
    - days: daily
      times: ['09:00']
""")
APPROVED = "status: approved\nauthor: ana\napproved_by: ben\n"


def problem_files():
    return {"content/offslot.md": f"---\ntitle: Off the slot\n{APPROVED}publish_at: 2026-12-02T11:00\nchannels: [mastodon]\n---\nBody.\n",
            "content/night.md": f"---\ntitle: At night\n{APPROVED}publish_at: 2026-12-02T23:00\nchannels: [mastodon]\n---\nBody.\n",
            "content/long.md": f"---\ntitle: Too long\n{APPROVED}publish_at: 2026-12-03T09:00\nchannels:\n"
                               f"  mastodon: {{text: {'word ' * 130}}}\n---\nBody.\n",
            "content/blocked.md": f"---\ntitle: Blocked\n{APPROVED}publish_at: 2026-11-30T08:00\nchannels:\n  blog: {{}}\n"
                                  "  mastodon: {after: [blog]}\n---\nBody.\n",
            "content/fine.md": f"---\ntitle: Fine\n{APPROVED}publish_at: 2026-12-04T09:00\nchannels: [mastodon]\n---\nBody.\n"}


@pytest.mark.browser
@needs_chromium
def test_every_problem_check_knows_is_marked_on_its_card(project):
    root = project(problem_files(), settings=PROBLEMS)
    with Studio(root, "--now", NOW) as studio, Chromium() as browser:
        browser.viewport(1400, 950)
        browser.open(studio.url)
        wait(browser, "document.querySelectorAll('#grid .chip').length === 6")
        chips = browser.js("Object.fromEntries([...document.querySelectorAll('#grid .chip')].map((n) => "
                           "[n.dataset.key, [n.dataset.marks || '', n.classList.contains('problem'), n.title]]))")
        assert {k: v[:2] for k, v in chips.items()} == {
            "blocked/blog": ["off_slot", True], "blocked/mastodon": ["off_slot blocked", True],
            "offslot/mastodon": ["off_slot", True], "night/mastodon": ["quiet_hours off_slot", True],
            "long/mastodon": ["", True], "fine/mastodon": ["", False]}
        assert "blocked: waits for blog (not delivered yet)" in chips["blocked/mastodon"][2]
        assert ("error: channels.mastodon: mastodon: the post is 149 characters over the limit of 500 (649/500), "
                "from channels.mastodon.text in content/long.md; shorten it, or set channels.mastodon.thread: true "
                "to post it as a thread (line 8)") in chips["long/mastodon"][2]
        # Only problems: the fine item goes.
        browser.js("document.getElementById('f-problems').click()")
        wait(browser, "document.querySelectorAll('#grid .chip').length === 5")
        assert browser.js("document.getElementById('count').textContent") == "5 of 6 entries"
        click(browser, "#v-board")
        card = wait(browser, "(document.querySelector('.card[data-path=\"content/long.md\"] .p.bad') || {}).textContent")
        assert card == "⚠ 1 from check"
        assert "problems=1" in browser.js("location.hash")
