/* The outbox on screen: what waits, what failed, whose it is, and a Sync now button. */
(function () {
  "use strict";

  const { t, tn, announce, pageUser, user, outbox } = self.pn;
  if (!outbox) return;

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
  self.pn.renderOutbox = renderOutbox;

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
