// The status page: live values over Server-Sent Events, the stop button, settings, past sessions.
// Plain JavaScript, no framework and nothing from the network but this adapter.
"use strict";

const $ = (id) => document.getElementById(id);
let live = null;          // the last status object
let points = [];          // the chart's points
let ledTimer = null, ledKey = "";

function cookie(name) {
  const m = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return m ? decodeURIComponent(m.slice(name.length + 1)) : "";
}

async function post(url, body) {
  const headers = {"Content-Type": "application/json", "X-CSRF-Token": cookie("csrf")};
  const token = localStorage.getItem("ccs2chademo-token");
  if (token) headers["X-Access-Token"] = token;
  const r = await fetch(url, {method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin"});
  let data = {};
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  return {status: r.status, data};
}

function fmtDuration(s) {
  if (s === null || s === undefined) return "—";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(sec).padStart(2, "0");
}

function setValue(id, value, digits) {
  const el = $(id);
  el.dataset.value = value === null || value === undefined ? "" : String(value);
  el.textContent = value === null || value === undefined ? "—"
    : typeof value === "number" && digits !== undefined ? value.toFixed(digits) : String(value);
}

// ---------------------------------------------------------------- Now
function show(s) {
  live = s;
  setValue("ccs_state", s.ccs_state);
  setValue("downstream_state", s.downstream_state);
  setValue("soc", s.soc, 1);
  setValue("voltage", s.voltage, 1);
  setValue("current", s.current, 1);
  setValue("power_kw", s.power_kw, 1);
  setValue("energy_kwh", s.energy_kwh, 2);
  setValue("charger_limit_a", s.charger_limit_a, 0);
  setValue("car_request_a", s.car_request_a, 0);
  setValue("ccs_target_a", s.ccs_target_a, 0);
  setValue("t", s.t);
  $("elapsed_s").dataset.value = s.elapsed_s;
  $("elapsed_s").textContent = fmtDuration(s.elapsed_s);
  $("remaining_s").dataset.value = s.remaining_s === null ? "" : s.remaining_s;
  $("remaining_s").textContent = s.remaining_s === null ? "—" : fmtDuration(s.remaining_s);
  $("speed").textContent = s.speed && s.speed !== 1 ? "(simulation ×" + s.speed + ")" : "";
  setValue("stop_reason", s.stop_reason || "—");
  $("ended").hidden = !s.ended;
  $("stop").disabled = !s.stop_allowed;
  $("tokenbar").hidden = !s.token_required;
  led(s);
  if (s.points && s.points.length) { points = points.concat(s.points); drawChart($("chart"), points); }
}

function led(s) {
  const el = $("led");
  const key = s.led_pattern || (s.led ? "steady-on" : "off");
  $("led_pattern").textContent = key;
  $("led_pattern").dataset.value = key;
  if (key === ledKey) return;
  ledKey = key;
  clearInterval(ledTimer);
  ledTimer = null;
  if (!s.led_ticks) { el.classList.toggle("on", !!s.led); return; }
  // the pattern's real timing: one step per 100 ms tick (adapter.md §9)
  const levels = [];
  for (const n of s.led_ticks) for (let i = 0; i < Math.abs(n); i++) levels.push(n > 0);
  let i = 0;
  ledTimer = setInterval(() => { el.classList.toggle("on", levels[i]); i = (i + 1) % levels.length; }, 100);
}

function drawChart(canvas, pts) {
  // drawn at the size it is shown, in device pixels: sharp text on a phone
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 640, h = Math.round(w * 0.42), pad = 28;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
  ctx.strokeRect(pad, 6, w - pad - 6, h - pad - 6);
  if (pts.length < 2) return;
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t || 1;
  const x = (t) => pad + (w - pad - 6) * (t - t0) / Math.max(1e-9, t1 - t0);
  const series = [["voltage", "#c00"], ["current", "#00c"], ["soc", "#070"]];
  for (const [key, color] of series) {
    const vals = pts.map((p) => p[key]).filter((v) => v !== null && v !== undefined);
    if (!vals.length) continue;
    const lo = key === "soc" ? 0 : Math.min(0, ...vals), hi = key === "soc" ? 100 : Math.max(1, ...vals);
    const y = (v) => 6 + (h - pad - 12) * (1 - (v - lo) / (hi - lo));
    ctx.strokeStyle = color; ctx.lineWidth = 3; ctx.beginPath();
    let first = true;
    for (const p of pts) {
      if (p[key] === null || p[key] === undefined) continue;
      if (first) { ctx.moveTo(x(p.t), y(p[key])); first = false; } else ctx.lineTo(x(p.t), y(p[key]));
    }
    ctx.stroke();
    ctx.fillStyle = color; ctx.font = "bold 13px sans-serif";
    ctx.fillText(Math.round(hi) + (key === "soc" ? "%" : key === "voltage" ? "V" : "A"),
                 w - 60, 20 + 15 * series.findIndex((s) => s[0] === key));
  }
  ctx.fillStyle = "#000"; ctx.font = "13px sans-serif";
  ctx.fillText(fmtDuration(t1 - t0), w - 60, h - 8);
}

function connect() {
  const es = new EventSource("/api/stream");
  es.onopen = () => { points = []; };  // each stream starts with the whole history
  es.addEventListener("status", (e) => { $("conn").textContent = "live"; show(JSON.parse(e.data)); });
  es.onerror = () => { $("conn").textContent = "reconnecting…"; };
}

$("stop").addEventListener("click", () => { $("confirm").hidden = false; });
$("stop-no").addEventListener("click", () => { $("confirm").hidden = true; });
$("stop-yes").addEventListener("click", async () => {
  $("confirm").hidden = true;
  const r = await post("/api/stop", {confirm: true});
  $("stop-msg").textContent = r.status === 202 ? "Stop pressed: the adapter is stopping the charge."
    : "Not pressed: " + (r.data.error || r.status);
});
$("token").addEventListener("change", (e) => localStorage.setItem("ccs2chademo-token", e.target.value.trim()));

// ---------------------------------------------------------------- Settings
let settings = null;

function inputFor(p) {
  let el;
  const bool = p.type === "bool" || p.type === "bool/auto";
  if (bool || p.type === "choice") {
    el = document.createElement("select");
    const choices = p.type === "choice" ? p.choices : ["true", "false"].concat(p.type === "bool/auto" ? ["auto"] : []);
    for (const c of choices) { const o = document.createElement("option"); o.value = o.textContent = c; el.append(o); }
    el.value = String(p.value);
  } else {
    el = document.createElement("input");
    el.type = "text"; el.inputMode = p.type.endsWith("/auto") ? "text" : "numeric";
    el.value = String(p.value);
  }
  el.id = "f-" + p.key; el.dataset.type = p.type;
  return el;
}

function fieldValue(el) {
  const v = el.value.trim(), type = el.dataset.type;
  if (type === "choice" || v === "auto") return v;
  if (type === "bool" || type === "bool/auto") return v === "true";
  return /^-?\d+$/.test(v) ? Number(v) : v;  // anything else goes to the model, which names the error
}

async function loadSettings() {
  const r = await fetch("/api/settings");
  settings = await r.json();
  const box = $("params");
  box.replaceChildren();
  for (const p of settings.parameters) {
    const row = document.createElement("label");
    row.className = "row"; row.id = "row-" + p.key;
    const key = document.createElement("span"); key.className = "key"; key.textContent = p.key;
    const info = document.createElement("small");
    const range = p.min !== null && p.min !== undefined ? " · " + p.min + "–" + p.max : "";
    info.textContent = p.meaning + " (" + p.unit + range + ", default " + p.default + ")";
    const err = document.createElement("span"); err.className = "err"; err.id = "err-" + p.key;
    row.append(key, inputFor(p), info, err);
    box.append(row);
  }
  const sel = $("f-preset");
  sel.replaceChildren();
  for (const name of [""].concat(Object.keys(settings.presets))) {
    const o = document.createElement("option"); o.value = name; o.textContent = name || "(none)"; sel.append(o);
  }
  sel.value = settings.preset || "";
  shownPreset = sel.value;
  presetInfo();
  const locked = settings.locked || !settings.editable;
  $("settings-fields").disabled = locked;
  $("save").disabled = locked;
  $("settings-note").textContent = !settings.editable ? "No configuration file: start with --config FILE to edit."
    : settings.locked ? "A session is active: settings can be changed when it has ended."
    : "File " + settings.file + ". Changes apply from the next session.";
}

function presetInfo() {
  const p = settings.presets[$("f-preset").value];
  $("preset-for").textContent = p ? p.for + ": " + JSON.stringify(p.values) : "";
}

// choosing a preset shows its values: the old preset's keys go back to the defaults (or the
// file's own values), the new preset's keys take its values
let shownPreset = null;
function applyPreset() {
  const old = settings.presets[shownPreset || ""], now = settings.presets[$("f-preset").value];
  const byKey = Object.fromEntries(settings.parameters.map((p) => [p.key, p]));
  for (const key of Object.keys(old ? old.values : {})) {
    if (!byKey[key]) continue;
    const v = key in settings.file_values ? settings.file_values[key] : byKey[key].default;
    $("f-" + key).value = String(v);
  }
  for (const [key, v] of Object.entries(now ? now.values : {})) if (byKey[key]) $("f-" + key).value = String(v);
  shownPreset = $("f-preset").value;
  presetInfo();
}
$("f-preset").addEventListener("change", applyPreset);

$("settings-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  for (const el of document.querySelectorAll(".err")) el.textContent = "";
  for (const el of document.querySelectorAll(".row.bad")) el.classList.remove("bad");
  // every value as shown: the server writes those that differ from the preset and the defaults
  const values = {};
  for (const p of settings.parameters) values[p.key] = fieldValue($("f-" + p.key));
  const r = await post("/api/settings", {preset: $("f-preset").value || null, values});
  if (r.status === 200) {
    $("settings-msg").textContent = "Saved to " + r.data.written + " (backup " + r.data.backup + "); applies from the next session.";
    return;
  }
  $("settings-msg").textContent = "Not saved: " + (r.data.error || r.status);
  for (const [key, msg] of Object.entries(r.data.fields || {})) {
    const err = $("err-" + key) || $("err-form");
    err.textContent = msg;
    const row = $("row-" + key); if (row) row.classList.add("bad");
  }
});

// ---------------------------------------------------------------- Sessions
async function loadSessions() {
  const r = await fetch("/api/sessions");
  const data = await r.json();
  const list = $("session-list");
  list.replaceChildren();
  if (!data.sessions.length) list.textContent = "No session log yet.";
  for (const s of data.sessions) {
    const card = document.createElement("div"); card.className = "card"; card.id = "session-" + s.id;
    const soc = s.soc_start !== null ? "SoC " + s.soc_start.toFixed(0) + " → " + s.soc_end.toFixed(0) + " %, " : "";
    card.textContent = fmtDuration(s.duration_s) + " · " + soc + s.energy_kwh.toFixed(2) + " kWh · " + (s.stop_reason || "—");
    const b = document.createElement("button"); b.textContent = "Show"; b.className = "show-session";
    b.addEventListener("click", () => showSession(s.id));
    card.append(document.createElement("br"), b);
    list.append(card);
  }
  const files = $("file-list");
  files.replaceChildren();
  for (const f of data.files) {
    const li = document.createElement("li"), a = document.createElement("a");
    a.href = "/api/files/" + encodeURIComponent(f.name); a.textContent = f.name; a.download = f.name;
    li.append(a, " (" + f.kind + ", " + Math.ceil(f.size / 1024) + " KiB)");
    files.append(li);
  }
}

async function showSession(id) {
  const s = await (await fetch("/api/sessions/" + encodeURIComponent(id))).json();
  $("session-detail").hidden = false;
  $("sd-title").textContent = "Session " + s.id;
  $("sd-summary").textContent = "Duration " + fmtDuration(s.duration_s) + ", " + s.energy_kwh.toFixed(2)
    + " kWh, stop: " + (s.stop_reason || "—") + ", CCS: " + s.ccs_states.join(" → ");
  $("sd-log").href = "/api/sessions/" + encodeURIComponent(id) + "/log";
  drawChart($("sd-chart"), s.plot);
}

// ---------------------------------------------------------------- tabs
for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
    for (const p of document.querySelectorAll(".page")) p.hidden = p.id !== tab.dataset.tab;
    if (tab.dataset.tab === "settings") loadSettings();
    if (tab.dataset.tab === "sessions") loadSessions();
  });
}

connect();  // the stream's first event carries the whole chart history
