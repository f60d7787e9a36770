"""Blog channel (type ``blog``)."""
from __future__ import annotations

from datetime import timedelta

from newsroom import schema as s

from .base import Channel


class Blog(Channel):
    TYPE = "blog"
    MEDIUM = "blog"
    MAX_CHARS = None
    DEFAULT_GRACE = None  # a late blog post is still worth having: no staleness limit by default
    SECRETS = ()
    OPTIONS = s.Schema("blog options", [
        s.Key("per_page", s.Integer(minimum=1), "items per index page", default=10),
        s.Key("feed_content", s.Choice("full", "summary"), "what the Atom and RSS feeds carry", default="full"),
        s.Key("feed_items", s.Integer(minimum=1), "how many items the feeds list", default=20),
    ])
