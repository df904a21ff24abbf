/* Pages kept on this phone for reading without a connection: Home, the last 12 weeks of
   History, the Progress summary and a session waiting for its after ratings (the pages mark
   themselves with <body data-keep-offline>). The server never lets them be stored (no-store),
   so this script keeps a copy as the person saw it, in one cache per person
   ("pnapp-user-<id>"), with a note saying when it was kept; the service worker shows it
   only when the network fails, and only to the person who kept it (PLATFORM.md: a per-user
   cache cleared on logout). Every other person's copies go as soon as a page shows that
   someone else is logged in, or nobody. */
(function () {
  "use strict";

  if (!("caches" in self)) return;
  const { t, pageUser } = self.pn;
  const PREFIX = "pnapp-user-";
  const WHO = "pnapp-who"; // whose copies the service worker may show: "/who" -> user id
  const WEEKS = 12;

  // Deletes every person's kept pages but `keep`'s (everyone's when keep is null).
  async function forget(keep) {
    for (const name of await caches.keys()) {
      if ((name.startsWith(PREFIX) && name !== PREFIX + keep) || (name === WHO && !keep)) {
        await caches.delete(name);
      }
    }
  }
  self.pn.forgetKept = () => forget(null);

  // The page as it was first drawn, without what is only for now (messages, the outbox,
  // the e-mail box, the form's token), History cut to the last WEEKS weeks, and a note.
  function copyOfPage() {
    const copy = document.documentElement.cloneNode(true);
    const onlyNow = ["#status > *", "#outbox > *", ".mail-notice", "input[name=csrf_token]",
      "[data-online-only]"];
    copy.querySelectorAll(onlyNow.join()).forEach((el) => el.remove());
    const outbox = copy.querySelector("#outbox");
    if (outbox) outbox.hidden = true;
    const since = Date.now() - WEEKS * 7 * 24 * 3600 * 1000;
    copy.querySelectorAll("[data-started]").forEach((row) => {
      if (Date.parse(row.dataset.started) < since) row.remove();
    });
    copy.querySelectorAll("section.month").forEach((month) => {
      if (!month.querySelector("[data-started]")) month.remove();
    });
    let when;
    try {
      when = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
        { dateStyle: "medium", timeStyle: "short" }).format(new Date());
    } catch (e) {
      when = new Date().toLocaleString();
    }
    const note = Object.assign(document.createElement("p"),
      { className: "note", textContent: t("kept_as_of", { time: when }) });
    note.classList.add("kept-note");
    const title = copy.querySelector("main > h1");
    if (title) title.after(note);
    // The page's own doctype (the copy must not open in quirks mode).
    return new XMLSerializer().serializeToString(document.doctype) + copy.outerHTML;
  }

  async function keep() {
    await forget(pageUser);
    // Not a page that is kept, or the kept copy itself, shown offline.
    const kept = document.querySelector("main .kept-note");
    if (!document.body.hasAttribute("data-keep-offline") || kept) return;
    const html = copyOfPage();
    const mine = await caches.open(PREFIX + pageUser);
    await mine.put(location.pathname + location.search,
      new Response(html, { headers: { "Content-Type": "text/html;charset=utf-8" } }));
    await (await caches.open(WHO)).put("/who", new Response(String(pageUser)));
  }

  if (document.body.hasAttribute("data-signed-out")) {
    forget(null).catch(() => {});
  } else if (pageUser && navigator.onLine) {
    keep().catch(() => {});
  }
})();
