"""Webhook channel (type ``webhook``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Webhook(Channel):
    TYPE = "webhook"
    MEDIUM = "webhook"
    DEFAULT_GRACE = timedelta(hours=2)
    SECRETS = ('url', 'signing_secret')
    OPTIONS = s.Schema("webhook options", [
        s.Key("url", s.Secret(), "endpoint URL, from the environment", required=True),
        s.Key("signing_secret", s.Secret(), "HMAC-SHA256 key for the signature header, from the environment", required=True),
    ])
