// The latent-plane tab: decode under the pointer, clicked paths played as animations, a decoded grid layer.
"use strict";

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
      el("div", { class: "plane-box" }, [plane, el("div", {}, [decoded, caption])]), measuresBox(m)]);
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
