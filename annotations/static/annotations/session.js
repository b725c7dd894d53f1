// The judging page, enhanced: keyboard answers, zoom, and sending an item with fetch so that the
// next artwork replaces this one without a page load. Without this script the plain form works.
(function () {
  "use strict";
  const root = document.getElementById("judging");
  if (!root) return;
  let active = 0;
  let shownAt = performance.now();

  const form = () => root.querySelector("form.item-form");
  const questions = () => Array.from(root.querySelectorAll("fieldset.question")).filter((q) => !q.hidden);

  function activate(index, scroll = true) {
    const list = questions();
    if (!list.length) return;
    active = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((q, i) => q.classList.toggle("active", i === active));
    if (scroll) list[active].scrollIntoView({ block: "nearest" });
  }

  // A follow-up (deformation severity) is asked only after its trigger answer.
  function syncFollowUps() {
    root.querySelectorAll("fieldset.follow-up").forEach((fieldset) => {
      const trigger = Array.from(root.querySelectorAll(`input[name="${CSS.escape(fieldset.dataset.for)}"]`))
        .find((input) => input.value === fieldset.dataset.when);
      const on = Boolean(trigger && trigger.checked);
      fieldset.hidden = !on;
      fieldset.querySelectorAll("input").forEach((input) => { input.disabled = !on; input.required = on; });
    });
  }

  function start() {
    shownAt = performance.now();
    syncFollowUps();
    activate(0, false);
    root.dataset.ready = "true"; // keys work from here on (tests wait for this)
  }

  function toggleZoom() {
    const figure = root.querySelector(".artwork");
    if (!figure) return;
    const img = figure.querySelector("img");
    const zoomed = figure.classList.toggle("zoomed");
    figure.classList.toggle("natural", zoomed && (img.naturalWidth > innerWidth || img.naturalHeight > innerHeight));
  }

  function choose(key) {
    const question = questions()[active];
    const input = question && question.querySelector(`input[data-key="${CSS.escape(key)}"]`);
    if (!input) return false;
    input.checked = input.type === "checkbox" ? !input.checked : true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (input.type === "radio") activate(active + 1);
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (!form() || event.metaKey || event.altKey || (event.ctrlKey && event.key !== "Enter")) return;
    const zoomed = root.querySelector(".artwork.zoomed");
    if (event.key === "Escape") { if (zoomed) toggleZoom(); return; }
    if (event.key === "+") { event.preventDefault(); toggleZoom(); return; }
    if (zoomed) return;
    if (event.key === "Enter") {
      event.preventDefault();
      if (event.ctrlKey || active >= questions().length - 1) form().requestSubmit();
      else activate(active + 1);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      activate(active - 1);
    } else if (event.key.length === 1 && choose(event.key.toLowerCase())) {
      event.preventDefault();
    }
  });

  root.addEventListener("change", syncFollowUps);

  root.addEventListener("click", (event) => {
    if (event.target.closest(".artwork a, .artwork.zoomed")) {
      event.preventDefault();
      toggleZoom();
      return;
    }
    const question = event.target.closest("fieldset.question");
    if (question) activate(questions().indexOf(question), false);
  });

  root.addEventListener("submit", async (event) => {
    const itemForm = event.target;
    event.preventDefault();
    if (itemForm.dataset.busy) return;
    itemForm.dataset.busy = "1";
    itemForm.elements.client_ms.value = Math.round(performance.now() - shownAt);
    const error = itemForm.querySelector(".form-error");
    try {
      const response = await fetch(itemForm.action, {
        method: "POST", body: new FormData(itemForm), headers: { "X-Requested-With": "fetch" }, credentials: "same-origin",
      });
      const text = await response.text();
      if (!response.ok) throw new Error(text || `The server answered ${response.status}.`);
      const next = new DOMParser().parseFromString(text, "text/html").body.firstElementChild;
      if (next && next.dataset.redirect) { window.location.assign(next.dataset.redirect); return; }
      root.innerHTML = text;
      window.scrollTo(0, 0);
      start();
    } catch (problem) {
      error.textContent = problem instanceof TypeError ? "Could not reach the server; please try again." : problem.message;
      error.hidden = false;
      delete itemForm.dataset.busy;
    }
  });

  start();
})();
