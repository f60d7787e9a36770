"""Telegram channel (type ``telegram``): the Bot API, posting to a channel or chat.

API facts (core.telegram.org/bots/api):

- ``POST /bot<token>/sendMessage`` {chat_id, text ≤ 4096, reply_parameters}; ``sendPhoto``
  {chat_id, photo (URL or uploaded file), caption ≤ 1024} → ``{"ok": true, "result": Message}``.
- Errors: ``{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
  "parameters": {"retry_after": 7}}``.
- No idempotency and a bot cannot read a channel's history: a write whose outcome is unknown is not
  repeated (the entry is left for a person to check), and ``reconcile`` cannot tell.
- No engagement numbers for bots: no metrics, no replies.
- Bot API features used, by version (core.telegram.org/bots/api-changelog): ``reply_parameters``
  came with 7.0 (December 2023, "Replies 2.0") and replaced ``reply_to_message_id``. A server
  older than that (a self-hosted ``telegram-bot-api`` left behind) ignores the unknown field and the
  thread comes out as separate messages, so ``bot_api`` says which form to send.
- ``getMe`` is the cheap check that the token works (``status``, ``check``).
- Corrections: ``editMessageText`` {chat_id, message_id, text} and ``editMessageCaption`` {chat_id,
  message_id, caption} → the edited Message; 400 ``Bad Request: message to edit not found``, 400
  ``Bad Request: message can't be edited`` (not the bot's), and 400 ``Bad Request: message is not
  modified: …`` when the text is already that (a repeat after a crash: done).
- Withdrawals: ``deleteMessage`` {chat_id, message_id} → ``true``; "a message can only be deleted if
  it was sent less than 48 hours ago" and "bots granted can_post_messages … can delete outgoing
  messages in channels": 400 ``Bad Request: message can't be deleted for everyone`` (too old, or not
  allowed), 400 ``Bad Request: message to delete not found`` (gone: counted as gone).
  Source: core.telegram.org/bots/api#updating-messages (editMessageText, editMessageCaption,
  deleteMessage).
"""
from __future__ import annotations

import re

from newsroom import schema as s

from .base import Channel, DeliveryContext, DeliveryResult, Failure, Post, Receipt, Removal
from .http import request
from .text import utf16_units
from .social import done_parts, media_bytes, receipt_from, with_partial, write_part

CAPTION_MAX = 1024
#: The newest Bot API feature this adapter uses: reply_parameters (7.0).
BOT_API = "7.0"


class Telegram(Channel):
    TYPE = "telegram"
    MEDIUM = "chat"
    # core.telegram.org/bots/api#sendmessage: "1-4096 characters after entities parsing"; Telegram
    # measures text in UTF-16 code units (MessageEntity offsets), so we count those.
    MAX_CHARS = 4096
    LENGTH = staticmethod(utf16_units)
    LENGTH_UNIT = "UTF-16 units"
    LENGTH_SOURCE = "Telegram sendMessage 4,096"
    SUPPORTS_MEDIA = True
    EDITS = True
    DELETES = True
    SHOWS = ("parts", "media")
    SECRETS = ('token',)
    OPTIONS = s.Schema("telegram options", [
        s.Key("token", s.Secret(), "bot token, from the environment", required=True),
        s.Key("chat_id", s.Text(), "channel (@name) or chat id", required=True),
        s.Key("bot_api", s.Text(pattern=r"^\d+\.\d+$", hint="is not a Bot API version like 7.0"),
              "Bot API version of the server (below 7.0: replies by reply_to_message_id)", default=BOT_API),
    ])

    def reply_to(self, message_id: str) -> dict:
        version = tuple(int(n) for n in str(self.config.options.get("bot_api") or BOT_API).split("."))
        if version >= (7, 0):
            return {"reply_parameters": {"message_id": int(message_id)}}
        return {"reply_to_message_id": int(message_id)}

    def verify(self) -> dict | Failure:
        got = self._call_raw("getMe")
        if isinstance(got, Failure):
            return got
        return {"account": "@" + str(got.get("username", ""))}

    @property
    def api(self) -> str:
        return (self.base_url or "https://api.telegram.org").rstrip("/")

    def method(self, name: str) -> str:
        return f"{self.api}/bot{self.secret('token') or ''}/{name}"

    def _link(self, message: dict) -> str | None:
        chat = message.get("chat") or {}
        if chat.get("username"):
            return f"https://t.me/{chat['username']}/{message['message_id']}"
        return None

    def _call(self, name: str, **kwargs) -> dict | Failure:
        got = self._call_raw(name, **kwargs)
        if isinstance(got, Failure):
            return got
        return {"id": str(got["message_id"]), "url": self._link(got)}

    def _call_raw(self, name: str, **kwargs) -> dict | Failure:
        got = request(self.session, "POST", self.method(name), **kwargs)
        if isinstance(got, Failure):
            # The token is part of the URL: never let it reach a message.
            token = self.secret("token")
            message = got.message.replace(token, "<token>") if token else got.message
            retry_after = got.retry_after
            if got.status == 429 and retry_after is None:
                # The wait is in the body: "Too Many Requests: retry after 7" (parameters.retry_after).
                m = re.search(r"retry after (\d+)", message)
                retry_after = float(m.group(1)) if m else None
            return Failure(message, retryable=got.retryable, retry_after=retry_after, status=got.status,
                           ambiguous=got.ambiguous)
        return got.json()["result"]

    def deliver(self, post: Post, ctx: DeliveryContext) -> DeliveryResult:
        chat = self.config.options.get("chat_id")
        parts = done_parts(ctx.journal, len(post.parts))
        label = (lambda i: f"part {i + 1} of {len(post.parts)}: ") if len(post.parts) > 1 else (lambda i: "")
        for i in range(len(parts), len(post.parts)):
            text = post.parts[i]
            reply = self.reply_to(parts[-1]["id"]) if parts else {}
            if ctx.dry_run:
                parts.append({"id": f"dry-run-{i}", "url": None})
                continue
            if i == 0 and post.media and len(text) <= CAPTION_MAX:
                send = lambda text=text: self._photo(post, chat, caption=text)  # noqa: E731
            else:
                send = lambda text=text, reply=reply: self._call(  # noqa: E731
                    "sendMessage", json={"chat_id": chat, "text": text, **reply})
            if i == 0 and post.media and len(text) > CAPTION_MAX and not ctx.journal.get("media:0"):
                # Too long for a caption: the image goes first on its own.
                photo = write_part(ctx, -1, lambda: self._photo(post, chat), None)
                if isinstance(photo, Failure):
                    return photo
                ctx.journal.put("media:0", photo["id"])
            part = write_part(ctx, i, send, None)
            if isinstance(part, Failure):
                return with_partial(part, parts, label(i))
            parts.append(part)
        # what a correction edits and a withdrawal deletes: a caption, or a photo sent on its own
        shape = ({"captioned": True} if post.media and len(post.parts[0]) <= CAPTION_MAX else
                 {"photo": ctx.journal.get("media:0")} if post.media else {})
        return receipt_from(parts, ctx, **{k: v for k, v in shape.items() if v})

    # -- after publishing ---------------------------------------------------------------------
    def edit(self, post: Post, receipt: Receipt, ctx: DeliveryContext) -> Receipt | Failure:
        """Each message edited in place: the first by ``editMessageCaption`` when it is a photo's
        caption, else ``editMessageText``. "message is not modified" means it already says that."""
        chat = self.config.options.get("chat_id")
        parts = list(receipt.parts) or [{"id": receipt.remote_id}]
        if len(parts) != len(post.parts):
            return Failure(f"the post is now {len(post.parts)} message(s) where {len(parts)} went out; Telegram edits "
                           "each message in place and cannot add or remove one")
        for i, (part, text) in enumerate(zip(parts, post.parts)):
            if ctx.dry_run:
                continue
            if i == 0 and receipt.data.get("captioned"):
                if len(text) > CAPTION_MAX:
                    return Failure(f"the caption is now {len(text)} characters; Telegram allows {CAPTION_MAX}")
                got = self._call_raw("editMessageCaption", json={"chat_id": chat, "message_id": int(part["id"]),
                                                                 "caption": text})
            else:
                got = self._call_raw("editMessageText", json={"chat_id": chat, "message_id": int(part["id"]),
                                                              "text": text})
            if isinstance(got, Failure) and "message is not modified" not in got.message:
                return got
        return receipt

    def delete(self, receipt: Receipt, ctx: DeliveryContext) -> Removal | Failure:
        """Every message, the last first, and a photo sent on its own; one already gone counts."""
        chat = self.config.options.get("chat_id")
        ids = [p["id"] for p in receipt.parts] or [receipt.remote_id]
        if receipt.data.get("photo"):
            ids.insert(0, receipt.data["photo"])
        gone = 0
        for message_id in reversed(ids):
            if ctx.dry_run:
                continue
            got = self._call_raw("deleteMessage", json={"chat_id": chat, "message_id": int(message_id)})
            if isinstance(got, Failure):
                if "message to delete not found" in got.message:
                    gone += 1
                    continue
                if "can't be deleted" in got.message:
                    return Failure(f"{got.message} (Telegram deletes a bot's messages only within 48 hours of "
                                   "sending, and in a channel only with can_post_messages)", status=got.status)
                return got
        return Removal(at=ctx.now, already=gone == len(ids) and not ctx.dry_run)

    def _photo(self, post: Post, chat: str, caption: str | None = None) -> dict | Failure:
        media = post.media[0]
        fields = {"chat_id": chat, **({"caption": caption} if caption else {})}
        if not media.path and media.src.startswith(("http://", "https://")):
            return self._call("sendPhoto", json={**fields, "photo": media.src})  # Telegram fetches it
        loaded = media_bytes(self.session, media)
        if isinstance(loaded, Failure):
            return loaded
        data, mime, name = loaded
        return self._call("sendPhoto", data=fields, files={"photo": (name, data, mime)})
