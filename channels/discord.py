"""Discord channel (type ``discord``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Discord(Channel):
    TYPE = "discord"
    MEDIUM = "chat"
    MAX_CHARS = 2000  # message content, https://discord.com/developers/docs/resources/webhook#execute-webhook
    DEFAULT_GRACE = timedelta(hours=2)
    SECRETS = ('webhook',)
    OPTIONS = s.Schema("discord options", [
        s.Key("webhook", s.Secret(), "webhook URL, from the environment", required=True),
    ])
