"""How each platform of the shared adapter suite (``tests/test_channel_contract.py``) does each case:
its loopback server, a post, the request that makes the post, its throttling answer, its error
bodies and its revoked token.

One ``Harness`` shape; a row of ``HARNESSES`` per platform says what differs: where its server keeps
what was made, which answer throttles it, how a token is revoked there, where a post's numbers are
kept and what they read as, and the replies it gives back (what only one platform does — WordPress'
numbers are comments, Instagram's images need a site to fetch them from — is a small function of
its own)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from channels.base import Media, Receipt
from tests.servers import PNG, channel, post


def _named(path: str):
    """``"tests.servers.threads:ThreadsServer"`` → that class (imported when a test first needs it)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class Harness:
    name: str
    server_class: str  # module:Class of the loopback server
    adapter_class: str  # module:Class of the channel adapter
    options: Callable[[], dict]  # the channel's options, besides its secret
    secret_option: str  # the option holding the secret, as env:<secret_variable>
    secret_variable: str
    secret: Callable[[], str]  # the secret the server accepts
    write_path: str  # the request that makes the post
    made: str  # the server's list of what was made
    url_key: str  # the post's URL in it (the id is "id")
    make_post: Callable  # (harness, title, n) → the post
    throttles: Callable  # (server) → seconds the platform says to wait (or None), once its throttling answer is armed
    throttle_message: str
    server_error_body: dict
    server_error_message: str
    bad_request: tuple
    bad_request_message: str
    revokes: Callable  # (server) → None: the token or key no longer works
    revoked_message: str
    counts: Callable  # (server, remote id, n) → None: the platform's numbers for a post
    metrics_of: Callable[[int], dict]  # what the adapter reads them as
    replies: Callable | None = None  # (harness, receipt) → what is expected, once the replies are on the server
    needs_site: bool = False  # its media must be fetched from a site (Instagram pulls images by URL)
    numeric_ids: bool = False  # the server's ids are numbers; a receipt's are strings
    state: dict = field(default_factory=dict)  # what one test keeps (the site, the expected replies)

    @property
    def has_replies(self) -> bool:
        return self.replies is not None

    def bind(self, server, tmp_path):
        self.server_ = server
        self.tmp_path = tmp_path

    def server(self, tmp_path):
        if self.needs_site:
            from tests.servers.site import Site

            (tmp_path / "site" / "images").mkdir(parents=True)
            (tmp_path / "site" / "images" / "launch.jpg").write_bytes(PNG)
            self.state["site"] = Site(tmp_path / "site").start()
        return _named(self.server_class)()

    def close(self):
        """Stop what ``server`` started besides the platform's stand-in (a site serving images)."""
        site = self.state.pop("site", None)
        if site is not None:
            site.stop()

    def adapter(self):
        return channel(_named(self.adapter_class), self.server_,
                       {**self.options(), self.secret_option: f"env:{self.secret_variable}"},
                       {self.secret_variable: self.secret()})

    def post(self, title="Launch day", n=0):
        return self.make_post(self, title, n)

    def published(self) -> list:
        return getattr(self.server_, self.made)

    def id_of(self, made) -> str:
        return str(made["id"]) if self.numeric_ids else made["id"]

    def url_of(self, made) -> str | None:
        return made[self.url_key]

    def throttle(self) -> float | None:
        return self.throttles(self.server_)

    def revoke(self):
        self.revokes(self.server_)

    def set_metrics(self, receipt: Receipt, n: int):
        self.counts(self.server_, receipt.remote_id, n)

    def metrics(self, n: int) -> dict:
        return self.metrics_of(n)

    def add_replies(self, receipt: Receipt):
        self.state["replies"] = self.replies(self, receipt)

    def expected_replies(self, receipt: Receipt) -> list:
        return self.state["replies"]


# -- what platforms share --------------------------------------------------------------------------
META_TRANSIENT = {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                            "type": "OAuthException", "is_transient": True, "code": 2, "fbtrace_id": "AbCdEf"}}
META_EXPIRED = ("HTTP 400: Error validating access token: Session has expired on Sunday, 22-Nov-26 09:00:00 PST. "
                "The current time is Monday, 23-Nov-26 01:00:00 PST. (code 190/463): the access token expired or "
                "was revoked; run `publish auth {name}` to check or renew it")
META_TRANSIENT_MESSAGE = "An unexpected error has occurred. Please retry your request later. (code 2)"


def meta_throttle(code: int, minutes: int | None = None) -> Callable:
    """Meta's Graph API: a usage header and an error code, the wait in minutes (None: the header
    says none, as for the application's own limit)."""
    def arm(server):
        if minutes is None:
            server.throttle(code=code)
            return None
        server.throttle(code=code, minutes=minutes)
        return minutes * 60.0
    return arm


def retry_after(body: dict | Callable[[], dict], seconds: int) -> Callable:
    """A 429 with ``body`` and a ``Retry-After`` header."""
    def arm(server):
        server.fail(429, body() if callable(body) else body, headers={"Retry-After": str(seconds)})
        return float(seconds)
    return arm


def expire(server):
    server.expire()


def kept_in(attribute: str, numbers: Callable[[int], dict]) -> Callable:
    """The platform's numbers for a post, kept by the server in ``attribute`` by post id."""
    def store(server, remote_id, n):
        getattr(server, attribute)[remote_id] = numbers(n)
    return store


def const(value) -> Callable:
    return lambda: value


def from_module(path: str) -> Callable:
    return lambda: _named(path)


# -- what one platform does -----------------------------------------------------------------------
def threads_replies(h, receipt):
    h.server_.reply_lists[receipt.remote_id] = [
        {"id": "9001", "text": "Great news 🎉", "username": "ana", "permalink": "https://www.threads.com/@ana/post/A",
         "timestamp": "2026-11-23T10:00:00+0000", "is_reply_owned_by_me": False,
         "replied_to": {"id": receipt.remote_id}},
        {"id": "9002", "text": "Thanks!", "username": "northwind", "timestamp": "2026-11-23T10:05:00+0000",
         "permalink": "https://www.threads.com/@northwind/post/B", "is_reply_owned_by_me": True,
         "replied_to": {"id": "9001"}}]
    return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind", "Thanks!", True, "9001")]


def facebook_replies(h, receipt):
    from tests.servers.facebook import PAGE_ID, PAGE_NAME

    h.server_.comment_lists[receipt.remote_id] = [
        {"id": f"{receipt.remote_id}_501", "message": "Great news 🎉", "from": {"id": "9", "name": "Ana"},
         "created_time": "2026-11-23T10:00:00+0000"},
        {"id": f"{receipt.remote_id}_502", "message": "Thanks!", "from": {"id": PAGE_ID, "name": PAGE_NAME},
         "created_time": "2026-11-23T10:05:00+0000", "parent": {"id": f"{receipt.remote_id}_501"}}]
    return [("Ana", "Great news 🎉", False, receipt.remote_id),
            ("Northwind News", "Thanks!", True, f"{receipt.remote_id}_501")]


def wordpress_comment(server, post_id, author, name, text, parent=0):
    cid = next(server.ids)
    server.comment_list.append({"id": cid, "post": int(post_id), "parent": parent, "author": author,
                                "author_name": name, "date_gmt": "2026-11-23T10:00:00",
                                "content": {"rendered": f"<p>{text}</p>\n"},
                                "link": f"https://blog.test/launch/#comment-{cid}"})
    return cid


def wordpress_counts(server, remote_id, n):  # WordPress counts comments only: n readers comment
    for i in range(n):
        wordpress_comment(server, remote_id, 0, f"reader {i}", "Nice")


def wordpress_replies(h, receipt):
    first = wordpress_comment(h.server_, receipt.remote_id, 0, "Ana", "Great news &amp; more 🎉")
    wordpress_comment(h.server_, receipt.remote_id, 7, "Ana Editor", "Thanks!", parent=first)
    return [("Ana", "Great news & more 🎉", False, receipt.remote_id), ("Ana Editor", "Thanks!", True, str(first))]


def hashnode_replies(h, receipt):
    h.server_.comment_trees[receipt.remote_id] = [{"node": {
        "id": "c1", "dateAdded": "2026-11-23T10:00:00.000Z", "content": {"text": "Great news 🎉\n"},
        "author": {"username": "ana"},
        "replies": {"edges": [{"node": {"id": "r1", "dateAdded": "2026-11-23T10:05:00.000Z",
                                        "content": {"text": "Thanks!"}, "author": {"username": "northwind"}}}]}}}]
    return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind", "Thanks!", True, "c1")]


def instagram_replies(h, receipt):
    h.server_.comment_lists[receipt.remote_id] = [
        {"id": "1801", "text": "Great news 🎉", "username": "ana", "timestamp": "2026-11-23T10:00:00+0000",
         "replies": {"data": [{"id": "1802", "text": "Thanks!", "username": "northwind.news",
                               "timestamp": "2026-11-23T10:05:00+0000"}]}}]
    return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind.news", "Thanks!", True, "1801")]


def ghost_throttle_body():
    from tests.servers.ghost import ghost_error

    return ghost_error(429, "TooManyRequestsError", "Too many requests.", "Try again in 60 seconds.").body


def facebook_options():
    from tests.servers.facebook import PAGE_ID

    return {"page_id": PAGE_ID}


def wordpress_options():
    from tests.servers.wordpress import USER

    return {"url": "https://blog.test", "user": USER}


def hashnode_options():
    from tests.servers.hashnode import PUBLICATION

    return {"publication_id": PUBLICATION}


def instagram_options():
    from tests.servers.instagram import IG_USER

    return {"user_id": IG_USER}


def ghost_revoke(server):
    server.keys.clear()  # the integration was deleted


def wordpress_revoke(server):
    server.password = "revoked in the profile"


def hashnode_revoke(server):
    server.token = "a new token"


def article(body: Callable[[str], str], *, html: bool = False, **more):
    """A titled post (Ghost, WordPress, Hashnode): its title and body in ``data`` (and the body as the
    post's HTML with ``html``); ``more`` keys of ``data``, a callable one given the post's number."""
    def make(h, title, n):
        extra = {k: (v(n) if callable(v) else v) for k, v in more.items()}
        return post([], type=h.name, title=f"{title} {n}", **({"html": body(title)} if html else {}),
                    data={"title": f"{title} {n}", "body": body(title), **extra})
    return make


HARNESSES = [
    Harness(
        name="threads", server_class="tests.servers.threads:ThreadsServer", adapter_class="channels.threads:Threads",
        options=dict, secret_option="token", secret_variable="THREADS_TOKEN", secret=const("threads-token"),
        write_path=r"/threads_publish$", made="media", url_key="permalink",
        make_post=lambda h, title, n: post([f"{title}: our new release is out 🚀 #{n}"], type="threads"),
        # code 4, the application's limit: X-App-Usage at 100 and no time to wait (graph-api/overview/rate-limiting)
        throttles=meta_throttle(code=4),
        throttle_message="HTTP 400: (#4) Application request limit reached (code 4)",
        server_error_body=META_TRANSIENT, server_error_message=META_TRANSIENT_MESSAGE,
        bad_request=(400, {"error": {"message": "(#100) Param text must be at most 500 characters long.",
                                     "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: (#100) Param text must be at most 500 characters long. (code 100)",
        revokes=expire, revoked_message=META_EXPIRED.format(name="threads"),
        counts=kept_in("insight_counts", lambda n: {"views": 100 * n, "likes": n, "replies": n, "reposts": n,
                                                     "quotes": n}),
        metrics_of=lambda n: {"views": 100 * n, "likes": n, "replies": n, "shares": n, "quotes": n},
        replies=threads_replies),
    Harness(
        name="facebook", server_class="tests.servers.facebook:FacebookServer",
        adapter_class="channels.facebook:Facebook", options=facebook_options, secret_option="token",
        secret_variable="FB_PAGE_TOKEN", secret=const("page-token"),
        write_path=r"/\d+/feed$", made="posts", url_key="permalink_url",
        make_post=lambda h, title, n: post(
            [f"{title}: our new release is out (#{n})\n\nhttps://news.test/launch/?utm_source=facebook"],
            type="facebook"),
        throttles=meta_throttle(code=80001, minutes=3),
        throttle_message="HTTP 400: (#80001) There have been too many calls to this Page account. Wait a bit and "
                         "try again. (code 80001)",
        server_error_body=META_TRANSIENT, server_error_message=META_TRANSIENT_MESSAGE,
        bad_request=(400, {"error": {"message": "(#506) Duplicate status message", "type": "OAuthException",
                                     "code": 506, "error_subcode": 1455006, "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: (#506) Duplicate status message (code 506/1455006)",
        revokes=expire,
        revoked_message=META_EXPIRED.format(name="facebook").replace("to check or renew it", "to check it"),
        counts=kept_in("counts", lambda n: {"views": 100 * n, "reactions": n, "comments": n, "shares": n}),
        metrics_of=lambda n: {"views": 100 * n, "likes": n, "replies": n, "shares": n},
        replies=facebook_replies),
    Harness(
        name="ghost", server_class="tests.servers.ghost:GhostServer", adapter_class="channels.ghost:Ghost",
        options=const({"url": "https://blog.test"}), secret_option="admin_key", secret_variable="GHOST_ADMIN_KEY",
        secret=from_module("tests.servers.ghost:KEY"),
        write_path=r"/ghost/api/admin/posts/$", made="posts", url_key="url",
        make_post=article(lambda title: f"<p>{title} body</p>", html=True, tags=["Release"],
                          canonical_url=lambda n: f"https://news.test/{n}/"),
        throttles=retry_after(ghost_throttle_body, 60),
        throttle_message="HTTP 429: Too many requests.: Try again in 60 seconds.",
        server_error_body={"errors": [{"message": "Internal server error, cannot save post.", "context": None,
                                       "type": "InternalServerError"}]},
        server_error_message="HTTP 500: Internal server error, cannot save post.",
        bad_request=(422, {"errors": [{"message": "Validation error, cannot save post.",
                                       "context": "Value in [posts.title] cannot be blank.",
                                       "type": "ValidationError"}]}),
        bad_request_message="HTTP 422: Validation error, cannot save post.: Value in [posts.title] cannot be blank.",
        revokes=ghost_revoke,
        revoked_message="HTTP 401: Unknown Admin API Key (check the Admin API key: `publish auth ghost`)",
        counts=kept_in("stats", lambda n: {"sent": 100, "opened": n, "clicks": n}),
        metrics_of=lambda n: {"opens": n, "clicks": n} if n else {"clicks": 0}),
    Harness(
        name="wordpress", server_class="tests.servers.wordpress:WordPressServer",
        adapter_class="channels.wordpress:WordPress", options=wordpress_options, secret_option="app_password",
        secret_variable="WP_APP_PASSWORD", secret=from_module("tests.servers.wordpress:APP_PASSWORD"),
        write_path=r"/wp-json/wp/v2/posts$", made="posts", url_key="link", numeric_ids=True,
        make_post=article(lambda title: f"<p>{title} body</p>"),
        throttles=retry_after({"code": "too_many_requests", "message": "Too many requests.", "data": {"status": 429}},
                              30),
        throttle_message="HTTP 429: Too many requests.",
        server_error_body={"code": "internal_server_error",
                           "message": "There has been a critical error on this website.", "data": {"status": 500}},
        server_error_message="HTTP 500: There has been a critical error on this website.",
        bad_request=(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): status",
                           "data": {"status": 400}}),
        bad_request_message="HTTP 400: Invalid parameter(s): status",
        revokes=wordpress_revoke,
        revoked_message="HTTP 401: The provided password is an invalid application password. (check the application "
                        "password: `publish auth wordpress`)",
        counts=wordpress_counts, metrics_of=lambda n: {"replies": n}, replies=wordpress_replies),
    Harness(
        name="hashnode", server_class="tests.servers.hashnode:HashnodeServer",
        adapter_class="channels.hashnode:Hashnode", options=hashnode_options, secret_option="token",
        secret_variable="HASHNODE_TOKEN", secret=from_module("tests.servers.hashnode:TOKEN"),
        write_path=r"^/$", made="posts", url_key="url",
        make_post=article(lambda title: f"# {title}\n\nBody.", tags=["release"],
                          canonical_url=lambda n: f"https://news.test/{n}/"),
        # enforcement is documented as off; a 429 (from its CDN) is honoured by its Retry-After
        throttles=retry_after({"errors": [{"message": "Too many requests",
                                           "extensions": {"code": "RATE_LIMITED"}}]}, 20),
        throttle_message="RATE_LIMITED: Too many requests",
        server_error_body={"errors": [{"message": "Internal server error", "extensions":
                                       {"code": "INTERNAL_SERVER_ERROR"}}], "data": None},
        server_error_message="INTERNAL_SERVER_ERROR: Internal server error",
        bad_request=(400, {"errors": [{"message": "Title and content are required",
                                       "extensions": {"code": "BAD_USER_INPUT"}}], "data": None}),
        bad_request_message="BAD_USER_INPUT: Title and content are required",
        revokes=hashnode_revoke,
        revoked_message="UNAUTHENTICATED: You must be authenticated to perform this action. (check the token: "
                        "`publish auth hashnode`)",
        counts=kept_in("numbers", lambda n: {"views": 100 * n, "reactions": n, "responses": n}),
        metrics_of=lambda n: {"views": 100 * n, "likes": n, "replies": n}, replies=hashnode_replies),
    Harness(
        name="instagram", server_class="tests.servers.instagram:InstagramServer",
        adapter_class="channels.instagram:Instagram", options=instagram_options, secret_option="token",
        secret_variable="IG_TOKEN", secret=const("page-token"), needs_site=True,
        write_path=r"/media_publish$", made="media", url_key="permalink",
        make_post=lambda h, title, n: post([f"{title}: our new release is out #{n} #launch"], type="instagram",
                                           media=[Media(f"{h.state['site'].url}/images/launch.jpg",
                                                        "A rocket on the launch pad")]),
        throttles=meta_throttle(code=80002, minutes=4),
        throttle_message="HTTP 400: (#80002) There have been too many calls to this Instagram account. Wait a bit "
                         "and try again. (code 80002)",
        server_error_body=META_TRANSIENT, server_error_message=META_TRANSIENT_MESSAGE,
        bad_request=(400, {"error": {"message": "Only photo or video can be accepted as media type.",
                                     "type": "OAuthException", "code": 9004, "error_subcode": 2207052,
                                     "error_user_title": "Media download has failed.",
                                     "error_user_msg": "The media could not be fetched from this uri",
                                     "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: Only photo or video can be accepted as media type: The media could not be "
                            "fetched from this uri (code 9004/2207052)",
        revokes=expire,
        revoked_message=META_EXPIRED.format(name="instagram").replace("to check or renew it", "to check it"),
        counts=kept_in("insight_counts", lambda n: {"views": 100 * n, "likes": n, "comments": n, "shares": n,
                                                     "saved": n}),
        metrics_of=lambda n: {"views": 100 * n, "likes": n, "replies": n, "shares": n, "bookmarks": n},
        replies=instagram_replies),
]
