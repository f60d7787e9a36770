"""Bluesky channel (type ``bluesky``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Bluesky(Channel):
    TYPE = "bluesky"
    MEDIUM = "social"
    MAX_CHARS = 300  # graphemes
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 25
    SECRETS = ('app_password',)
    OPTIONS = s.Schema("bluesky options", [
        s.Key("service", s.Url(), "the PDS base URL", default="https://bsky.social"),
        s.Key("handle", s.Text(), "the account's handle, e.g. acme.bsky.social", required=True),
        s.Key("app_password", s.Secret(), "an app password, from the environment", required=True),
    ])
