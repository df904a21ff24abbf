/* Installing and updating: the service worker, the "Update now" banner, the install button. */
(function () {
  "use strict";

  /* Service worker: register, and offer new versions instead of swapping code. */
  let updating = false;

  function showUpdate(reg) {
    const banner = document.getElementById("update");
    if (!banner) return;
    banner.hidden = false;
    banner.querySelector("button").onclick = () => {
      updating = true;
      reg.waiting.postMessage({ type: "SKIP_WAITING" });
    };
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").then((reg) => {
      const offer = () => { if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg); };
      offer();
      reg.addEventListener("updatefound", () => {
        const worker = reg.installing;
        if (worker) worker.addEventListener("statechange", offer);
      });
    }).catch(() => {});
    let reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (updating && !reloading) { reloading = true; location.reload(); }
    });
  }

  /* Install button, when the browser offers one. */
  let installPrompt = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    document.querySelectorAll("[data-install]").forEach((b) => { b.hidden = false; });
  });
  document.querySelectorAll("[data-install]").forEach((button) =>
    button.addEventListener("click", async () => {
      if (!installPrompt) return;
      installPrompt.prompt();
      await installPrompt.userChoice;
      installPrompt = null;
      button.hidden = true;
    }));
})();
