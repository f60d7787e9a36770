"""The state store: the ledger of what was claimed, delivered, failed or missed, and what pulls found.

Every layer touches state only through the ``StateStore`` interface below; ``open_store`` picks the
backend publish.yml names (``state.backend``) from ``BACKENDS``. A second backend is one module beside
``files.py`` that implements the interface (``postgres.py``, for teams that run several publishers
at once), registered in ``BACKENDS``, and held to it by ``tests/test_state_contract.py``. What events mean is the same for every backend (``fold.py``).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, ContextManager, Iterable, Iterator, Protocol

from .files import FileStore
from .fold import (EntryState, StateUnwritable, dumps, entry_key, fold_mentions, fold_replies, fresh_mentions,  # noqa: F401
                   fresh_replies)

if TYPE_CHECKING:
    from newsroom.credentials import Vault


class StateStore(Protocol):
    """Everything any layer reads or writes of a project's state. Methods a backend must provide;
    ``tests/test_state_contract.py`` holds every backend to them.

    The ledger: events appended in order and folded per entry (``EntryState``). A delivery's journal
    is ``progress`` events in the ledger, read back through ``EntryState.journal_for``."""

    # -- the ledger ---------------------------------------------------------------------------
    def append(self, events: Iterable[dict], *, durable: bool = True) -> None:
        """Append ledger events in order; concurrent writers never interleave an event. Durable at
        once, or with ``durable=False`` by the next durable append or ``save()`` (for an event after
        which nothing is sent before the next claim, such as a receipt)."""
    def events(self) -> Iterator[dict]:
        """Every ledger event in the order appended."""
    def entries(self) -> dict[str, EntryState]:
        """Every entry's fold of its events (the same mapping again while nothing was appended)."""
    def claim(self, key: str, event: dict, may_claim: Callable[[EntryState], bool], *,
              durable: bool = True) -> bool:
        """Append ``event`` only if ``may_claim`` holds on the freshest state of ``key``, atomically
        against every other writer; whether it was appended. ``durable=False``: as for ``append``
        (a claim that guards nothing sent, such as the blog's)."""
    def ledger_version(self) -> object:
        """A value that changes whenever the ledger does (None: no ledger yet); the no-op cache
        keeps it to tell whether its answer still holds."""
    def save(self) -> None:
        """Keep what makes the next run's reading fast (a run calls it once at its end); a backend
        with nothing to keep does nothing."""

    # -- runs in flight -----------------------------------------------------------------------
    def run_lock(self, run: str) -> ContextManager:
        """Held for as long as run ``run`` lives."""
    def run_alive(self, run: str | None) -> bool:
        """Whether run ``run`` still holds its lock (its claims are not abandoned)."""
    def ended_runs(self) -> list[str]:
        """Runs whose record of being in flight is still there though they hold no lock (killed before
        their end): what ``gc.collect`` may remove once their claims are reconciled."""
    def forget_run(self, run: str) -> bool:
        """Remove the record run ``run`` left, only while it holds no lock (atomically against its
        taking it); whether it was removed. The ledger is never touched."""

    # -- what pulls found ---------------------------------------------------------------------
    def add_snapshots(self, rows: Iterable[dict]) -> int:
        """Store metric snapshot rows; how many."""
    def snapshots(self, since: str | None = None, until: str | None = None) -> Iterator[dict]:
        """Snapshot rows with ``since <= at < until`` (stamps; None: open)."""
    def snapshot_batches(self, since: str | None = None, until: str | None = None, *,
                         slots: bool = True) -> Iterator[list]:
        """Rows that may fall in the range, in batches, as light objects with ``at``, ``entry``,
        ``metrics`` (and ``slot`` unless ``slots`` is false), not filtered by time: the report
        reads 300,000 rows this way."""
    def period_metrics(self, since: str, until: str, prev_since: str,
                       bounds: list[str]) -> tuple[dict, dict]:
        """What a report reads (``periods.py``): (daily, previous), each entry's latest value of each
        metric per day of [``since``, ``until``) (day index: how many of ``bounds`` are at or before
        the row) and over [``prev_since``, ``since``). Every backend gives the same answer."""
    def filled_slots(self, since: str | None = None) -> set[tuple[str, str]]:
        """(entry, slot) pairs stored: the pull's resumable record."""
    def replies(self) -> list[dict]:
        """Replies, one per (channel, remote id)."""
    def add_replies(self, rows: Iterable[dict]) -> int:
        """Store the replies not stored yet (``fresh_replies``, atomically); how many."""
    def mentions(self) -> list[dict]:
        """Mentions found in feeds, folded (``fold_mentions``)."""
    def add_mentions(self, rows: Iterable[dict]) -> tuple[int, int]:
        """Store new and changed mentions (``fresh_mentions``, atomically): (added, updated)."""
    def feed_cache(self) -> dict[str, dict]:
        """Per feed, the newest conditional-GET record (etag, last-modified)."""
    def set_feed_cache(self, rows: Iterable[dict]) -> None: ...
    def record_pull(self, event: dict) -> None:
        """A pull run started or finished."""
    def pulls(self) -> list[dict]: ...

    # -- credentials a run may rotate ----------------------------------------------------------
    def credentials(self, env) -> Vault:
        """The encrypted credentials, changed atomically against other runs."""


    # -- moving between backends (interchange.py) -----------------------------------------------
    backend: str  # the name in ``BACKENDS``
    def describe(self) -> str:
        """Where the state is, for ``status`` (no secret: a URL is shown without its password)."""
    def export_lines(self, kind: str) -> Iterator[str]:
        """The stored JSON lines of ``kind`` (``interchange.KINDS``), exactly as stored, in order."""
    def import_lines(self, kind: str, lines: Iterable[str]) -> int: ...
    def credential_token(self) -> bytes:
        """The encrypted vault as stored (b"": none); moved without being decrypted."""
    def set_credential_token(self, token: bytes) -> None: ...
    def counts(self) -> dict[str, int]:
        """Rows of each kind (and ``credentials``: 0 or 1)."""


def _postgres(root: Path, settings: dict, cache_dir: Path | None) -> StateStore:
    import os

    from .postgres import PostgresStore, resolve_url

    return PostgresStore(lambda: resolve_url(settings, os.environ), settings.get("project") or "")


#: The state backends by ``state.backend`` in publish.yml.
BACKENDS: dict[str, Callable[[Path, dict, Path | None], StateStore]] = {
    "files": lambda root, settings, cache_dir: FileStore(root / settings.get("path", "state"), cache_dir=cache_dir),
    "postgres": _postgres,
}


def open_store(root: Path, state_settings: dict, *, cache: bool = True) -> StateStore:
    backend = state_settings.get("backend", "files")
    if backend not in BACKENDS:
        raise NotImplementedError(f"state backend '{backend}' is not available in this version")
    return BACKENDS[backend](root, state_settings, (root / ".cache") if cache else None)


def store_of(project) -> StateStore:
    """The state store ``publish.yml`` names for ``project``."""
    return open_store(project.root, project.settings.state)
