// The dimensions tab: one slider per latent dimension, largest KL first.
"use strict";

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
