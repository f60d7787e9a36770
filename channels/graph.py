"""What Meta's Graph APIs share (Threads, Facebook Pages, Instagram): their error bodies, their
throttling signals, and the container → publish two-step with its status as the proof of what
went out after a crash.

API facts:

- Errors (developers.facebook.com/docs/graph-api/guides/error-handling): ``{"error": {"message",
  "type", "code", "error_subcode", "error_user_title", "error_user_msg", "fbtrace_id"}}``. Code 190
  (``OAuthException``): the access token expired or was revoked (subcode 463: expired, 460: the
  password changed, 458: the app was removed); codes 1 and 2: a temporary problem, try again;
  4, 17, 32, 613 and the Business Use Case codes 80001–80014 (Pages 80001, Instagram 80002): throttled;
  506: a duplicate post; 10 and 200–299: a permission is missing.
- Throttling (developers.facebook.com/docs/graph-api/overview/rate-limiting): answers carry
  ``X-App-Usage`` / ``X-Page-Usage`` (JSON: ``call_count``, ``total_cputime``, ``total_time``, each a
  percentage of the budget) and ``X-Business-Use-Case-Usage`` (JSON: business id → ``[{type,
  call_count, total_cputime, total_time, estimated_time_to_regain_access}]``, the last in minutes).
  "Once a rate limit is reached, any subsequent requests made by your app will fail and the API will
  return an error code until enough time has passed for the call count to drop below the limit": the
  code says so (4 application, 17 user, 32 Page, 613 custom; 80001 Pages and 80002 Instagram among the
  Business Use Case codes), not the HTTP status (Graph answers its ``OAuthException`` errors with 400;
  an HTTP 429 is treated the same way). Only the Business Use Case header says how long to wait; the
  others say a budget is spent (the gate then pauses reads a minute, a write waits the run's backoff).
- ``is_transient`` (instagram-platform/instagram-graph-api/reference/error-codes, "Sample Response"):
  true marks an error worth trying again.
- Containers (Threads ``documentation/threads/posts`` and ``troubleshooting``; Instagram
  ``instagram-platform/content-publishing``): ``POST /{user-id}/threads`` or ``/media`` makes a
  container, ``POST …/threads_publish`` or ``/media_publish`` {creation_id} publishes it once. A
  container's status (Threads ``status``, Instagram ``status_code``) is one of ``IN_PROGRESS``,
  ``FINISHED`` (ready), ``PUBLISHED``, ``ERROR``, ``EXPIRED`` (not published within 24 hours).

The container id is kept in the journal before publishing, so a run that died after creating it
publishes that same container (nothing new is made), and a run that died while publishing asks
the container's status: ``PUBLISHED`` means the post is out (its id is found among the account's
latest posts), anything else means it is not.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Callable

from .base import Channel, DeliveryContext, Failure, Receipt
from .http import RateLimit, request
from .oauth import OAuthChannel
from .social import Found, MetricsError, RateGate, pooled_session, run_concurrently

#: the Graph API version sent unless ``version`` says otherwise (developers.facebook.com/docs/graph-api/
#: changelog: v26.0 is the newest documented; each version is kept for at least two years)
DEFAULT_VERSION = "v26.0"

#: error codes that mean "throttled: wait and try again"
THROTTLED = {4, 17, 32, 613} | set(range(80001, 80015))
TEMPORARY = {1, 2}
EXPIRED_TOKEN = 190
#: how often and how long a container that is still processing is asked about before publishing
STATUS_POLLS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
#: a video's container: "wait on average 30 seconds before publishing" (Threads ``posts``), then ask "once
#: per minute, for no more than 5 minutes" (Threads ``troubleshooting``)
VIDEO_POLLS = (30.0, 30.0, 60.0, 60.0, 60.0, 60.0)
#: the container errors Threads names (documentation/threads/troubleshooting), in words
CONTAINER_ERRORS = {
    "FAILED_DOWNLOADING_VIDEO": "Meta could not download the video from its URL",
    "FAILED_PROCESSING_AUDIO": "Meta could not process the video's sound",
    "FAILED_PROCESSING_VIDEO": "Meta could not process the video",
    "INVALID_ASPEC_RATIO": "the video's aspect ratio is not accepted",
    "INVALID_BIT_RATE": "the video's bit rate is not accepted",
    "INVALID_DURATION": "the video's length is not accepted",
    "INVALID_FRAME_RATE": "the video's frame rate is not accepted",
    "INVALID_AUDIO_CHANNELS": "the video's number of sound channels is not accepted",
    "INVALID_AUDIO_CHANNEL_LAYOUT": "the video's sound channel layout is not accepted",
}


def _json_header(headers, name: str):
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def usage_wait(headers) -> float | None:
    """Seconds until the budget returns, from ``X-Business-Use-Case-Usage``'s
    ``estimated_time_to_regain_access`` (minutes); None when no header says."""
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    minutes = 0
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
    return minutes * 60.0 if minutes else None


def usage_spent(headers) -> bool:
    """Whether any usage header says a budget is at 100 %."""
    for name in ("X-App-Usage", "X-Page-Usage"):
        usage = _json_header(headers, name)
        if isinstance(usage, dict) and any(isinstance(v, (int, float)) and v >= 100 for v in usage.values()):
            return True
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and any(isinstance(entry.get(k), (int, float)) and entry[k] >= 100
                                                   for k in ("call_count", "total_cputime", "total_time")):
                    return True
    return False


class GraphGate(RateGate):
    """A RateGate that reads Meta's usage headers instead of ``X-RateLimit-*``: when a budget is
    spent it pauses every read until the time Meta gave (or a minute, when it gave none)."""

    def after(self, headers) -> None:
        wait = usage_wait(headers)
        if wait is None and usage_spent(headers):
            wait = 60.0
        with self._lock:
            self.limit = RateLimit(remaining=0, reset=self.clock() + wait) if wait else RateLimit()


@dataclass(frozen=True)
class GraphError:
    status: int
    message: str
    code: int | None
    subcode: int | None
    transient: bool = False


def graph_error(response) -> GraphError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = (response.text or "").strip()[:200] or response.reason or ""
        return GraphError(response.status_code, text, None, None)
    message = error.get("error_user_msg") or error.get("message") or ""
    if error.get("error_user_msg") and error.get("message") and error["message"] not in message:
        message = f"{error['message'].rstrip('.')}: {error['error_user_msg']}"
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    return GraphError(response.status_code, message, code, subcode, error.get("is_transient") is True)


def call(session, method: str, url: str, *, gate: RateGate | None = None, auth_hint: str = "", **kwargs):
    """One Graph request: the Response, or a Failure in Meta's own words with its code; throttling
    (by code or by HTTP 429) is retryable after the time the usage headers give; an expired or revoked
    token (code 190) says what to run."""
    seen: list = []
    hooks = [lambda response, *a, **k: seen.append(response)]
    if gate is not None:
        hooks.append(lambda response, *a, **k: gate.after(response.headers))
    got = request(session, method, url, hooks={"response": hooks}, **kwargs)
    if not isinstance(got, Failure) or not seen:
        return got
    response = seen[-1]
    err = graph_error(response)
    label = f" (code {err.code}{f'/{err.subcode}' if err.subcode else ''})" if err.code is not None else ""
    message = f"HTTP {err.status}: {err.message}{label}"
    if err.code == EXPIRED_TOKEN:
        return Failure(f"{message}: the access token expired or was revoked; {auth_hint}".rstrip("; "),
                       status=err.status)
    if err.code in THROTTLED or err.status == 429:
        wait = usage_wait(response.headers) or got.retry_after
        return Failure(message, retryable=True, retry_after=wait, status=err.status)
    if err.code in TEMPORARY or err.transient:
        return Failure(message, retryable=True, status=err.status)
    return replace(got, message=message)


def gone(failure: Failure) -> bool:
    """Meta's "does not exist, cannot be loaded … or does not support this operation" (code 100,
    subcode 33): the post was deleted (or is no longer ours)."""
    return "(code 100/33)" in failure.message


def read(session, gate: RateGate, method: str, url: str, *, attempts: int = 3, auth_hint: str = "", **kwargs):
    """A read: pauses as the gate says; throttled or failing (5xx) reads wait and are tried again."""
    failure = None
    for attempt in range(attempts):
        gate.before()
        got = call(session, method, url, gate=gate, auth_hint=auth_hint, **kwargs)
        if not isinstance(got, Failure):
            return got
        failure = got
        if not got.retryable or attempt == attempts - 1:
            break
        if gate.limit.remaining == 0:
            continue  # the usage headers gave the time: before() waits for it
        gate.hold(got.retry_after if got.retry_after is not None else 2.0 ** attempt)
    return failure


def public_image(session, media, platform: str) -> Failure | None:
    """Meta fetches a post's images itself, from a public URL: the image's URL on the deployed blog
    (``Media.src``, made absolute with ``site.url``). Asked before a container is made, so a blog not
    deployed yet is said plainly instead of as Meta's "media download has failed"."""
    from .live import check

    if not media.src.startswith(("http://", "https://")):
        return Failure(f"the image {media.src} has no public URL: {platform} fetches images itself from a public "
                       "server; set site.url so the image's URL on the deployed blog is used")
    answer = check(media.src, session=session)
    if answer.live:
        return None
    return Failure(f"the image {media.src} {answer.detail}: {platform} fetches images from their public URL on "
                   "the deployed blog, so the blog must be deployed first (make the entry wait for it with "
                   "`after: blog`)", retryable=True)


# -- the container → publish two-step -------------------------------------------------------------
@dataclass
class Containers:
    """How one platform makes, asks about and publishes containers (Threads and Instagram differ in
    paths and in the name of the status field)."""

    create: Callable[[dict], "str | Failure"]  # params → container id
    status: Callable[[str], "tuple[str, str] | Failure"]  # container id → (status, error message)
    publish: Callable[[str], "str | Failure"]  # container id → media id
    find: Callable[[int], "Found | None | Failure"]  # part index → the published post, looked for


def wait_ready(containers: Containers, cid: str, ctx: DeliveryContext, what: str,
               polls: tuple[float, ...] = STATUS_POLLS) -> str | Failure:
    """Ask about the container until it is ``FINISHED`` (or published, or failed)."""
    sleep = ctx.sleep or time.sleep
    for pause in (0.0, *polls):
        if pause:
            sleep(pause)
        got = containers.status(cid)
        if isinstance(got, Failure):
            return got
        status, error = got
        if status in ("FINISHED", "PUBLISHED"):
            return status
        if status in ("ERROR", "EXPIRED"):
            words = f"{error}: {CONTAINER_ERRORS[error]}" if error in CONTAINER_ERRORS else error
            return Failure(f"{what}the container {cid} is {status}{f' ({words})' if words else ''}",
                           retryable=status == "EXPIRED")
    return Failure(f"{what}the container {cid} was still being processed after "
                   f"{int(sum(polls))} seconds; a later run publishes it once it is ready", retryable=True)


def container_status(containers: Containers, ctx: DeliveryContext, index: int) -> str | None | Failure:
    """The status of part ``index``'s container kept in the journal (None: no container yet)."""
    cid = ctx.journal.get(f"container:{index}")
    if not cid:
        return None
    got = containers.status(cid)
    return got if isinstance(got, Failure) else got[0]


def publish_part(containers: Containers, ctx: DeliveryContext, index: int, params: dict, what: str,
                 permalink: Callable[[str], "str | None"], polls: tuple[float, ...] = STATUS_POLLS) -> dict | Failure:
    """Part ``index`` out exactly once: reuse the journal's container (publish it if it is ready, find
    the post if it was published), else make one; record the container before publishing it.
    ``what`` prefixes the failures ("part 2 of 3: ", or "")."""
    journal = ctx.journal
    key = f"container:{index}"
    cid = journal.get(key)
    if cid:
        got = containers.status(cid)
        if isinstance(got, Failure):
            return replace(got, message=f"{what}{got.message}", ambiguous=True)
        status = got[0]
        if status == "PUBLISHED":
            found = containers.find(index)
            if isinstance(found, Failure):
                return replace(found, message=f"{what}{found.message}", ambiguous=True)
            if found is None:
                return Failure(f"{what}the container {cid} is published but the post is not among the "
                               "account's latest posts: look at the account and record or clear the entry by hand",
                               ambiguous=True, unresolved=True)
            part = {"id": found.id, "url": found.url, "container": cid}
            journal.put(f"part:{index}", part)
            return part
        if status in ("ERROR", "EXPIRED"):
            cid = None  # never published: a new container takes its place
    if not cid:
        made = containers.create(params)
        if isinstance(made, Failure):
            return replace(made, message=f"{what}{made.message}")
        cid = made
        journal.put(key, cid)
    ready = wait_ready(containers, cid, ctx, what, polls)
    if isinstance(ready, Failure):
        return ready
    if ready == "PUBLISHED":  # published by a try whose answer was lost
        return publish_part(containers, ctx, index, params, what, permalink, polls)
    media_id = containers.publish(cid)
    if isinstance(media_id, Failure):
        # The container stays in the journal: its status tells the next try whether this went out.
        return replace(media_id, message=f"{what}{media_id.message}")
    part = {"id": media_id, "url": permalink(media_id), "container": cid}
    journal.put(f"part:{index}", part)
    return part


def containers(adapter: "GraphAdapter", *, edge: str, publish_edge: str, status_field: str, error_field: str,
               find: Callable[[int], "Found | None | Failure"]) -> Containers:
    """The container closures for a platform whose containers are made at ``/{user}/{edge}``,
    published at ``/{user}/{publish_edge}`` and whose status is ``status_field`` (with its words in
    ``error_field``): Threads ``threads``/``threads_publish``/``status``/``error_message``, Instagram
    ``media``/``media_publish``/``status_code``/``status``."""
    user = adapter.user

    def create(params):
        got = adapter._call("POST", f"/{user}/{edge}", data=params)
        return got if isinstance(got, Failure) else str(got.json()["id"])

    def status(cid):
        got = adapter._read(f"/{cid}", params={"fields": f"{status_field},{error_field}"})
        if isinstance(got, Failure):
            return got
        body = got.json()
        return str(body.get(status_field) or ""), str(body.get(error_field) or "")

    def publish(cid):
        got = adapter._call("POST", f"/{user}/{publish_edge}", data={"creation_id": cid})
        return got if isinstance(got, Failure) else str(got.json()["id"])

    return Containers(create, status, publish, find)


class GraphAdapter(OAuthChannel, Channel):
    """What the three Meta adapters share: the API's address, the Bearer token, Meta's usage-header
    gate, calls whose expired or revoked token is a refused credential, and reads that wait when
    throttled. Subclasses say ``HOST`` (the address without a version; None: ``graph.facebook.com``
    with the ``version`` option) and may change ``AUTH_HINT``.

    The token is ``token`` from the environment, or, when the channel names its Meta app
    (``client_id``), the one `publish auth` got in a browser and keeps encrypted in the project's
    credentials (``channels/meta_auth.py``). Meta has no refresh grant: a lapsed one is connected again."""

    HOST: str | None = None
    AUTH_HINT = "run `publish auth {name}` to check it"
    PROVIDER = None  # no OAuth refresh grant at Meta (OAuthChannel's keeper never refreshes)
    META_SIGN_IN = True

    def owns_page(self, page: dict) -> bool:
        """Is this Page (an item of ``/me/accounts``) the one whose token the channel keeps?"""
        return False

    def page_missing(self) -> str:
        return "no Page of the person fits this channel"

    def missing_secrets(self) -> list[str]:
        return [] if self.oauth() else Channel.missing_secrets(self)

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = GraphGate(())
        self.requests_made = 0

    @property
    def api(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.HOST:
            return self.HOST
        return f"https://graph.facebook.com/{self.config.options.get('version') or DEFAULT_VERSION}"

    @property
    def user(self) -> str:
        return str(self.config.options.get("user_id"))

    @property
    def auth_hint(self) -> str:
        return self.AUTH_HINT.format(name=self.name)

    def headers(self) -> dict | Failure:
        token = self.bearer()
        return token if isinstance(token, Failure) else {"Authorization": f"Bearer {token}"}

    def _refused(self, got):
        if isinstance(got, Failure) and "access token expired or was revoked" in got.message:
            return self.refused_token(got) if self.oauth() else self.refused(got, "token")
        return got

    def _call(self, method: str, path: str, **kwargs):
        headers = self.headers()
        if isinstance(headers, Failure):
            return headers
        return self._refused(call(self.session, method, self.api + path, headers=headers, gate=self.gate,
                                  auth_hint=self.auth_hint, **kwargs))

    def _read(self, path: str, **kwargs):
        self.requests_made += 1
        headers = self.headers()
        if isinstance(headers, Failure):
            return headers
        return self._refused(read(self.session, self.gate, "GET", self.api + path, headers=headers,
                                  auth_hint=self.auth_hint, **kwargs))

    # -- the daily publishing limit -------------------------------------------------------------
    #: the edge that tells the account's publishing usage (Threads ``threads_publishing_limit``,
    #: Instagram ``content_publishing_limit``), its platform's name, and the documented limit
    QUOTA_EDGE: str | None = None
    PLATFORM = "Meta"
    POSTS_PER_DAY: int | None = None

    #: Insight names → our metric names, for ``fetch_metrics`` over ``/{media-id}/insights``.
    INSIGHTS: dict[str, str] = {}

    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        pooled_session(self.session, self.CONCURRENCY, self.api)

        def one(media_id):
            got = self._read(f"/{media_id}/insights", params={"metric": ",".join(self.INSIGHTS)})
            if isinstance(got, Failure):
                if gone(got):
                    return None  # deleted: no numbers, and the others still come
                raise MetricsError(f"{self.name}: {got.message}")
            out = {}
            for metric in got.json().get("data") or []:
                name = self.INSIGHTS.get(metric.get("name"))
                if name is None:
                    continue
                # media insights answer with values [{value}]; user insights with total_value {value}
                values = metric.get("values") or [metric.get("total_value") or {}]
                out[name] = out.get(name, 0) + int((values[-1] or {}).get("value") or 0)
            return out

        return {i: m for i, m in zip(ids, run_concurrently(one, ids, self.CONCURRENCY)) if m is not None}

    def quota(self) -> tuple[int, int] | None | Failure:
        """(published in the last 24 hours, allowed) from ``GET /{user}/{QUOTA_EDGE}?fields=quota_usage,config``
        (``{"data": [{"quota_usage": 4, "config": {"quota_total": 250, "quota_duration": 86400}}]}``);
        None when the answer says neither."""
        return self._usage("quota_usage", "config", self.POSTS_PER_DAY)

    def reply_quota(self) -> tuple[int, int] | None | Failure:
        """(replies published in the last 24 hours, allowed) from ``GET /{user}/{QUOTA_EDGE}?fields=
        reply_quota_usage,reply_config`` (Threads, retrieve-and-manage-replies, "Rate limits":
        ``{"data": [{"reply_quota_usage": 1, "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]}``;
        it needs ``threads_manage_replies``)."""
        return self._usage("reply_quota_usage", "reply_config", self.REPLIES_PER_DAY)

    def _usage(self, usage: str, config: str, default: int | None) -> tuple[int, int] | None | Failure:
        got = self._read(f"/{self.user}/{self.QUOTA_EDGE}", params={"fields": f"{usage},{config}"}, attempts=1)
        if isinstance(got, Failure):
            return got
        try:
            row = (got.json().get("data") or [{}])[0]
            return int(row[usage]), int((row.get(config) or {}).get("quota_total") or default)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None

    #: replies an account may publish through the API in 24 hours (Threads: 1,000); a thread's later
    #: parts are replies to the part before
    REPLIES_PER_DAY: int | None = None

    def over_quota(self, ctx: DeliveryContext, parts: int = 1) -> Failure | None:
        """Asked before a new post's first container is made: over the limit, the entry waits for a later
        run (nothing is sent; ``waits``). A thread of ``parts`` also needs ``parts - 1`` replies within the
        reply limit, where the platform has one, so that a thread is never left half-posted by it. A
        refused token, throttling or a failing server stop here (as the post would); a refusal to tell (a
        permission missing) lets the post go (the publish endpoint enforces the limit itself)."""
        if ctx.dry_run or not self.QUOTA_EDGE or ctx.journal.get("container:0"):
            return None
        asks = [(self.quota, 1, "posts")]
        if parts > 1 and self.REPLIES_PER_DAY:
            asks.append((self.reply_quota, parts - 1, "replies"))
        for ask, needed, what in asks:
            got = ask()
            if isinstance(got, Failure):
                if got.credential or got.retryable:
                    return got
                continue
            if got is None or got[0] + needed <= got[1]:
                continue
            used, total = got
            need = f"this thread of {parts} parts needs {needed} replies; " if what == "replies" else ""
            return Failure(f"{need}the account published {used} {what} through the API in the last 24 hours and "
                           f"{self.PLATFORM} allows {total}: the entry waits for a later run (nothing was sent)",
                           retryable=True, waits=True)
        return None

    def media_permalink(self, media_id: str) -> str | None:
        """A published media's ``permalink`` (Threads, Instagram), None when it cannot be read."""
        got = self._read(f"/{media_id}", params={"fields": "id,permalink"}, attempts=1)
        return None if isinstance(got, Failure) else got.json().get("permalink")
