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
"""
from __future__ import annotations

import time
from datetime import timedelta

from newsroom import schema as s

from .base import DEFAULT_TIMEOUT, CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt
from .webhook_post import missing_url, post_json, revoked
from .http import request


class Discord(Channel):
    TYPE = "discord"
    MEDIUM = "chat"
    MAX_CHARS = 2000  # message content, https://discord.com/developers/docs/resources/webhook#execute-webhook
    LENGTH_SOURCE = "Discord message content 2,000"
    METRICS_BATCH = 1  # one message per Get Webhook Message call
    DEFAULT_GRACE = timedelta(hours=2)
    timeout = DEFAULT_TIMEOUT  # (connect, read) seconds
    SECRETS = ('webhook',)
    OPTIONS = s.Schema("discord options", [
        s.Key("webhook", s.Secret(), "webhook URL, from the environment", required=True),
    ])

    def payload(self, post: Post) -> dict:
        content = "\n\n".join(p for p in post.parts if p) or post.title
        payload = {"content": content, "allowed_mentions": {"parse": []}}
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
