"""The built-in channel types, registered explicitly in one table (Datasette's DEFAULT_PLUGINS).

A type's module is imported when the type is first used, not before: a project on the blog alone
does not import the email package or fifteen platforms' adapters on every command (about 30 ms of
each run). ``TYPES`` knows every name without importing anything; ``BUILTIN`` imports them all.
"""
from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import datetime, timezone
from importlib import import_module
from typing import Mapping

from newsroom import schema as s
from newsroom.model import Project

from .base import Channel
from .text import LengthRule, code_points

#: type → (module, class), in the order the reference lists them
_BUILTIN: dict[str, tuple[str, str]] = {
    "blog": ("channels.blog.channel", "Blog"), "email": ("channels.email.channel", "Email"),
    "slack": ("channels.slack", "Slack"), "discord": ("channels.discord", "Discord"),
    "webhook": ("channels.webhook", "Webhook"), "mastodon": ("channels.mastodon", "Mastodon"),
    "bluesky": ("channels.bluesky", "Bluesky"), "linkedin": ("channels.linkedin", "LinkedIn"),
    "devto": ("channels.devto", "DevTo"), "telegram": ("channels.telegram", "Telegram"), "x": ("channels.x", "X"),
    "listmonk": ("channels.listmonk", "Listmonk"), "mailchimp": ("channels.mailchimp", "Mailchimp"),
    "threads": ("channels.threads", "Threads"), "facebook": ("channels.facebook", "Facebook"),
    "ghost": ("channels.ghost", "Ghost"), "wordpress": ("channels.wordpress", "WordPress"),
    "hashnode": ("channels.hashnode", "Hashnode"), "instagram": ("channels.instagram", "Instagram"),
}


class _Types(MutableMapping):
    """Channel type name → adapter class; a built-in's module imported when its class is first asked for."""

    def __init__(self, lazy: dict[str, tuple[str, str]]):
        self._lazy = dict(lazy)
        self._classes: dict[str, type[Channel]] = {}
        self._order = list(lazy)

    def __getitem__(self, name: str) -> type[Channel]:
        cls = self._classes.get(name)
        if cls is None:
            where = self._lazy.get(name)
            if where is None:
                raise KeyError(name)
            cls = self._classes[name] = getattr(import_module(where[0]), where[1])
            if cls.TYPE != name:
                raise RuntimeError(f"{where[0]}.{where[1]}.TYPE is '{cls.TYPE}', registered as '{name}'")
        return cls

    def __contains__(self, name) -> bool:
        return name in self._classes or name in self._lazy

    def __setitem__(self, name: str, cls: type[Channel]) -> None:
        if name not in self:
            self._order.append(name)
        self._lazy.pop(name, None)
        self._classes[name] = cls

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._lazy.pop(name, None)
        self._classes.pop(name, None)
        self._order.remove(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"<channel types: {', '.join(self._order)}>"


class _Schemas(Mapping):
    """Type name → one schema of its class (``OPTIONS``, ``OVERRIDES``), read when asked for; a type
    whose class has none is not in it. ``every``: each class has one (``Channel.OPTIONS``), so the
    names are known without importing any."""

    def __init__(self, attribute: str, every: bool = False):
        self.attribute, self.every = attribute, every

    def __getitem__(self, name: str) -> s.Schema:
        schema = getattr(TYPES[name], self.attribute)
        if schema is None:
            raise KeyError(name)
        return schema

    def __contains__(self, name) -> bool:
        return name in TYPES and (self.every or getattr(TYPES[name], self.attribute) is not None)

    def __iter__(self) -> Iterator[str]:
        return (name for name in TYPES if self.every or getattr(TYPES[name], self.attribute) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


TYPES: MutableMapping[str, type[Channel]] = _Types(_BUILTIN)
PLAIN = LengthRule("plain", None, "characters", code_points, "")


def __getattr__(name: str):
    if name == "BUILTIN":  # every built-in class: the reference and its tests list them all
        return tuple(TYPES[type_] for type_ in _BUILTIN)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def option_schemas() -> Mapping[str, s.Schema]:
    """Each type's option schema, its module imported only when a channel of that type is read."""
    return _Schemas("OPTIONS", every=True)


def override_schemas() -> Mapping[str, s.Schema]:
    return _Schemas("OVERRIDES")


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
