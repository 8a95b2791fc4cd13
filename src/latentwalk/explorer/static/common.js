// The live explorer's page, shared parts: state, requests, images, charts and the models shown.
// Images arrive as base64 uint8 (n, H, W, C) and are painted into canvases; nothing else is fetched.
// Each tab has a file of its own (plane.js, interp.js, dims.js, sphere.js, arith.js); card.js draws a
// model's measures; main.js starts the page.
"use strict";
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];
const METHOD_COLOURS = { lerp: "#d6336c", slerp: "#1c7ed6", nlerp: "#37b24d", geodesic: "#f08c00" };
const PLANE = 340, DECODED = 140, STRIP_COLUMNS = 11;

const state = {
  models: [], byName: {}, classifier: false, limits: {}, shown: [], tab: "plane",
  path: [], pointer: null, grid: false,
  a: 0, b: -1, arith: 0, picking: "a", prior: null, priorSeed: 0, sphereTimer: null, sphereKey: null, playing: false,
};
let busy = 0;

// ---------------------------------------------------------------- plumbing

const $ = (sel, root = document) => root.querySelector(sel);
function el(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v; else if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
function status(message) { $("#status").textContent = message || ""; }

async function api(path, body) {
  busy += 1;
  document.body.dataset.busy = String(busy);
  try {
    const init = body === undefined ? {} :
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(path, init);
    if (response.status === 204) return null;   // a newer pick replaced it before it ran: nothing to show
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  } finally {
    busy -= 1;
    document.body.dataset.busy = String(busy);
  }
}
function attempt(promise) { return promise.then(() => status(""), (e) => status(e.message)); }

// Images: {shape: [n, H, W, C], pixels: base64} -> {n, h, w, c, bytes}
function unpack(payload) {
  const raw = atob(payload.pixels);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const [n, h, w, c] = payload.shape;
  return { n, h, w, c, bytes };
}
const scratch = document.createElement("canvas");
function bitmap(img, k) {
  scratch.width = img.w; scratch.height = img.h;
  const ctx = scratch.getContext("2d");
  const data = ctx.createImageData(img.w, img.h);
  const size = img.h * img.w, base = k * size * img.c;
  for (let i = 0; i < size; i++) {
    const p = base + i * img.c;
    data.data[4 * i] = img.bytes[p];
    data.data[4 * i + 1] = img.bytes[p + (img.c > 1 ? 1 : 0)];
    data.data[4 * i + 2] = img.bytes[p + (img.c > 1 ? 2 : 0)];
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return scratch;
}
// Paint image k into the box (x, y, w, h) of a canvas, keeping its aspect ratio (centred, black around it).
function paint(canvas, img, k, x = 0, y = 0, w = canvas.width, h = canvas.height) {
  const ctx = canvas.getContext("2d"), scale = Math.min(w / img.w, h / img.h);
  const dw = img.w * scale, dh = img.h * scale;
  ctx.imageSmoothingEnabled = false;
  if (dw < w || dh < h) { ctx.fillStyle = "#000"; ctx.fillRect(x, y, w, h); }
  ctx.drawImage(bitmap(img, k), x + (w - dw) / 2, y + (h - dh) / 2, dw, dh);
}
function fmt(v, digits = 2) { return Number(v).toFixed(digits); }
function verdict(r, k) {
  return r.confidence ? `digit ${r.digit[k]} (${fmt(r.confidence[k])})` : "";
}
function title(m) {
  return m.label === m.name ? `${m.name} z=${m.latent_dim}` : `${m.label} z=${m.latent_dim} · ${m.name}`;
}
function meta(m) {   // an outside model: its own networks, its data named, no training record of ours
  if (m.hidden == null) return `its own networks · ${m.image_shape.join("x")} images · data: ${m.data_name}`;
  const loss = m.test_neg_elbo == null ? "" : ` · test −ELBO ${fmt(m.test_neg_elbo)}`;
  return `${m.arch.toUpperCase()} ${m.hidden.join("-")} · ${m.epochs} epochs${loss}`;
}

// One decode in flight per model and panel; while it runs only the newest request waits (older ones are dropped).
class Live {
  constructor(model, done) { this.model = model; this.done = done; this.next = null; this.running = false; }
  request(z) { this.next = z; if (!this.running) this.pump(); }
  async pump() {
    this.running = true;
    while (this.next) {
      const z = this.next; this.next = null;
      try {
        const r = await api("/api/decode", { model: this.model.name, z: [z], scores: state.classifier });
        this.done(unpack(r.images), r, z);
        status("");
      } catch (e) { status(e.message); }
    }
    this.running = false;
  }
}

// A small line chart: series [{colour, values}] against x in [0, 1] (or index), with marked levels.
function chart(canvas, { series, ymin, ymax, levels = [], marker = null, label = "" }) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 34, B = 18, T = 16;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  const x = (f) => L + f * (W - L - 6), y = (v) => T + (1 - (v - ymin) / (ymax - ymin || 1)) * (H - T - B);
  ctx.strokeStyle = "#d9dee8"; ctx.strokeRect(L, T, W - L - 6, H - T - B);
  ctx.fillStyle = "#5b6478"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(label, L, 11);
  ctx.fillText(fmt(ymax, 1), 2, T + 8); ctx.fillText(fmt(ymin, 1), 2, H - B);
  for (const lv of levels) {
    ctx.setLineDash([4, 3]); ctx.strokeStyle = "#868e96"; ctx.beginPath();
    ctx.moveTo(L, y(lv.value)); ctx.lineTo(W - 6, y(lv.value)); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillText(lv.name, W - 6 - ctx.measureText(lv.name).width, y(lv.value) - 3);
  }
  for (const s of series) {
    ctx.strokeStyle = s.colour; ctx.lineWidth = 1.6; ctx.beginPath();
    s.values.forEach((v, i) => {
      const px = x(i / Math.max(1, s.values.length - 1)), py = y(v);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke(); ctx.lineWidth = 1;
  }
  if (marker !== null) {
    ctx.strokeStyle = "#1d2433"; ctx.beginPath(); ctx.moveTo(x(marker), T); ctx.lineTo(x(marker), H - B); ctx.stroke();
  }
}

// ---------------------------------------------------------------- models shown

function shownModels() { return state.shown.map((n) => state.byName[n]); }
function defaultShown() {
  const ae = state.models.find((m) => m.kind === "ae"), vae = state.models.find((m) => m.kind === "vae");
  if (ae && vae) return [ae.name, vae.name];
  return [state.models[0].name];
}
function buildModelPicker() {
  const box = $("#models");
  box.replaceChildren(...state.models.map((m) => {
    const input = el("input", { type: "checkbox", value: m.name });
    input.checked = state.shown.includes(m.name);
    input.addEventListener("change", () => {
      state.shown = state.models.map((x) => x.name).filter((n) => n === m.name ? input.checked : state.shown.includes(n));
      if (!state.shown.length) { state.shown = [m.name]; input.checked = true; }
      rebuild();
    });
    return el("label", {}, [input, ` ${title(m)}`]);
  }));
}
function rebuild() {
  stopSphere();
  buildPlane(); buildGallery(); buildInterp(); buildDims(); buildSphere(); buildArith();
  showTab(state.tab);
  if (state.pointer) moveTo(state.pointer);
}
function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === name);
  if (name === "interp") attempt(loadInterp());
  if (name === "sphere") attempt(loadSphere());
  if (name === "arith") attempt(loadArith());
  if (name !== "sphere") stopSphere();
}
