"""Hashnode channel (type ``hashnode``): articles on a Hashnode publication through its GraphQL API.

API facts (github.com/Hashnode/gql-skill ``skills/gql-api``: ``SKILL.md``, ``references/schema.graphql``,
``auth-and-roles.md``, ``errors-and-limits.md``, ``recipes.md``):

- One endpoint, ``POST https://gql-beta.hashnode.com/`` with ``{"query", "variables"}``; a Personal
  Access Token in ``Authorization: Bearer``. Every mutation, and reads scoped to a publication, need
  the publication on Hashnode's Pro plan (else ``FORBIDDEN`` "Publication does not have an active Pro
  plan …").
- ``publishPost(input: PublishPostInput!)`` {publicationId, title, subtitle, contentMarkdown,
  coverImage, tags [{slug, name}] (at most 15), originalArticleURL (the canonical URL of a
  cross-post)} → ``{post {id slug url}}``.
- Errors: ``{"errors": [{"message", "extensions": {"code"}}]}`` with the codes UNAUTHENTICATED,
  FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, INTERNAL_SERVER_ERROR (retry later).
- ``publication(id) {posts(first ≤ 100) {edges {node {id title url canonicalUrl}}}}`` lists the latest
  posts: a post whose answer was lost is found there by its canonical URL (or title).
- ``post(id) {views reactionCount responseCount}``, several per request as GraphQL aliases;
  ``post(id) {comments(first) {…replies(first)}}``; ``me {username}``.
- Limits: query depth 10, request body 100 KB, 100 items a page; rate limits (500 mutations a
  minute) are published but "not currently enforced"; a 429 is waited out by its ``Retry-After``.
"""
from __future__ import annotations

import re
from datetime import timedelta

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal, Reply
from .http import request
from .social import (Found, MetricsError, RateGate, chunks, done_parts, parse_time, read, read_back, receipt_from,
                     write_part)

ENDPOINT = "https://gql-beta.hashnode.com/"

PUBLISH = """mutation PublishPost($input: PublishPostInput!) {
  publishPost(input: $input) { post { id slug url } }
}"""
LATEST = """query Latest($id: ObjectId!) {
  publication(id: $id) { posts(first: 20) { edges { node { id title url canonicalUrl } } } }
}"""
COMMENTS = """query Comments($id: ID!) {
  post(id: $id) { comments(first: 50) { edges { node { id dateAdded content { text } author { username }
    replies(first: 50) { edges { node { id dateAdded content { text } author { username } } } } } } } }
}"""
ME = "query Me { me { id username name } }"
UPDATE = """mutation UpdatePost($input: UpdatePostInput!) {
  updatePost(input: $input) { post { id url } }
}"""
REMOVE = """mutation RemovePost($input: RemovePostInput!) {
  removePost(input: $input) { post { id } }
}"""


def tag_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class Hashnode(Channel):
    TYPE = "hashnode"
    MEDIUM = "blog"
    MAX_TAGS = 15  # PublishPostTagInput: "Tags as slugs (max 15)"
    METRICS_BATCH = 20  # posts per query, as aliases
    DEFAULT_GRACE = timedelta(days=1)
    SECRETS = ("token",)
    EDITS = True  # updatePost(input: {id, title, contentMarkdown, tags, originalArticleURL})
    DELETES = True  # removePost(input: {id})
    CHECKS_TOKEN = True
    TOKEN_HELP = ("make a Personal Access Token in Hashnode (Account Settings → Developer) and set it; the "
                  "publication must be on Hashnode's Pro plan for the API to publish")
    TOKEN_NOTE = "Hashnode Personal Access Tokens do not lapse; revoke them in Account Settings → Developer."
    OPTIONS = s.Schema("hashnode options", [
        s.Key("publication_id", s.Text(pattern=r"^[0-9a-f]{24}$", hint="is not a publication id (24 hex digits)"),
              "the publication's id (its dashboard URL shows it)", required=True),
        s.Key("token", s.Secret(), "a Hashnode Personal Access Token, from the environment", required=True),
        s.Key("endpoint", s.Url(), "the GraphQL endpoint", default=ENDPOINT),
    ])

    def __init__(self, config, env, *, base_url=None):
        super().__init__(config, env, base_url=base_url)
        self.gate = RateGate(())
        self.requests_made = 0
        self._me: dict | None = None

    @property
    def api(self) -> str:
        return self.base_url.rstrip("/") + "/" if self.base_url else str(self.config.options.get("endpoint") or ENDPOINT)

    @property
    def publication(self) -> str:
        return str(self.config.options.get("publication_id"))

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.secret('token') or ''}"}

    def graphql(self, query: str, variables: dict | None = None, *, write: bool = False) -> dict | Failure:
        """One GraphQL request: its ``data``, or a Failure in Hashnode's words (``CODE: message``)."""
        body = {"query": query, "variables": variables or {}}
        seen: list = []
        hooks = {"response": [lambda response, *a, **k: seen.append(response)]}
        if write:
            got = request(self.session, "POST", self.api, json=body, headers=self.headers(), hooks=hooks)
        else:
            self.requests_made += 1
            got = read(self.session, self.gate, "POST", self.api, json=body, headers=self.headers(), hooks=hooks)
        response = seen[-1] if seen else None
        try:
            answer = response.json() if response is not None else None
        except ValueError:
            answer = None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
            code = (first.get("extensions") or {}).get("code") or "ERROR"
            status = response.status_code if response is not None else None
            http = got if isinstance(got, Failure) else None  # a 429 or 5xx keeps its wait and retry
            failure = Failure(f"{code}: {first.get('message', '')}",
                              retryable=code == "INTERNAL_SERVER_ERROR" or bool(http and http.retryable),
                              retry_after=http.retry_after if http else None, status=status,
                              ambiguous=bool(http and http.ambiguous))
            if code == "UNAUTHENTICATED":
                from dataclasses import replace

                return self.refused(replace(failure, message=f"{failure.message} (check the token: "
                                                             f"`publish auth {self.name}`)"), "token")
            return failure
        if isinstance(got, Failure):
            return got
        return (answer or {}).get("data") or {}

    # -- delivery -----------------------------------------------------------------------------
    def article(self, post: Post) -> dict:
        data = post.data or {}
        tags = [str(t) for t in data.get("tags") or post.tags][: self.MAX_TAGS]
        fields = {"publicationId": self.publication, "title": data.get("title") or post.title,
                  "contentMarkdown": data.get("body") or post.text or "",
                  "tags": [{"slug": tag_slug(t), "name": t} for t in tags if tag_slug(t)]}
        if data.get("canonical_url"):
            fields["originalArticleURL"] = data["canonical_url"]
        if data.get("subtitle"):
            fields["subtitle"] = data["subtitle"]
        cover = next((m.src for m in post.media if m.src.startswith(("http://", "https://"))), None)
        if cover:
            fields["coverImage"] = cover
        return fields

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        done = done_parts(ctx.journal, 1)
        if done:
            return receipt_from(done, ctx)
        fields = self.article(post)
        if ctx.dry_run:
            return receipt_from([{"id": "dry-run", "url": None}], ctx, input=fields)

        def send():
            got = self.graphql(PUBLISH, {"input": fields}, write=True)
            if isinstance(got, Failure):
                return got
            made = (got.get("publishPost") or {}).get("post") or {}
            if not made.get("id"):
                return Failure("Hashnode answered without the new post's id", ambiguous=True)
            return {"id": str(made["id"]), "url": made.get("url")}

        part = write_part(ctx, 0, send, lambda: self.find(fields["title"], fields.get("originalArticleURL")))
        return part if isinstance(part, Failure) else receipt_from([part], ctx)

    def find(self, title: str, canonical_url: str | None) -> Found | None | Failure:
        got = self.graphql(LATEST, {"id": self.publication})
        if isinstance(got, Failure):
            return got
        edges = (((got.get("publication") or {}).get("posts") or {}).get("edges")) or []
        for edge in edges:
            node = edge.get("node") or {}
            if (canonical_url and node.get("canonicalUrl") == canonical_url) or \
                    (not canonical_url and node.get("title") == title):
                return Found(str(node["id"]), node.get("url"))
        return None

    def reconcile(self, post: Post, ctx: DeliveryContext) -> Receipt | None:
        fields = self.article(post)
        return read_back(self.name, ctx, [fields["title"]], lambda t: self.find(t, fields.get("originalArticleURL")))

    # -- after publishing -------------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        fields = self.article(post)
        fields.pop("publicationId")
        fields["id"] = receipt.remote_id
        if ctx.dry_run:
            return receipt
        got = self.graphql(UPDATE, {"input": fields}, write=True)
        if isinstance(got, Failure):
            return got
        made = (got.get("updatePost") or {}).get("post") or {}
        return Receipt(remote_id=receipt.remote_id, url=made.get("url") or receipt.url, at=ctx.now,
                       parts=receipt.parts, data={**receipt.data, "edited": True})

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self.graphql(REMOVE, {"input": {"id": receipt.remote_id}}, write=True)
        if isinstance(got, Failure):
            if got.message.startswith("NOT_FOUND"):
                return Removal(at=ctx.now, already=True, data={"note": got.message})
            return got
        return Removal(at=ctx.now)

    # -- engagement ---------------------------------------------------------------------------
    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        ids = list(dict.fromkeys(r.remote_id for r in receipts))
        out: dict[str, dict[str, int]] = {}
        for chunk in chunks(ids, self.METRICS_BATCH):
            names = ", ".join(f"$p{i}: ID!" for i in range(len(chunk)))
            fields = " ".join(f"p{i}: post(id: $p{i}) {{ id views reactionCount responseCount }}"
                              for i in range(len(chunk)))
            got = self.graphql(f"query Numbers({names}) {{ {fields} }}", {f"p{i}": pid for i, pid in enumerate(chunk)})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            for node in got.values():
                if node:  # a deleted post answers null
                    out[str(node["id"])] = {"views": int(node.get("views") or 0),
                                            "likes": int(node.get("reactionCount") or 0),
                                            "replies": int(node.get("responseCount") or 0)}
        return out

    def me(self) -> dict:
        if self._me is None:
            got = self.graphql(ME)
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            self._me = got.get("me") or {}
        return self._me

    def fetch_replies(self, receipts: list[Receipt]) -> list[Reply]:
        if not receipts:
            return []
        me = self.me().get("username")
        out: list[Reply] = []
        for receipt in receipts:
            got = self.graphql(COMMENTS, {"id": receipt.remote_id})
            if isinstance(got, Failure):
                raise MetricsError(f"{self.name}: {got.message}")
            for edge in (((got.get("post") or {}).get("comments") or {}).get("edges")) or []:
                comment = edge.get("node") or {}
                for node, parent in [(comment, receipt.remote_id)] + [
                        (r.get("node") or {}, comment.get("id")) for r in ((comment.get("replies") or {}).get("edges") or [])]:
                    author = (node.get("author") or {}).get("username", "")
                    out.append(Reply(channel=self.name, remote_id=str(node["id"]), in_reply_to=str(parent),
                                     author=author, text=(node.get("content") or {}).get("text", "").strip(),
                                     url=None, at=parse_time(node.get("dateAdded")), ours=author == me))
        return out

    # -- credentials --------------------------------------------------------------------------
    def verify(self) -> dict | Failure:
        got = self.graphql(ME)
        if isinstance(got, Failure):
            return got
        return {"account": f"@{(got.get('me') or {}).get('username', '')}"}
