"""How each platform of the shared adapter suite (``tests/test_channel_contract.py``) does each case:
its loopback server, a post, the request that makes the post, its throttling answer, its error
bodies and its revoked token."""
from __future__ import annotations

from dataclasses import dataclass

from channels.base import Media, Receipt
from tests.servers import PNG, channel, post


@dataclass
class Harness:
    name: str
    secret_variable: str
    write_path: str
    throttle_message: str
    server_error_body: dict
    server_error_message: str
    bad_request: tuple
    bad_request_message: str
    revoked_message: str
    has_replies: bool = True

    def bind(self, server, tmp_path):
        self.server_ = server
        self.tmp_path = tmp_path

    def close(self):
        """Stop what ``server`` started besides the platform's stand-in (a site serving images)."""

    # what every harness provides
    def server(self, tmp_path): raise NotImplementedError
    def adapter(self): raise NotImplementedError
    def post(self, title="Launch day", n=0): raise NotImplementedError
    def published(self) -> list: raise NotImplementedError
    def id_of(self, made) -> str: raise NotImplementedError
    def url_of(self, made) -> str | None: raise NotImplementedError
    def throttle(self) -> float | None: raise NotImplementedError
    def revoke(self): raise NotImplementedError
    def set_metrics(self, receipt: Receipt, n: int): raise NotImplementedError
    def metrics(self, n: int) -> dict: raise NotImplementedError
    def add_replies(self, receipt: Receipt): raise NotImplementedError
    def expected_replies(self, receipt: Receipt) -> list: raise NotImplementedError


META_TRANSIENT = {"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                            "type": "OAuthException", "is_transient": True, "code": 2, "fbtrace_id": "AbCdEf"}}
META_EXPIRED = ("HTTP 400: Error validating access token: Session has expired on Sunday, 22-Nov-26 09:00:00 PST. "
                "The current time is Monday, 23-Nov-26 01:00:00 PST. (code 190/463): the access token expired or "
                "was revoked; run `publish auth {name}` to check or renew it")


class ThreadsHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.threads import ThreadsServer

        return ThreadsServer()

    def adapter(self):
        from channels.threads import Threads

        return channel(Threads, self.server_, {"token": "env:THREADS_TOKEN"}, {"THREADS_TOKEN": "threads-token"})

    def post(self, title="Launch day", n=0):
        return post([f"{title}: our new release is out 🚀 #{n}"], type="threads")

    def published(self):
        return self.server_.media

    def id_of(self, made):
        return made["id"]

    def url_of(self, made):
        return made["permalink"]

    def throttle(self):
        # code 4, the application's limit: X-App-Usage at 100 and no time to wait (graph-api/overview/rate-limiting)
        self.server_.throttle(code=4)
        return None

    def revoke(self):
        self.server_.expire()

    def set_metrics(self, receipt, n):
        self.server_.insight_counts[receipt.remote_id] = {"views": 100 * n, "likes": n, "replies": n, "reposts": n,
                                                    "quotes": n}

    def metrics(self, n):
        return {"views": 100 * n, "likes": n, "replies": n, "shares": n, "quotes": n}

    def add_replies(self, receipt):
        self.server_.reply_lists[receipt.remote_id] = [
            {"id": "9001", "text": "Great news 🎉", "username": "ana", "permalink": "https://www.threads.com/@ana/post/A",
             "timestamp": "2026-11-23T10:00:00+0000", "is_reply_owned_by_me": False,
             "replied_to": {"id": receipt.remote_id}},
            {"id": "9002", "text": "Thanks!", "username": "northwind", "timestamp": "2026-11-23T10:05:00+0000",
             "permalink": "https://www.threads.com/@northwind/post/B", "is_reply_owned_by_me": True,
             "replied_to": {"id": "9001"}}]

    def expected_replies(self, receipt):
        return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind", "Thanks!", True, "9001")]


class FacebookHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.facebook import FacebookServer

        return FacebookServer()

    def adapter(self):
        from channels.facebook import Facebook
        from tests.servers.facebook import PAGE_ID

        return channel(Facebook, self.server_, {"token": "env:FB_PAGE_TOKEN", "page_id": PAGE_ID},
                       {"FB_PAGE_TOKEN": "page-token"})

    def post(self, title="Launch day", n=0):
        return post([f"{title}: our new release is out (#{n})\n\nhttps://news.test/launch/?utm_source=facebook"],
                    type="facebook")

    def published(self):
        return self.server_.posts

    def id_of(self, made):
        return made["id"]

    def url_of(self, made):
        return made["permalink_url"]

    def throttle(self):
        self.server_.throttle(code=80001, minutes=3)
        return 180.0

    def revoke(self):
        self.server_.expire()

    def set_metrics(self, receipt, n):
        self.server_.counts[receipt.remote_id] = {"views": 100 * n, "reactions": n, "comments": n, "shares": n}

    def metrics(self, n):
        return {"views": 100 * n, "likes": n, "replies": n, "shares": n}

    def add_replies(self, receipt):
        from tests.servers.facebook import PAGE_ID, PAGE_NAME

        self.server_.comment_lists[receipt.remote_id] = [
            {"id": f"{receipt.remote_id}_501", "message": "Great news 🎉", "from": {"id": "9", "name": "Ana"},
             "created_time": "2026-11-23T10:00:00+0000"},
            {"id": f"{receipt.remote_id}_502", "message": "Thanks!", "from": {"id": PAGE_ID, "name": PAGE_NAME},
             "created_time": "2026-11-23T10:05:00+0000", "parent": {"id": f"{receipt.remote_id}_501"}}]

    def expected_replies(self, receipt):
        return [("Ana", "Great news 🎉", False, receipt.remote_id),
                ("Northwind News", "Thanks!", True, f"{receipt.remote_id}_501")]


class GhostHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.ghost import GhostServer

        return GhostServer()

    def adapter(self):
        from channels.ghost import Ghost
        from tests.servers.ghost import KEY

        return channel(Ghost, self.server_, {"url": "https://blog.test", "admin_key": "env:GHOST_ADMIN_KEY"},
                       {"GHOST_ADMIN_KEY": KEY})

    def post(self, title="Launch day", n=0):
        return post([], type="ghost", title=f"{title} {n}", html=f"<p>{title} body</p>",
                    data={"title": f"{title} {n}", "body": f"<p>{title} body</p>", "tags": ["Release"],
                          "canonical_url": f"https://news.test/{n}/"})

    def published(self):
        return self.server_.posts

    def id_of(self, made):
        return made["id"]

    def url_of(self, made):
        return made["url"]

    def throttle(self):
        from tests.servers.ghost import ghost_error

        answer = ghost_error(429, "TooManyRequestsError", "Too many requests.", "Try again in 60 seconds.")
        self.server_.fail(429, answer.body, headers={"Retry-After": "60"})
        return 60.0

    def revoke(self):
        self.server_.keys.clear()  # the integration was deleted

    def set_metrics(self, receipt, n):
        self.server_.stats[receipt.remote_id] = {"sent": 100, "opened": n, "clicks": n}

    def metrics(self, n):
        return {"opens": n, "clicks": n} if n else {"clicks": 0}


class WordPressHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.wordpress import WordPressServer

        return WordPressServer()

    def adapter(self):
        from channels.wordpress import WordPress
        from tests.servers.wordpress import APP_PASSWORD, USER

        return channel(WordPress, self.server_, {"url": "https://blog.test", "user": USER,
                                                 "app_password": "env:WP_APP_PASSWORD"},
                       {"WP_APP_PASSWORD": APP_PASSWORD})

    def post(self, title="Launch day", n=0):
        return post([], type="wordpress", title=f"{title} {n}",
                    data={"title": f"{title} {n}", "body": f"<p>{title} body</p>"})

    def published(self):
        return self.server_.posts

    def id_of(self, made):
        return str(made["id"])

    def url_of(self, made):
        return made["link"]

    def throttle(self):
        self.server_.fail(429, {"code": "too_many_requests", "message": "Too many requests.", "data": {"status": 429}},
                          headers={"Retry-After": "30"})
        return 30.0

    def revoke(self):
        self.server_.password = "revoked in the profile"

    def _comment(self, post_id, author, name, text, parent=0):
        cid = next(self.server_.ids)
        self.server_.comment_list.append({"id": cid, "post": int(post_id), "parent": parent, "author": author,
                                          "author_name": name, "date_gmt": "2026-11-23T10:00:00",
                                          "content": {"rendered": f"<p>{text}</p>\n"},
                                          "link": f"https://blog.test/launch/#comment-{cid}"})
        return cid

    def set_metrics(self, receipt, n):
        for i in range(n):
            self._comment(receipt.remote_id, 0, f"reader {i}", "Nice")

    def metrics(self, n):
        return {"replies": n}

    def add_replies(self, receipt):
        first = self._comment(receipt.remote_id, 0, "Ana", "Great news &amp; more 🎉")
        self._comment(receipt.remote_id, 7, "Ana Editor", "Thanks!", parent=first)
        self.first_comment = str(first)

    def expected_replies(self, receipt):
        return [("Ana", "Great news & more 🎉", False, receipt.remote_id),
                ("Ana Editor", "Thanks!", True, self.first_comment)]


class HashnodeHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.hashnode import HashnodeServer

        return HashnodeServer()

    def adapter(self):
        from channels.hashnode import Hashnode
        from tests.servers.hashnode import PUBLICATION, TOKEN

        return channel(Hashnode, self.server_, {"publication_id": PUBLICATION, "token": "env:HASHNODE_TOKEN"},
                       {"HASHNODE_TOKEN": TOKEN})

    def post(self, title="Launch day", n=0):
        return post([], type="hashnode", title=f"{title} {n}",
                    data={"title": f"{title} {n}", "body": f"# {title}\n\nBody.", "tags": ["release"],
                          "canonical_url": f"https://news.test/{n}/"})

    def published(self):
        return self.server_.posts

    def id_of(self, made):
        return made["id"]

    def url_of(self, made):
        return made["url"]

    def throttle(self):
        # enforcement is documented as off; a 429 (from its CDN) is honoured by its Retry-After
        self.server_.fail(429, {"errors": [{"message": "Too many requests", "extensions": {"code": "RATE_LIMITED"}}]},
                          headers={"Retry-After": "20"})
        return 20.0

    def revoke(self):
        self.server_.token = "a new token"

    def set_metrics(self, receipt, n):
        self.server_.numbers[receipt.remote_id] = {"views": 100 * n, "reactions": n, "responses": n}

    def metrics(self, n):
        return {"views": 100 * n, "likes": n, "replies": n}

    def add_replies(self, receipt):
        self.server_.comment_trees[receipt.remote_id] = [{"node": {
            "id": "c1", "dateAdded": "2026-11-23T10:00:00.000Z", "content": {"text": "Great news 🎉\n"},
            "author": {"username": "ana"},
            "replies": {"edges": [{"node": {"id": "r1", "dateAdded": "2026-11-23T10:05:00.000Z",
                                            "content": {"text": "Thanks!"}, "author": {"username": "northwind"}}}]}}}]

    def expected_replies(self, receipt):
        return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind", "Thanks!", True, "c1")]


class InstagramHarness(Harness):
    def server(self, tmp_path):
        from tests.servers.instagram import InstagramServer
        from tests.servers.site import Site

        (tmp_path / "site" / "images").mkdir(parents=True)
        (tmp_path / "site" / "images" / "launch.jpg").write_bytes(PNG)
        self.site = Site(tmp_path / "site").start()
        return InstagramServer()

    def close(self):
        self.site.stop()

    def adapter(self):
        from channels.instagram import Instagram
        from tests.servers.instagram import IG_USER

        return channel(Instagram, self.server_, {"user_id": IG_USER, "token": "env:IG_TOKEN"}, {"IG_TOKEN": "page-token"})

    def post(self, title="Launch day", n=0):
        return post([f"{title}: our new release is out #{n} #launch"], type="instagram",
                    media=[Media(f"{self.site.url}/images/launch.jpg", "A rocket on the launch pad")])

    def published(self):
        return self.server_.media

    def id_of(self, made):
        return made["id"]

    def url_of(self, made):
        return made["permalink"]

    def throttle(self):
        self.server_.throttle(code=80002, minutes=4)
        return 240.0

    def revoke(self):
        self.server_.expire()

    def set_metrics(self, receipt, n):
        self.server_.insight_counts[receipt.remote_id] = {"views": 100 * n, "likes": n, "comments": n, "shares": n,
                                                          "saved": n}

    def metrics(self, n):
        return {"views": 100 * n, "likes": n, "replies": n, "shares": n, "bookmarks": n}

    def add_replies(self, receipt):
        self.server_.comment_lists[receipt.remote_id] = [
            {"id": "1801", "text": "Great news 🎉", "username": "ana", "timestamp": "2026-11-23T10:00:00+0000",
             "replies": {"data": [{"id": "1802", "text": "Thanks!", "username": "northwind.news",
                                   "timestamp": "2026-11-23T10:05:00+0000"}]}}]

    def expected_replies(self, receipt):
        return [("ana", "Great news 🎉", False, receipt.remote_id), ("northwind.news", "Thanks!", True, "1801")]


HARNESSES = [
    ThreadsHarness(
        name="threads", secret_variable="THREADS_TOKEN", write_path=r"/threads_publish$",
        throttle_message="HTTP 400: (#4) Application request limit reached (code 4)",
        server_error_body=META_TRANSIENT,
        server_error_message="An unexpected error has occurred. Please retry your request later. (code 2)",
        bad_request=(400, {"error": {"message": "(#100) Param text must be at most 500 characters long.",
                                     "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: (#100) Param text must be at most 500 characters long. (code 100)",
        revoked_message=META_EXPIRED.format(name="threads")),
    FacebookHarness(
        name="facebook", secret_variable="FB_PAGE_TOKEN", write_path=r"/\d+/feed$",
        throttle_message="HTTP 400: (#80001) There have been too many calls to this Page account. Wait a bit and "
                         "try again. (code 80001)",
        server_error_body=META_TRANSIENT,
        server_error_message="An unexpected error has occurred. Please retry your request later. (code 2)",
        bad_request=(400, {"error": {"message": "(#506) Duplicate status message", "type": "OAuthException",
                                     "code": 506, "error_subcode": 1455006, "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: (#506) Duplicate status message (code 506/1455006)",
        revoked_message=META_EXPIRED.format(name="facebook").replace("to check or renew it", "to check it")),
    GhostHarness(
        name="ghost", secret_variable="GHOST_ADMIN_KEY", write_path=r"/ghost/api/admin/posts/$",
        throttle_message="HTTP 429: Too many requests.: Try again in 60 seconds.",
        server_error_body={"errors": [{"message": "Internal server error, cannot save post.", "context": None,
                                       "type": "InternalServerError"}]},
        server_error_message="HTTP 500: Internal server error, cannot save post.",
        bad_request=(422, {"errors": [{"message": "Validation error, cannot save post.",
                                       "context": "Value in [posts.title] cannot be blank.",
                                       "type": "ValidationError"}]}),
        bad_request_message="HTTP 422: Validation error, cannot save post.: Value in [posts.title] cannot be blank.",
        revoked_message="HTTP 401: Unknown Admin API Key (check the Admin API key: `publish auth ghost`)",
        has_replies=False),
    WordPressHarness(
        name="wordpress", secret_variable="WP_APP_PASSWORD", write_path=r"/wp-json/wp/v2/posts$",
        throttle_message="HTTP 429: Too many requests.",
        server_error_body={"code": "internal_server_error",
                           "message": "There has been a critical error on this website.", "data": {"status": 500}},
        server_error_message="HTTP 500: There has been a critical error on this website.",
        bad_request=(400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): status",
                           "data": {"status": 400}}),
        bad_request_message="HTTP 400: Invalid parameter(s): status",
        revoked_message="HTTP 401: The provided password is an invalid application password. (check the application "
                        "password: `publish auth wordpress`)"),
    HashnodeHarness(
        name="hashnode", secret_variable="HASHNODE_TOKEN", write_path=r"^/$",
        throttle_message="RATE_LIMITED: Too many requests",
        server_error_body={"errors": [{"message": "Internal server error", "extensions":
                                       {"code": "INTERNAL_SERVER_ERROR"}}], "data": None},
        server_error_message="INTERNAL_SERVER_ERROR: Internal server error",
        bad_request=(400, {"errors": [{"message": "Title and content are required",
                                       "extensions": {"code": "BAD_USER_INPUT"}}], "data": None}),
        bad_request_message="BAD_USER_INPUT: Title and content are required",
        revoked_message="UNAUTHENTICATED: You must be authenticated to perform this action. (check the token: "
                        "`publish auth hashnode`)"),
    InstagramHarness(
        name="instagram", secret_variable="IG_TOKEN", write_path=r"/media_publish$",
        throttle_message="HTTP 400: (#80002) There have been too many calls to this Instagram account. Wait a bit "
                         "and try again. (code 80002)",
        server_error_body=META_TRANSIENT,
        server_error_message="An unexpected error has occurred. Please retry your request later. (code 2)",
        bad_request=(400, {"error": {"message": "Only photo or video can be accepted as media type.",
                                     "type": "OAuthException", "code": 9004, "error_subcode": 2207052,
                                     "error_user_title": "Media download has failed.",
                                     "error_user_msg": "The media could not be fetched from this uri",
                                     "fbtrace_id": "AbCdEf"}}),
        bad_request_message="HTTP 400: Only photo or video can be accepted as media type: The media could not be "
                            "fetched from this uri (code 9004/2207052)",
        revoked_message=META_EXPIRED.format(name="instagram").replace("to check or renew it", "to check it")),
]
