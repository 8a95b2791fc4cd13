// The interpolate tab: endpoints (test images or prior samples from the server), lerp/slerp/nlerp rows, charts.
"use strict";

function buildGallery() {
  const m = shownModels()[0], g = m.thumbnails, img = unpack(g);
  $("#thumbnails").replaceChildren(...Array.from({ length: img.n }, (_, k) => {
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
  Array.from($("#thumbnails").children).forEach((c, k) => {
    c.classList.toggle("a", !state.prior && k === state.a);
    c.classList.toggle("b", !state.prior && k === state.b);
  });
  const mixed = new Set(shownModels().map((m) => m.data)).size > 1 ?
    " · the models shown were trained on different data: each walks between its own test images A and B" : "";
  $("#endpoints-info").textContent = (state.prior ? `prior samples on the √d shell (seed ${state.priorSeed - 1})` :
    `A = test image ${state.a + 1}, B = test image ${state.b + 1} (click to pick ${state.picking.toUpperCase()} next)`) + mixed;
}
// Two prior samples on the sqrt(d) shell for every model, from the server's seeded generator (seed 0: the pair
// the report's interpolation figure shows); each click asks for the next seed.
async function loadPriorPair() {
  const seed = state.priorSeed;
  const pairs = await Promise.all(state.models.map((m) => api("/api/endpoints", { model: m.name, seed })));
  state.prior = Object.fromEntries(state.models.map((m, k) => [m.name, [pairs[k].a, pairs[k].b]]));
  state.priorSeed = seed + 1;
  markGallery();
  await loadInterp();
}
function endpoints(m) {
  if (state.prior) return state.prior[m.name];
  const codes = m.thumbnails.codes;
  return [codes[Math.min(state.a, codes.length - 1)], codes[Math.min(state.b, codes.length - 1)]];
}
function interpPanels() { return Array.from(document.querySelectorAll("#interp-panels .panel")); }
function buildInterp() {
  $("#interp-panels").replaceChildren(...shownModels().map((m) => {
    const rows = {};
    const panel = el("div", { class: "panel", "data-model": m.name }, [el("h3", { text: title(m) })]);
    for (const method of m.methods) {       // a model whose decode has no gradients walks no geodesic
      const strip = el("canvas", { class: "strip", width: STRIP_COLUMNS * 34, height: 34 });
      const current = el("canvas", { class: "current", width: 68, height: 68, "data-method": method });
      const caption = el("div", { class: "caption" }), length = el("div", { class: "length" });
      rows[method] = { strip, current, caption, length };
      panel.append(el("div", { class: "row" }, [el("span", { class: "label", text: method, style: `color:${METHOD_COLOURS[method]}` }),
        strip, current, caption, length]));
    }
    const norm = el("canvas", { class: "chart", width: 300, height: 140 });
    const conf = el("canvas", { class: "chart", width: 300, height: 140 });
    const rough = el("canvas", { class: "chart", width: 300, height: 140 });
    panel.append(el("div", { class: "charts" }, [norm, conf, rough]));
    Object.assign(panel, { model: m, rows, norm, conf, rough, result: null });
    return panel;
  }));
}
async function loadInterp() {
  if (state.tab !== "interp") return;
  await Promise.all(interpPanels().map(async (p) => {
    const [a, b] = endpoints(p.model);
    const r = await api("/api/interpolate", { model: p.model.name, a, b, steps: 101 });
    if (r === null) return;             // replaced by a newer pick, whose answer follows
    p.result = { ...r, images: Object.fromEntries(p.model.methods.map((k) => [k, unpack(r.rows[k].images)])) };
    for (const k of p.model.methods) {
      const img = p.result.images[k], strip = p.rows[k].strip, w = strip.width / STRIP_COLUMNS;
      for (let c = 0; c < STRIP_COLUMNS; c++) paint(strip, img, c * 10, c * w, 0, w, strip.height);
      p.rows[k].length.textContent = pathLength(p.model, k, r.rows[k]);
    }
  }));
  showT();
}
// A path's own path length (the mean of its roughness), beside the model's over random prior paths if stored.
function pathLength(m, method, row) {
  if (row.ppl == null) return "";
  const stored = m.measures.record && m.measures.record.paths[method];
  return `path length ${fmt(row.ppl, 1)}` + (stored ? ` (model: ${fmt(stored.ppl, 1)})` : "");
}
function showT() {
  const step = Number($("#t").value), t = step / 100;
  $("#t-value").textContent = fmt(t);
  for (const p of interpPanels()) {
    const r = p.result;
    if (!r) continue;
    const methods = p.model.methods;
    for (const k of methods) {
      const row = r.rows[k];
      paint(p.rows[k].current, p.result.images[k], step);
      p.rows[k].caption.textContent = `t = ${fmt(t)} · |z| = ${fmt(row.norm[step])} ${verdict(row, step)}`;
    }
    const d = p.model.latent_dim, norms = methods.map((k) => r.rows[k].norm);
    const top = Math.max(r.sqrt_d, ...norms.flat()) * 1.1;
    chart(p.norm, { label: "|z| along the path", ymin: 0, ymax: top, marker: t,
      series: methods.map((k) => ({ colour: METHOD_COLOURS[k], values: r.rows[k].norm })),
      levels: [{ name: "√d", value: Math.sqrt(d) }, { name: "√(d/2)", value: Math.sqrt(d / 2) }] });
    if (r.rows.lerp.confidence) {
      chart(p.conf, { label: "classifier confidence", ymin: 0, ymax: 1, marker: t,
        series: methods.map((k) => ({ colour: METHOD_COLOURS[k], values: r.rows[k].confidence })) });
    }
    if (r.rows.lerp.roughness) {
      chart(p.rough, { label: "roughness: |Δfeatures|² / ε² at t", ymin: 0, marker: t,
        ymax: Math.max(...methods.map((k) => Math.max(...r.rows[k].roughness))) * 1.05 || 1,
        series: methods.map((k) => ({ colour: METHOD_COLOURS[k], values: r.rows[k].roughness })) });
    }
  }
}
