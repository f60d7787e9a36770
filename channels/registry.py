"""The built-in channel types, registered explicitly in one tuple (Datasette's DEFAULT_PLUGINS)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Mapping

from newsroom import schema as s
from newsroom.model import Project

from .base import Channel
from .text import LengthRule, code_points
from .blog.channel import Blog
from .bluesky import Bluesky
from .devto import DevTo
from .discord import Discord
from .email.channel import Email
from .facebook import Facebook
from .ghost import Ghost
from .hashnode import Hashnode
from .instagram import Instagram
from .linkedin import LinkedIn
from .listmonk import Listmonk
from .mailchimp import Mailchimp
from .mastodon import Mastodon
from .slack import Slack
from .telegram import Telegram
from .threads import Threads
from .webhook import Webhook
from .wordpress import WordPress
from .x import X

BUILTIN: tuple[type[Channel], ...] = (Blog, Email, Slack, Discord, Webhook, Mastodon, Bluesky, LinkedIn, DevTo,
                                      Telegram, X, Listmonk, Mailchimp, Threads, Facebook, Ghost, WordPress,
                                      Hashnode, Instagram)
TYPES: dict[str, type[Channel]] = {c.TYPE: c for c in BUILTIN}
PLAIN = LengthRule("plain", None, "characters", code_points, "")


def register_channel_type(cls: type[Channel], *, replace: bool = False) -> type[Channel]:
    """Make ``cls`` the adapter of channels of ``type: cls.TYPE`` (an adapter outside this package, a
    test's loopback channel). Registering the same class again does nothing; a type name that is
    taken is refused unless ``replace`` says so, so an adapter never replaces a built-in silently."""
    known = TYPES.get(cls.TYPE)
    if known is not None and known is not cls and not replace:
        raise ValueError(f"channel type '{cls.TYPE}' is already registered ({known.__module__}.{known.__name__})")
    TYPES[cls.TYPE] = cls
    return cls


def rule_for(channel_type: str, options: Mapping | None = None) -> LengthRule:
    """The length rule of a channel type with its options (Mastodon's ``max_chars``); plain code
    points and no limit for a type without one."""
    cls = TYPES.get(channel_type)
    return cls.length_rule(options) if cls is not None else PLAIN


def option_schemas() -> dict[str, s.Schema]:
    return {name: cls.OPTIONS for name, cls in TYPES.items()}


def override_schemas() -> dict[str, s.Schema]:
    return {name: cls.OVERRIDES for name, cls in TYPES.items() if cls.OVERRIDES is not None}


def build(config, env, *, base_url: str | None = None) -> Channel:
    """The adapter for one channel declared in publish.yml."""
    return TYPES[config.type](config, env, base_url=base_url)


def credential_vault(project: Project, env: Mapping[str, str], store=None):
    """The encrypted credentials of the project's state store (None when its backend keeps none)."""
    if store is None:
        from newsroom.state import open_store

        try:
            store = open_store(project.root, project.settings.state, cache=False)
        except NotImplementedError:
            return None
    getter = getattr(store, "credentials", None)
    return getter(env) if getter else None


class Adapters:
    """Every channel of publish.yml built once per run, with why it cannot deliver when it cannot."""

    def __init__(self, project: Project, env: Mapping[str, str], store=None):
        self.adapters: dict[str, Channel] = {}
        self.inactive: dict[str, str] = {}
        vault = credential_vault(project, env, store)
        for name, config in project.settings.channels.items():
            if config.type not in TYPES:
                continue  # an unknown type is a check problem already
            adapter = build(config, env)
            adapter.prepare(project.settings)  # its folders and readers: it reads no settings itself
            # Token expiry is the platform's real time, not the run's --now.
            adapter.use_credentials(vault, lambda: datetime.now(timezone.utc))
            self.adapters[name] = adapter
            missing = adapter.missing_secrets()
            problem = adapter.credential_problem() if not missing else None
            in_ci = adapter.unusable_in_ci() if str(env.get("CI", "")).lower() == "true" else None
            if in_ci:  # the local defaults (public/, outbox/) are for a laptop, not a runner thrown away
                self.inactive[name] = in_ci
            elif missing:
                self.inactive[name] = (f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set "
                                       "in the environment")
            elif problem:
                self.inactive[name] = problem
            elif type(adapter).deliver is Channel.deliver:
                self.inactive[name] = f"this version cannot deliver to {config.type} channels yet"

    def grace(self, name: str):
        adapter = self.adapters.get(name)
        return adapter.grace if adapter else None
