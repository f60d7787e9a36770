"""Mastodon channel (type ``mastodon``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Mastodon(Channel):
    TYPE = "mastodon"
    MEDIUM = "social"
    MAX_CHARS = 500
    URL_WEIGHT = 23
    SUPPORTS_THREADS = True
    SUPPORTS_MEDIA = True
    METRICS_BATCH = 20
    SECRETS = ('token',)
    OPTIONS = s.Schema("mastodon options", [
        s.Key("instance", s.Url(), "the server's base URL, e.g. https://mastodon.social", required=True),
        s.Key("token", s.Secret(), "access token with write:statuses and write:media, from the environment", required=True),
        s.Key("visibility", s.Choice("public", "unlisted", "private", "direct"), "who sees the posts", default="public"),
        s.Key("max_chars", s.Integer(minimum=1), "the server's configuration.statuses.max_characters", default=500),
        s.Key("language", s.Text(), "ISO 639 language of the posts (default: site.language)"),
    ])
