"""Alerts: a failed or missed entry is announced on the channel named in publish.yml ``alerts.channel``.

Once per problem: the ledger records ``alerted`` with the problem's id (kind and revision), so the
next run does not repeat it; a new revision that fails again is a new problem. A retryable failure is
announced only after it has failed ``ALERT_AFTER_ATTEMPTS`` runs (a single 503 is not news).
"""
from __future__ import annotations

from channels.base import DeliveryContext, Post, Receipt
from newsroom.state import EntryState

from .deliver import Retry, deliver

#: A retryable failure is announced once it has failed this many runs in a row (earlier ones are noise).
ALERT_AFTER_ATTEMPTS = 3

KINDS = {"missed": "missed", "failed": "failed", "unresolved": "needs a person", "failing": "keeps failing",
         "held": "held by a dependency"}


def problem_of(st: EntryState) -> str | None:
    """The id of the problem an entry is in, or None when it is fine or simply waiting."""
    if st.state in ("missed", "held"):
        return f"{st.state}@{st.revision}"
    if st.state != "failed":
        return None
    if st.unresolved:
        return f"unresolved@{st.revision}"
    if not st.retryable:
        return f"failed@{st.revision}"
    if st.attempts >= ALERT_AFTER_ATTEMPTS:
        return f"failing@{st.revision}"
    return None


def alert_pending(run, st: EntryState | None) -> bool:
    """Whether ``st`` is in a problem the run's alert channel has not announced yet."""
    via = run.project.settings.alerts.get("channel")
    if st is None or not via or via not in run.channels.adapters or via in run.channels.inactive:
        return False
    problem = problem_of(st)
    return problem is not None and problem not in st.alerted


def message(st: EntryState, title: str, path: str) -> str:
    kind = KINDS[problem_of(st).split("@", 1)[0]]
    return (f"Publishing problem: \"{title}\" {kind} on {st.channel}\n"
            f"Error: {st.error or 'unknown'}\n"
            f"File: {path}\n"
            f"Item: {st.item}")


def send_alerts(run) -> None:
    """Announce every entry with a problem not announced yet; a failed alert is tried again next run."""
    via = run.project.settings.alerts.get("channel")
    if not via:
        return
    ledger = run.store.entries()
    pending = [st for st in ledger.values() if (p := problem_of(st)) is not None and p not in st.alerted]
    if not pending:
        return
    if via not in run.channels.adapters:
        return  # an unknown alert channel is a check problem already
    if via in run.channels.inactive:
        run.report.notes.append(f"alerts: {via} is inactive ({run.channels.inactive[via]}); "
                                f"{len(pending)} problem{'s' * (len(pending) != 1)} not announced")
        return
    channel = run.channels.adapters[via]
    for st in sorted(pending, key=lambda s: s.key):
        problem = problem_of(st)
        item = run.by_item_id.get(st.item)
        title = item.title if item else (st.item or st.key)
        path = item.path if item else (st.path or "?")
        text = message(st, title, path)
        if channel.TYPE == "slack":  # Slack mrkdwn: &, < and > must be escaped
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        post = Post(channel=via, type=channel.TYPE, item_id=st.item or st.key, item_path=path,
                    revision=st.revision or "", title=f"Publishing problem: {title}",
                    url=(f"{run.project.settings.site.url}/{item.slug}/" if item else run.project.settings.site.url),
                    parts=[text], lengths=[channel.count(text)], subject=f"Publishing problem: {title}", text=text)
        ctx = DeliveryContext(key=f"alert/{st.key}/{problem}", now=run.now, sleep=run.opts.sleep)
        attempt = deliver(channel, post, ctx, budget=run.budget, retry=Retry(max_attempts=2, rng=run.opts.retry.rng),
                          sleep=run.opts.sleep)
        if isinstance(attempt.result, Receipt):
            run.store.append([{"event": "alerted", "entry": st.key, "problem": problem, "via": via,
                               "run": run.run, "at": run.now.isoformat(timespec="seconds")}])
            run.report.notes.append(f"alert sent to {via}: {st.key} {KINDS[problem.split('@', 1)[0]]}")
        else:
            run.report.notes.append(f"alert to {via} failed ({attempt.result.message}); the next run tries again")
            break
