/* Recording a session: before ratings, then (maybe offline) after ratings, kept in the
   outbox first and sent when possible. */
(function () {
  "use strict";

  const { t, announce, user, outbox } = self.pn;
  if (!outbox) return;
  const { ratings, missingRatings, details, fieldErrorsFrom } = self.pn;

  // Asks the service worker to send the outbox once the phone is back online.
  function requestSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((reg) => reg.sync && reg.sync.register("pnapp-outbox"))
      .catch(() => {});
  }

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
    showBefore(afterForm.dataset.client, intro).catch(() => {});
  }

  /* Offline, the after form says what the online one does: the before ratings, when to rate
     again, and after heat to check the feet; read from the entry kept on the phone. */
  async function showBefore(clientId, intro) {
    const entry = await outbox.get(clientId);
    const body = entry && entry.create;
    if (!body || !body.before || !intro) return;
    const note = (text) =>
      Object.assign(document.createElement("p"), { className: "note", textContent: text });
    const parts = [
      Object.assign(document.createElement("p"), { className: "before-ratings",
        textContent: t("waiting_before", { pain: body.before.pain, stress: body.before.stress }) }),
      note(t("rate_again")),
    ];
    const heat = [...document.querySelectorAll("input[data-heat]")].map((input) => input.value);
    if ((body.adjuncts || []).some((a) => heat.includes(a))) {
      const heatNote = note(t("heat_check"));
      heatNote.setAttribute("role", "note");
      parts.push(heatNote);
    }
    intro.after(...parts);
  }

  if (createForm) {
    createForm.addEventListener("submit", async (event) => {
      // A massage logged afterwards goes as a plain form: the server reads its day and time
      // in the patient's own zone, with the after ratings beside the before ones.
      const when = createForm.querySelector('input[name="when"]:checked');
      if (when && when.value !== "now") return;
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
      self.pn.renderOutbox(await outbox.counts(user || undefined));
    });
  }

  const flash = sessionStorage.getItem("pnapp.flash");
  if (flash) {
    sessionStorage.removeItem("pnapp.flash");
    announce(flash);
  }
})();
