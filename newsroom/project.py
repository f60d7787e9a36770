"""Load a whole project: settings, every item, every problem; and what each layer adds to it.

Every layer declares a ``Layer`` (``<layer>/layer.py``): the settings it owns (channel types'
options and overrides, sections of publish.yml) and the checks it runs for ``publish.py check``
(MkDocs' config schemas and Datasette's plugin hooks work this way). ``scheduler/project.py``
assembles them; the core only knows the shape.
"""
from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Mapping

from . import schema as s
from .gcpause import collector_paused
from .items import load_items
from .model import Project
from .problems import Problem, sort_problems
from .settings import load_settings
from .translations import link as link_translations
from .workflow import check_together


@dataclass
class CheckContext:
    """What a layer's check is handed: the time that decides look-ahead rules, the environment that
    holds the channels' secrets, whether to ask platforms (``verify``), the ledger, and the items
    whose posts are rendered (``items``: paths; None, every item: a publish run renders only the
    items it has work for), and the calendar when the caller has planned it (``plan``: a publish run's)."""

    now: datetime
    env: Mapping[str, str]
    verify: bool = False
    ledger: dict = field(default_factory=dict)
    items: frozenset | None = None
    plan: list | None = None  # the calendar as of ``now`` on ``ledger``, when the caller made it already
    progress: Callable[[int, int, str], None] | None = None  # long work's steps, on a terminal (``check``'s)


@dataclass(frozen=True)
class Layer:
    """What one layer adds to a project. Schemas are given as functions (read when a project is
    loaded), checks as a function of the project and a ``CheckContext``."""

    name: str
    channel_types: Callable[[], dict[str, s.Schema]] | None = None
    channel_overrides: Callable[[], dict[str, s.Schema]] | None = None
    sections: Callable[[], s.Schema] | None = None
    check: Callable[[Project, CheckContext], list[Problem]] | None = None


def find_root(start: Path | None = None) -> Path:
    """The nearest folder holding publish.yml, from ``start`` upwards; ``start`` itself otherwise."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "publish.yml").exists():
            return folder
    return here


def split_target(value: str) -> tuple[str, str | None]:
    """``PATH[:CHANNEL]`` as a person types it (``--only``, ``resolve``): the channel follows the last
    colon, unless that part looks like a path."""
    target, sep, channel = value.rpartition(":")
    if not sep or "/" in channel or channel.endswith(".md"):
        return value, None
    return target, channel


def typed_path(root: Path, typed: str, cwd: Path | None = None) -> str:
    """A path as typed from anywhere inside the project (or relative to its root), as the project
    names it: relative to the root, POSIX separators."""
    target = Path(typed)
    here = target if target.is_absolute() else (cwd or Path.cwd()) / target
    if here.exists() and here.resolve().is_relative_to(root):
        return here.resolve().relative_to(root).as_posix()
    return target.as_posix()


@dataclass(frozen=True)
class Declarations:
    """Every layer's schemas together: each channel type's options and item overrides, and the
    sections of publish.yml that layers above the core own."""

    channel_types: dict[str, s.Schema] | None = None
    channel_overrides: dict[str, s.Schema] | None = None
    extra_sections: s.Schema | None = None

    def __iter__(self):
        return iter((self.channel_types, self.channel_overrides, self.extra_sections))


def declarations(layers: Iterable[Layer], channel_types: dict[str, s.Schema] | None = None,
                 channel_overrides: dict[str, s.Schema] | None = None,
                 extra_sections: s.Schema | None = None) -> Declarations:
    """What ``layers`` declare, added to the schemas given."""
    for layer in layers:
        # chained, not copied: a layer's mapping may read its entries only when asked (channels/registry.py)
        if layer.channel_types:
            channel_types = ChainMap(layer.channel_types(), channel_types or {})
        if layer.channel_overrides:
            channel_overrides = ChainMap(layer.channel_overrides(), channel_overrides or {})
        if layer.sections:
            if extra_sections is not None:
                raise ValueError("one layer owns the extra sections of publish.yml")
            extra_sections = layer.sections()
    return Declarations(channel_types, channel_overrides, extra_sections)


def load_project(root: Path, *, channel_types: dict[str, s.Schema] | None = None,
                 channel_overrides: dict[str, s.Schema] | None = None,
                 extra_sections: s.Schema | None = None, cache: bool = False,
                 layers: Iterable[Layer] = (), stats: dict | None = None) -> Project:
    """Everything loaded and checked. Raises ``UnusableSettings`` when publish.yml cannot be used.

    The schemas come from ``layers`` (and the explicit arguments, for tests of one layer).
    ``cache``: reuse items whose files did not change since the last load (``.cache/items/``);
    ``stats``: their stat keys by path, when the caller has just taken them."""
    channel_types, channel_overrides, extra_sections = declarations(layers, channel_types, channel_overrides,
                                                                    extra_sections)
    settings, problems = load_settings(root, extra_sections=extra_sections, channel_types=channel_types)
    item_cache = None
    if cache:
        from .itemcache import ItemCache

        item_cache = ItemCache(root, (root / "publish.yml").read_bytes())
    with collector_paused():  # 10,000 items made or unpickled: no collector passes over them meanwhile
        items = load_items(root, settings, problems, channel_overrides, cache=item_cache, stats=stats)
        if item_cache is not None:
            item_cache.save()
        items = link_translations(items, settings, problems)
        problems.extend(check_together(items))
    return Project(root, settings, items, sort_problems(problems))
