"""Slack channel (type ``slack``): an incoming webhook.

Facts relied on (https://api.slack.com/messaging/webhooks, and the error codes in
https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks):
- POST JSON ``{"text", "blocks"}``; success is HTTP 200 with the plain-text body ``ok``. ``text`` is
  the notification fallback when blocks are given.
- Errors are plain-text bodies: 400 ``invalid_payload``, 403 ``invalid_token`` / ``action_prohibited``,
  404 ``no_service`` (webhook removed) / ``channel_not_found``, 410 ``channel_is_archived``,
  500 ``rollup_error``.
- About one message a second per webhook; beyond that 429 with ``Retry-After`` in seconds
  (https://api.slack.com/apis/rate-limits).
- The response carries no message id and a webhook cannot read messages back: reconciliation is
  impossible, the base class says so (``CannotReconcile``).
- mrkdwn text escapes ``&``, ``<`` and ``>`` (https://api.slack.com/reference/surfaces/formatting#escaping);
  a section block's text is at most 3,000 characters (https://api.slack.com/reference/block-kit/blocks#section).
"""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import DEFAULT_TIMEOUT, CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt
from .webhook_post import missing_url, post_json, revoked

SECTION_MAX = 3000


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    out = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        out.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return out + ([text] if text else [])


class Slack(Channel):
    TYPE = "slack"
    MEDIUM = "chat"
    MAX_CHARS = 3000  # a section block's text: api.slack.com/reference/block-kit/blocks#section
    LENGTH_SOURCE = "Slack section block text 3,000"
    DEFAULT_GRACE = timedelta(hours=2)
    timeout = DEFAULT_TIMEOUT  # (connect, read) seconds
    # chat.update / chat.delete need the message's ts and a bot token; an incoming webhook answers
    # "ok" with no ts (api.slack.com/messaging/webhooks), so the message is not known to us.
    CANNOT_EDIT = "a Slack incoming webhook returns no message id, so its message cannot be edited from here"
    CANNOT_DELETE = "a Slack incoming webhook returns no message id, so its message cannot be deleted from here"
    SECRETS = ('webhook',)
    OPTIONS = s.Schema("slack options", [
        s.Key("webhook", s.Secret(), "incoming webhook URL, from the environment", required=True),
    ])

    def payload(self, post: Post) -> dict:
        """``post.data["blocks"]`` when the rendering made them, else a section per 3,000 characters and
        the image. ``post.parts`` are mrkdwn already: the templates escape with the ``mrkdwn`` filter."""
        text = "\n\n".join(p for p in post.parts if p) or escape(post.title)
        if post.data.get("blocks"):
            return {"text": text, "blocks": post.data["blocks"]}
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                  for chunk in _chunks(text, SECTION_MAX)]
        for media in post.media:
            if media.src.startswith(("https://", "http://")):
                blocks.append({"type": "image", "image_url": media.src, "alt_text": media.alt or post.title})
        return {"text": text, "blocks": blocks}

    def deliver(self, post: Post, ctx: DeliveryContext) -> Receipt | Failure:
        payload = self.payload(post)
        if ctx.dry_run:
            return Receipt(remote_id=ctx.key, url=None, at=ctx.now, data={"dry_run": True, "payload": payload})
        url = self.secret("webhook")
        if not url:
            return missing_url(self.name, "webhook", self.config.options.get("webhook"))
        result = post_json(self.session, url, payload, timeout=self.timeout)
        if isinstance(result, Failure):
            if result.status in (403, 404, 410):
                return revoked(result, "Slack webhook", self.config.options.get("webhook"))
            return result
        body = (result.text or "").strip()
        if body != "ok":  # 200 with another body: not what Slack documents, do not call it delivered
            return Failure(f"Slack answered {result.status_code} '{body[:80]}' instead of 'ok'", ambiguous=True)
        return Receipt(remote_id=ctx.key, url=None, at=ctx.now)

    def reconcile(self, post: Post, ctx: DeliveryContext):
        raise CannotReconcile("a Slack incoming webhook returns no message id and cannot read the channel: "
                              "look in the channel, then mark the entry delivered or release it")
