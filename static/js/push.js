/* Settings' reminder card: ask from a tap, subscribe with the server's key, send a test,
   turn off. The subscription helpers and the check on every start are in install.js. */
(function () {
  "use strict";

  const pushBox = document.querySelector("[data-push]");
  if (!pushBox) return;
  const { t, announce } = self.pn;
  const { supported, api, subscription, subscribe, checked } = self.pn.push;

  const onIos = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const installed = navigator.standalone === true ||
    matchMedia("(display-mode: standalone)").matches;

  async function showPushState() {
    let state = "off";
    if (!supported) state = onIos && !installed ? "ios-install" : "unsupported";
    else if (Notification.permission === "denied") state = "blocked";
    else if (Notification.permission === "granted" && await subscription()) state = "on";
    pushBox.querySelectorAll("[data-push-state]").forEach((el) => {
      el.hidden = el.dataset.pushState !== state;
    });
    pushBox.querySelector("[data-push-enable]").hidden = state !== "off";
    pushBox.querySelector("[data-push-test]").hidden = state !== "on";
    pushBox.querySelector("[data-push-disable]").hidden = state !== "on";
    reportBlocked();
  }

  /* The server sends reminders by e-mail while this browser denies notifications (the
     reminder ladder): tell it when that changes, either way. */
  function reportBlocked() {
    if (!supported) return;
    const blocked = Notification.permission === "denied";
    const known = pushBox.dataset.pushBlocked === "true";
    if (blocked === known || (!blocked && Notification.permission !== "granted")) return;
    api("PATCH", "/me", { push_blocked: blocked })
      .then(() => { pushBox.dataset.pushBlocked = String(blocked); })
      .catch(() => {});
  }

  pushBox.querySelector("[data-push-enable]").addEventListener("click", async () => {
    // The permission prompt comes straight from this tap, never on page load.
    const permission = await Notification.requestPermission();
    if (permission === "granted") {
      try {
        await subscribe();
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
    const sub = await subscription();
    if (sub) {
      await api("DELETE", "/push/subscriptions", { endpoint: sub.endpoint }).catch(() => {});
      await sub.unsubscribe();
    }
    localStorage.removeItem("pnapp.push");
    announce(t("reminders_off"));
    showPushState();
  });
  // Once the check every start makes is done: it may have subscribed again.
  checked.then(showPushState);
})();
