// The arithmetic tab: a test digit plus a scaled attribute vector (3to8-style digit pairs, thickness, slant),
// decoded live for every model shown; the vector is the server's, taken from each model's training codes.
"use strict";

const ARITH_STRIP = 9;       // decoded scales in each model's strip, from -max to +max

function vectorSpec() {
  const kind = $("#vector-kind").value;
  return kind === "digits" ? `${$("#vector-from").value}to${$("#vector-to").value}` : kind;
}
function arithPanels() { return Array.from(document.querySelectorAll("#arith-panels .panel")); }

function buildArith() {
  const m = shownModels()[0], g = m.thumbnails, img = unpack(g);
  if (state.arith >= img.n) state.arith = 0;
  $("#arith-thumbnails").replaceChildren(...Array.from({ length: img.n }, (_, k) => {
    const c = el("canvas", { class: "thumb", width: 36, height: 36, title: g.labels ? `digit ${g.labels[k]}` : `#${k}` });
    paint(c, img, k);
    c.classList.toggle("a", k === state.arith);
    c.addEventListener("click", () => { state.arith = k; buildArith(); attempt(loadArith()); });
    return c;
  }));
  $("#arith-panels").replaceChildren(...shownModels().map((model) => {
    const decoded = el("canvas", { class: "decoded", width: DECODED, height: DECODED });
    const strip = el("canvas", { class: "strip", width: ARITH_STRIP * 40, height: 40 });
    const caption = el("div", { class: "caption" }), about = el("div", { class: "meta" });
    const panel = el("div", { class: "panel", "data-model": model.name }, [el("h3", { text: title(model) }), about,
      el("div", { class: "plane-box" }, [el("div", {}, [decoded, caption]), strip])]);
    panel.live = new Live(model, (im, r) => {
      paint(decoded, im, 0);
      caption.textContent = `scale ${fmt(Number($("#scale").value), 1)} · |z| = ${fmt(r.norm[0])} ${verdict(r, 0)}`;
    });
    Object.assign(panel, { model, decoded, strip, about, vector: null });
    return panel;
  }));
}
function arithCode(panel) {
  const codes = panel.model.thumbnails.codes;
  return codes[Math.min(state.arith, codes.length - 1)];
}
function moved(panel, scale) { return arithCode(panel).map((v, i) => v + scale * panel.vector[i]); }

// Ask each model for the vector, then draw its strip and the current scale.
async function loadArith() {
  if (state.tab !== "arith") return;
  const spec = vectorSpec(), top = Number($("#scale").max);
  await Promise.all(arithPanels().map(async (p) => {
    const r = await api("/api/vector", { model: p.model.name, vector: spec });
    p.vector = r.vector;
    p.about.textContent = `${spec}: |vector| = ${fmt(r.norm)}, from ${r.images.toLocaleString("en")} training images`;
    const scales = Array.from({ length: ARITH_STRIP }, (_, k) => -top + 2 * top * k / (ARITH_STRIP - 1));
    const d = await api("/api/decode", { model: p.model.name, z: scales.map((s) => moved(p, s)) });
    const im = unpack(d.images), w = p.strip.width / ARITH_STRIP;
    scales.forEach((_, k) => paint(p.strip, im, k, k * w, 0, w, p.strip.height));
  }));
  showScale();
}
function showScale() {
  const scale = Number($("#scale").value);
  $("#scale-value").textContent = fmt(scale, 1);
  for (const p of arithPanels()) if (p.vector) p.live.request(moved(p, scale));
}
