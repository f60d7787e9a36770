"""Telegram channel (type ``telegram``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Telegram(Channel):
    TYPE = "telegram"
    MEDIUM = "chat"
    MAX_CHARS = 4096
    SUPPORTS_MEDIA = True
    SECRETS = ('token',)
    OPTIONS = s.Schema("telegram options", [
        s.Key("token", s.Secret(), "bot token, from the environment", required=True),
        s.Key("chat_id", s.Text(), "channel (@name) or chat id", required=True),
    ])
