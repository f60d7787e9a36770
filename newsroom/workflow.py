"""The editorial workflow: the team's states (publish.yml ``workflow:``), who may approve, and the rules
every item is checked against, alone and together with the others.

The states run from ``idea`` through the team's own (default: draft, review, approved) to ``published``
(or ``archived``/``withdrawn``). The last of the team's states is the final approval state: only an
item there may go out. Each state stands for a built-in status (``Workflow.status_of``), so the
calendar's rules and the run read one word while people see the team's.

Other parts (the studio, notifications) ask here: ``states``, ``next_state``, ``approval_refusal``.
"""
from __future__ import annotations

from datetime import timedelta

from .model import DEFAULT_STATES, END_STATES, FIRST_STATE, Item, Person, Settings, State, Workflow
from .problems import ERROR, WARNING, Problem, did_you_mean

#: Channel types that can carry the workflow's notifications (``workflow.notify``).
NOTIFY_TYPES = ("slack", "discord", "email", "webhook")


def build_workflow(data: dict, doc, channels: dict, problems: list[Problem], path: str) -> Workflow:
    """``Workflow`` from the validated ``workflow:`` section; every problem with its line goes to
    ``problems``, and what is wrong is left out so the rest still works (no states left: the default)."""
    def add(key: str, message: str, severity: str = ERROR, line: int | None = None) -> None:
        problems.append(Problem(path, line or doc.line(key), key, message, severity))

    written = doc.data.get("workflow") if isinstance(doc.data, dict) else None
    given = isinstance(written, dict) and "states" in written
    raw = [st if isinstance(st, State) else State(st, st == "review", key=f"workflow.states[{i}]")
           for i, st in enumerate(data.get("states") or ()) if st]
    states: list[State] = []
    for st in raw:
        key, line = st.key or "workflow.states", st.line or doc.line(st.key or "workflow.states")
        if st.name == FIRST_STATE or st.name in END_STATES:
            add(key, f"'{st.name}' is where every workflow {'starts' if st.name == FIRST_STATE else 'ends'}; "
                     "list only the states between idea and published", line=line)
        elif any(other.name == st.name for other in states):
            add(key, f"'{st.name}' is listed twice; a state appears once", line=line)
        else:
            states.append(st)
    if given and not raw and not [p for p in problems if p.key.startswith("workflow.states")]:
        add("workflow.states", "lists no state: name at least the final approval state (e.g. [draft, review, "
                               "approved])")
    approved = next((st for st in states[:-1] if st.name == "approved"), None)
    if approved is not None:
        add(approved.key or "workflow.states", "'approved' is the final approval state, so it comes last (the last "
                                               "state is the one whose items may go out)", line=approved.line)
        states = [st for st in states if st is not approved] + [approved]
    if states and states[-1].approval:
        last = states[-1]
        add(last.key or "workflow.states", f"'{last.name}' is the last state, where approved items wait to go out, "
                                           "so nothing is approved in it: add the state its approval leads to (e.g. "
                                           "approved) after it", line=last.line)
        states.append(State("approved"))
    if not states:
        states = list(DEFAULT_STATES)

    people = {name: Person(str(name), p.get("slack"), p.get("discord"), p.get("email"))
              for name, p in (data.get("people") or {}).items() if isinstance(p, dict)}
    notify = tuple(data.get("notify") or ())
    for i, name in enumerate(notify):
        key = f"workflow.notify[{i}]"
        channel = channels.get(name)
        if channel is None:
            add(key, f"no channel named '{name}'{did_you_mean(name, channels)} (channels: "
                     f"{', '.join(channels) or 'none declared'})", line=doc.lines.get(key) or doc.line("workflow.notify"))
        elif channel.type not in NOTIFY_TYPES:
            add(key, f"'{name}' is a {channel.type} channel; notifications go through "
                     f"{', '.join(NOTIFY_TYPES)} channels", line=doc.lines.get(key) or doc.line("workflow.notify"))
    named = [("workflow.approvers", data.get("approvers") or ())]
    named += [(f"{st.key}.approvers", st.approvers) for st in states if st.key]
    for st in raw:
        if st.approvers and not st.approval:
            add(f"{st.key}.approvers", f"'{st.name}' does not need approval, so nobody approves in it: add "
                                       "approval: true or remove approvers", WARNING, line=st.line)
    if notify:
        for key, names in named:
            for name in names:
                if name not in people:
                    add(key, f"'{name}' is not in workflow.people{did_you_mean(name, people)}, so cannot be "
                             "told: add their handles there", WARNING)
        editor = data.get("editor")
        if editor and editor not in people:
            add("workflow.editor", f"'{editor}' is not in workflow.people{did_you_mean(editor, people)}, so cannot "
                                   "be told: add their handles there", WARNING)
    return Workflow(states=tuple(states), require_second_pair_of_eyes=bool(data.get("require_second_pair_of_eyes")),
                    approvers=tuple(data.get("approvers") or ()), people=people, editor=data.get("editor"),
                    notify=notify)


def _workflow(settings: Settings) -> Workflow:
    return getattr(settings, "workflow", None) or Workflow()


def states(settings: Settings) -> tuple[str, ...]:
    """Every state an item may be in, in the team's order (idea first, the ends last)."""
    return _workflow(settings).names


def next_state(settings: Settings, state: str) -> str | None:
    """Where an approval in ``state`` moves the item (None: nothing to approve there)."""
    wf = _workflow(settings)
    found = wf.state(state)
    if found is None or not found.approval:
        return None
    names = [st.name for st in wf.states]
    return names[names.index(state) + 1]


def may_go_out(settings: Settings, state: str) -> bool:
    """Whether an item in ``state`` may be published: the final approval state only."""
    return state == _workflow(settings).final


def approval_refusal(item: Item, approver: str, settings: Settings, state: str | None = None) -> str | None:
    """Why ``approver`` may not approve ``item`` in ``state`` (default: the item's own, or for an item
    already in the final state the approving state before it); None when they may."""
    wf = _workflow(settings)
    name = (approver or "").strip()
    if not name:
        return "approved_by is empty: write the name of who approved it"
    state = state or item.state
    if state == wf.final:
        approving = wf.approving_state()
        state = approving.name if approving is not None else state
    allowed = wf.approvers_of(state)
    if allowed and name.casefold() not in {a.strip().casefold() for a in allowed}:
        return (f"'{name}' may not approve in {state} (approvers: {', '.join(allowed)}): ask one of them, or add "
                f"the name to the approvers in publish.yml")
    if (wf.require_second_pair_of_eyes or settings.require_second_pair_of_eyes) and item.author and \
            name.casefold() == item.author.strip().casefold():
        return (f"'{name}' wrote this item and cannot also approve it (require_second_pair_of_eyes is on): "
                "ask another editor")
    return None


def check_item(item: Item, settings: Settings) -> list[Problem]:
    out: list[Problem] = []

    lines = item.doc.lines if item.doc else {}

    def add(key: str, message: str, severity: str = ERROR, near: str = "status") -> None:
        # A missing key has no line: point at the key that makes it necessary.
        line = item.line(key) if key in lines or "." in key else item.line(near)
        out.append(Problem(item.path, line, key, message, severity))

    if item.status == "approved":
        if not item.approved_by:
            what = "an approved item" if item.state == "approved" else f"an item in {item.state}"
            add("approved_by", f"{what} needs approved_by: the name of who approved it")
        else:
            refusal = approval_refusal(item, item.approved_by, settings)
            if refusal:
                add("approved_by", refusal)
    if item.status == "withdrawn" and not (item.reason or "").strip():
        add("reason", "a withdrawn item needs reason: why it is taken back (shown where its page was)")
    every = (item.evergreen or {}).get("every")
    if every is not None and every < timedelta(days=1):
        add("evergreen.every", "re-sharing more often than once a day floods the feed; write 1d or more",
            near="evergreen")
    for name in (item.evergreen or {}).get("channels") or ():
        channel = settings.channels.get(name)
        if name not in item.channels:
            add("evergreen.channels", f"'{name}' is not one of the item's channels; add it to channels: or "
                                      "take it out of evergreen.channels", near="evergreen")
        elif channel is not None and channel.type in ("blog", "email", "webhook"):
            add("evergreen.channels", f"'{name}' is a {channel.type} channel; evergreen re-shares on social "
                                      "channels only", near="evergreen")
    if item.status == "review" and not item.reviewers and not _workflow(settings).approvers_of(item.state):
        add("reviewers", f"an item in {item.state} should name its reviewers", WARNING)
    if item.image and not item.image_alt:
        add("image_alt", "an image needs alt text: describe it in image_alt for people who cannot see it",
                near="image")
    if item.publish_at and item.expires_at and item.expires_at <= item.publish_at:
        add("expires_at", "expires before it is published; move expires_at after publish_at", near="expires_at")
    unknown_segments = [s for s in item.segments if settings.segments and s not in settings.segments]
    for seg in unknown_segments:
        add("segments", f"unknown segment '{seg}'{did_you_mean(seg, settings.segments)}")
    if not item.channels and item.status in ("review", "approved") and not item.translation_of:
        add("channels", "goes to no channel: list where it goes (channels: [blog, newsletter])", WARNING)

    global_slots = bool(settings.calendar.rules.slots)
    for name, override in item.channels.items():
        key = f"channels.{name}"
        channel = settings.channels.get(name)
        if channel is None:
            add(key, f"no channel named '{name}' in publish.yml{did_you_mean(name, settings.channels)}")
            continue
        if override.segment and settings.segments and override.segment not in settings.segments:
            add(f"{key}.segment", f"unknown segment '{override.segment}'{did_you_mean(override.segment, settings.segments)}")
        if isinstance(override.at, timedelta) and item.publish_at is None and not item.translation_of:
            add(f"{key}.at", "an offset needs publish_at to count from; give publish_at or an absolute time")
        if item.status != "approved" or not override.enabled or not channel.enabled:
            continue
        has_slots = bool(channel.rules.slots) or global_slots
        if override.at == "next" and not has_slots:
            add(f"{key}.at", f"'next' takes the next free slot, but channel '{name}' has no slots in publish.yml")
        elif override.at is None and item.publish_at is None and not has_slots and not item.translation_of:
            add(key, f"approved but has no time on '{name}': give publish_at, channels.{name}.at, "
                     "or slots for the channel in publish.yml")
    return out


def check_together(items: list[Item]) -> list[Problem]:
    """Rules across items: identities (slug or id) must be unique."""
    out: list[Problem] = []
    seen: dict[str, Item] = {}
    for item in items:
        other = seen.get(item.id)
        if other is not None:
            key = "id" if "id" in (item.doc.lines if item.doc else {}) else "slug"
            for a, b in ((item, other), (other, item)):
                out.append(Problem(a.path, a.line(key), key,
                                   f"'{item.id}' is also used by {b.path}; every item needs its own {key}"))
        else:
            seen[item.id] = item
    return out
