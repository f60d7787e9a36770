"""`publish.py calendar --format html`: one static page, checked as written and in a real headless
Chromium (bench/chromium.py, the DevTools protocol on a pipe): the small example, and the
10,000-item corpus at desktop and phone sizes (its screenshots go to docs/ when
NEWSROOM_SCREENSHOTS=1 or when they are missing)."""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from bench.chromium import BINARY, Chromium
from conftest import ROOT
from scheduler.page import CAP, unpack
from test_calendar_views import NOW, SETTINGS, files

needs_chromium = pytest.mark.skipif(not BINARY.exists(), reason=f"needs Chromium at {BINARY} "
                                    "(Debian: apt-get install chromium; .ci/run installs it)")


def build(cli, project):
    root = project(files(), settings=SETTINGS)
    result = cli(root, "calendar", "--now", NOW, "--format", "html")
    assert result.exit_code == 0
    assert result.output == "wrote public/calendar/index.html (7 entries)\n"
    return root / "public" / "calendar" / "index.html"


def data_of(page: Path) -> dict:
    return json.loads(page.read_text(encoding="utf-8").split('<script type="application/json" id="data">')[1]
                      .split("</script>")[0])


def test_page_is_self_contained(cli, project):
    page = build(cli, project).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(", page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "</script" not in page.split('<script type="application/json" id="data">')[1].split("</script>")[0]


def test_the_compact_data_reads_back_as_the_rows(cli, project):
    """Shared strings and numbers in the page, the same fields as `calendar --format json` out of it."""
    root = project(files(), settings=SETTINGS)
    rows = json.loads(cli(root, "calendar", "--now", NOW, "--format", "json", "--days", "400").output)
    rows = rows["entries"] if isinstance(rows, dict) else rows
    page = build(cli, project)
    got = {e["key"]: e for e in unpack(data_of(page))}
    assert len(got) == 7
    for r in rows:
        e = got[r["key"]]
        for k in ("path", "title", "channel", "local", "date", "time", "state", "status", "campaign", "flags", "notes",
                  "source", "after", "waiting", "type"):
            assert e[k] == (r[k] or ([] if k in ("after",) else r[k])), (r["key"], k)
    conflict = [e for e in got.values() if "conflict" in e["flags"]]
    assert len(conflict) == 2 and all("'mastodon'" in n for e in conflict for n in e["notes"])


STATE = """(() => ({ count: document.getElementById("count").textContent, month: document.getElementById("month").textContent,
  agenda: [...document.querySelectorAll("#agenda .entry")].map((n) => [n.dataset.channel, n.classList.contains("conflict")]),
  heads: [...document.querySelectorAll("#agenda .dayhead")].map((n) => n.dataset.date),
  chips: [...document.querySelectorAll("#grid .chip")].map((n) => n.dataset.channel), hash: location.hash }))()"""


@pytest.mark.browser
@needs_chromium
def test_page_in_headless_chromium_shows_entries_filters_and_keeps_them_in_the_address(cli, project):
    page = build(cli, project)
    with Chromium() as browser:
        browser.viewport(1280, 900)
        browser.open(page.as_uri())
        s = browser.js(STATE)
        assert len(s["agenda"]) == 7 and sum(c for _, c in s["agenda"]) == 2  # the two 09:30 mastodon entries
        assert s["count"] == "7 of 7 entries"
        # The grid opens on the month of --now: November 2026, with December's first days on its last row.
        assert s["month"] == "November 2026" and len(s["chips"]) == 6  # 1-3 December; not 20 January
        assert s["hash"] == "#month=2026-11"
        text = browser.js("document.body.innerText")
        assert "Launch; big, bold" in text and "東京 pop-up" in text

        # A filter set on the page is written to the address, with the month shown.
        browser.js("document.getElementById('next').click(); const c = document.getElementById('f-channel');"
                   " c.value = 'mastodon'; c.dispatchEvent(new Event('input'))")
        s = browser.js(STATE)
        assert s["hash"] == "#month=2026-12&channel=mastodon" and s["month"] == "December 2026"
        assert [ch for ch, _ in s["agenda"]] == ["mastodon"] * 3 and s["count"] == "3 of 7 entries"
        assert "2026-12-02" not in s["heads"]  # 2 December has only blog and newsletter: no heading

        # ... and read back from it: a link shows what the sender saw.
        browser.open(page.as_uri() + "#month=2027-01&problems=1")
        s = browser.js(STATE)
        assert s["count"] == "2 of 7 entries" and s["month"] == "January 2027" and s["chips"] == []
        assert browser.js("document.getElementById('f-problems').checked") is True


def corpus_page(tmp_path_factory) -> Path:
    """The 10,000-item corpus (3 channels an item: 30,000 entries) written as a user writes it."""
    import subprocess
    import sys

    from bench.corpus import generate

    root = generate(tmp_path_factory.mktemp("corpus") / "10k", 10_000, seed=1)
    done = subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(root), "calendar", "--format",
                           "html", "--now", "2026-11-16T08:00Z"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "wrote public/calendar/index.html (30000 entries)\n"
    return root / "public" / "calendar" / "index.html"


@pytest.mark.browser
@needs_chromium
def test_ten_thousand_items_open_fast_filter_fast_and_fit_a_phone(tmp_path_factory):
    from bench.calendar_page import DESKTOP, LAYOUT, PHONE, filters, open_page

    page = corpus_page(tmp_path_factory)
    size = page.stat().st_size
    entries = unpack(data_of(page))
    assert len(entries) == 30_000 and size < 3_000_000  # was 13.4 MB
    today = "2026-11-16"
    per_day: dict[str, int] = {}
    for e in entries:
        per_day[e["date"]] = per_day.get(e["date"], 0) + 1
    with Chromium() as browser:
        ready = open_page(browser, page.as_uri(), DESKTOP)
        layout = browser.js(LAYOUT)
        # Only what is on screen exists: the month's 42 days and the agenda's window (234,000 elements before).
        assert layout["elements"] < 3_000, layout
        assert layout["grid"] < 900 and layout["height"] <= 900 + 40, layout  # the grid was 28,152 px tall
        assert layout["today_on_screen"], layout
        cells = browser.js("""[...document.querySelectorAll('#grid .day')].map((c) => [c.dataset.date,
            c.querySelectorAll('.chip').length, (c.querySelector('.more') || {}).textContent || ''])""")
        for date, chips, more in cells:
            n = per_day.get(date, 0)
            assert chips == min(n, CAP) and more == (f"+{n - CAP} more" if n > CAP else ""), (date, n, chips, more)

        # Search: the page's count is the corpus's own count of titles or paths holding the text.
        times = filters(browser)
        want = sum(1 for e in entries if "wareh" in (e["title"] + " " + e["path"]).lower())
        browser.js("window.__measure(() => window.__set('f-text', 'wareh'))")
        assert browser.js("document.getElementById('count').textContent") == f"{want} of 30000 entries"
        assert browser.js("location.hash") == "#month=2026-11&text=wareh"
        # After a filter change the agenda is back at today, wherever it had been scrolled.
        browser.js("document.getElementById('scroller').scrollTop = 0")
        browser.js("window.__measure(() => window.__set('f-text', 'wareho'))")
        assert browser.js(LAYOUT)["today_on_screen"]
        first = browser.js("document.querySelector('#agenda .dayhead').dataset.date")
        assert first <= today <= browser.js("[...document.querySelectorAll('#agenda .dayhead')].pop().dataset.date")

        # "+N more" opens the day's full list, and the day goes into the address.
        browser.js("window.__measure(() => window.__set('f-text', ''))")
        browser.js("document.querySelector('.day[data-date=\"2026-11-24\"] .more').click()")
        assert browser.js("document.querySelectorAll('#daylist .entry').length") == per_day["2026-11-24"] == 328
        assert browser.js("location.hash") == "#month=2026-11&day=2026-11-24"
        if os.environ.get("NEWSROOM_SCREENSHOTS") == "1" or not (ROOT / "docs" / "calendar-10k.png").exists():
            browser.js("document.getElementById('day').close()")
            browser.screenshot(ROOT / "docs" / "calendar-10k.png")

        phone_ready = open_page(browser, page.as_uri(), PHONE, mobile=True)
        phone = browser.js(LAYOUT)
        assert phone["header"] < 0.1 * PHONE[1], phone  # was 38% of the screen
        assert phone["today_on_screen"] and phone["height"] < 2 * PHONE[1], phone  # was 3.7M px down a 4.9M px page
        first_row = browser.js("""[...document.querySelectorAll('#agenda .entry')].map((n) => [
            n.querySelector('.time').textContent, n.querySelector('.ch').textContent,
            n.querySelector('.title').textContent, n.getBoundingClientRect().width])[0]""")
        assert re.fullmatch(r"\d\d:\d\d", first_row[0]) and first_row[1] and first_row[2] and first_row[3] > 300
        dots = browser.js("document.querySelector('.day[data-date=\"2026-11-16\"]').querySelectorAll('.dot').length")
        assert dots == len({e["channel"] for e in entries if e["date"] == today})
        shots = os.environ.get("NEWSROOM_SCREENSHOTS") == "1" or not (ROOT / "docs" / "calendar-10k-phone.png").exists()
        if shots:
            browser.screenshot(ROOT / "docs" / "calendar-10k-phone.png")
        # Below the agenda, the month as an overview: a tap on a day opens its list.
        browser.js("document.getElementById('monthview').scrollIntoView()")
        if shots:
            browser.screenshot(ROOT / "docs" / "calendar-10k-phone-month.png")
        browser.js("document.querySelector('.day[data-date=\"2026-11-16\"]').click()")
        assert browser.js("document.getElementById('day').open") is True
        assert browser.js("document.querySelectorAll('#daylist .entry').length") == per_day[today]
    print(f"10,000 items: interactive {ready:.0f} ms (phone {phone_ready:.0f} ms), {size / 1e6:.2f} MB, "
          + ", ".join(f"{k} {v:.0f}" for k, v in times.items()), f"load {os.getloadavg()[0]:.2f}")
    # Times are printed, not asserted: a test is not a benchmark, and this machine is shared.
    # bench/calendar_page.py measures them against the goals of 1 s and 100 ms, beside the page
    # before. The element count, size and behaviour above are the guards that do not depend on the
    # machine.
