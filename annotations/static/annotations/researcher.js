// Researcher pages: copy buttons, and panels that refresh themselves while something runs.
// A panel with data-poll="URL" is replaced every data-every ms by the `html` of URL's JSON, until
// that JSON says `active: false` (then, with data-reload-when-done, the page reloads once).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const input = document.querySelector(button.dataset.copy);
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  });
  document.querySelectorAll("[data-poll]").forEach((panel) => {
    const every = Number(panel.dataset.every || 4000);
    async function tick() {
      try {
        const response = await fetch(panel.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (response.ok) {
          const data = await response.json();
          panel.innerHTML = data.html;
          panel.dataset.updated = String(Date.now());
          if (data.active === false) {
            if (panel.dataset.reloadWhenDone !== undefined) window.location.reload();
            return;
          }
        }
      } catch (error) { /* the next tick tries again */ }
      setTimeout(tick, every);
    }
    if (panel.dataset.active !== "false") setTimeout(tick, every);
  });
})();
