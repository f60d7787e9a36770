"""``publish.py status``: per channel, what went out, what failed, what is claimed without a receipt,
and what is due next; from the ledger and the plan, through the same ``due.decide`` the run uses."""
from __future__ import annotations

from datetime import datetime

from newsroom.model import Project
from newsroom.state import StateStore

from . import after, due
from .output import when
from .plan import plan

NEXT = 5  # upcoming entries listed per channel


def status(project: Project, store: StateStore, now: datetime, env, *, verify: bool = False) -> dict:
    """``verify``: ask each platform whether the channel's credential works (once per channel)."""
    from channels.registry import Adapters

    from .health import channel_health, lapses, upcoming

    channels = Adapters(project, env, store)
    ledger = store.entries()
    items = {i.id: i for i in project.items}
    with_errors = {p.path for p in project.problems if p.severity == "error"}  # what the run holds back
    out: dict[str, dict] = {}
    for name, config in project.settings.channels.items():
        out[name] = {"type": config.type, "inactive": channels.inactive.get(name), "delivered": [], "failed": [],
                     "needs_person": [], "missed": [], "claimed": [], "changed": [], "due_now": [], "next": [],
                     "corrected": [], "withdrawn": [],
                     "held": [], "waiting": [],
                     "credential_waiting": [], "refused": None}
    for st in ledger.values():
        row = out.get(st.channel or "")
        if row is None:
            continue
        item = items.get(st.item)
        base = {"item": st.item, "path": item.path if item else st.path, "at": st.last_at}
        if st.state == "delivered":
            row["delivered"].append({**base, "url": (st.receipt or {}).get("url"),
                                     "remote_id": (st.receipt or {}).get("remote_id")})
            if st.corrections:
                row["corrected"].append({**base, "corrections": len(st.corrections),
                                         "revision": st.corrected_revision})
            edits = getattr(channels.adapters.get(st.channel or ""), "EDITS", False)
            if item is not None and item.revision not in (st.delivered_revision, st.corrected_revision) and not (
                    edits and st.changed_revision == item.revision):  # (its post found to say the same)
                why = ("said once: this channel cannot edit" if st.changed_revision == item.revision else
                       f"correction failed: {st.correction_error}" if st.correction_failed == item.revision else
                       f"could not be taken down: {st.withdraw_error}" if st.withdraw_failed == item.revision else
                       f"the correction waits for approval (status is {item.status})" if item.status != "approved"
                       else "the correction is held: the file has errors (publish check lists them)"
                       if item.path in with_errors else "correction due on the next run")
                row["changed"].append({**base, "note": why})
        elif st.state == "withdrawn":
            deleted = item is None and st.path and not (project.root / st.path).exists()
            row["withdrawn"].append({**base, "reason": st.withdrawn_reason or ("its file was deleted" if deleted
                                                                               else None)})
        elif st.state == "failed" and st.credential:
            # the platform refused the credential: the entry waits for a person to fix that secret
            row["credential_waiting"].append({**base, "error": st.error, "credential": st.credential})
            row["refused"] = st.credential
        elif st.state == "failed":
            row["needs_person" if st.unresolved else "failed"].append(
                {**base, "error": st.error, "retryable": st.retryable})
        elif st.state == "missed":
            row["missed"].append({**base, "reason": st.error})
        elif st.state == "held":  # not sent: what it waits for (after:) will not be delivered
            row["held"].append({**base, "reason": st.error})
        elif st.state == "claimed":
            alive = store.run_alive(st.claimed_by)
            row["claimed"].append({**base, "run": st.claimed_by, "in_flight": alive,
                                   "note": "being sent now" if alive else
                                   "no receipt and its run has ended: the next publish reconciles it"
                                   if item is not None else
                                   f"no receipt, its run has ended, and no item '{st.item}' loads any more: it "
                                   f"may have gone out; restore {st.path} (or its id:) and the next publish "
                                   "reconciles it"})
    planned = plan(project, ledger=ledger, now=due.planning_time(project, now, channels.grace))
    order = after.Order(planned, project.settings)
    for entry in planned:
        gate = order.gate(entry, ledger, now)
        entry = order.effective(entry, gate)
        d = due.decide(entry, ledger.get(entry.key), now, grace=channels.grace(entry.channel), alive=store.run_alive)
        row = out[entry.channel]
        if gate.state != after.READY and d.action == due.SEND:
            # due, but what it waits for is not delivered (or its page not seen answering) yet
            row["waiting"].append({"item": entry.item.id, "path": entry.item.path, "reason": gate.reason,
                                   "at": entry.at.isoformat() if entry.at else None,
                                   "held": gate.state == after.HELD})
        elif d.action == due.WAIT:
            row["next"].append({"item": entry.item.id, "path": entry.item.path, "at": entry.at.isoformat(),
                                **({"share": entry.share} if entry.share else {})})
        elif d.action in (due.SEND, due.RECONCILE, due.MISS):
            row["due_now"].append({"item": entry.item.id, "path": entry.item.path,
                                   "at": entry.at.isoformat() if entry.at else None, "action": d.action})
    for row in out.values():
        row["next"] = sorted(row["next"], key=lambda r: r["at"])[:NEXT]
        for key in ("delivered", "failed", "missed", "held"):
            row[key].sort(key=lambda r: r["at"] or "")
    ahead = upcoming(plan(project, ledger=ledger, now=now), ledger, now)
    health = channel_health(channels, ahead, verify=verify)
    for name, h in health.items():
        out[name]["credential"] = h.as_dict()
        out[name]["credential"]["line"] = h.line()
    for lapse in lapses(channels, health, ahead):
        out[lapse.channel]["credential"]["warning"] = lapse.message(now).split(": ", 1)[1]
    return {"now": now.isoformat(), "channels": out,
            "state": {"backend": getattr(store, "backend", "files"), "where": store.describe()}}


def text(report: dict) -> list[str]:
    lines = [f"Status at {when(datetime.fromisoformat(report['now']))}"]
    for name, row in report["channels"].items():
        head = f"{name} ({row['type']})"
        if row["inactive"]:
            head += f": inactive, {row['inactive']}"
        lines.append(head)
        counts = [f"{len(row['delivered'])} delivered"] + [
            f"{len(row[k])} {label}" for k, label in (("failed", "failed"),
                                                      ("credential_waiting", "waiting for a credential"),
                                                      ("needs_person", "need a person"),
                                                      ("missed", "missed"), ("claimed", "claimed without receipt"),
                                                      ("changed", "changed after publishing"),
                                                      ("corrected", "corrected"), ("withdrawn", "withdrawn"),
                                                      ("due_now", "due now"),
                                                      ("held", "held by a dependency"),
                                                      ("waiting", "waiting for another channel"))
            if row[k]]
        lines.append("  " + ", ".join(counts))
        if row.get("refused"):
            n = len(row["credential_waiting"])
            lines.append(f"  REFUSED  {row['refused']}: the platform refused this credential; fix it and "
                         f"{n} entr{'y' if n == 1 else 'ies'} waiting on it go out on the next run")
        credential = row.get("credential")
        if credential and not row["inactive"] and (credential["state"] != "unchecked" or credential["expires_at"]
                                                   or credential["missing_scopes"] or credential.get("warning")):
            lines.append(f"  credential: {credential['line']}")
            if credential.get("warning"):
                lines.append(f"  WARNING  {credential['warning']}")
        for r in row["failed"]:
            lines.append(f"  failed   {r['path']}: {r['error']}" + (" (retried next run)" if r["retryable"] else ""))
        for r in row["needs_person"]:
            lines.append(f"  CHECK    {r['path']}: {r['error']}")
        for r in row["missed"]:
            lines.append(f"  missed   {r['path']}: {r['reason']}")
        for r in row["held"]:
            lines.append(f"  held     {r['path']}: {r['reason']}")
        for r in row["waiting"]:
            lines.append(f"  waiting  {r['path']}: {r['reason']}"
                         + (" (the next run records it held)" if r["held"] else ""))
        for r in row["claimed"]:
            lines.append(f"  claimed  {r['path']} by run {r['run']}: {r['note']}")
        for r in row["changed"]:
            lines.append(f"  changed  {r['path']}: edited after it went out ({r['note']})")
        for r in row["corrected"]:
            lines.append(f"  fixed    {r['path']}: {r['corrections']} correction(s), the last at {when(r['at'])}")
        for r in row["withdrawn"]:
            lines.append(f"  gone     {r['path']}: withdrawn" + (f" ({r['reason']})" if r['reason'] else ""))
        for r in row["due_now"]:
            what = {"send": "due now", "reconcile": "to reconcile",
                    "miss": "past its grace window (recorded missed once the channel is active)" if row["inactive"]
                    else "past its grace window (the next run records it missed)"}[r["action"]]
            lines.append(f"  {'due now':<8} {r['path']} ({when(r['at'])}): {what}")
        for r in row["next"]:
            lines.append(f"  next     {r['path']} at {when(r['at'])}"
                         + (f" (evergreen share {r['share']})" if r.get("share") else ""))
    if report.get("state"):
        lines.append(f"state: {report['state']['where']}")
    return lines
