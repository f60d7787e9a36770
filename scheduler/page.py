"""The calendar as one static HTML page: month grid + agenda, filters in plain JavaScript.

Self-contained on purpose (no CDN, no server): CI writes it to ``output.calendar`` and any static
host (GitHub Pages) serves it. The entries travel inside the page as compact JSON; the month, the
view, the open day and the filters live in the address (``#month=2026-12&channel=blog&state=draft``)
and are written back as they change, so a link shows a colleague the same view.

Built for 10,000 items (30,000 entries): strings are shared through one table and entries are arrays
of numbers (``pack``); the page keeps the entries in typed arrays, filters them in one pass (the
search box coalesced to one filter a frame, a longer search narrowing the last matches), and makes markup only for what is
on screen: the 42 days of the month (at most ``CAP`` entries a day, then "+N more", which opens the
day's full list) and the rows of the agenda inside its scroll window. The agenda opens at today, and
comes back to today after every filter change. On a phone the header shrinks to one line, the agenda
comes first and the month becomes a dot-per-channel overview whose days open their list.
"""
from __future__ import annotations

import html
import json
from datetime import datetime

from newsroom.times import zone

#: Colours of states (the left border of an entry); channels get a hue each from their name.
STATE_COLOURS = {"idea": "#9ca3af", "draft": "#d97706", "review": "#0891b2", "approved": "#16a34a",
                 "published": "#2563eb", "delivered": "#2563eb", "claimed": "#9333ea", "failed": "#dc2626",
                 "missed": "#dc2626", "skipped": "#6b7280", "held": "#dc2626", "archived": "#6b7280"}
#: Flags that are problems (a red mark), as in ``views.ALARMS``.
ALARMS = ("conflict", "max_per_day", "blackout", "expires", "no_slot", "lead_time", "quiet_hours", "min_gap", "slots",
          "dependency_cycle", "before_dependency")
#: Entries shown in a day of the month grid before "+N more".
CAP = 3

#: Distinct, readable on white text; channels take them in name order (a 13th channel starts again).
PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a21caf", "#c2410c",
           "#334155", "#0369a1", "#854d0e")


def channel_colours(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}


def pack(rows: list[dict]) -> dict:
    """The rows as the page reads them, sorted as the agenda shows them (timed first, by local time).

    ``s``: every repeated string once (index 0 is ""). ``items``: ``[id or 0, folder, file name,
    title, campaign, author, status]`` (id 0: the file name without ``.md``). ``entries``: ``[item,
    channel, local time, state, flags, notes, source, type, after, waiting, key or 0]`` with strings
    as indexes into ``s`` (flags, notes and after joined by newlines); trailing zeros are left off.
    """
    strings, index = [""], {"": 0}

    def s(value) -> int:
        if not value:
            return 0
        i = index.get(value)
        if i is None:
            i = index[value] = len(strings)
            strings.append(value)
        return i

    items: list[list] = []
    item_of: dict[str, int] = {}
    entries: list[list] = []
    for r in sorted(rows, key=lambda r: (r["date"] is None, r["local"] or "")):
        path = r["path"]
        n = item_of.get(path)
        if n is None:
            folder, _, name = path.rpartition("/")
            item_id = 0 if r["item_id"] == name.removesuffix(".md") else r["item_id"]
            n = item_of[path] = len(items)
            items.append(_trim([item_id, s(folder + "/" if folder else ""), name, r["title"], s(r["campaign"]),
                                s(r["author"]), s(r["status"])]))
        item_id = r["item_id"]
        key = 0 if r["key"] == f"{item_id}/{r['channel']}" else r["key"]
        entries.append(_trim([n, s(r["channel"]), s(r["local"]), s(r["state"]), s("\n".join(r["flags"])),
                              s(_template("\n".join(r["notes"]), r)), s(r["source"]), s(r["type"]),
                              s("\n".join(r["after"] or ())), s(r["waiting"]), key]))
    return {"s": strings, "items": items, "entries": entries}


def _template(notes: str, r: dict) -> str:
    """Notes mostly name their own entry's channel and time: those become \\x01 and \\x02, so the
    same problem on 5,000 entries is one shared string."""
    if r["date"]:
        notes = notes.replace(f"{r['date']} {r['time']}", "\x02")
    return notes.replace(f"'{r['channel']}'", "'\x01'")


def _untemplate(notes: str, channel: str, local: str | None) -> str:
    return notes.replace("\x01", channel).replace("\x02", f"{local[:10]} {local[11:16]}" if local else "")


def _trim(record: list) -> list:
    while record and record[-1] == 0:
        record.pop()
    return record


def state_colours(settings) -> dict[str, str]:
    """Each state's colour; the team's own states (workflow.states) take the built-in one they stand for."""
    workflow = getattr(settings, "workflow", None)
    own = {name: STATE_COLOURS[workflow.status_of(name)] for name in workflow.names
           if name not in STATE_COLOURS and workflow.status_of(name) in STATE_COLOURS} if workflow else {}
    return {**STATE_COLOURS, **own}


def data(project, rows: list[dict], *, tzname: str, now: datetime) -> dict:
    """What the page reads: its settings (title, timezone, today, colours) and the packed rows.
    ``publish studio`` serves the same data over HTTP."""
    channels = sorted({r["channel"] for r in rows} | set(project.settings.channels))
    return {"title": project.settings.site.title, "tz": tzname,
            "today": now.astimezone(zone(tzname)).date().isoformat(),
            "channels": channel_colours(channels), "states": state_colours(project.settings), "alarms": ALARMS, "cap": CAP,
            **pack(rows)}


def render(project, rows: list[dict], *, tzname: str, now: datetime) -> str:
    data_ = data(project, rows, tzname=tzname, now=now)
    # Every "<" as \u003c: inside a <script> block "</script>" ends it and "<!--" (with "<script") puts
    # the parser in its escaped states (HTML §13.2.5.4 script data); in JSON "<" only occurs in strings.
    payload = json.dumps(data_, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    title = html.escape(f"{project.settings.site.title} · calendar")
    return TEMPLATE.replace("{{title}}", title).replace("{{data}}", payload)


def unpack(data: dict) -> list[dict]:
    """The entries of a page's data block as plain dicts (for tests and scripts reading a page)."""
    s, items = data["s"], data["items"]
    out = []
    for e in data["entries"]:
        e = e + [0] * (11 - len(e))
        item = items[e[0]] + [0] * (7 - len(items[e[0]]))
        item_id = item[0] or item[2].removesuffix(".md")
        local = s[e[2]] or None
        out.append({"key": e[10] or f"{item_id}/{s[e[1]]}", "item_id": item_id, "path": s[item[1]] + item[2],
                    "title": item[3], "campaign": s[item[4]] or None, "author": s[item[5]] or None,
                    "status": s[item[6]], "channel": s[e[1]], "local": local,
                    "date": local[:10] if local else None, "time": local[11:16] if local else None,
                    "state": s[e[3]], "flags": s[e[4]].split("\n") if e[4] else [],
                    "notes": _untemplate(s[e[5]], s[e[1]], local).split("\n") if e[5] else [], "source": s[e[6]] or None, "type": s[e[7]],
                    "after": s[e[8]].split("\n") if e[8] else [], "waiting": s[e[9]] or None})
    return out


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --alarm:#dc2626; --row:46px; --head:30px; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:#f9fafb; }
header { padding:10px 16px; background:var(--bg); border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
.top { display:flex; gap:12px; align-items:baseline; }
h1 { font-size:18px; margin:0 0 6px; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
#count { color:var(--muted); font-size:13px; white-space:nowrap; }
.filterbox > summary { display:none; }
.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:center; }
.filters select, .filters input, .filters button, .monthbar button { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; background:#fff; }
.legend { display:flex; flex-wrap:wrap; gap:6px; margin-top:6px; font-size:12px; }
.legend span { padding:1px 6px; border-radius:10px; color:#fff; }
.legend.states span { color:var(--fg); background:#fff; border-left:4px solid; border-radius:2px; }
main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px; }
main.only-agenda, main.only-month { grid-template-columns: minmax(0,1fr); }
main.only-agenda #monthview, main.only-month #agendaview { display:none; }
section { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px; min-width:0; }
.monthbar { display:flex; gap:6px; align-items:center; margin-bottom:8px; }
.monthbar h2 { flex:1; }
.monthbar h2, section h2 { font-size:16px; margin:0; }
.grid { display:grid; grid-template-columns:repeat(7, minmax(0,1fr)); gap:2px; }
.grid .dow { font-size:12px; color:var(--muted); text-align:center; }
.day { height:92px; border:1px solid var(--line); border-radius:4px; padding:2px; font-size:11px; overflow:hidden; cursor:pointer; }
.day.other { background:#f3f4f6; color:var(--muted); }
.day.today { outline:2px solid #2563eb; }
.day .n { font-weight:600; display:flex; justify-content:space-between; }
.day .dots { display:none; flex-wrap:wrap; gap:2px; margin-top:2px; }
.dot { width:8px; height:8px; border-radius:50%; display:inline-block; }
.chip { display:block; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; border-radius:3px; padding:0 3px; margin-top:1px; color:#fff; border-left:4px solid transparent; }
.chip.conflict { box-shadow: inset 0 0 0 2px var(--alarm); }
.entry.conflict { background:#fef2f2; }
.entry .m { display:none; }
.more { display:block; border:0; background:none; padding:0 3px; font:inherit; font-size:11px; color:#1d4ed8; cursor:pointer; }
.agendabar { display:flex; justify-content:space-between; align-items:center; }
.scroller { position:relative; overflow:auto; height:var(--agenda-height, 70vh); margin-top:6px; }
.spacer { position:relative; }
.rows { position:absolute; left:0; right:0; top:0; }
.dayhead { height:var(--head); font-size:13px; margin:0; padding-top:8px; color:var(--muted); border-bottom:1px solid var(--line); font-weight:600; }
.rows .entry { height:var(--row); overflow:hidden; }
.entry { display:flex; gap:8px; padding:3px 0 3px 8px; border-left:4px solid transparent; margin:0; font-size:14px; }
.entry .time { font-variant-numeric:tabular-nums; min-width:3.2em; }
.entry .ch { color:#fff; border-radius:10px; padding:0 6px; font-size:12px; height:1.5em; white-space:nowrap; }
.entry .what { flex:1; min-width:0; }
.rows .entry .title, .rows .entry .sub { white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.entry .sub, .entry .path, .entry .note { color:var(--muted); font-size:12px; word-break:break-all; }
.entry .waiting { color:#b45309; }
.entry .state { font-size:12px; color:var(--muted); }
.entry .flag { color:var(--alarm); font-weight:600; font-size:12px; }
dialog { border:1px solid var(--line); border-radius:8px; padding:12px; width:min(720px, 96vw); max-height:86vh; }
dialog .bar { display:flex; justify-content:space-between; align-items:center; position:sticky; top:-12px; background:#fff; }
dialog ul { padding:0; margin:0; list-style:none; }
[hidden] { display:none !important; }
@media (max-width: 600px) {
  header { padding:6px 8px; }
  .top { justify-content:space-between; }
  h1 { font-size:15px; margin:0; }
  .filterbox > summary { display:inline; font-size:13px; color:#1d4ed8; cursor:pointer; }
  .filterbox[open] .filters { margin-top:6px; }
  main { display:flex; flex-direction:column; padding:6px; gap:8px; }
  #agendaview { order:-1; }
  section { padding:8px; }
  .scroller { height:var(--agenda-height, 60vh); }
  .day { height:44px; padding:1px; }
  .day .chip, .day .more { display:none; }
  .day .dots { display:flex; }
  .entry { gap:6px; padding-left:6px; }
  .rows .entry > .state, .rows .entry > .flag { display:none; }
  .entry .m { display:inline; }
  .entry .m .flag { font-size:12px; }
}
</style>
</head>
<body>
<header>
  <div class="top"><h1 id="title"></h1><span id="count" aria-live="polite"></span></div>
  <details class="filterbox" id="filterbox"><summary>Filters</summary>
  <div class="filters">
    <label>View <select id="f-view"><option value="">agenda + month</option><option value="agenda">agenda</option><option value="month">month</option></select></label>
    <label>Channel <select id="f-channel"><option value="">all</option></select></label>
    <label>State <select id="f-state"><option value="">all</option></select></label>
    <label>Campaign <select id="f-campaign"><option value="">all</option></select></label>
    <label><input type="checkbox" id="f-problems"> only problems</label>
    <input id="f-text" type="search" placeholder="search title or path" aria-label="search title or path">
    <button id="clear" type="button">clear filters</button>
  </div>
  <div class="legend" id="legend"></div>
  <div class="legend states" id="states"></div>
  </details>
</header>
<main id="main">
  <section id="monthview" aria-label="month">
    <div class="monthbar"><button id="prev" aria-label="previous month">‹</button><h2 id="month"></h2><button id="thismonth">today</button><button id="next" aria-label="next month">›</button></div>
    <div class="grid" id="grid"></div>
  </section>
  <section id="agendaview" aria-label="agenda">
    <div class="agendabar"><h2>Agenda</h2><button id="totoday" type="button">today</button></div>
    <div class="scroller" id="scroller" tabindex="0"><div class="spacer" id="spacer"><div class="rows" id="agenda"></div></div></div>
  </section>
</main>
<dialog id="day" aria-labelledby="dayhead"><div class="bar"><h2 id="dayhead"></h2><button id="dayclose" type="button">close</button></div><ul id="daylist"></ul></dialog>
<script type="application/json" id="data">{{data}}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const S = D.s, ITEMS = D.items, N = D.entries.length, CAP = D.cap;
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; };
const SI = new Map(S.map((v, i) => [v, i]));
// Columns of the entries, for one-pass filtering.
const eItem = new Int32Array(N), eCh = new Int32Array(N), eLocal = new Int32Array(N), eState = new Int32Array(N),
  eFlags = new Int32Array(N), eDay = new Int32Array(N), eCampaign = new Int32Array(N);
const days = [];  // distinct dates in order; "" (no time yet) last
const alarm = new Set(D.alarms), problemOf = new Map(), dayOf = new Map();
for (let i = 0; i < N; i++) {
  const r = D.entries[i];
  eItem[i] = r[0]; eCh[i] = r[1] || 0; eLocal[i] = r[2] || 0; eState[i] = r[3] || 0; eFlags[i] = r[4] || 0;
  eCampaign[i] = ITEMS[r[0]][4] || 0;
  const date = S[eLocal[i]].slice(0, 10);
  let d = dayOf.get(date); if (d === undefined) { d = days.length; days.push(date); dayOf.set(date, d); }
  eDay[i] = d;
  if (!problemOf.has(eFlags[i])) problemOf.set(eFlags[i], S[eFlags[i]].split("\\n").filter((f) => alarm.has(f)));
}
const field = (i, k) => D.entries[i][k] || 0;
const E = {  // one entry's fields, read when it is shown
  key: (i) => { const k = field(i, 10); if (k) return k; const it = ITEMS[eItem[i]]; return (it[0] || it[2].replace(/\\.md$/, "")) + "/" + S[eCh[i]]; },
  path: (i) => { const it = ITEMS[eItem[i]]; return S[it[1] || 0] + it[2]; },
  title: (i) => ITEMS[eItem[i]][3], channel: (i) => S[eCh[i]], state: (i) => S[eState[i]],
  date: (i) => days[eDay[i]], time: (i) => S[eLocal[i]].slice(11, 16),
  campaign: (i) => S[eCampaign[i]], problems: (i) => problemOf.get(eFlags[i]),
  flags: (i) => S[eFlags[i]] ? S[eFlags[i]].split("\\n") : [],
  notes: (i) => S[field(i, 5)] ? S[field(i, 5)].replace(/\\x01/g, E.channel(i)).replace(/\\x02/g, E.date(i) + " " + E.time(i)).split("\\n") : [],
  after: (i) => S[field(i, 8)] ? S[field(i, 8)].split("\\n") : [], waiting: (i) => S[field(i, 9)],
};
const colour = (i) => D.channels[S[eCh[i]]] || "#555";
let month = (D.today || days.find(Boolean) || new Date().toISOString()).slice(0, 7);
let openDay = "", shown = new Int32Array(0), first = new Int32Array(days.length), last = new Int32Array(days.length), ndays = 0, rows = new Int32Array(0), offsets = new Float64Array(1);

$("title").textContent = D.title + " · calendar (" + D.tz + ")";
function fill(id, values) { const s = $(id); [...new Set(values)].filter(Boolean).sort().forEach((v) => s.append(new Option(v, v))); }
fill("f-channel", Object.keys(D.channels));
fill("f-state", [...new Set(eState)].map((i) => S[i]));
fill("f-campaign", ITEMS.map((it) => S[it[4] || 0]));
for (const [c, colour] of Object.entries(D.channels)) { const s = el("span", null, c); s.style.background = colour; $("legend").append(s); }
for (const st of [...new Set(eState)].map((i) => S[i]).sort()) { const s = el("span", null, st); s.style.borderLeftColor = D.states[st] || "#999"; $("states").append(s); }
$("states").append(Object.assign(el("span", "conflict-key", "⚠ conflict / rule broken"), { style: "border-left-color:#dc2626" }));
if (matchMedia("(min-width: 601px)").matches) $("filterbox").open = true;

function filters() { return { view: $("f-view").value, channel: $("f-channel").value, state: $("f-state").value,
  campaign: $("f-campaign").value, problems: $("f-problems").checked, text: $("f-text").value.trim().toLowerCase() }; }
// Search: item by item (10,000, not 30,000); a longer search only looks among the last matches.
let haystack = null, lastText = "", lastMatch = null;
const index = () => { if (!haystack) haystack = ITEMS.map((it) => (it[3] + " " + S[it[1] || 0] + it[2]).toLowerCase()); };
function textMatch(text) {
  index();
  const narrow = lastMatch && lastText && text.startsWith(lastText);
  const ok = narrow ? lastMatch.slice() : new Uint8Array(ITEMS.length).fill(1);
  for (let i = 0; i < ok.length; i++) if (ok[i] && !haystack[i].includes(text)) ok[i] = 0;
  lastText = text; lastMatch = ok; return ok;
}
const rowH = parseFloat(getComputedStyle(document.body).getPropertyValue("--row")) || 46;
const headH = parseFloat(getComputedStyle(document.body).getPropertyValue("--head")) || 30;
function compute(f) {
  const ch = f.channel ? (SI.get(f.channel) ?? -1) : 0, st = f.state ? (SI.get(f.state) ?? -1) : 0;
  const cp = f.campaign ? (SI.get(f.campaign) ?? -1) : 0, items = f.text ? textMatch(f.text) : null;
  const out = new Int32Array(N); let n = 0;
  first.fill(0); last.fill(0); ndays = 0;  // a day's entries are shown[first[d] .. last[d]) (sorted by day)
  for (let i = 0; i < N; i++) {
    if ((ch && eCh[i] !== ch) || (st && eState[i] !== st) || (cp && eCampaign[i] !== cp)
      || (f.problems && !problemOf.get(eFlags[i]).length) || (items && !items[eItem[i]])) continue;
    const d = eDay[i];
    if (last[d] === 0) { first[d] = n; ndays++; }
    last[d] = n + 1;
    out[n++] = i;
  }
  shown = out.subarray(0, n);
  // The agenda's rows: a day heading (-1 - day) before each day's entries; offsets in pixels.
  rows = new Int32Array(n + ndays); offsets = new Float64Array(rows.length + 1);
  let k = 0, prev = -1;
  for (let j = 0; j < n; j++) {
    const i = shown[j];
    if (eDay[i] !== prev) { prev = eDay[i]; rows[k] = -1 - prev; offsets[k + 1] = offsets[k] + headH; k++; }
    rows[k] = i; offsets[k + 1] = offsets[k] + rowH; k++;
  }
}
function range(date) { const d = dayOf.get(date); return d === undefined ? [0, 0] : [first[d], last[d]]; }
function decorate(node, i) {  // its tooltip (every detail) is made when a pointer or focus comes to it
  node.dataset.i = i; node.dataset.key = E.key(i); node.dataset.channel = E.channel(i); node.dataset.state = E.state(i);
  node.dataset.campaign = E.campaign(i); node.style.borderLeftColor = D.states[E.state(i)] || "#999";
  if (E.problems(i).includes("conflict")) node.classList.add("conflict");
}
function tooltip(ev) {
  const node = ev.target.closest("[data-i]"); if (!node || node.title) return;
  const i = +node.dataset.i, after = E.after(i).length ? ["after " + E.after(i).join(", ")] : [];
  node.title = [E.time(i) || "no time", E.channel(i), E.state(i), E.title(i), E.path(i)]
    .concat(after, E.waiting(i) ? [E.waiting(i)] : [], E.notes(i)).join("\\n");
}
const dayLabel = (d) => d ? new Date(d + "T00:00:00Z").toLocaleDateString("en", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : "No time yet";
function entryNode(i, tag, full) {
  const li = el(tag, "entry"); decorate(li, i);
  const ch = el("span", "ch", E.channel(i)); ch.style.background = colour(i);
  const what = el("div", "what"); what.append(el("div", "title", E.title(i)));
  const sub = [E.path(i)].concat(E.after(i).length ? ["after " + E.after(i).join(", ")] : []);
  if (full) {
    what.append(el("div", "path", sub.join(" · ")));
    if (E.waiting(i)) what.append(el("div", "sub waiting", E.waiting(i)));
    for (const note of E.notes(i)) what.append(el("div", "note", note));
  } else {
    const s = el("div", "sub"), m = el("span", "m", E.state(i) + " · "), p = E.problems(i);  // m: on a phone
    if (p.length) m.append(el("span", "flag", "⚠ " + p.join(", ")), " · ");
    s.append(m, sub.join(" · ")); what.append(s);
    if (E.waiting(i)) s.append(" · ", el("span", "waiting", E.waiting(i)));
  }
  li.append(el("span", "time", E.time(i) || "--:--"), ch, what, el("span", "state", E.state(i)));
  const p = E.problems(i); if (p.length) li.append(el("span", "flag", "⚠ " + p.join(", ")));
  return li;
}
function grid() {
  const g = $("grid"); g.textContent = "";
  ["Mon","Tue","Wed","Thu","Fri","Sat","Sun"].forEach((d) => g.append(el("div", "dow", d)));
  const [y, m] = month.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1));
  $("month").textContent = first.toLocaleDateString("en", { month: "long", year: "numeric", timeZone: "UTC" });
  const start = new Date(first); start.setUTCDate(1 - ((first.getUTCDay() + 6) % 7));
  for (let c = 0; c < 42; c++) {
    const d = new Date(start); d.setUTCDate(start.getUTCDate() + c);
    const iso = d.toISOString().slice(0, 10), r = range(iso), count = r[1] - r[0];
    const cell = el("div", "day" + (iso.slice(0, 7) === month ? "" : " other") + (iso === D.today ? " today" : ""));
    cell.dataset.date = iso; cell.dataset.count = count;
    const head = el("div", "n", String(d.getUTCDate())); if (count) head.append(el("span", "c", String(count)));
    const dots = el("div", "dots"), seen = new Set();
    cell.append(head, dots);
    for (let j = r[0]; j < r[1]; j++) {
      const i = shown[j];
      if (j < r[0] + CAP) { const chip = el("span", "chip", E.time(i) + " " + E.title(i)); chip.style.background = colour(i); decorate(chip, i); cell.append(chip); }
      if (!seen.has(eCh[i])) { seen.add(eCh[i]); const dot = el("span", "dot"); dot.style.background = colour(i); dot.title = E.channel(i); dots.append(dot); }
    }
    if (count > CAP) cell.append(Object.assign(el("button", "more", "+" + (count - CAP) + " more"), { type: "button" }));
    if (count) cell.setAttribute("aria-label", iso + ": " + count + " entries");
    g.append(cell);
  }
}
// The agenda: only the rows inside the scroll window (and half a screen above and below) exist.
let drawn = [-1, -1];
function draw(force) {
  const sc = $("scroller"), top = sc.scrollTop, h = sc.clientHeight || 600;
  const find = (y) => { let lo = 0, hi = rows.length; while (lo < hi) { const mid = (lo + hi) >> 1; if (offsets[mid + 1] <= y) lo = mid + 1; else hi = mid; } return lo; };
  const a = find(Math.max(0, top - h / 2)), b = Math.min(rows.length, find(top + 1.5 * h) + 1);
  if (!force && a === drawn[0] && b === drawn[1]) return;
  drawn = [a, b];
  const box = $("agenda"); box.textContent = ""; box.style.transform = "translateY(" + offsets[a] + "px)";
  const frag = document.createDocumentFragment();
  for (let k = a; k < b; k++) {
    const v = rows[k];
    if (v < 0) { const hd = el("h3", "dayhead", dayLabel(days[-1 - v])); hd.dataset.date = days[-1 - v]; frag.append(hd); }
    else frag.append(entryNode(v, "div", false));
  }
  box.append(frag);
}
function todayRow() {  // the first day heading at or after today
  for (let k = 0; k < rows.length; k++) if (rows[k] < 0) { const d = days[-1 - rows[k]]; if (!d || d >= D.today) return k; }
  return rows.length;
}
function toToday() { $("scroller").scrollTop = offsets[Math.min(todayRow(), rows.length)]; draw(true); }
function showDay(date) {
  openDay = date; const r = range(date);
  $("dayhead").textContent = dayLabel(date) + " · " + (r[1] - r[0]) + " entries";
  const list = $("daylist"); list.textContent = "";
  for (let j = r[0]; j < r[1]; j++) list.append(entryNode(shown[j], "li", true));
  if (!$("day").open) $("day").showModal();
  write();
}
function write() {
  const f = filters(), h = new URLSearchParams();
  h.set("month", month);
  for (const [k, v] of Object.entries(f)) if (v) h.set(k, v === true ? "1" : v);
  if (openDay) h.set("day", openDay);
  const hash = "#" + h.toString();
  if (location.hash !== hash) history.replaceState(null, "", hash);
}
function apply() {
  const t = performance.now(), f = filters();
  compute(f);
  $("main").className = f.view ? "only-" + f.view : "";
  $("count").textContent = shown.length + " of " + N + " entries";
  $("spacer").style.height = offsets[rows.length] + "px";
  grid(); toToday();
  if (openDay && $("day").open) showDay(openDay);
  write();
  window.calendarStats = { applyMs: performance.now() - t, shown: shown.length };
  document.dispatchEvent(new Event("calendar:rendered"));
}
function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  for (const k of ["view", "channel", "state", "campaign"]) $("f-" + k).value = h.get(k) || "";
  $("f-problems").checked = h.get("problems") === "1"; $("f-text").value = h.get("text") || "";
  if (/^\\d{4}-\\d{2}$/.test(h.get("month") || "")) month = h.get("month");
  openDay = h.get("day") || "";
}
function shift(n) { const [y, m] = month.split("-").map(Number); month = new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 7); grid(); write(); }
function sizeAgenda() { const sc = $("scroller"); const top = sc.getBoundingClientRect().top + scrollY;
  const head = document.querySelector("header").offsetHeight;
  document.body.style.setProperty("--agenda-height", Math.max(260, innerHeight - (matchMedia("(max-width: 600px)").matches ? head + 60 : Math.min(top, 260) + 16)) + "px"); }
fromHash(); sizeAgenda(); apply();
if (openDay) showDay(openDay);
let scrolling = false;
$("scroller").addEventListener("scroll", () => { if (!scrolling) { scrolling = true; requestAnimationFrame(() => { scrolling = false; draw(false); }); } }, { passive: true });
addEventListener("resize", () => { sizeAgenda(); draw(true); });
addEventListener("hashchange", () => { fromHash(); apply(); if (openDay) showDay(openDay); else if ($("day").open) $("day").close(); });
$("prev").onclick = () => shift(-1); $("next").onclick = () => shift(1);
$("thismonth").onclick = () => { month = D.today.slice(0, 7); grid(); write(); };
$("totoday").onclick = toToday;
$("grid").addEventListener("click", (ev) => { const cell = ev.target.closest(".day"); if (cell && +cell.dataset.count) showDay(cell.dataset.date); });
$("dayclose").onclick = () => $("day").close();
$("day").addEventListener("close", () => { openDay = ""; write(); });
$("clear").onclick = () => { for (const k of ["channel", "state", "campaign"]) $("f-" + k).value = ""; $("f-problems").checked = false; $("f-text").value = ""; apply(); };
["f-view", "f-channel", "f-state", "f-campaign", "f-problems"].forEach((id) => $(id).addEventListener("input", apply));
let typing = 0;  // keystrokes are coalesced: one filter per frame, however fast the typing
$("f-text").addEventListener("input", () => { if (!typing) typing = requestAnimationFrame(() => { typing = 0; apply(); }); });
["mouseover", "focusin"].forEach((ev) => document.addEventListener(ev, tooltip));
(window.requestIdleCallback || setTimeout)(index);  // the search's index, made once the page is idle
</script>
</body>
</html>
"""
