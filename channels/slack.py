"""Slack channel (type ``slack``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Slack(Channel):
    TYPE = "slack"
    MEDIUM = "chat"
    DEFAULT_GRACE = timedelta(hours=2)
    SECRETS = ('webhook',)
    OPTIONS = s.Schema("slack options", [
        s.Key("webhook", s.Secret(), "incoming webhook URL, from the environment", required=True),
    ])
