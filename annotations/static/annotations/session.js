// The judging page, enhanced: keyboard answers, zoom, and sending an item with fetch so that the
// next artwork replaces this one without a page load. Without this script the plain form works.
//
// Keys answer the question that has the keyboard focus (Tab moves it), else the highlighted one,
// so an answer never lands on a question the person is not looking at. Single-key shortcuts can be
// turned off (WCAG 2.1.4: speech input types letters), and the choice is remembered.
(function () {
  "use strict";
  const root = document.getElementById("judging");
  if (!root) return;
  const STORE = "artalign.shortcuts";
  const status = document.getElementById("judging-status");
  const shortcuts = document.getElementById("shortcuts");
  let active = 0;
  let shownAt = performance.now();

  const form = () => root.querySelector("form.item-form");
  const questions = () => Array.from(root.querySelectorAll("fieldset.question")).filter((q) => !q.hidden);
  const shortcutsOn = () => !shortcuts || shortcuts.checked;

  function remembered() {
    try { return localStorage.getItem(STORE) !== "off"; } catch (blocked) { return true; }
  }

  function shortcutsSet(on, remember) {
    if (shortcuts) shortcuts.checked = on;
    document.documentElement.classList.toggle("shortcuts-off", !on);
    if (remember) {
      try { localStorage.setItem(STORE, on ? "on" : "off"); } catch (blocked) { /* kept for this page only */ }
    }
  }

  function activate(index, scroll = true) {
    const list = questions();
    if (!list.length) return;
    active = Math.max(0, Math.min(index, list.length - 1));
    list.forEach((q, i) => q.classList.toggle("active", i === active));
    if (scroll) list[active].scrollIntoView({ block: "nearest" });
  }

  // Focus the question's chosen answer (else its first), as Tab into a radio group would.
  function focusQuestion(index) {
    activate(index);
    const question = questions()[active];
    const input = question && (question.querySelector("input:checked:not(:disabled)")
      || question.querySelector("input:not(:disabled)"));
    if (input) input.focus();
  }

  function focusedQuestion() {
    const element = document.activeElement;
    const question = element && element.closest ? element.closest("fieldset.question") : null;
    return question && root.contains(question) && !question.hidden ? question : null;
  }

  // A follow-up (deformation severity) is asked only after its trigger answer.
  function syncFollowUps() {
    root.querySelectorAll("fieldset.follow-up").forEach((fieldset) => {
      const trigger = Array.from(root.querySelectorAll(`input[name="${CSS.escape(fieldset.dataset.for)}"]`))
        .find((input) => input.value === fieldset.dataset.when);
      const on = Boolean(trigger && trigger.checked);
      fieldset.hidden = !on;
      fieldset.querySelectorAll("input").forEach((input) => { input.disabled = !on; });
    });
  }

  function unanswered() {
    return questions().filter((q) => q.querySelector(".options[data-required]") && !q.querySelector("input:checked"));
  }

  // Marked invalid only after a send that failed for them, never from the start.
  function markInvalid(list) {
    root.querySelectorAll("input[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    list.forEach((q) => q.querySelectorAll("input").forEach((input) => {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "form-error");
    }));
  }

  function start() {
    shownAt = performance.now();
    // The page checks for missing answers when sending: a `required` radio would be announced as
    // invalid before anything was answered.
    root.querySelectorAll("input[required]").forEach((input) => { input.required = false; });
    syncFollowUps();
    activate(0, false);
    const zoom = root.querySelector("button.zoom");
    if (zoom) zoom.hidden = false;
    root.dataset.ready = "true"; // keys work from here on (tests wait for this)
  }

  function toggleZoom() {
    const figure = root.querySelector(".artwork");
    if (!figure) return;
    const img = figure.querySelector("img");
    const zoomed = figure.classList.toggle("zoomed");
    figure.classList.toggle("natural", zoomed && (img.naturalWidth > innerWidth || img.naturalHeight > innerHeight));
    const button = figure.querySelector("button.zoom");
    if (button) button.textContent = zoomed ? "Close zoom" : "Zoom";
  }

  function choose(key) {
    const inFocus = focusedQuestion();
    const question = inFocus || questions()[active];
    const input = question && question.querySelector(`input[data-key="${CSS.escape(key)}"]:not(:disabled)`);
    if (!input) return false;
    input.checked = input.type === "checkbox" ? !input.checked : true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (inFocus) input.focus(); // the answer is where the focus is, and the focus stays there
    else if (input.type === "radio") activate(active + 1);
    return true;
  }

  function step(by) {
    const inFocus = focusedQuestion();
    const index = inFocus ? questions().indexOf(inFocus) : active;
    if (by > 0 && index >= questions().length - 1) form().requestSubmit();
    else if (inFocus) focusQuestion(index + by);
    else activate(index + by);
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!form() || event.metaKey || event.altKey || (event.ctrlKey && event.key !== "Enter")) return;
    if (target.matches && target.matches("textarea, select, input:not([type=radio]):not([type=checkbox])")) return;
    const zoomed = root.querySelector(".artwork.zoomed");
    if (event.key === "Escape") { if (zoomed) toggleZoom(); return; }
    if (event.ctrlKey) { event.preventDefault(); form().requestSubmit(); return; }
    if (!shortcutsOn()) return; // the page's own keys are off: every key does what the browser does
    if (event.key === "+") { event.preventDefault(); toggleZoom(); return; }
    // A button, link or the switch does what Enter and Space do on it; keys inside the zoom do nothing else.
    if (zoomed || (target.closest && target.closest("button, a, .shortcuts-switch"))) return;
    if (event.key === "Enter") {
      event.preventDefault();
      step(1);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      step(-1);
    } else if (event.key.length === 1 && event.key !== " " && choose(event.key.toLowerCase())) {
      event.preventDefault();
    }
  });

  root.addEventListener("change", (event) => {
    syncFollowUps();
    const question = event.target.closest("fieldset.question");
    if (question) question.querySelectorAll("input[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  });

  root.addEventListener("focusin", (event) => {
    const question = event.target.closest("fieldset.question");
    if (question) activate(questions().indexOf(question), false);
  });

  root.addEventListener("click", (event) => {
    if (event.target.closest("button.zoom, .artwork img")) {
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
    const error = itemForm.querySelector(".form-error");
    const missing = unanswered();
    if (missing.length) {
      const names = missing.map((q) => `“${q.querySelector("legend").firstChild.textContent.trim()}”`);
      error.textContent = `Please answer ${names.join(", ")}. Nothing was sent.`;
      error.hidden = false;
      markInvalid(missing);
      focusQuestion(questions().indexOf(missing[0]));
      return;
    }
    itemForm.dataset.busy = "1";
    if (status) status.textContent = "";
    itemForm.elements.client_ms.value = Math.round(performance.now() - shownAt);
    try {
      const response = await fetch(itemForm.action, {
        // URL-encoded, as the form itself would post: lighter for the server to parse than multipart.
        method: "POST", body: new URLSearchParams(new FormData(itemForm)), headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      const text = await response.text();
      if (!response.ok) throw new Error(text || `The server answered ${response.status}.`);
      const next = new DOMParser().parseFromString(text, "text/html").body.firstElementChild;
      if (next && next.dataset.redirect) { window.location.assign(next.dataset.redirect); return; }
      root.innerHTML = text;
      window.scrollTo(0, 0);
      start();
      // The new artwork is announced and the keyboard starts from it, not from the top of the page.
      const heading = root.querySelector("#item-heading");
      if (heading) {
        document.title = [heading.getAttribute("aria-label"), ...document.title.split(" · ").slice(1)].join(" · ");
        heading.focus({ preventScroll: true });
      }
      if (status) status.textContent = "Answers saved.";
    } catch (problem) {
      error.textContent = problem instanceof TypeError ? "Could not reach the server; please try again." : problem.message;
      error.hidden = false;
      delete itemForm.dataset.busy;
    }
  });

  if (shortcuts) {
    shortcuts.closest(".shortcuts-switch").hidden = false;
    shortcutsSet(remembered(), false);
    shortcuts.addEventListener("change", () => shortcutsSet(shortcuts.checked, true));
  }
  start();
})();
