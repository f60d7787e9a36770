"""`publish.py calendar --format html`: one static page, checked as written and in a real headless Chromium."""
import re
import subprocess
from pathlib import Path

import pytest

from test_calendar_views import NOW, SETTINGS, files

CHROMIUM = Path("/usr/bin/chromium")


def build(cli, project):
    root = project(files(), settings=SETTINGS)
    result = cli(root, "calendar", "--now", NOW, "--format", "html")
    assert result.exit_code == 0
    assert result.output == "wrote public/calendar/index.html (7 entries)\n"
    return root / "public" / "calendar" / "index.html"


def test_page_is_self_contained(cli, project):
    page = build(cli, project).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(", page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "</script" not in page.split('<script type="application/json" id="data">')[1].split("</script>")[0]


def dom(url: str, tmp_path: Path, width: int = 1280) -> str:
    profile = tmp_path / f"profile-{width}"
    result = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--window-size={width},900", "--virtual-time-budget=1000", "--dump-dom", url],
        capture_output=True, timeout=90)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8")


def entries(html: str, where: str = "agenda"):
    """(channel, hidden) for each agenda entry, or each chip in the month grid."""
    cls = "entry" if where == "agenda" else "chip"
    out = []
    for m in re.finditer(r'<(?:li|span) class="' + cls + r'( conflict)?"([^>]*)>', html):
        attrs = m.group(2)
        out.append((re.search(r'data-channel="([^"]+)"', attrs).group(1), " hidden" in attrs or 'hidden=""' in attrs,
                    bool(m.group(1))))
    return out


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_page_in_headless_chromium_shows_entries_and_filters(cli, project, tmp_path):
    page = build(cli, project)
    html = dom(page.as_uri(), tmp_path)
    agenda = entries(html)
    assert len(agenda) == 7 and not any(hidden for _, hidden, _ in agenda)
    assert sum(conflict for _, _, conflict in agenda) == 2  # the two 09:30 entries on mastodon are marked
    assert "Launch; big, bold" in html and "東京 pop-up" in html
    assert '<span id="count" aria-live="polite">7 of 7 entries</span>' in html
    # The grid opens on the month of --now: November 2026, with December's first days on its last row.
    assert '<h2 id="month">November 2026</h2>' in html
    assert len(entries(html, "grid")) == 6  # 1-3 December are visible; 20 January is not

    # A filter in the address is applied by the page's own script: only mastodon stays visible.
    html = dom(page.as_uri() + "#channel=mastodon", tmp_path)
    agenda = entries(html)
    assert sorted(ch for ch, hidden, _ in agenda if not hidden) == ["mastodon"] * 3
    assert all(hidden for ch, hidden, _ in agenda if ch != "mastodon")
    assert all(hidden for ch, hidden, _ in entries(html, "grid") if ch != "mastodon")
    assert '<span id="count" aria-live="polite">3 of 7 entries</span>' in html
    # Day headings whose entries are all hidden are hidden too (2 December has only blog and newsletter).
    assert re.search(r'<h3 class="dayhead" data-date="2026-12-02" hidden="">', html)

    html = dom(page.as_uri() + "#problems=1", tmp_path)
    assert '<span id="count" aria-live="polite">2 of 7 entries</span>' in html


def test_a_title_holding_html_comment_or_script_tags_cannot_break_the_data_block(cli, project):
    from conftest import item as make_item

    title = 'Tips <!-- <script> hidden --> and </script><b>bold</b>'
    sneaky = files()
    sneaky["content/sneaky.md"] = make_item(title, status="draft", author="cleo", publish_at="2026-12-02T15:00",
                                            channels=["blog"])
    root = project(sneaky, settings=SETTINGS)
    result = cli(root, "calendar", "--now", "2026-11-30T08:00", "--format", "html")
    assert result.exit_code == 0, result.output
    page = (root / "public" / "calendar" / "index.html").read_text(encoding="utf-8")
    block = page.split('<script type="application/json" id="data">')[1].split("</script>")[0]
    assert "<" not in block  # every "<" is \u003c: no "</script", no "<!--" the parser could act on
    import json

    assert title in [e["title"] for e in json.loads(block)["entries"]]
