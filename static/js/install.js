/* Installing and updating: the service worker, the "Update now" banner, the install button,
   and the worker's push subscription kept in step with the server on every start. */
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

  /* Reminders ride on the worker's push subscription. Settings' card (push.js) turns them on
     and off with these helpers; every page checks, on every start, that the server still
     holds this browser's subscription as the person logged in. */
  const { t, pageUser, user } = self.pn;
  const pushSupported = "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window;

  function keyBytes(text) {
    const b64 = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  async function api(method, path, body) {
    const token = (await (await fetch("/api/v1/auth/csrf", { credentials: "same-origin" }))
      .json()).csrf_token;
    const response = await fetch(`/api/v1${path}`, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error && data.error.message) || t("failed"));
    return data;
  }

  async function pushSubscription() {
    const reg = await navigator.serviceWorker.ready;
    return reg.pushManager.getSubscription();
  }

  async function savePush(sub) {
    await api("POST", "/push/subscriptions", sub.toJSON());
    localStorage.setItem("pnapp.push", JSON.stringify(
      { user, endpoint: sub.endpoint, at: Date.now() }));
  }

  async function subscribePush() {
    const reg = await navigator.serviceWorker.ready;
    const key = keyBytes((await (await fetch("/api/v1/push/key")).json()).public_key);
    let sub = await reg.pushManager.getSubscription();
    const current = sub && sub.options && sub.options.applicationServerKey;
    if (sub && current && new Uint8Array(current).join() !== key.join()) {
      await sub.unsubscribe();
      sub = null;
    }
    sub = sub || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    await savePush(sub);
    return sub;
  }

  // On every start: the browser may have renewed or dropped its subscription.
  let checked = Promise.resolve();
  if (pageUser && pushSupported && Notification.permission === "granted") {
    checked = (async () => {
      const known = JSON.parse(localStorage.getItem("pnapp.push") || "null");
      const sub = await pushSubscription();
      if (!sub && known) return subscribePush();
      const stale = !known || known.user !== pageUser || known.endpoint !== sub.endpoint ||
        Date.now() - known.at > 24 * 3600 * 1000;
      if (sub && stale) return savePush(sub);
    })().catch(() => {});
  }

  self.pn.push = {
    supported: pushSupported, api, subscription: pushSubscription, subscribe: subscribePush,
    // Settles once the start's check is done (it may have subscribed again).
    checked,
  };
})();
