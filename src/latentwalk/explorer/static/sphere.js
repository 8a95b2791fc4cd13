// The sphere-walk tab: a walk on the sqrt(d) sphere, its norm and two coordinate planes, played frame by frame.
"use strict";

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
