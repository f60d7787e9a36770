"""``publish state migrate|export|import`` and ``publish status --all``: the state store itself.

- ``migrate`` applies the postgres backend's migrations (``newsroom/state/migrations.py``); nothing
  else ever creates or changes its tables.
- ``export FOLDER`` writes the project's whole state as a files backend's folder (JSON Lines: the
  interchange), ``import FOLDER`` reads one into the project's store, which must be empty
  (``newsroom/state/interchange.py``). Files → PostgreSQL → files gives back the same lines.
- ``gc``: what runs killed before their end left behind (``newsroom/state/gc.py``): removed once
  their claims are reconciled, kept (and said why) until then.
- ``status --all``: every project (brand) that keeps its state in the same database, with its
  entries' states (``projects``).
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from newsroom.problems import UsageError

from .shown import Shown, listing


def _project(root: Path):
    from .project import load_project

    return load_project(root)


def _postgres_url(project, what: str) -> str:
    from newsroom.state.postgres import resolve_url

    if project.settings.state.get("backend", "files") != "postgres":
        raise UsageError(f"state.backend is files here: {what} is for a project whose state is in PostgreSQL "
                         "(state: {backend: postgres, url: env:DATABASE_URL}; see docs/scaling.md)")
    return resolve_url(project.settings.state, os.environ)


def migrate(root: Path, *, fmt: str = "text") -> Shown:
    """Bring the state database's tables to the version this tool needs; what was applied."""
    from newsroom.state.postgres import apply_migrations, where

    url = _postgres_url(_project(root), "state migrate")
    applied, version = apply_migrations(url)
    result = {"backend": "postgres", "where": where(url), "version": version,
              "applied": [{"version": m.version, "name": m.name} for m in applied]}
    return listing(fmt, result, migrate_lines(result))


def migrate_lines(result: dict) -> list[str]:
    if not result["applied"]:
        return [f"the state database {result['where']} is current (schema version {result['version']})"]
    return [f"applied {m['version']}: {m['name']}" for m in result["applied"]] + [
        f"the state database {result['where']} is at schema version {result['version']}"]


def _files(folder: Path):
    from newsroom.state.files import FileStore

    return FileStore(folder)


def export(root: Path, *, folder: Path, fmt: str = "text") -> Shown:
    """Write the project's state into ``folder`` (new or empty) as a files backend's folder."""
    from newsroom.state import store_of
    from newsroom.state.interchange import transfer

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} is not an empty folder: export into a new one (nothing was written)")
    store = store_of(_project(root))
    moved = transfer(store, _files(folder), target_name=str(folder))
    result = {"from": store.describe(), "to": str(folder), "moved": moved}
    return listing(fmt, result, moved_lines(result))


def import_(root: Path, *, folder: Path, fmt: str = "text") -> Shown:
    """Read a files backend's folder (a ``state/`` or an export) into the project's empty store."""
    from newsroom.state import store_of
    from newsroom.state.interchange import transfer

    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: name a state folder (state/) or an export of one")
    store = store_of(_project(root))
    moved = transfer(_files(folder), store, target_name=f"the project's state ({store.describe()})")
    result = {"from": str(folder), "to": store.describe(), "moved": moved}
    return listing(fmt, result, moved_lines(result))


def moved_lines(result: dict) -> list[str]:
    counts = ", ".join(f"{n} {kind}" for kind, n in result["moved"].items())
    return [f"moved {counts}", f"from {result['from']} to {result['to']}"]


def projects(root: Path) -> list[dict]:
    """``status --all``: per project in the shared database, how many entries are in each state."""
    from newsroom.state.postgres import PostgresStore

    project = _project(root)
    url = _postgres_url(project, "status --all")
    here = project.settings.state.get("project")
    out = []
    for key in PostgresStore(url, here).projects():
        entries = PostgresStore(url, key).entries()
        states = Counter(st.state for st in entries.values())
        last = max((st.last_at or "" for st in entries.values()), default="") or None
        out.append({"project": key, "this": key == here, "entries": len(entries), "states": dict(sorted(states.items())),
                    "last": last})
    return out


def projects_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return ["no project has state in this database yet"]
    lines = []
    for r in rows:
        states = ", ".join(f"{n} {s}" for s, n in r["states"].items())
        lines.append(f"{'*' if r['this'] else ' '} {r['project']}: {r['entries']} entries ({states}); "
                     f"last event {r['last'] or 'never'}")
    return lines


def gc(root: Path, *, fmt: str = "text") -> Shown:
    """Remove the records of runs killed before their end whose claims all have an outcome; the others
    are kept, each with the claims the next publish reconciles."""
    from newsroom.state import store_of
    from newsroom.state.gc import collect

    done = collect(store_of(_project(root)))
    result = {"removed": done.removed, "kept": [{"run": run, "claims": claims} for run, claims in done.kept.items()]}
    return listing(fmt, result, gc_lines(result))


def gc_lines(result: dict) -> list[str]:
    lines = [f"removed the record of run {run}: it was killed before its end, and its claims have outcomes"
             for run in result["removed"]]
    for kept in result["kept"]:
        claims = kept["claims"]
        what = f"its claim on {claims[0]} has" if len(claims) == 1 else f"its claims on {', '.join(claims)} have"
        lines.append(f"kept the record of run {kept['run']}: {what} no outcome yet; the next publish reconciles it")
    return lines or ["nothing to clean up: no run was left behind"]
