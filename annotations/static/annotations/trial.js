// The comparative trial, enhanced: keys 1-5 choose the artwork in that place (pairwise also ← and
// →); best-worst takes the most first, then the least, then sends. The browser's own time from
// showing to answering goes with the answer. Without this script the plain form works (click).
(function () {
  "use strict";
  const root = document.getElementById("trial");
  if (!root) return;
  const form = root.querySelector("form.trial-form");
  const kind = root.dataset.kind;
  const stage = document.getElementById("trial-stage");
  const shownAt = performance.now();
  let sending = false;

  form.addEventListener("submit", (event) => {
    if (sending) { event.preventDefault(); return; } // one answer per trial, whatever the keys do
    sending = true;
    form.elements.client_ms.value = Math.round(performance.now() - shownAt);
  });

  function slotFor(key) {
    if (kind === "pairwise" && key === "ArrowLeft") return 0;
    if (kind === "pairwise" && key === "ArrowRight") return 1;
    const index = "12345".indexOf(key);
    return key.length === 1 && index >= 0 && index < root.querySelectorAll(".trial-artwork").length ? index : null;
  }

  function pickBestWorst(slot) {
    const best = form.querySelector('input[name="best"]:checked');
    if (!best) {
      form.querySelector(`input[name="best"][value="${slot}"]`).checked = true;
      if (stage) stage.innerHTML = "Now choose the <strong>least</strong>.";
      return;
    }
    if (String(slot) === best.value) return; // the least cannot be the most
    form.querySelector(`input[name="worst"][value="${slot}"]`).checked = true;
    form.requestSubmit();
  }

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey || sending) return;
    const slot = slotFor(event.key);
    if (slot === null) return;
    event.preventDefault();
    if (kind === "best_worst") pickBestWorst(slot);
    else form.requestSubmit(form.querySelector(`button.choose[value="${slot}"]`));
  });
  root.dataset.ready = "true"; // keys work from here on (tests wait for this)
})();
