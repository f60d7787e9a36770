"""The built-in channel types, registered explicitly in one tuple (Datasette's DEFAULT_PLUGINS)."""
from __future__ import annotations

from newsroom import schema as s

from .base import Channel
from .blog.channel import Blog
from .bluesky import Bluesky
from .devto import DevTo
from .discord import Discord
from .email.channel import Email
from .linkedin import LinkedIn
from .mastodon import Mastodon
from .slack import Slack
from .telegram import Telegram
from .webhook import Webhook
from .x import X

BUILTIN: tuple[type[Channel], ...] = (Blog, Email, Slack, Discord, Webhook, Mastodon, Bluesky, LinkedIn, DevTo,
                                      Telegram, X)
TYPES: dict[str, type[Channel]] = {c.TYPE: c for c in BUILTIN}


def option_schemas() -> dict[str, s.Schema]:
    return {name: cls.OPTIONS for name, cls in TYPES.items()}


def override_schemas() -> dict[str, s.Schema]:
    return {name: cls.OVERRIDES for name, cls in TYPES.items() if cls.OVERRIDES is not None}


def build(config, env, *, base_url: str | None = None) -> Channel:
    """The adapter for one channel declared in publish.yml."""
    return TYPES[config.type](config, env, base_url=base_url)
