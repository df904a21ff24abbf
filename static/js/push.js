/* The reminder card for this phone (Settings, and the set-up after sign-up): ask from a tap,
   subscribe with the server's key, send a test, turn off. A failure is shown beside the
   button that failed, in the reader's language, saying what to do next; success refreshes
   the page's one statement of how reminders reach the person. The subscription helpers and
   the check on every start are in install.js. */
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

  function showError(kind) {
    pushBox.querySelectorAll("[data-push-error]").forEach((el) => {
      el.hidden = el.dataset.pushError !== kind;
    });
  }

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
    return state;
  }

  /* The page's statement of the reminder (and what depends on it) as the server now sees
     it: read again from this very page, so the words stay the server's, in its language. */
  async function refreshSummary() {
    try {
      const html = await (await fetch(location.pathname, { credentials: "same-origin" })).text();
      const fresh = new DOMParser().parseFromString(html, "text/html");
      for (const id of ["reminder-summary", "setup-done", "email-road"]) {
        const now = document.getElementById(id);
        const then = fresh.getElementById(id);
        if (now && then) now.replaceWith(document.importNode(then, true));
        else if (now) now.remove();
      }
      const box = document.querySelector('input[name="reminder.enabled"]');
      const freshBox = fresh.querySelector('input[name="reminder.enabled"]');
      if (box && freshBox) box.checked = freshBox.checked;
    } catch (e) { /* the words on the page stay as they were */ }
  }

  /* The server sends reminders by e-mail while this browser denies notifications (the
     reminder ladder): tell it when that changes, either way. */
  function reportBlocked() {
    if (!supported) return;
    const blocked = Notification.permission === "denied";
    const known = pushBox.dataset.pushBlocked === "true";
    if (blocked === known || (!blocked && Notification.permission !== "granted")) return;
    api("PATCH", "/me", { push_blocked: blocked })
      .then(() => { pushBox.dataset.pushBlocked = String(blocked); refreshSummary(); })
      .catch(() => {});
  }

  pushBox.querySelector("[data-push-enable]").addEventListener("click", async () => {
    showError(null);
    // The permission prompt comes straight from this tap, never on page load.
    const permission = await Notification.requestPermission();
    if (permission === "granted") {
      try {
        await subscribe();
        await api("PATCH", "/me", { reminder: { enabled: true } });
        announce(t("reminders_on"));
        await refreshSummary();
      } catch (err) {
        showError("failed");
      }
    } else if (permission === "default") {
      showError("dismissed");
    }
    const state = await showPushState();
    if (state === "blocked") {
      pushBox.querySelector('[data-push-state="blocked"]').setAttribute("role", "alert");
    }
  });
  pushBox.querySelector("[data-push-test]").addEventListener("click", async () => {
    showError(null);
    try {
      const result = await api("POST", "/push/test");
      if (result.sent) announce(t("test_on_its_way"));
      else showError("test");
    } catch (err) {
      showError("test");
    }
  });
  pushBox.querySelector("[data-push-disable]").addEventListener("click", async () => {
    showError(null);
    const sub = await subscription();
    if (sub) {
      await api("DELETE", "/push/subscriptions", { endpoint: sub.endpoint }).catch(() => {});
      await sub.unsubscribe();
    }
    localStorage.removeItem("pnapp.push");
    announce(t("reminders_off"));
    await showPushState();
    refreshSummary();
  });
  // Once the check every start makes is done: it may have subscribed again.
  checked.then(showPushState);
})();
