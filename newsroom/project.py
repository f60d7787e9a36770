"""Load a whole project: settings, every item, every problem."""
from __future__ import annotations

from pathlib import Path

from . import schema as s
from .items import load_items
from .model import Project
from .problems import sort_problems
from .settings import load_settings
from .workflow import check_together


def find_root(start: Path | None = None) -> Path:
    """The nearest folder holding publish.yml, from ``start`` upwards; ``start`` itself otherwise."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "publish.yml").exists():
            return folder
    return here


def load_project(root: Path, *, channel_types: dict[str, s.Schema] | None = None,
                 channel_overrides: dict[str, s.Schema] | None = None,
                 extra_sections: s.Schema | None = None, cache: bool = False) -> Project:
    """Everything loaded and checked. Raises ``UnusableSettings`` when publish.yml cannot be used.

    ``cache``: reuse items whose files did not change since the last load (``.cache/items.pickle``)."""
    settings, problems = load_settings(root, extra_sections=extra_sections, channel_types=channel_types)
    item_cache = None
    if cache:
        from .itemcache import ItemCache

        item_cache = ItemCache(root, (root / "publish.yml").read_bytes())
    items = load_items(root, settings, problems, channel_overrides, cache=item_cache)
    if item_cache is not None:
        item_cache.save()
    problems.extend(check_together(items))
    return Project(root, settings, items, sort_problems(problems))
