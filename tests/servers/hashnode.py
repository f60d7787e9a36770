"""Hashnode's GraphQL API on loopback (github.com/Hashnode/gql-skill ``skills/gql-api``): one ``POST /``
endpoint; a Personal Access Token in ``Authorization`` (the ``Bearer`` prefix optional); errors in the
GraphQL shape ``{"errors": [{"message", "extensions": {"code"}, "path"}], "data": null}`` (Apollo
Server answers them with HTTP 200, BAD_USER_INPUT on a bad variable with 400); the Pro-plan
``FORBIDDEN`` for a publication that is not on Pro.

It answers the operations the adapter sends, recognised by their field names (a stand-in, not a
GraphQL engine): ``publishPost``, ``publication(id){posts}``, aliased ``post(id)`` numbers,
``post(id){comments}`` and ``me``."""
from __future__ import annotations

import itertools
import re

from .base import Answer, Seen, Server

PUBLICATION = "6512a3b4c5d6e7f8a9b0c1d2"
TOKEN = "hashnode-pat"
ME = {"id": "6500aaaabbbbccccddddeeee", "username": "northwind", "name": "Northwind"}


def gql_error(code: str, message: str, status: int = 200, path=None) -> Answer:
    return Answer(status, {"errors": [{"message": message, "extensions": {"code": code}, "path": path or []}],
                           "data": None})


class HashnodeServer(Server):
    routes = [("POST", r"/", "graphql")]

    def __init__(self, token: str = TOKEN, pro: bool = True):
        super().__init__()
        self.token = token
        self.pro = pro
        self.posts: list[dict] = []
        self.numbers: dict[str, dict] = {}
        self.comment_trees: dict[str, list] = {}
        self.ids = itertools.count(1)

    def error(self, status, message):
        return gql_error("INTERNAL_SERVER_ERROR", message, status)

    def _authed(self, seen: Seen) -> bool:
        token = re.sub(r"(?i)^bearer\s+", "", seen.headers.get("authorization", ""))
        return token == self.token

    def graphql(self, seen: Seen):
        body = seen.json or {}
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "publishPost" in query:
            if not self._authed(seen):
                return gql_error("UNAUTHENTICATED", "You must be authenticated to perform this action.",
                                 path=["publishPost"])
            if not self.pro:
                return gql_error("FORBIDDEN", "Publication does not have an active Pro plan. Upgrade in your "
                                              "dashboard to access this via the API.", path=["publishPost"])
            given = variables.get("input") or {}
            if given.get("publicationId") != PUBLICATION:
                return gql_error("NOT_FOUND", "Publication not found", path=["publishPost"])
            if not given.get("title") or not given.get("contentMarkdown"):
                return gql_error("BAD_USER_INPUT", "Title and content are required", 400)
            if len(given.get("tags") or []) > 15:
                return gql_error("BAD_USER_INPUT", "A post can have at most 15 tags", 400)
            pid = f"6749{next(self.ids):020x}"
            slug = re.sub(r"[^a-z0-9]+", "-", given["title"].lower()).strip("-")
            post = {"id": pid, "slug": slug, "url": f"https://northwind.hashnode.dev/{slug}",
                    "title": given["title"], "canonicalUrl": given.get("originalArticleURL"),
                    "contentMarkdown": given["contentMarkdown"], "tags": given.get("tags") or [],
                    "coverImage": given.get("coverImage")}
            self.posts.append(post)
            return Answer(200, {"data": {"publishPost": {"post": {k: post[k] for k in ("id", "slug", "url")}}}})
        if "updatePost" in query or "removePost" in query:
            if not self._authed(seen):
                return gql_error("UNAUTHENTICATED", "You must be authenticated to perform this action.")
            given = variables.get("input") or {}
            post = next((p for p in self.posts if p["id"] == given.get("id")), None)
            if post is None:
                return gql_error("NOT_FOUND", "Post not found", path=["removePost" if "removePost" in query
                                                                      else "updatePost"])
            if "removePost" in query:
                self.posts.remove(post)
                return Answer(200, {"data": {"removePost": {"post": {"id": post["id"]}}}})
            for key in ("title", "contentMarkdown"):
                if key in given:
                    post[key] = given[key]
            return Answer(200, {"data": {"updatePost": {"post": {"id": post["id"], "url": post["url"]}}}})
        if "publication(" in query:
            if not self.pro:
                return gql_error("FORBIDDEN", "Publication does not have an active Pro plan. Upgrade in your "
                                              "dashboard to access this via the API.", path=["publication"])
            edges = [{"node": {k: p[k] for k in ("id", "title", "url", "canonicalUrl")}} for p in self.posts[::-1][:20]]
            return Answer(200, {"data": {"publication": {"posts": {"edges": edges}}}})
        if "comments(" in query:
            return Answer(200, {"data": {"post": {"comments": {"edges": self.comment_trees.get(variables["id"], [])}}}})
        if "me {" in query:
            if not self._authed(seen):
                return gql_error("UNAUTHENTICATED", "You must be authenticated to perform this action.", path=["me"])
            return Answer(200, {"data": {"me": dict(ME)}})
        aliases = re.findall(r"(p\d+): post\(id: \$(p\d+)\)", query)
        if aliases:
            known = {p["id"]: p for p in self.posts}
            data = {}
            for alias, var in aliases:
                pid = variables.get(var)
                n = self.numbers.get(pid, {})
                data[alias] = {"id": pid, "views": n.get("views", 0), "reactionCount": n.get("reactions", 0),
                               "responseCount": n.get("responses", 0)} if pid in known else None
            return Answer(200, {"data": data})
        return gql_error("GRAPHQL_VALIDATION_FAILED", "Cannot query this field on type \"Query\".", 400)
