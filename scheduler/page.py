"""The calendar as one static HTML page: month grid + agenda, filters in plain JavaScript.

Self-contained on purpose (no CDN, no server): CI writes it to ``output.calendar`` and any static
host (GitHub Pages) serves it. The entries travel inside the page as JSON; filters can also be set
in the address (``#channel=blog&state=draft``) so a link shows the same view to a colleague.
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
KEEP = ("key", "path", "title", "channel", "type", "local", "date", "time", "state", "status", "campaign",
        "author", "flags", "notes", "source", "after", "waiting")


#: Distinct, readable on white text; channels take them in name order (a 13th channel starts again).
PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#a21caf", "#c2410c",
           "#334155", "#0369a1", "#854d0e")


def channel_colours(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(names))}


def render(project, rows: list[dict], *, tzname: str, now: datetime) -> str:
    channels = sorted({r["channel"] for r in rows} | set(project.settings.channels))
    data = {
        "title": project.settings.site.title, "tz": tzname,
        "today": now.astimezone(zone(tzname)).date().isoformat(),
        "channels": channel_colours(channels), "states": STATE_COLOURS,
        "entries": [{k: r[k] for k in KEEP} for r in rows],
    }
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(f"{project.settings.site.title} · calendar")
    return TEMPLATE.replace("{{title}}", title).replace("{{data}}", payload)


TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --alarm:#dc2626; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:#f9fafb; }
header { padding:12px 16px; background:var(--bg); border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
h1 { font-size:18px; margin:0 0 8px; }
.filters { display:flex; flex-wrap:wrap; gap:8px; align-items:center; }
.filters select, .filters input, .filters button { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; background:#fff; }
.legend { display:flex; flex-wrap:wrap; gap:6px; margin-top:8px; font-size:12px; }
.legend span { padding:1px 6px; border-radius:10px; color:#fff; }
.legend.states span { color:var(--fg); background:#fff; border-left:4px solid; border-radius:2px; }
main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px; }
.agenda { max-height: calc(100vh - 150px); overflow:auto; }
@media (max-width: 800px) { main { grid-template-columns: 1fr; padding:8px; } .agenda { max-height:none; } }
section { background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px; min-width:0; }
.monthbar { display:flex; justify-content:space-between; align-items:center; margin-bottom:8px; }
.monthbar h2, section h2 { font-size:16px; margin:0; }
.grid { display:grid; grid-template-columns:repeat(7, minmax(0,1fr)); gap:2px; }
.grid .dow { font-size:12px; color:var(--muted); text-align:center; }
.day { min-height:74px; border:1px solid var(--line); border-radius:4px; padding:2px; font-size:11px; overflow:hidden; }
.day.other { background:#f3f4f6; color:var(--muted); }
.day.today { outline:2px solid #2563eb; }
.day .n { font-weight:600; }
.chip { display:block; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; border-radius:3px; padding:0 3px; margin-top:1px; color:#fff; border-left:4px solid transparent; }
.chip.conflict, .entry.conflict .what { box-shadow: inset 0 0 0 2px var(--alarm); }
.agenda h3 { font-size:13px; margin:12px 0 4px; color:var(--muted); border-bottom:1px solid var(--line); }
.entry { list-style:none; display:flex; gap:8px; padding:4px 0 4px 8px; border-left:4px solid transparent; margin:2px 0; }
.entry .time { font-variant-numeric:tabular-nums; min-width:3.2em; }
.entry .ch { color:#fff; border-radius:10px; padding:0 6px; font-size:12px; height:1.5em; white-space:nowrap; }
.entry .state { font-size:12px; color:var(--muted); }
.entry .flag { color:var(--alarm); font-weight:600; font-size:12px; }
.entry .path { color:var(--muted); font-size:12px; word-break:break-all; }
.entry .after { color:var(--muted); font-size:12px; }
.entry .waiting { color:#b45309; font-size:12px; }
ul { padding:0; margin:0; }
[hidden] { display:none !important; }
@media (max-width: 500px) { .day { min-height:44px; } .chip { font-size:0; height:6px; padding:0; } }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <div class="filters">
    <label>Channel <select id="f-channel"><option value="">all</option></select></label>
    <label>State <select id="f-state"><option value="">all</option></select></label>
    <label>Campaign <select id="f-campaign"><option value="">all</option></select></label>
    <label><input type="checkbox" id="f-problems"> only problems</label>
    <input id="f-text" type="search" placeholder="search title or path">
    <span id="count" aria-live="polite"></span>
  </div>
  <div class="legend" id="legend"></div>
  <div class="legend states" id="states"></div>
</header>
<main>
  <section aria-label="month">
    <div class="monthbar"><button id="prev" aria-label="previous month">‹</button><h2 id="month"></h2><button id="next" aria-label="next month">›</button></div>
    <div class="grid" id="grid"></div>
  </section>
  <section class="agenda" aria-label="agenda"><h2>Agenda</h2><div id="agenda"></div></section>
</main>
<script type="application/json" id="data">{{data}}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const ALARMS = ["conflict","max_per_day","blackout","expires","no_slot","lead_time","quiet_hours","min_gap","slots","dependency_cycle","before_dependency"];
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; };
const problems = (e) => e.flags.filter((f) => ALARMS.includes(f));
let month = (D.today || (D.entries.find((e) => e.date) || {}).date || new Date().toISOString()).slice(0, 7);

$("title").textContent = D.title + " · calendar (" + D.tz + ")";
function fill(id, values) { const s = $(id); [...new Set(values)].filter(Boolean).sort().forEach((v) => s.append(new Option(v, v))); }
fill("f-channel", Object.keys(D.channels));
fill("f-state", D.entries.map((e) => e.state));
fill("f-campaign", D.entries.map((e) => e.campaign));
for (const [c, colour] of Object.entries(D.channels)) { const s = el("span", null, c); s.style.background = colour; $("legend").append(s); }
for (const st of [...new Set(D.entries.map((e) => e.state))].sort()) { const s = el("span", null, st); s.style.borderLeftColor = D.states[st] || "#999"; $("states").append(s); }
$("states").append(Object.assign(el("span", "conflict-key", "⚠ conflict / rule broken"), { style: "border-left-color:#dc2626" }));

function filters() { return { channel: $("f-channel").value, state: $("f-state").value, campaign: $("f-campaign").value,
  problems: $("f-problems").checked, text: $("f-text").value.trim().toLowerCase() }; }
function keep(e, f) {
  return (!f.channel || e.channel === f.channel) && (!f.state || e.state === f.state)
    && (!f.campaign || e.campaign === f.campaign) && (!f.problems || problems(e).length > 0)
    && (!f.text || (e.title + " " + e.path).toLowerCase().includes(f.text));
}
function decorate(node, e) {
  node.dataset.key = e.key; node.dataset.channel = e.channel; node.dataset.state = e.state;
  node.dataset.campaign = e.campaign || ""; node.style.borderLeftColor = D.states[e.state] || "#999";
  if (e.flags.includes("conflict")) node.classList.add("conflict");
  const after = (e.after || []).length ? ["after " + e.after.join(", ")] : [];
  node.title = [e.time || "no time", e.channel, e.state, e.title, e.path].concat(after, e.waiting ? [e.waiting] : [], e.notes).join("\\n");
}
function grid() {
  const g = $("grid"); g.textContent = "";
  ["Mon","Tue","Wed","Thu","Fri","Sat","Sun"].forEach((d) => g.append(el("div", "dow", d)));
  const [y, m] = month.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1));
  $("month").textContent = first.toLocaleDateString("en", { month: "long", year: "numeric", timeZone: "UTC" });
  const start = new Date(first); start.setUTCDate(1 - ((first.getUTCDay() + 6) % 7));
  for (let i = 0; i < 42; i++) {
    const d = new Date(start); d.setUTCDate(start.getUTCDate() + i);
    const iso = d.toISOString().slice(0, 10);
    const cell = el("div", "day" + (iso.slice(0, 7) === month ? "" : " other") + (iso === D.today ? " today" : ""));
    cell.dataset.date = iso; cell.append(el("div", "n", String(d.getUTCDate())));
    for (const e of D.entries.filter((x) => x.date === iso)) {
      const chip = el("span", "chip", (e.time || "") + " " + e.title);
      chip.style.background = D.channels[e.channel] || "#555"; decorate(chip, e); cell.append(chip);
    }
    g.append(cell);
  }
}
function agenda() {
  const a = $("agenda"); a.textContent = "";
  let day = null, list = null;
  const sorted = D.entries.slice().sort((p, q) => (p.date ? 0 : 1) - (q.date ? 0 : 1) || String(p.local).localeCompare(String(q.local)));
  for (const e of sorted) {
    if (e.date !== day || !list) {
      day = e.date;
      const h = el("h3", "dayhead", day ? new Date(day + "T00:00:00Z").toLocaleDateString("en", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : "No time yet");
      h.dataset.date = day || "";
      list = el("ul"); a.append(h, list);
    }
    const li = el("li", "entry"); decorate(li, e);
    const ch = el("span", "ch", e.channel); ch.style.background = D.channels[e.channel] || "#555";
    const what = el("div", "what"); what.append(el("div", "title", e.title), el("div", "path", e.path));
    li.append(el("span", "time", e.time || "--:--"), ch, what, el("span", "state", e.state));
    if ((e.after || []).length) what.append(el("div", "after", "after " + e.after.join(", ")));
    if (e.waiting) what.append(el("div", "waiting", e.waiting));
    const p = problems(e); if (p.length) li.append(el("span", "flag", "⚠ " + p.join(", ")));
    list.append(li);
  }
}
function apply() {
  const f = filters(); let shown = 0;
  const byKey = Object.fromEntries(D.entries.map((e) => [e.key, e]));
  document.querySelectorAll("[data-key]").forEach((n) => { const ok = keep(byKey[n.dataset.key], f); n.hidden = !ok; });
  document.querySelectorAll("#agenda ul").forEach((ul) => { const any = ul.querySelector("li:not([hidden])"); ul.hidden = !any; ul.previousSibling.hidden = !any; });
  shown = D.entries.filter((e) => keep(e, f)).length;
  $("count").textContent = shown + " of " + D.entries.length + " entries";
  const h = new URLSearchParams(); for (const [k, v] of Object.entries(f)) if (v) h.set(k, v === true ? "1" : v);
  history.replaceState(null, "", h.toString() ? "#" + h.toString() : location.pathname);
}
function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  for (const k of ["channel", "state", "campaign"]) if (h.get(k)) $("f-" + k).value = h.get(k);
  $("f-problems").checked = h.get("problems") === "1"; $("f-text").value = h.get("text") || "";
  if (h.get("month")) month = h.get("month");
}
function shift(n) { const [y, m] = month.split("-").map(Number); const d = new Date(Date.UTC(y, m - 1 + n, 1)); month = d.toISOString().slice(0, 7); grid(); apply(); }
fromHash(); grid(); agenda(); apply();
// Open the agenda at today: what is past stays above, one scroll away.
const upcoming = [...document.querySelectorAll("#agenda .dayhead")].find((h) => h.dataset.date && h.dataset.date >= D.today);
if (upcoming && upcoming.previousElementSibling) $("agenda").parentNode.scrollTop = upcoming.offsetTop - $("agenda").parentNode.offsetTop - 40;
$("prev").onclick = () => shift(-1); $("next").onclick = () => shift(1);
["f-channel", "f-state", "f-campaign", "f-problems", "f-text"].forEach((id) => $(id).addEventListener("input", apply));
</script>
</body>
</html>
"""
