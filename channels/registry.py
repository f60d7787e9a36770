"""The built-in channel types, registered explicitly in one tuple (Datasette's DEFAULT_PLUGINS)."""
from __future__ import annotations

from typing import Mapping

from newsroom import schema as s
from newsroom.model import Project

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


def register_channel_type(cls: type[Channel]) -> type[Channel]:
    """Make ``cls`` the adapter of channels of ``type: cls.TYPE`` (an adapter outside this package, a
    test's loopback channel). Registering the same class again does nothing; a type name that is
    taken is refused, so an outside adapter never replaces a built-in silently."""
    known = TYPES.get(cls.TYPE)
    if known is not None and known is not cls:
        raise ValueError(f"channel type '{cls.TYPE}' is already registered ({known.__module__}.{known.__name__})")
    TYPES[cls.TYPE] = cls
    return cls


def option_schemas() -> dict[str, s.Schema]:
    return {name: cls.OPTIONS for name, cls in TYPES.items()}


def override_schemas() -> dict[str, s.Schema]:
    return {name: cls.OVERRIDES for name, cls in TYPES.items() if cls.OVERRIDES is not None}


def build(config, env, *, base_url: str | None = None) -> Channel:
    """The adapter for one channel declared in publish.yml."""
    return TYPES[config.type](config, env, base_url=base_url)


class Adapters:
    """Every channel of publish.yml built once per run, with why it cannot deliver when it cannot."""

    def __init__(self, project: Project, env: Mapping[str, str]):
        self.adapters: dict[str, Channel] = {}
        self.inactive: dict[str, str] = {}
        for name, config in project.settings.channels.items():
            if config.type not in TYPES:
                continue  # an unknown type is a check problem already
            adapter = build(config, env)
            adapter.prepare(project.settings)  # its folders and readers: it reads no settings itself
            self.adapters[name] = adapter
            missing = adapter.missing_secrets()
            if missing:
                self.inactive[name] = (f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set "
                                       "in the environment")
            elif type(adapter).deliver is Channel.deliver:
                self.inactive[name] = f"this version cannot deliver to {config.type} channels yet"

    def grace(self, name: str):
        adapter = self.adapters.get(name)
        return adapter.grace if adapter else None
