"""Files the tool reads at run time besides its code: the default templates and the example project.

They live in the repository's top-level folders (``templates/``, ``content/``, ``audience/``,
``publish.yml``), where the project's layout keeps them. A wheel carries a copy of them inside the
``newsroom`` package (``newsroom/_shipped/``, made by the build step in ``setup.py``), so an
installed tool (``pip install``, ``pipx install``) finds them through ``importlib.resources`` and
never looks next to its code for folders that are not there. A source checkout (an editable install,
``python publish.py``) reads the top-level folders themselves.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

#: What the build step copies into the wheel: the default templates and the example newsroom
#: (``publish init --example``). Paths relative to the repository's top level.
SHIPPED = ("templates", "content", "audience", "sample", "publish.yml")


@lru_cache(maxsize=None)
def shipped(name: str) -> Path:
    """The shipped file or folder ``name`` (one of ``SHIPPED``): the installed copy when the tool
    runs from a wheel, else the source checkout's own."""
    if name not in SHIPPED:
        raise ValueError(f"{name} is not shipped with the tool (one of {', '.join(SHIPPED)})")
    package = Path(str(resources.files("newsroom")))
    installed = package / "_shipped" / name
    if installed.exists():
        return installed
    return package.parent / name


def version() -> str:
    """The installed distribution's version (``publish --version``), or the source tree's."""
    from importlib import metadata

    try:
        return metadata.version("newsroom-publish")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        import tomllib

        pyproject = Path(str(resources.files("newsroom"))).parent / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"
