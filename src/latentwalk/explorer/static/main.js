// Start the page: ask what the server holds, wire the controls, draw the first tab.
"use strict";

async function start() {
  const info = await api("/api/models");
  state.models = info.models; state.classifier = info.classifier; state.limits = info.limits;
  for (const m of state.models) state.byName[m.name] = m;
  state.shown = defaultShown();
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#grid-layer").addEventListener("change", (e) => {
    state.grid = e.target.checked;
    if (state.grid) attempt(loadGrids()); else for (const p of planePanels()) drawPlane(p);
  });
  $("#clear-path").addEventListener("click", () => { state.path = []; updatePathControls(); for (const p of planePanels()) drawPlane(p); });
  $("#play-path").addEventListener("click", () => attempt(playPath()));
  $("#prior-pair").addEventListener("click", () => attempt(loadPriorPair()));
  $("#t").addEventListener("input", showT);
  $("#dims-from-a").addEventListener("click", () => buildDims(false));
  $("#dims-zero").addEventListener("click", () => buildDims(true));
  $("#sphere-play").addEventListener("click", toggleSphere);
  $("#sphere-frame").addEventListener("input", showFrame);
  for (const id of ["#sphere-steps", "#sphere-loops"]) {
    $(id).addEventListener("change", () => { stopSphere(); $("#sphere-frame").value = "0"; attempt(loadSphere()); });
  }
  for (const [id, value] of [["#vector-from", 3], ["#vector-to", 8]]) {
    $(id).replaceChildren(...Array.from({ length: 10 }, (_, k) => el("option", { value: String(k), text: String(k) })));
    $(id).value = String(value);
  }
  for (const id of ["#vector-kind", "#vector-from", "#vector-to"]) {
    $(id).addEventListener("change", () => {
      const digits = $("#vector-kind").value === "digits";
      for (const s of ["#vector-from", "#vector-to"]) $(s).disabled = !digits;
      attempt(loadArith());
    });
  }
  $("#scale").addEventListener("input", showScale);
  buildModelPicker();
  rebuild();
  moveTo([0, 0]);
  document.body.dataset.ready = "1";
}
attempt(start());
