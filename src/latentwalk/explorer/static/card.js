// A model's measures on its card (the latent-plane panel): the rows `latentwalk measure` or the demo stored in
// the run folder, beside the real-versus-real row, and the path length of each method. An unmeasured model
// offers a quick measure (the server's small counts, stated on the card).
"use strict";

const SAMPLER_NAMES = { real: "real (train)", prior: "prior", gmm: "mixture", posterior: "posterior" };

// The predicted digits of a row as ten bars (each digit's share; 0.1 when even).
function classBars(hist) {
  const c = el("canvas", { class: "bars", width: 50, height: 16 }), ctx = c.getContext("2d");
  const top = Math.max(0.2, ...hist);
  hist.forEach((h, k) => {
    ctx.fillStyle = COLOURS[k];
    const bh = Math.max(h > 0 ? 1 : 0, (h / top) * 15);
    ctx.fillRect(k * 5, 16 - bh, 4, bh);
  });
  c.title = hist.map((h, k) => `${k}: ${Math.round(100 * h)}%`).join(" · ");
  return c;
}

function measureTable(record) {
  const head = el("tr", {}, ["", "n", "Fréchet", "precision", "recall", "density", "coverage", "digits"]
    .map((h) => el("th", { text: h })));
  const order = ["real", "prior", "gmm", "posterior"].filter((s) => record.samples[s]);
  const rows = order.map((s) => {
    const r = record.samples[s];
    return el("tr", { "data-sampler": s }, [
      el("td", { text: SAMPLER_NAMES[s] }), el("td", { text: r.n.toLocaleString("en") }),
      ...["frechet_distance", "precision", "recall", "density", "coverage"]
        .map((k) => el("td", { text: fmt(r[k], k === "frechet_distance" ? 1 : 3) })),
      el("td", {}, [classBars(r.class_histogram)])]);
  });
  return el("table", { class: "measures" }, [head, ...rows]);
}

function measuresBox(m) {
  const box = el("div", { class: "card-measures" });
  const { record, error } = m.measures;
  if (record) {
    if (Object.keys(record.samples).length) {
      box.append(el("div", { class: "meta", text: "each row: n generated images against the first n test images " +
        "(real: n training images)" }), measureTable(record));
    }
    const paths = Object.entries(record.paths);
    if (paths.length) {
      const usual = paths[0][1].paths;        // the closed-form methods' count; a geodesic's is stated beside it
      box.append(el("div", { class: "meta", text: `path length (PPL, ${usual.toLocaleString("en")} prior paths): ` +
        paths.map(([k, v]) => `${k} ${fmt(v.ppl, 1)}` + (v.paths !== usual ? ` (${v.paths} paths)` : "")).join(" · ") }));
    }
    box.append(el("div", { class: "meta", text: `features: ${record.network.network} (SHA-256 ` +
      `${record.network.sha256.slice(0, 8)}…, ${fmt(100 * record.network.test_accuracy)}% test accuracy)` }));
    return box;
  }
  box.append(el("div", { class: "meta", text: error || (m.hidden == null ? "not measured yet" :   // an outside model
    `not measured yet: latentwalk measure …/${m.name} measures it with 10,000 samples per row`) }));
  if (state.classifier) {
    const button = el("button", { class: "measure", text: quickLabel() });
    button.addEventListener("click", () => attempt(measureModel(m, button)));
    box.append(button);
  }
  return box;
}

function quickLabel() { return `Measure now (${state.limits.measure.toLocaleString("en")} samples)`; }

async function measureModel(m, button) {
  button.disabled = true;
  button.textContent = "measuring…";
  try {
    m.measures = await api("/api/measure", { model: m.name });
  } finally {
    button.disabled = false;
    button.textContent = quickLabel();
  }
  for (const p of planePanels()) if (p.model === m) p.querySelector(".card-measures").replaceWith(measuresBox(m));
}
