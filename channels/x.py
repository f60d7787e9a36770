"""X channel (type ``x``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class X(Channel):
    TYPE = "x"
    MEDIUM = "social"
    MAX_CHARS = 280  # weighted
    URL_WEIGHT = 23
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 100
    SECRETS = ('token',)
    OPTIONS = s.Schema("x options", [
        s.Key("token", s.Secret(), "OAuth 2.0 user access token with tweet.write, from the environment", required=True),
    ])
