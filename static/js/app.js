/* pnapp's page script. Every page works without it; with it, ratings are kept on the
   device first and sent when possible (outbox.js), the app installs and updates. */
(function () {
  "use strict";

  const outbox = self.pnOutbox;
  const MEASURES = ["pain", "stress", "numbness", "tingling", "weakness"];
  const status = document.getElementById("status");

  /* Words shown to people, in their language, as outbox.js reads them (templates/_strings.js).
     t("key", {name: value}) fills in {name}; tn() picks a plural form. */
  function t(key, values = {}) {
    return outbox.text(key).replace(/\{(\w+)\}/g, (whole, name) =>
      (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));
  }

  let pluralRules = null;
  try {
    pluralRules = new Intl.PluralRules(document.documentElement.lang || undefined);
  } catch (e) {
    pluralRules = null;
  }
  // Keys "name.one" and "name.other"; {count} is filled in.
  function tn(key, count, values = {}) {
    const one = pluralRules ? pluralRules.select(count) === "one" : count === 1;
    return t(`${key}.${one ? "one" : "other"}`, Object.assign({ count }, values));
  }

  function announce(message) {
    if (!status) return;
    status.replaceChildren(Object.assign(document.createElement("p"),
      { className: "flash", textContent: message }));
  }

  // Who is logged in: remembered so that ratings entered on an offline page are sent only
  // as the same person.
  const pageUser = document.body.dataset.user;
  if (pageUser) localStorage.setItem("pnapp.user", pageUser);
  const user = pageUser || localStorage.getItem("pnapp.user");

  /* Sign-up: preselect the browser's own time zone. */
  const zoneSelect = document.querySelector("select[data-detect-zone]");
  if (zoneSelect) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      // Browsers may report an old name (Asia/Calcutta for Asia/Kolkata): compare canonically.
      const canonical = (name) => {
        try {
          return new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
        } catch (e) {
          return name;
        }
      };
      const match = [...zoneSelect.options].find((o) => o.value === zone ||
        canonical(o.value) === zone);
      if (match) {
        zoneSelect.value = match.value;
      } else {
        // Named as the server names the others: the city, then the zone's everyday name.
        const city = zone.split("/").pop().replaceAll("_", " ");
        let generic = "";
        try {
          generic = new Intl.DateTimeFormat(document.documentElement.lang,
            { timeZone: zone, timeZoneName: "longGeneric" }).formatToParts()
            .find((part) => part.type === "timeZoneName").value;
        } catch (e) { /* an older browser: the city alone */ }
        zoneSelect.add(new Option(generic ? `${city} (${generic})` : city, zone), 0);
        zoneSelect.value = zone;
      }
    }
  }

  /* Heat safety: announced the first time heat is ticked, and dismissible once read. */
  const heatNote = document.getElementById("heat-note");
  if (heatNote) {
    let announced = false;
    document.querySelectorAll("input[data-heat]").forEach((box) =>
      box.addEventListener("change", () => {
        if (box.checked && !announced && !heatNote.hidden) {
          announced = true;
          announce(heatNote.querySelector("p").textContent);
        }
      }));
    heatNote.querySelector("[data-dismiss-heat]").addEventListener("click", () => {
      heatNote.hidden = true;
    });
  }

  /* Logging out forgets who was logged in. */
  document.querySelectorAll("form[data-logout]").forEach((form) =>
    form.addEventListener("submit", () => localStorage.removeItem("pnapp.user")));

  /* Service worker: register, and offer new versions instead of swapping code. */
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
      if (window.pnappUpdating && !reloading) { reloading = true; location.reload(); }
    });
  }

  function showUpdate(reg) {
    const banner = document.getElementById("update");
    if (!banner) return;
    banner.hidden = false;
    banner.querySelector("button").onclick = () => {
      window.pnappUpdating = true;
      reg.waiting.postMessage({ type: "SKIP_WAITING" });
    };
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

  /* Reminders: ask from a tap, subscribe with the server's key, and keep the server's copy
     of this browser's subscription in step on every start. */

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

  if (!outbox || !("indexedDB" in self)) return;

  /* Reading the rating forms. */

  function ratings(form, prefix) {
    const out = {};
    for (const m of MEASURES) {
      const checked = form.querySelector(`input[name="${prefix}.${m}"]:checked`);
      if (checked && checked.value !== "") out[m] = Number(checked.value);
    }
    return out;
  }

  function clearErrors(form) {
    form.querySelectorAll(".error[data-js]").forEach((e) => e.remove());
    form.querySelectorAll("[aria-invalid]").forEach((e) => {
      e.removeAttribute("aria-invalid");
      e.removeAttribute("aria-describedby");
    });
  }

  function showFieldError(form, name, message) {
    const group = form.querySelector(`#${CSS.escape(name.replace(".", "-"))}`);
    const error = Object.assign(document.createElement("p"), {
      className: "error", textContent: message, id: `${name.replace(".", "-")}-error-js` });
    error.dataset.js = "";
    if (group) {
      group.setAttribute("aria-invalid", "true");
      group.setAttribute("aria-describedby", error.id);
      const legend = group.querySelector("legend");
      (legend || group).after(error);
    } else {
      form.prepend(error);
    }
    return group;
  }

  function missingRatings(form, prefix) {
    clearErrors(form);
    const given = ratings(form, prefix);
    const missing = ["pain", "stress"].filter((m) => !(m in given));
    let first = null;
    for (const m of missing) {
      const group = showFieldError(form, `${prefix}.${m}`, t("tap_a_number"));
      first = first || group;
    }
    if (first) {
      first.scrollIntoView({ block: "center" });
      const radio = first.querySelector("input");
      if (radio) radio.focus();
      announce(t("answer_every_question"));
    }
    return missing.length > 0;
  }

  function details(form) {
    const body = {};
    for (const key of ["areas", "adjuncts"]) {
      body[key] = [...form.querySelectorAll(`input[name="${key}"]:checked`)].map((i) => i.value);
    }
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    if (value("duration_min")) body.duration_min = Number(value("duration_min"));
    if (value("therapist_id")) body.therapist_id = Number(value("therapist_id"));
    if (value("notes")) body.notes = value("notes");
    return body;
  }

  function fieldErrorsFrom(entry, form) {
    // The server's 4xx message for an entry: shown to the patient, not retried.
    clearErrors(form);
    showFieldError(form, "_form", t("not_saved", { error: entry.error }));
    announce(t("not_saved", { error: entry.error }));
  }

  /* Recording a session: before ratings, then (maybe offline) after ratings. */

  const params = new URLSearchParams(location.search);
  const createForm = document.querySelector("form[data-offline=create]");
  const afterForm = document.querySelector("form[data-offline=after]");
  const shellSessionId = (location.pathname.match(/^\/sessions\/(\d+)\/?$/) || [])[1];

  if (createForm && (params.get("after") || shellSessionId) && afterForm) {
    // After mode on the new-session page or the offline shell.
    createForm.hidden = true;
    afterForm.hidden = false;
    afterForm.dataset.client = params.get("after") || `session:${shellSessionId}`;
    if (shellSessionId) afterForm.dataset.session = shellSessionId;
    const title = document.querySelector("h1");
    if (title) title.textContent = t("after_title");
    const intro = document.getElementById("intro");
    if (intro) intro.textContent = t("after_intro");
  }

  if (createForm) {
    createForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (missingRatings(createForm, "before")) return;
      const body = Object.assign({
        // The offline shell is the same page for everyone: it leaves the id to us.
        client_id: createForm.elements.client_id.value || crypto.randomUUID(),
        started_at: new Date().toISOString(),
        before: ratings(createForm, "before"),
      }, details(createForm));
      await outbox.saveCreate(body, user);
      await outbox.flush({ force: true });
      // Sent by this flush or by the service worker's, whichever ran first.
      const sessionId = await outbox.sentId(body.client_id);
      if (sessionId) {
        sessionStorage.setItem("pnapp.flash", t("saved_enjoy"));
        location.assign(`/sessions/${sessionId}`);
        return;
      }
      const entry = await outbox.get(body.client_id);
      if (entry && entry.error) {
        await outbox.remove(body.client_id);
        fieldErrorsFrom(entry, createForm);
        return;
      }
      requestSync();
      sessionStorage.setItem("pnapp.flash", t("saved_offline"));
      location.assign(`/sessions/new?after=${encodeURIComponent(body.client_id)}`);
    });
  }

  if (afterForm) {
    afterForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (missingRatings(afterForm, "after")) return;
      const clientId = afterForm.dataset.client;
      const after = ratings(afterForm, "after");
      after.recorded_at = new Date().toISOString();
      await outbox.saveAfter({ clientId, sessionId: afterForm.dataset.session, after, user });
      await outbox.flush({ force: true });
      const entry = await outbox.get(clientId);
      const sessionId = await outbox.sentId(clientId);
      if (!entry && sessionId) {
        // Nothing left to send: this flush or the service worker's delivered it.
        sessionStorage.setItem("pnapp.flash", t("saved_thanks"));
        location.assign(`/sessions/${sessionId}`);
        return;
      }
      if (entry && entry.error) {
        fieldErrorsFrom(entry, afterForm);
        return;
      }
      requestSync();
      afterForm.hidden = true;
      const intro = document.getElementById("intro");
      if (intro) intro.hidden = true;
      const done = document.getElementById("saved-offline");
      if (done) done.hidden = false;
      announce(t("saved_offline"));
      renderOutbox(await outbox.counts(user || undefined));
    });
  }

  const flash = sessionStorage.getItem("pnapp.flash");
  if (flash) {
    sessionStorage.removeItem("pnapp.flash");
    announce(flash);
  }

  /* The outbox on screen: what waits, what failed, and a Sync now button. */

  const box = document.getElementById("outbox");

  function renderOutbox(summary) {
    if (!box) return;
    const entries = summary.entries || [];
    const mine = entries.filter((e) => !user || e.user === String(user));
    // Saved while nobody was logged in: ask the person now logged in whether it is theirs.
    const orphans = pageUser ? outbox.unclaimed(entries, pageUser) : [];
    box.hidden = mine.length === 0 && orphans.length === 0;
    if (box.hidden) return box.replaceChildren();
    const waiting = mine.filter((e) => !e.error);
    const failed = mine.filter((e) => e.error);
    const parts = [];
    for (const e of orphans) {
      const before = e.create && e.create.before;
      const question = Object.assign(document.createElement("p"), { textContent:
        `${t("whose_entry")} ${before ? t("waiting_before", { pain: before.pain, stress: before.stress }) : ""}` });
      const yes = Object.assign(document.createElement("button"), {
        type: "button", className: "button primary", textContent: t("its_mine") });
      yes.addEventListener("click", async () => {
        await outbox.claim(e.client_id, pageUser);
        sync(true);
      });
      const no = Object.assign(document.createElement("button"), {
        type: "button", className: "button", textContent: t("not_mine") });
      no.addEventListener("click", async () => {
        await outbox.decline(e.client_id, pageUser);
        renderOutbox(await outbox.counts());
      });
      parts.push(question, yes, no);
    }
    if (waiting.length) {
      const p = document.createElement("p");
      p.textContent = tn("waiting", waiting.length);
      parts.push(p);
      if (summary.needsLogin) {
        const again = document.createElement("p");
        again.append(Object.assign(document.createElement("a"), {
          href: "/login?next=/", textContent: t("log_in_again") }));
        parts.push(again);
      }
      const list = document.createElement("ul");
      for (const e of waiting) {
        const li = document.createElement("li");
        const before = e.create && e.create.before;
        const after = (e.create && e.create.after) || (e.patch && e.patch.after);
        li.textContent =
          (before ? `${t("waiting_before", { pain: before.pain, stress: before.stress })} ` : "") +
          (after ? t("waiting_after", { pain: after.pain, stress: after.stress }) : "");
        if (e.create && !e.create.after && !e.patch) {
          li.append(Object.assign(document.createElement("a"), {
            href: `/sessions/new?after=${encodeURIComponent(e.client_id)}`,
            textContent: t("rate_now") }));
        }
        li.append(Object.assign(document.createElement("span"), {
          className: "tag", textContent: ` ${t("waiting_tag")}` }));
        list.append(li);
      }
      parts.push(list);
      const button = Object.assign(document.createElement("button"), {
        type: "button", className: "button", textContent: t("sync_now") });
      button.addEventListener("click", () => sync(true));
      parts.push(button);
    }
    for (const e of failed) {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = t("send_failed", { error: e.error });
      const discard = Object.assign(document.createElement("button"), {
        type: "button", className: "button danger", textContent: t("discard") });
      discard.addEventListener("click", async () => {
        await outbox.remove(e.client_id);
        renderOutbox(await outbox.counts());
      });
      parts.push(p, discard);
    }
    box.replaceChildren(...parts);
  }

  function requestSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((reg) => reg.sync && reg.sync.register("pnapp-outbox"))
      .catch(() => {});
  }

  let timer = null;
  async function sync(force = false) {
    clearTimeout(timer);
    const before = await outbox.counts();
    if (!before.entries.length) return renderOutbox(before);
    const result = await outbox.flush({ force });
    // Announce what left the outbox, whoever sent it: the service worker's background sync
    // may have taken the lock first, and then this flush finds nothing to send.
    const now = await outbox.counts();
    const sent = before.entries.filter((e) => !e.error &&
      !now.entries.some((left) => left.client_id === e.client_id)).length;
    if (sent) announce(tn("sent", sent));
    renderOutbox(Object.assign(result, { entries: now.entries }));
    // Retry while something waits; the outbox itself spaces out the attempts.
    if (result.waiting && !result.needsLogin) timer = setTimeout(() => sync(), 15000);
  }

  window.addEventListener("online", () => sync(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync();
  });
  sync();
})();
