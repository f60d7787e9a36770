"""Discord channel (type ``discord``): execute a webhook.

Facts relied on (https://discord.com/developers/docs/resources/webhook#execute-webhook):
- ``POST /webhooks/{id}/{token}?wait=true``: with ``wait=true`` Discord answers 200 with the created
  Message (``id``, ``channel_id``, …); without it, 204 and no id. We keep the id in the receipt.
- ``content`` is at most 2,000 characters; up to 10 ``embeds``. ``allowed_mentions: {"parse": []}``
  keeps an ``@everyone`` in the text from pinging anyone.
- Unknown or deleted webhook: 404 ``{"message": "Unknown Webhook", "code": 10015}``; a wrong token:
  401 ``{"message": "Invalid Webhook Token", "code": 50027}``.
- Rate limits (https://discord.com/developers/docs/topics/rate-limits): headers ``X-RateLimit-Limit``,
  ``-Remaining``, ``-Reset`` (epoch), ``-Reset-After`` (seconds, with decimals), ``-Bucket``; a 429
  carries ``Retry-After`` and the JSON body ``{"message", "retry_after" (seconds, float), "global"}``.
- A webhook cannot list the channel's messages (that needs a bot token): after a run died between
  claim and receipt there is no way to tell whether the message went out: ``CannotReconcile``.
- It can read back a message it sent, by id (https://discord.com/developers/docs/resources/webhook#get-webhook-message):
  ``GET /webhooks/{id}/{token}/messages/{message.id}``; the Message's ``reactions`` (``count`` per
  emoji) are the engagement we report, as ``likes``.
- Corrections: ``PATCH /webhooks/{id}/{token}/messages/{message.id}`` (https://discord.com/developers/docs/resources/webhook#edit-webhook-message)
  "edits a previously-sent webhook message from the same token" → the Message; withdrawals:
  ``DELETE`` the same path (#delete-webhook-message) → 204. A message that is gone, or that this
  webhook did not send: 404 ``{"message": "Unknown Message", "code": 10008}`` (discohook/discohook#29);
  we only address messages whose ids the webhook gave us, so for a delete it means gone already.
"""
from __future__ import annotations

import time
from datetime import timedelta

from newsroom import schema as s

from .base import DEFAULT_TIMEOUT, CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt, Removal
from .webhook_post import missing_url, post_json, revoked
from .http import request


class Discord(Channel):
    TYPE = "discord"
    MEDIUM = "chat"
    MAX_CHARS = 2000  # message content, https://discord.com/developers/docs/resources/webhook#execute-webhook
    LENGTH_SOURCE = "Discord message content 2,000"
    METRICS_BATCH = 1  # one message per Get Webhook Message call
    DEFAULT_GRACE = timedelta(hours=2)
    EDITS = True
    DELETES = True
    SHOWS = ("parts", "media", "title")
    timeout = DEFAULT_TIMEOUT  # (connect, read) seconds
    SECRETS = ('webhook',)
    OPTIONS = s.Schema("discord options", [
        s.Key("webhook", s.Secret(), "webhook URL, from the environment", required=True),
    ])

    def payload(self, post: Post) -> dict:
        content = "\n\n".join(p for p in post.parts if p) or post.title
        # Nobody is pinged unless named: a workflow notification lists the users it mentions <@id>
        # (https://discord.com/developers/docs/resources/message#allowed-mentions-object).
        users = [str(u) for u in post.data.get("mention_users") or ()][:100]
        payload = {"content": content, "allowed_mentions": {"parse": [], **({"users": users} if users else {})}}
        images = [m for m in post.media if m.src.startswith(("https://", "http://"))][:10]
        if images:
            payload["embeds"] = [{"image": {"url": m.src}, "description": m.alt or None} for m in images]
            for embed in payload["embeds"]:
                if embed["description"] is None:
                    del embed["description"]
        return payload

    def deliver(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure:
        payload = self.payload(post)
        if len(payload["content"]) > self.MAX_CHARS:
            return Failure(f"the message is {len(payload['content'])} characters; Discord allows {self.MAX_CHARS}")
        if ctx.dry_run:
            return Receipt(remote_id=ctx.key, url=None, at=ctx.now, data={"dry_run": True, "payload": payload})
        url = self.secret("webhook")
        if not url:
            return missing_url(self.name, "webhook", self.config.options.get("webhook"))
        result = post_json(self.session, url, payload, params={"wait": "true"}, timeout=self.timeout)
        if isinstance(result, Failure):
            if result.status in (401, 403, 404):
                return revoked(result, "Discord webhook", self.config.options.get("webhook"))
            return result
        try:
            message = result.json()
        except ValueError:
            message = None
        if not isinstance(message, dict) or not message.get("id"):
            return Failure(f"Discord answered {result.status_code} without a message id", ambiguous=True)
        self._pace(result.headers, ctx)
        channel_id, guild_id = message.get("channel_id"), message.get("guild_id")
        link = f"https://discord.com/channels/{guild_id}/{channel_id}/{message['id']}" if guild_id and channel_id else None
        return Receipt(remote_id=str(message["id"]), url=link, at=ctx.now,
                       data={"channel_id": channel_id, "webhook_id": message.get("webhook_id")})

    @staticmethod
    def _pace(headers, ctx: DeliveryContext) -> None:
        """The bucket is empty: wait out ``X-RateLimit-Reset-After`` now rather than earn a 429 next time."""
        if headers.get("X-RateLimit-Remaining") == "0":
            try:
                wait = float(headers.get("X-RateLimit-Reset-After") or 0)
            except ValueError:
                wait = 0.0
            if wait > 0:
                (ctx.sleep or time.sleep)(min(wait, 60.0))

    # -- after publishing ---------------------------------------------------------------------
    def _message(self, method: str, receipt: Receipt, payload: dict | None = None):
        url = self.secret("webhook")
        if not url:
            return missing_url(self.name, "webhook", self.config.options.get("webhook"))
        got = request(self.session, method, f"{url.rstrip('/')}/messages/{receipt.remote_id}", json=payload,
                      timeout=self.timeout)
        if isinstance(got, Failure):
            from dataclasses import replace

            from .webhook_post import scrub

            got = replace(got, message=scrub(got.message, url))
            if got.status == 401 or (got.status == 404 and "Unknown Webhook" in got.message):
                return revoked(got, "Discord webhook", self.config.options.get("webhook"))
        return got

    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        payload = self.payload(post)
        if len(payload["content"]) > self.MAX_CHARS:
            return Failure(f"the message is {len(payload['content'])} characters; Discord allows {self.MAX_CHARS}")
        if ctx.dry_run:
            return receipt
        payload.setdefault("embeds", [])  # an image taken out of the item leaves the message too
        got = self._message("PATCH", receipt, payload)
        return got if isinstance(got, Failure) else receipt

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        if ctx.dry_run:
            return Removal(at=ctx.now)
        got = self._message("DELETE", receipt)
        if isinstance(got, Failure):
            if got.status == 404 and "Unknown Message" in got.message:
                return Removal(at=ctx.now, already=True)
            return got
        return Removal(at=ctx.now)

    def reconcile(self, post: Post, ctx: DeliveryContext):
        raise CannotReconcile("a Discord webhook cannot list the channel's messages (that needs a bot): "
                              "look in the channel, then mark the entry delivered or release it")


    def fetch_metrics(self, receipts: list[Receipt]) -> dict[str, dict[str, int]]:
        """Reactions on each message we sent, summed over emoji, as ``likes``. A message that is gone
        (404 Unknown Message) is left out; a rate limit or an outage ends the pass early."""
        url = self.secret("webhook")
        out: dict[str, dict[str, int]] = {}
        if not url:
            return out
        for receipt in receipts:
            result = request(self.session, "GET", f"{url.rstrip('/')}/messages/{receipt.remote_id}", timeout=self.timeout)
            if isinstance(result, Failure):
                if result.status == 404:
                    continue
                break
            try:
                message = result.json()
            except ValueError:
                continue
            reactions = (message.get("reactions") or []) if isinstance(message, dict) else []
            out[receipt.remote_id] = {"likes": sum(int(r.get("count") or 0) for r in reactions if isinstance(r, dict))}
        return out
