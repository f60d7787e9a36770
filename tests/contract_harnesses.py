"""How each platform of the shared adapter suite (``tests/test_channel_contract.py``) does each case:
its loopback server, a post, the request that makes the post, its throttling answer, its error
bodies and its revoked token."""
from __future__ import annotations

from dataclasses import dataclass

from channels.base import Receipt
from tests.servers import channel, post


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

    def bind(self, server, tmp_path):
        self.server_ = server
        self.tmp_path = tmp_path

    # what every harness provides
    def server(self, tmp_path): raise NotImplementedError
    def adapter(self): raise NotImplementedError
    def post(self, title="Launch day", n=0): raise NotImplementedError
    def published(self) -> list: raise NotImplementedError
    def id_of(self, made) -> str: raise NotImplementedError
    def url_of(self, made) -> str | None: raise NotImplementedError
    def throttle(self) -> float: raise NotImplementedError
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
        self.server_.throttle(code=4, minutes=5)
        return 300.0

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
]
