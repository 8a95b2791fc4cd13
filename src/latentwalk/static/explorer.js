// The live explorer's page: draws what /api/models describes and asks the server to decode as you move.
// Images arrive as base64 uint8 (n, H, W, C) and are painted into canvases; nothing else is fetched.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];
const METHOD_COLOURS = { lerp: "#d6336c", slerp: "#1c7ed6", nlerp: "#37b24d" };
const METHODS = ["lerp", "slerp", "nlerp"];
const PLANE = 340, DECODED = 140, STRIP_COLUMNS = 11;

const state = {
  models: [], byName: {}, classifier: false, shown: [], tab: "plane",
  path: [], pointer: null, grid: false,
  a: 0, b: -1, picking: "a", prior: null, priorSeed: 0, sphereTimer: null, sphereKey: null, playing: false,
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
function title(m) { return `${m.kind.toUpperCase()} z=${m.latent_dim} · ${m.name}`; }
function meta(m) {
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
  buildPlane(); buildGallery(); buildInterp(); buildDims(); buildSphere();
  showTab(state.tab);
  if (state.pointer) moveTo(state.pointer);
}
function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === name);
  if (name === "interp") attempt(loadInterp());
  if (name === "sphere") attempt(loadSphere());
  if (name !== "sphere") stopSphere();
}

// ---------------------------------------------------------------- the latent plane

function toLatent(m, x, y) {
  const z = new Array(m.latent_dim).fill(0);
  z[m.plane[0]] = x;
  if (m.plane.length > 1) z[m.plane[1]] = y;
  return z;
}
function planePanels() { return Array.from(document.querySelectorAll("#plane-panels .panel")); }

function drawPlane(panel) {
  const m = panel.model, E = m.extent, ctx = panel.plane.getContext("2d");
  const px = (v) => (v + E) / (2 * E) * PLANE, py = (v) => (E - v) / (2 * E) * PLANE;
  ctx.drawImage(panel.background, 0, 0);
  if (state.grid && panel.gridImage) ctx.drawImage(panel.gridImage, 0, 0, PLANE, PLANE);
  const s = m.scatter;
  ctx.globalAlpha = state.grid ? 0.35 : 0.7;
  for (let i = 0; i < s.x.length; i++) {
    ctx.fillStyle = s.labels ? COLOURS[s.labels[i] % 10] : "#495057";
    ctx.fillRect(px(s.x[i]) - 1.2, py(s.y[i]) - 1.2, 2.4, 2.4);
  }
  ctx.globalAlpha = 1;
  if (state.path.length) {
    ctx.strokeStyle = "#1d2433"; ctx.lineWidth = 1.5; ctx.beginPath();
    state.path.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
    ctx.stroke(); ctx.lineWidth = 1;
    ctx.fillStyle = "#1d2433";
    for (const [x, y] of state.path) { ctx.beginPath(); ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI); ctx.fill(); }
  }
  if (state.pointer) {
    const [x, y] = m.plane.length > 1 ? state.pointer : [state.pointer[0], 0];   // d = 1: the z1 line
    ctx.strokeStyle = "#e8590c"; ctx.lineWidth = 2; ctx.beginPath();
    ctx.arc(px(x), py(y), 6, 0, 2 * Math.PI); ctx.stroke(); ctx.lineWidth = 1;
  }
}
function priorBackground(m) {
  const c = el("canvas", { width: PLANE, height: PLANE }), ctx = c.getContext("2d"), E = m.extent;
  const img = ctx.createImageData(PLANE, PLANE);
  for (let j = 0; j < PLANE; j++) for (let i = 0; i < PLANE; i++) {
    const x = (i + 0.5) / PLANE * 2 * E - E, y = E - (j + 0.5) / PLANE * 2 * E;
    const p = Math.exp(-(x * x + y * y) / 2), o = 4 * (j * PLANE + i);
    img.data[o] = 255 - 70 * p; img.data[o + 1] = 255 - 45 * p; img.data[o + 2] = 255 - 10 * p; img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  ctx.strokeStyle = "rgba(47, 111, 223, 0.35)"; ctx.setLineDash([3, 3]);
  for (const r of [1, 2, 3]) {
    ctx.beginPath(); ctx.arc(PLANE / 2, PLANE / 2, r / (2 * E) * PLANE, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.fillStyle = "#5b6478"; ctx.font = "11px system-ui, sans-serif";
  const [i, j] = m.plane;
  ctx.fillText(`z${i + 1} →  [${-E}, ${E}]`, 6, PLANE - 6);
  if (m.plane.length > 1) ctx.fillText(`z${j + 1} ↑`, 6, 14);
  return c;
}

function buildPlane() {
  const box = $("#plane-panels");
  box.replaceChildren(...shownModels().map((m) => {
    const plane = el("canvas", { class: "plane", width: PLANE, height: PLANE });
    const decoded = el("canvas", { class: "decoded", width: DECODED, height: DECODED });
    const caption = el("div", { class: "caption", text: "move over the plane" });
    const panel = el("div", { class: "panel", "data-model": m.name }, [
      el("h3", { text: title(m) }), el("div", { class: "meta", text: meta(m) }),
      el("div", { class: "plane-box" }, [plane, el("div", {}, [decoded, caption])])]);
    Object.assign(panel, { model: m, plane, decoded, caption, background: priorBackground(m), gridImage: null });
    panel.live = new Live(m, (img, r, z) => {
      paint(decoded, img, 0);
      const [i, j] = m.plane;
      caption.textContent = `z${i + 1} = ${fmt(z[i])}` + (m.plane.length > 1 ? `, z${j + 1} = ${fmt(z[j])}` : "") +
        ` · |z| = ${fmt(r.norm[0])} ${verdict(r, 0)}`;
    });
    let down = null;
    const at = (ev) => {
      const rect = plane.getBoundingClientRect(), E = m.extent;
      return [((ev.clientX - rect.left) / rect.width) * 2 * E - E, E - ((ev.clientY - rect.top) / rect.height) * 2 * E];
    };
    plane.addEventListener("pointermove", (ev) => moveTo(at(ev)));
    plane.addEventListener("pointerdown", (ev) => { down = [ev.clientX, ev.clientY]; plane.setPointerCapture(ev.pointerId); });
    plane.addEventListener("pointerup", (ev) => {
      if (down && Math.hypot(ev.clientX - down[0], ev.clientY - down[1]) < 4) addPathPoint(at(ev));
      down = null;
    });
    drawPlane(panel);
    return panel;
  }));
  const legend = $("#legend");
  legend.replaceChildren(...COLOURS.map((c, k) => el("span", {}, [el("i", { style: `background:${c}` }), String(k)])));
  if (state.grid) attempt(loadGrids());
  updatePathControls();
}
function moveTo(point) {
  state.pointer = point;
  for (const p of planePanels()) { drawPlane(p); p.live.request(toLatent(p.model, ...point)); }
}
function addPathPoint(point) {
  state.path.push(point);
  updatePathControls();
  for (const p of planePanels()) drawPlane(p);
}
function updatePathControls() {
  $("#play-path").disabled = state.path.length < 2 || state.playing;
  $("#path-info").textContent = state.path.length ? `${state.path.length} path point(s)` : "click the plane to add path points";
}
// The clicked polyline, resampled to `frames` points evenly spaced along its length.
function resample(points, frames) {
  const seg = points.slice(1).map((p, i) => Math.hypot(p[0] - points[i][0], p[1] - points[i][1]));
  const total = seg.reduce((a, b) => a + b, 0) || 1, out = [];
  for (let f = 0; f < frames; f++) {
    let d = total * f / (frames - 1), k = 0;
    while (k < seg.length - 1 && d > seg[k]) { d -= seg[k]; k += 1; }
    const u = seg[k] ? Math.min(1, d / seg[k]) : 0, a = points[k], b = points[k + 1];
    out.push([a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1])]);
  }
  return out;
}
async function playPath() {
  state.playing = true;
  updatePathControls();
  try {
    const frames = resample(state.path, 90), panels = planePanels();
    const results = await Promise.all(panels.map((p) =>
      api("/api/decode", { model: p.model.name, z: frames.map((f) => toLatent(p.model, ...f)), scores: state.classifier })));
    const images = results.map((r) => unpack(r.images));
    for (let f = 0; f < frames.length && panels[0].isConnected; f++) {   // stops if the panels are rebuilt
      state.pointer = frames[f];
      panels.forEach((p, k) => {
        drawPlane(p); paint(p.decoded, images[k], f);
        p.caption.textContent = `path frame ${f + 1} / ${frames.length} · |z| = ${fmt(results[k].norm[f])} ${verdict(results[k], f)}`;
      });
      $("#path-info").textContent = `playing: frame ${f + 1} / ${frames.length}`;
      await new Promise((r) => setTimeout(r, 33));
    }
  } finally {
    state.playing = false;
    updatePathControls();
  }
}
async function loadGrids() {
  const n = 20;
  await Promise.all(planePanels().map(async (p) => {
    if (p.gridImage) return;
    const m = p.model, E = m.extent, z = [];
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      z.push(toLatent(m, -E + (c + 0.5) * 2 * E / n, E - (r + 0.5) * 2 * E / n));
    }
    const img = unpack((await api("/api/decode", { model: m.name, z })).images);
    const mosaic = el("canvas", { width: n * img.w, height: n * img.h });
    for (let k = 0; k < n * n; k++) paint(mosaic, img, k, (k % n) * img.w, Math.floor(k / n) * img.h, img.w, img.h);
    p.gridImage = mosaic;
  }));
  for (const p of planePanels()) drawPlane(p);
}

// ---------------------------------------------------------------- interpolation

function buildGallery() {
  const m = shownModels()[0], g = m.gallery, img = unpack(g);
  $("#gallery").replaceChildren(...Array.from({ length: img.n }, (_, k) => {
    const c = el("canvas", { class: "thumb", width: 36, height: 36, title: g.labels ? `digit ${g.labels[k]}` : `#${k}` });
    paint(c, img, k);
    c.addEventListener("click", () => {
      state[state.picking] = k; state.picking = state.picking === "a" ? "b" : "a"; state.prior = null;
      markGallery(); attempt(loadInterp());
    });
    return c;
  }));
  if (state.a >= img.n) state.a = 0;
  if (state.b < 0 || state.b >= img.n || state.b === state.a) state.b = Math.floor(img.n / 2);   // a 5 against a 0 on MNIST
  markGallery();
}
function markGallery() {
  Array.from($("#gallery").children).forEach((c, k) => {
    c.classList.toggle("a", !state.prior && k === state.a);
    c.classList.toggle("b", !state.prior && k === state.b);
  });
  const mixed = new Set(shownModels().map((m) => m.data)).size > 1 ?
    " · the models shown were trained on different data: each walks between its own test images A and B" : "";
  $("#endpoints-info").textContent = (state.prior ? `prior samples on the √d shell (seed ${state.priorSeed})` :
    `A = test image ${state.a + 1}, B = test image ${state.b + 1} (click to pick ${state.picking.toUpperCase()} next)`) + mixed;
}
// Seeded normal draws (mulberry32 + Box-Muller), rescaled onto the sqrt(d) shell.
function priorPoint(d, seed) {
  let s = seed >>> 0;
  const uniform = () => { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; };
  const z = Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
  const r = Math.hypot(...z) || 1;
  return z.map((v) => v / r * Math.sqrt(d));
}
function endpoints(m) {
  if (state.prior) return [priorPoint(m.latent_dim, 2 * state.priorSeed + 1), priorPoint(m.latent_dim, 2 * state.priorSeed + 2)];
  const codes = m.gallery.codes;
  return [codes[Math.min(state.a, codes.length - 1)], codes[Math.min(state.b, codes.length - 1)]];
}
function interpPanels() { return Array.from(document.querySelectorAll("#interp-panels .panel")); }
function buildInterp() {
  $("#interp-panels").replaceChildren(...shownModels().map((m) => {
    const rows = {};
    const panel = el("div", { class: "panel", "data-model": m.name }, [el("h3", { text: title(m) })]);
    for (const method of METHODS) {
      const strip = el("canvas", { class: "strip", width: STRIP_COLUMNS * 34, height: 34 });
      const current = el("canvas", { class: "current", width: 68, height: 68, "data-method": method });
      const caption = el("div", { class: "caption" });
      rows[method] = { strip, current, caption };
      panel.append(el("div", { class: "row" }, [el("span", { class: "label", text: method, style: `color:${METHOD_COLOURS[method]}` }),
        strip, current, caption]));
    }
    const norm = el("canvas", { class: "chart", width: 300, height: 140 });
    const conf = el("canvas", { class: "chart", width: 300, height: 140 });
    panel.append(el("div", { class: "charts" }, [norm, conf]));
    Object.assign(panel, { model: m, rows, norm, conf, result: null });
    return panel;
  }));
}
async function loadInterp() {
  if (state.tab !== "interp") return;
  await Promise.all(interpPanels().map(async (p) => {
    const [a, b] = endpoints(p.model);
    const r = await api("/api/interpolate", { model: p.model.name, a, b, steps: 101 });
    p.result = { ...r, images: Object.fromEntries(METHODS.map((k) => [k, unpack(r.rows[k].images)])) };
    for (const k of METHODS) {
      const img = p.result.images[k], strip = p.rows[k].strip, w = strip.width / STRIP_COLUMNS;
      for (let c = 0; c < STRIP_COLUMNS; c++) paint(strip, img, c * 10, c * w, 0, w, strip.height);
    }
  }));
  showT();
}
function showT() {
  const step = Number($("#t").value), t = step / 100;
  $("#t-value").textContent = fmt(t);
  for (const p of interpPanels()) {
    const r = p.result;
    if (!r) continue;
    for (const k of METHODS) {
      const row = r.rows[k];
      paint(p.rows[k].current, p.result.images[k], step);
      p.rows[k].caption.textContent = `t = ${fmt(t)} · |z| = ${fmt(row.norm[step])} ${verdict(row, step)}`;
    }
    const d = p.model.latent_dim, norms = METHODS.map((k) => r.rows[k].norm);
    const top = Math.max(r.sqrt_d, ...norms.flat()) * 1.1;
    chart(p.norm, { label: "|z| along the path", ymin: 0, ymax: top, marker: t,
      series: METHODS.map((k) => ({ colour: METHOD_COLOURS[k], values: r.rows[k].norm })),
      levels: [{ name: "√d", value: Math.sqrt(d) }, { name: "√(d/2)", value: Math.sqrt(d / 2) }] });
    if (r.rows.lerp.confidence) {
      chart(p.conf, { label: "classifier confidence", ymin: 0, ymax: 1, marker: t,
        series: METHODS.map((k) => ({ colour: METHOD_COLOURS[k], values: r.rows[k].confidence })) });
    }
  }
}

// ---------------------------------------------------------------- one slider per dimension

function buildDims(fromZero = false) {
  $("#dims-panels").replaceChildren(...shownModels().map((m) => {
    const base = fromZero ? new Array(m.latent_dim).fill(0) : endpoints(m)[0].slice();
    const decoded = el("canvas", { class: "decoded", width: DECODED, height: DECODED });
    const caption = el("div", { class: "caption" });
    const live = new Live(m, (img, r) => {
      paint(decoded, img, 0);
      caption.textContent = `|z| = ${fmt(r.norm[0])} ${verdict(r, 0)}`;
    });
    const sliders = m.weights.dims.map((dim, k) => {
      const input = el("input", { type: "range", min: -m.extent, max: m.extent, step: 0.01, "data-dim": dim });
      input.value = String(base[dim]);
      const value = el("output", { text: fmt(base[dim]) });
      input.addEventListener("input", () => {
        base[dim] = Number(input.value); value.textContent = fmt(base[dim]); live.request(base.slice());
      });
      return el("div", { class: "slider-row" }, [el("span", { text: `z${dim + 1} · ${m.weights.name} ${fmt(m.weights.values[k])}` }), input, value]);
    });
    const panel = el("div", { class: "panel", "data-model": m.name }, [el("h3", { text: title(m) }),
      el("div", { class: "plane-box" }, [el("div", {}, sliders), el("div", {}, [decoded, caption])])]);
    live.request(base.slice());
    return panel;
  }));
}

// ---------------------------------------------------------------- the sphere walk

function spherePanels() { return Array.from(document.querySelectorAll("#sphere-panels .panel")); }
function buildSphere() {
  state.sphereKey = null;
  const walkers = shownModels().filter((m) => m.latent_dim >= 2);
  if (!walkers.length) {
    $("#sphere-panels").replaceChildren(el("p", { class: "help", text: "A sphere walk needs d ≥ 2: show such a model." }));
    return;
  }
  $("#sphere-panels").replaceChildren(...walkers.map((m) => {
    const decoded = el("canvas", { class: "decoded", width: DECODED, height: DECODED });
    const caption = el("div", { class: "caption" });
    const norm = el("canvas", { class: "chart", width: 300, height: 140 });
    const planes = el("canvas", { class: "chart", width: 300, height: 150 });
    const panel = el("div", { class: "panel", "data-model": m.name }, [el("h3", { text: title(m) }),
      el("div", { class: "sphere-box" }, [el("div", {}, [decoded, caption]), el("div", {}, [norm, planes])])]);
    Object.assign(panel, { model: m, decoded, caption, norm, planes, result: null });
    return panel;
  }));
}
async function loadSphere() {
  const steps = Number($("#sphere-steps").value), loops = Number($("#sphere-loops").value);
  const key = `${steps} ${loops}`;
  if (state.sphereKey === key) { showFrame(); return; }          // walked already: only redraw
  $("#sphere-frame").max = String(steps - 1);
  await Promise.all(spherePanels().map(async (p) => {
    const r = await api("/api/sphere-walk", { model: p.model.name, steps, loops });
    p.result = { ...r, img: unpack(r.images) };
  }));
  state.sphereKey = key;
  showFrame();
}
function drawCoordinatePlanes(canvas, coords, frame) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pairs = coords[0].length >= 4 ? [[0, 1], [2, 3]] : [[0, 1]];
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  const size = Math.min(H - 20, W / pairs.length - 10), R = Math.max(...coords.flat().map(Math.abs)) * 1.05 || 1;
  pairs.forEach(([i, j], k) => {
    const ox = k * (size + 10) + 5, oy = 16, px = (v) => ox + (v + R) / (2 * R) * size, py = (v) => oy + (R - v) / (2 * R) * size;
    ctx.strokeStyle = "#d9dee8"; ctx.strokeRect(ox, oy, size, size);
    ctx.fillStyle = "#5b6478"; ctx.font = "11px system-ui, sans-serif"; ctx.fillText(`z${i + 1}, z${j + 1}`, ox, 11);
    ctx.strokeStyle = "rgba(28, 126, 214, 0.5)"; ctx.beginPath();
    coords.forEach((c, f) => (f ? ctx.lineTo(px(c[i]), py(c[j])) : ctx.moveTo(px(c[i]), py(c[j]))));
    ctx.stroke();
    ctx.fillStyle = "#e8590c"; ctx.beginPath(); ctx.arc(px(coords[frame][i]), py(coords[frame][j]), 4, 0, 2 * Math.PI); ctx.fill();
  });
}
function showFrame() {
  const frame = Number($("#sphere-frame").value);
  for (const p of spherePanels()) {
    const r = p.result;
    if (!r || frame >= r.img.n) continue;
    $("#sphere-frame-value").textContent = `${frame + 1} / ${r.img.n}`;
    paint(p.decoded, r.img, frame);
    p.caption.textContent = `frame ${frame + 1} / ${r.img.n} · |z| = ${fmt(r.norm[frame])} ${verdict(r, frame)}`;
    chart(p.norm, { label: "|z| along the walk", ymin: 0, ymax: r.sqrt_d * 1.3, marker: frame / (r.img.n - 1),
      series: [{ colour: "#1c7ed6", values: r.norm }], levels: [{ name: "√d", value: r.sqrt_d }] });
    drawCoordinatePlanes(p.planes, r.coords, frame);
  }
}
function stopSphere() {
  if (state.sphereTimer) clearInterval(state.sphereTimer);
  state.sphereTimer = null;
  $("#sphere-play").textContent = "Play";
}
function toggleSphere() {
  if (state.sphereTimer) { stopSphere(); return; }
  $("#sphere-play").textContent = "Pause";
  state.sphereTimer = setInterval(() => {
    const slider = $("#sphere-frame");
    slider.value = String((Number(slider.value) + 1) % (Number(slider.max) + 1));
    showFrame();
  }, 33);
}

// ---------------------------------------------------------------- start

async function start() {
  const info = await api("/api/models");
  state.models = info.models; state.classifier = info.classifier;
  for (const m of state.models) state.byName[m.name] = m;
  state.shown = defaultShown();
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#grid-layer").addEventListener("change", (e) => {
    state.grid = e.target.checked;
    if (state.grid) attempt(loadGrids()); else for (const p of planePanels()) drawPlane(p);
  });
  $("#clear-path").addEventListener("click", () => { state.path = []; updatePathControls(); for (const p of planePanels()) drawPlane(p); });
  $("#play-path").addEventListener("click", () => attempt(playPath()));
  $("#prior-pair").addEventListener("click", () => {
    state.priorSeed += 1; state.prior = true; markGallery(); attempt(loadInterp());
  });
  $("#t").addEventListener("input", showT);
  $("#dims-from-a").addEventListener("click", () => buildDims(false));
  $("#dims-zero").addEventListener("click", () => buildDims(true));
  $("#sphere-play").addEventListener("click", toggleSphere);
  $("#sphere-frame").addEventListener("input", showFrame);
  for (const id of ["#sphere-steps", "#sphere-loops"]) {
    $(id).addEventListener("change", () => { stopSphere(); $("#sphere-frame").value = "0"; attempt(loadSphere()); });
  }
  buildModelPicker();
  rebuild();
  moveTo([0, 0]);
  document.body.dataset.ready = "1";
}
attempt(start());
