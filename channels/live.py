"""The live check: does a page's public URL answer yet?

Entries that link to an item's blog page wait until that page answers 200 at its public URL: a
static host or CDN often shows a deploy a minute or more after it happened, and the first reader to
click a post's link must not get a 404. The check asks with HEAD and falls back to GET when the
server refuses HEAD (405 Method Not Allowed, 501 Not Implemented: RFC 9110 §9.3.2 lets a server
support only GET). A redirect is followed only to the same page (another scheme, a ``www.`` host, a
trailing slash or ``index.html``); a redirect anywhere else (a login page, the home page) is not
the page answering.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin, urlsplit

#: Seconds between two questions while a run waits for the page (the last one repeats).
POLL = (1.0, 2.0, 4.0, 8.0, 15.0)
MAX_REDIRECTS = 5
TIMEOUT = 10.0
USER_AGENT = "newsroom-publish live check"


@dataclass(frozen=True)
class Answer:
    live: bool
    detail: str  # for people: "answers 200", "answers 404", "does not answer (connection refused)"
    status: int | None = None
    url: str = ""  # where the answer came from, after the redirects followed


def same_page(a: str, b: str) -> bool:
    """Are two URLs the same page, give or take the scheme, a ``www.`` host, a trailing slash or
    ``index.html``?"""
    def norm(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = parts.port if parts.port not in (None, 80, 443) else None
        path = parts.path or "/"
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        return host, str(port or ""), path.rstrip("/")

    return norm(a) == norm(b)


def check(url: str, *, timeout: float = TIMEOUT, session=None) -> Answer:
    """One question to the page: HEAD (GET if HEAD is refused), redirects to the same page followed."""
    import requests

    http = session or requests.Session()
    target = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = http.head(target, allow_redirects=False, timeout=timeout,
                                     headers={"User-Agent": USER_AGENT})
                if response.status_code in (405, 501):
                    response.close()
                    response = http.get(target, allow_redirects=False, timeout=timeout, stream=True,
                                        headers={"User-Agent": USER_AGENT})
            except requests.RequestException as exc:
                return Answer(False, f"does not answer ({_reason(exc)})", None, target)
            status = response.status_code
            response.close()
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    return Answer(False, f"answers {status} without a Location", status, target)
                nxt = urljoin(target, location)
                if not same_page(nxt, url):
                    return Answer(False, f"redirects to {nxt}, not to the page", status, target)
                target = nxt
                continue
            if status == 200:
                return Answer(True, "answers 200", status, target)
            return Answer(False, f"answers {status}", status, target)
        return Answer(False, f"redirects more than {MAX_REDIRECTS} times", None, target)
    finally:
        if session is None:
            http.close()


def _reason(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or no such host"
    return type(exc).__name__


def wait_until_live(url: str, *, within: float, sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic, timeout: float = TIMEOUT,
                    poll: tuple[float, ...] = POLL) -> tuple[Answer, int]:
    """Ask until the page answers 200 or ``within`` seconds have passed; the last answer and how
    many questions it took. ``within`` 0 asks once."""
    import requests

    within = max(0.0, within)
    deadline = clock() + within
    asked, waited = 0, 0.0
    with requests.Session() as session:
        while True:
            answer = check(url, timeout=min(timeout, max(1.0, deadline - clock())), session=session)
            asked += 1
            if answer.live:
                return answer, asked
            # Both the clock and the pauses asked for bound the wait: a sleep that returns early
            # (a signal, a test's stand-in) never turns this into a busy loop.
            left = min(deadline - clock(), within - waited)
            if left <= 0:
                return answer, asked
            pause = min(poll[min(asked - 1, len(poll) - 1)], left)
            sleep(pause)
            waited += pause
