/* pnapp's shared page helpers (self.pn): words, the status line and who is logged in. */
(function () {
  "use strict";

  const status = document.getElementById("status");

  /* Words shown to people, in their language, as outbox.js reads them (templates/_strings.js).
     t("key", {name: value}) fills in {name}; tn() picks a plural form. */
  function t(key, values = {}) {
    return self.pnOutbox.text(key).replace(/\{(\w+)\}/g, (whole, name) =>
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

  /* Logging out forgets who was logged in, and the pages kept for reading offline
     (keep.js; the logged-out page that follows forgets them again, should this not finish). */
  document.querySelectorAll("form[data-logout]").forEach((form) =>
    form.addEventListener("submit", () => {
      localStorage.removeItem("pnapp.user");
      if (self.pn.forgetKept) self.pn.forgetKept().catch(() => {});
    }));

  self.pn = {
    t, tn, announce,
    // The measures, in order, and those every rating needs (pnapp/measures.py, via <body>).
    measures: (document.body.dataset.measures || "").split(" ").filter(Boolean),
    required: (document.body.dataset.required || "").split(" ").filter(Boolean),
    pageUser,
    user: pageUser || localStorage.getItem("pnapp.user"),
    // The device's outbox (outbox.js), or null where ratings cannot be kept on it.
    outbox: self.pnOutbox && "indexedDB" in self ? self.pnOutbox : null,
    // Set by outbox-view.js: shows what waits on this phone.
    renderOutbox: () => {},
  };
})();
