"""One delivery with retries: exponential backoff with full jitter, the platform's requested wait, a run budget.

Timeouts, dropped connections, 5xx and 429 are worth another try (``Failure.retryable``); anything
else is final at once, with the platform's own message. A failure that may have gone through
(``Failure.ambiguous``: the connection broke after the request was sent) is reconciled through the
channel before the next try, so a retry never posts twice. The wait before try *n* is uniform in
[0, min(cap, base·2ⁿ)] ("full jitter", https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
and never shorter than a ``Retry-After`` the platform sent (RFC 9110 §10.2.3).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

from channels.base import CannotReconcile, Channel, DeliveryContext, Failure, Post, Receipt


@dataclass
class Budget:
    """Seconds a whole run may spend waiting and retrying; shared by every entry of the run."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)

    def __post_init__(self):
        self.started = self.clock()

    def left(self) -> float:
        return self.seconds - (self.clock() - self.started)


@dataclass
class Retry:
    max_attempts: int = 4
    base: float = 2.0
    cap: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wait = self.rng.uniform(0, min(self.cap, self.base * 2 ** attempt))
        return max(wait, retry_after or 0.0)


@dataclass
class Attempt:
    """How a delivery ended: a receipt, or the last failure; and what happened on the way."""

    result: Receipt | Failure
    tries: int = 0
    waited: list[float] = field(default_factory=list)
    reconciled: bool = False  # the receipt was found by reconciling after an ambiguous failure
    unresolved: str | None = None  # the channel cannot tell whether an ambiguous try went out
    note: str = ""


def safe(call, *args) -> Receipt | Failure:
    """An adapter's deliver: a bug inside it becomes a failure that may have gone out, not a dead run."""
    try:
        return call(*args)
    except (CannotReconcile, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - one adapter's bug must not stop the other channels
        return Failure(f"internal error in the adapter: {type(exc).__name__}: {exc}", retryable=False, ambiguous=True)


def reconcile(channel: Channel, post: Post, ctx: DeliveryContext) -> tuple[Receipt | None, str | None, Failure | None]:
    """(receipt or None, why it cannot be told, failure while asking)."""
    try:
        got = channel.reconcile(post, ctx)
    except CannotReconcile as exc:
        return None, str(exc) or "the channel cannot tell", None
    except Exception as exc:  # noqa: BLE001
        return None, None, Failure(f"could not check whether it went out: {type(exc).__name__}: {exc}",
                                   retryable=True, ambiguous=True)
    if isinstance(got, Failure):
        # The platform could tell but did not answer now (down, 5xx): still uncertain, asked again
        # by the next run; a person only where the channel itself cannot tell.
        return None, None, Failure(f"could not check whether it went out: {got.message}",
                                   retryable=got.retryable, ambiguous=True, status=got.status)
    return got, None, None


def deliver(channel: Channel, post: Post, ctx: DeliveryContext, *, budget: Budget, retry: Retry,
            sleep: Callable[[float], None]) -> Attempt:
    attempt = Attempt(result=Failure("not tried"))
    while True:
        result = safe(channel.deliver, post, ctx)
        attempt.tries += 1
        attempt.result = result
        if isinstance(result, Receipt) or not result.retryable or result.waits or ctx.dry_run:
            return attempt  # a platform's limit reached for now (``waits``) is not tried again in this run
        if attempt.tries >= retry.max_attempts:
            attempt.note = f"gave up after {attempt.tries} tries"
            return attempt
        wait = retry.delay(attempt.tries - 1, result.retry_after)
        if wait > budget.left():
            attempt.note = f"the run's retry budget is used up (next try would wait {wait:.0f}s)"
            return attempt
        sleep(wait)
        attempt.waited.append(wait)
        if result.ambiguous:
            # The request may have reached the platform: ask before sending again.
            receipt, cannot, failure = reconcile(channel, post, ctx)
            if receipt is not None:
                attempt.result, attempt.reconciled = receipt, True
                return attempt
            if cannot is not None:
                attempt.unresolved = cannot
                return attempt
            if failure is not None:
                attempt.result = failure
                return attempt
