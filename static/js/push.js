/* Reminders on this phone: ask from a tap, subscribe with the server's key, and keep the
   server's copy of this browser's subscription in step on every start. */
(function () {
  "use strict";

  const { t, announce, pageUser, user } = self.pn;

  const pushSupported = "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window;
  const onIos = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const installed = navigator.standalone === true ||
    matchMedia("(display-mode: standalone)").matches;

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

  const pushBox = document.querySelector("[data-push]");

  async function showPushState() {
    if (!pushBox) return;
    let state = "off";
    if (!pushSupported) state = onIos && !installed ? "ios-install" : "unsupported";
    else if (Notification.permission === "denied") state = "blocked";
    else if (Notification.permission === "granted" && await pushSubscription()) state = "on";
    pushBox.querySelectorAll("[data-push-state]").forEach((el) => {
      el.hidden = el.dataset.pushState !== state;
    });
    pushBox.querySelector("[data-push-enable]").hidden = state !== "off";
    pushBox.querySelector("[data-push-test]").hidden = state !== "on";
    pushBox.querySelector("[data-push-disable]").hidden = state !== "on";
  }

  if (pushBox) {
    pushBox.querySelector("[data-push-enable]").addEventListener("click", async () => {
      // The permission prompt comes straight from this tap, never on page load.
      const permission = await Notification.requestPermission();
      if (permission === "granted") {
        try {
          await subscribePush();
          await api("PATCH", "/me", { reminder: { enabled: true } });
          const box = document.querySelector('input[name="reminder.enabled"]');
          if (box) box.checked = true;
          announce(t("reminders_on"));
        } catch (err) {
          announce(t("reminders_on_failed", { message: err.message }));
        }
      }
      showPushState();
    });
    pushBox.querySelector("[data-push-test]").addEventListener("click", async () => {
      try {
        const result = await api("POST", "/push/test");
        announce(result.sent ? t("test_on_its_way") : t("test_not_delivered"));
      } catch (err) {
        announce(t("test_failed", { message: err.message }));
      }
    });
    pushBox.querySelector("[data-push-disable]").addEventListener("click", async () => {
      const sub = await pushSubscription();
      if (sub) {
        await api("DELETE", "/push/subscriptions", { endpoint: sub.endpoint }).catch(() => {});
        await sub.unsubscribe();
      }
      localStorage.removeItem("pnapp.push");
      announce(t("reminders_off"));
      showPushState();
    });
    showPushState();
  }

  // On every start: the browser may have renewed or dropped its subscription.
  if (pageUser && pushSupported && Notification.permission === "granted") {
    (async () => {
      const known = JSON.parse(localStorage.getItem("pnapp.push") || "null");
      const sub = await pushSubscription();
      if (!sub && known) return subscribePush();
      const stale = !known || known.user !== pageUser || known.endpoint !== sub.endpoint ||
        Date.now() - known.at > 24 * 3600 * 1000;
      if (sub && stale) return savePush(sub);
    })().catch(() => {}).then(showPushState);
  }
})();
