// publish studio: the calendar (month, week) and the board over /api/calendar, which is the static
// calendar page's compact data (scheduler/page.py: shared strings, entries as arrays of numbers) plus
// each item's revision and problems. Changes are POSTed with the revision the page showed; the server
// refuses them when the file changed since. /api/events says when the files changed on disk.
"use strict";
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; };
const MARKS = new Set(["off_slot", "no_slot"]);  // shown on the card beside the alarms (the calendar's problems)
let D = null, S = [], ITEMS = [], ENTRIES = [], byDate = new Map(), view = "month", month = "", week = "", openPath = "";

function decode(data) {
  D = data; S = data.s; ITEMS = data.items.map((it, n) => {
    const name = it[2], id = it[0] || name.replace(/\.md$/, "");
    return { n, id, path: S[it[1] || 0] + name, title: it[3], campaign: S[it[4] || 0], author: S[it[5] || 0],
      status: data.item_states[n] || S[it[6] || 0], revision: data.revisions[n], problems: data.problems[String(n)] || [], entries: [] };
  });
  for (const l of data.loose) ITEMS.push({ n: ITEMS.length, id: l[0], path: l[0], title: l[1], status: l[2], author: l[3],
    revision: l[4], problems: l[5], campaign: "", entries: [] });
  const alarm = new Set(data.alarms);
  byDate = new Map();
  ENTRIES = data.entries.map((r, i) => {
    const it = ITEMS[r[0]], channel = S[r[1] || 0], local = S[r[2] || 0], flags = S[r[4] || 0] ? S[r[4]].split("\n") : [];
    const date = local.slice(0, 10), time = local.slice(11, 16), waiting = S[r[9] || 0];
    const notes = S[r[5] || 0] ? S[r[5]].replace(/\x01/g, channel).replace(/\x02/g, date + " " + time).split("\n") : [];
    const marks = flags.filter((f) => alarm.has(f) || MARKS.has(f));
    if (waiting) marks.push("blocked");
    const e = { i, item: it, channel, local, date, time, state: S[r[3] || 0], flags, notes, marks, waiting,
      key: r[10] || it.id + "/" + channel, source: S[r[6] || 0] };
    it.entries.push(e);
    if (!byDate.has(date)) byDate.set(date, []);
    byDate.get(date).push(e);
    return e;
  });
  $("title").textContent = data.title + " · studio (" + data.tz + ")";
  document.title = data.title + " · studio";
  fill("f-channel", Object.keys(data.channels));
  fill("f-state", [...new Set([...data.board, ...ENTRIES.map((e) => e.state)])]);
  fill("f-campaign", ITEMS.map((it) => it.campaign));
}
function fill(id, values) {
  const s = $(id), keep = s.value; s.length = 1;
  [...new Set(values)].filter(Boolean).sort().forEach((v) => s.append(new Option(v, v)));
  s.value = keep;
}
function filters() { return { channel: $("f-channel").value, state: $("f-state").value, campaign: $("f-campaign").value,
  problems: $("f-problems").checked, text: $("f-text").value.trim().toLowerCase() }; }
const itemBad = (it) => it.problems.length > 0;
function keepItem(it, f) {
  return (!f.campaign || it.campaign === f.campaign) && (!f.text || (it.title + " " + it.path).toLowerCase().includes(f.text));
}
function keep(e, f) {
  return (!f.channel || e.channel === f.channel) && (!f.state || e.state === f.state || e.item.status === f.state)
    && (!f.problems || e.marks.length || itemBad(e.item)) && keepItem(e.item, f);
}
const colour = (e) => D.channels[e.channel] || "#555";
function tip(e) {
  return [e.title || e.item.title, e.item.path, (e.time ? e.date + " " + e.time : "no time") + " · " + e.channel + " · " + e.state,
    ...(e.waiting ? ["blocked: " + e.waiting] : []), ...e.notes, ...e.item.problems].join("\n");
}
function chip(e) {
  const bad = e.marks.length || itemBad(e.item);
  const n = el("div", "chip" + (bad ? " problem" : ""));
  n.dataset.key = e.key; n.dataset.path = e.item.path; n.dataset.channel = e.channel; n.dataset.i = e.i;
  n.style.background = colour(e); n.style.borderLeftColor = D.states[e.state] || "#999";
  if (bad) n.append(el("span", "warn", "⚠"));
  n.append((e.time || "--:--") + " " + e.item.title);
  n.title = tip(e) + (e.marks.length ? "\n⚠ " + e.marks.join(", ") : "");
  if (e.marks.length) n.dataset.marks = e.marks.join(" ");
  return n;
}
const iso = (d) => d.toISOString().slice(0, 10);
const utc = (s) => new Date(s + "T00:00:00Z");
const addDays = (s, n) => { const d = utc(s); d.setUTCDate(d.getUTCDate() + n); return iso(d); };
const monday = (s) => { const d = utc(s); return addDays(s, -((d.getUTCDay() + 6) % 7)); };

function render() {
  if (!D) return;
  const f = filters();
  for (const v of ["month", "week", "board"]) $("v-" + v).setAttribute("aria-pressed", String(v === view));
  $("calendar").hidden = view === "board"; $("board").hidden = view !== "board";
  const shown = ENTRIES.filter((e) => keep(e, f));
  $("count").textContent = shown.length + " of " + ENTRIES.length + " entries" + (D.checking ? " · checking…" : "");
  if (view === "month") renderMonth(f); else if (view === "week") renderWeek(f); else renderBoard(f);
  writeHash();
  document.dispatchEvent(new Event("studio:rendered"));
}
function renderMonth(f) {
  const g = $("grid"); g.textContent = ""; g.className = "month";
  ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].forEach((d) => g.append(el("div", "dow", d)));
  const first = month + "-01", start = monday(first);
  $("span").textContent = utc(first).toLocaleDateString("en", { month: "long", year: "numeric", timeZone: "UTC" });
  for (let c = 0; c < 42; c++) {
    const date = addDays(start, c), list = (byDate.get(date) || []).filter((e) => keep(e, f));
    const cell = el("div", "day" + (date.slice(0, 7) === month ? "" : " other") + (date === D.today ? " today" : ""));
    cell.dataset.date = date; cell.dataset.count = list.length;
    const head = el("div", "n", String(+date.slice(8))); if (list.length) head.append(el("span", "c", String(list.length)));
    cell.append(head);
    list.slice(0, D.cap + 1).forEach((e) => cell.append(chip(e)));
    if (list.length > D.cap + 1) { const more = el("button", "more", "+" + (list.length - D.cap - 1) + " more"); more.type = "button"; more.onclick = () => showDay(date); cell.append(more); }
    head.onclick = () => list.length && showDay(date);
    g.append(cell);
  }
}
function renderWeek(f) {
  const g = $("grid"); g.textContent = ""; g.className = "week";
  $("span").textContent = "Week of " + utc(week).toLocaleDateString("en", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  g.append(el("div", "hour", ""));
  const days = [...Array(7).keys()].map((k) => addDays(week, k));
  days.forEach((d) => g.append(el("div", "head" + (d === D.today ? " today" : ""), utc(d).toLocaleDateString("en", { weekday: "short", day: "numeric", timeZone: "UTC" }))));
  const at = new Map();
  for (const d of days) for (const e of (byDate.get(d) || [])) if (keep(e, f)) { const k = d + " " + e.time.slice(0, 2); if (!at.has(k)) at.set(k, []); at.get(k).push(e); }
  for (let h = 0; h < 24; h++) {
    const hh = String(h).padStart(2, "0");
    g.append(el("div", "hour", hh + ":00"));
    for (const d of days) {
      const cell = el("div", "slot"); cell.dataset.date = d; cell.dataset.hour = hh;
      for (const e of at.get(d + " " + hh) || []) cell.append(chip(e));
      g.append(cell);
    }
  }
}
const BOARD_CAP = 60;
function renderBoard(f) {
  const box = $("columns"); box.textContent = "";
  const states = [...D.board];
  for (const it of ITEMS) if (!states.includes(it.status)) states.push(it.status);
  for (const st of states) {
    const col = el("div", "column"); col.dataset.state = st;
    const h = el("h3", null, st); h.style.borderLeftColor = D.states[st] || "#999"; col.append(h);
    const mine = ITEMS.filter((it) => it.status === st && keepItem(it, f) && (!f.channel || it.entries.some((e) => e.channel === f.channel))
      && (!f.state || it.status === f.state || it.entries.some((e) => e.state === f.state))
      && (!f.problems || itemBad(it) || it.entries.some((e) => e.marks.length)));
    h.append(" (" + mine.length + ")");
    for (const it of mine.slice(0, BOARD_CAP)) col.append(card(it));
    if (mine.length > BOARD_CAP) col.append(el("div", "s", "+" + (mine.length - BOARD_CAP) + " more: filter to narrow"));
    box.append(col);
  }
}
function card(it) {
  const marks = [...new Set(it.entries.flatMap((e) => e.marks))], bad = marks.length || itemBad(it);
  const n = el("div", "card" + (bad ? " problem" : "")); n.dataset.path = it.path;
  n.style.borderLeftColor = D.states[it.status] || "#999";
  n.append(el("div", "t", it.title));
  const when = it.entries.filter((e) => e.time).map((e) => e.date + " " + e.time + " " + e.channel);
  n.append(el("div", "s", [it.path, it.author && "by " + it.author].filter(Boolean).join(" · ")));
  if (when.length) n.append(el("div", "s", when.slice(0, 3).join(", ") + (when.length > 3 ? " …" : "")));
  if (bad) n.append(el("div", "p bad", "⚠ " + [...marks, ...(it.problems.length ? [it.problems.length + " from check"] : [])].join(", ")));
  n.title = [it.title, it.path, ...it.problems].join("\n");
  return n;
}
function showDay(date) {
  const f = filters(), list = (byDate.get(date) || []).filter((e) => keep(e, f));
  $("day-title").textContent = date + " · " + list.length + " entries";
  const ul = $("day-list"); ul.textContent = "";
  for (const e of list) {
    const li = el("li"); li.dataset.path = e.item.path; li.append(chip(e), el("div", "s", e.item.path));
    li.onclick = () => { $("day").close(); openItem(e.item.path); };
    ul.append(li);
  }
  if (!$("day").open) $("day").showModal();
}
function say(text, bad) { const m = $("msg"); m.hidden = false; m.textContent = text; m.className = bad ? "refused" : ""; }

// -- changes ------------------------------------------------------------------------------------
async function post(url, body) {
  body.commit = $("commit").checked;
  let answer;
  try {
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    answer = await r.json();
  } catch (err) { answer = { ok: false, message: "the studio did not answer: " + err }; }
  say(answer.message, !answer.ok);
  await load();
  return answer;
}
const item = (path) => ITEMS.find((it) => it.path === path);
function move(key, date, time) {
  const e = ENTRIES.find((x) => x.key === key);
  return post("/api/move", { path: e.item.path, channel: e.channel, key: e.key, revision: e.item.revision, date, time });
}
function setState(path, status) {
  const it = item(path);
  return post(status === D.final ? "/api/approve" : "/api/status", { path, revision: it.revision, status });
}

// Dragging with the pointer (mouse, pen or touch): a chip onto a day (keeps its time of day) or onto
// an hour of the week (keeps its minutes); a card onto another column. A press without a move opens it.
let drag = null;
document.addEventListener("pointerdown", (ev) => {
  const n = ev.target.closest(".chip, .card"); if (!n || ev.button !== 0) return;
  drag = { node: n, x: ev.clientX, y: ev.clientY, ghost: null };
});
document.addEventListener("pointermove", (ev) => {
  if (!drag) return;
  if (!drag.ghost && Math.hypot(ev.clientX - drag.x, ev.clientY - drag.y) > 5) {
    drag.ghost = drag.node.cloneNode(true); drag.ghost.classList.add("ghost"); document.body.append(drag.ghost);
  }
  if (drag.ghost) {
    drag.ghost.style.left = ev.clientX + 8 + "px"; drag.ghost.style.top = ev.clientY + 8 + "px";
    document.querySelectorAll(".drop").forEach((x) => x.classList.remove("drop"));
    const t = target(drag, ev); if (t) t.classList.add("drop");
  }
});
function target(d, ev) {
  const under = document.elementFromPoint(ev.clientX, ev.clientY); if (!under) return null;
  return d.node.classList.contains("card") ? under.closest(".column") : under.closest(".day, .slot");
}
document.addEventListener("pointerup", (ev) => {
  if (!drag) return;
  const d = drag; drag = null;
  document.querySelectorAll(".drop").forEach((x) => x.classList.remove("drop"));
  if (!d.ghost) { if (!ev.target.closest("#day")) openItem(d.node.dataset.path); return; }
  d.ghost.remove();
  const t = target(d, ev); if (!t) return;
  if (d.node.classList.contains("card")) {
    if (t.dataset.state !== item(d.node.dataset.path).status) setState(d.node.dataset.path, t.dataset.state);
    return;
  }
  const e = ENTRIES[+d.node.dataset.i];
  const time = t.dataset.hour ? t.dataset.hour + ":" + (e.time ? e.time.slice(3, 5) : "00") : (e.time || "09:00");
  if (t.dataset.date !== e.date || time !== e.time) move(e.key, t.dataset.date, time);
});

// -- an item: its entries, problems, state and each channel's rendering (live) -------------------------------
function openItem(path) {
  const it = item(path); if (!it) return;
  openPath = path;
  $("item-title").textContent = it.title;
  $("item-meta").textContent = [it.path, it.status, it.author && "by " + it.author].filter(Boolean).join(" · ");
  const pr = $("item-problems"); pr.textContent = "";
  for (const p of it.problems) pr.append(el("li", null, p));
  const box = $("item-entries"); box.textContent = "";
  for (const e of it.entries) {
    const row = el("div", "entry"); row.dataset.key = e.key;
    const ch = el("span", "ch", e.channel); ch.style.background = colour(e);
    const input = el("input"); input.type = "datetime-local"; input.value = e.local.slice(0, 16);
    const go = el("button", null, "move"); go.type = "button";
    go.onclick = () => input.value && move(e.key, input.value.slice(0, 10), input.value.slice(11, 16));
    row.append(ch, el("span", null, e.state), input, go);
    if (e.marks.length) row.append(el("span", "p bad", "⚠ " + e.marks.join(", ")));
    if (e.notes.length) row.title = e.notes.join("\n");
    box.append(row);
  }
  const sel = $("item-state"); sel.length = 0;
  for (const st of D.board) sel.append(new Option(st, st));
  sel.value = it.status;
  $("approve").disabled = it.status === D.final;
  $("preview").src = "/preview?path=" + encodeURIComponent(path) + "&gen=" + D.gen;
  if (!$("item").open) $("item").showModal();
  writeHash();
}
$("item-close").onclick = () => $("item").close();
$("item").addEventListener("close", () => { openPath = ""; writeHash(); });
$("day-close").onclick = () => $("day").close();
$("approve").onclick = () => setState(openPath, "approved");
$("item-state").onchange = (ev) => setState(openPath, ev.target.value);

// -- loading, the address, the event stream ------------------------------------------------------
async function load() {
  const r = await fetch("/api/calendar", { cache: "no-store" });
  decode(await r.json());
  if (!month) month = D.today.slice(0, 7);
  if (!week) week = monday(D.today);
  render();
  if (openPath && $("item").open) { if (item(openPath)) openItem(openPath); else $("item").close(); }
}
function writeHash() {
  const h = new URLSearchParams(), f = filters();
  h.set("view", view); h.set("month", month); h.set("week", week);
  for (const [k, v] of Object.entries(f)) if (v) h.set(k, v === true ? "1" : v);
  if (openPath) h.set("item", openPath);
  const hash = "#" + h.toString();
  if (location.hash !== hash) history.replaceState(null, "", hash);
}
function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  for (const k of ["channel", "state", "campaign"]) { const s = $("f-" + k), v = h.get(k) || ""; if (v && ![...s.options].some((o) => o.value === v)) s.append(new Option(v, v)); s.value = v; }
  $("f-problems").checked = h.get("problems") === "1"; $("f-text").value = h.get("text") || "";
  if (["month", "week", "board"].includes(h.get("view"))) view = h.get("view");
  if (/^\d{4}-\d{2}$/.test(h.get("month") || "")) month = h.get("month");
  if (/^\d{4}-\d{2}-\d{2}$/.test(h.get("week") || "")) week = monday(h.get("week"));
  openPath = h.get("item") || "";
}
function shift(n) {
  if (view === "week") week = addDays(week, 7 * n);
  else { const [y, m] = month.split("-").map(Number); month = new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 7); }
  render();
}
$("prev").onclick = () => shift(-1); $("next").onclick = () => shift(1);
$("today").onclick = () => { month = D.today.slice(0, 7); week = monday(D.today); render(); };
for (const v of ["month", "week", "board"]) $("v-" + v).onclick = () => { view = v; render(); };
["f-channel", "f-state", "f-campaign", "f-problems"].forEach((id) => $(id).addEventListener("input", render));
let typing = 0; $("f-text").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(render, 60); });
$("clear").onclick = () => { for (const k of ["channel", "state", "campaign"]) $("f-" + k).value = ""; $("f-problems").checked = false; $("f-text").value = ""; render(); };
$("commit").checked = localStorage.getItem("studio.commit") !== "0";
$("commit").onchange = () => localStorage.setItem("studio.commit", $("commit").checked ? "1" : "0");

readHash();
load().then(() => { if (openPath) openItem(openPath); });
const events = new EventSource("/api/events");
events.addEventListener("changed", async (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.error) say(msg.error, true);
  if (!D || msg.gen !== D.gen) await load();
  document.dispatchEvent(new CustomEvent("studio:changed", { detail: msg }));
});
