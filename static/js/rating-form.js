/* The rating forms: reading the before/after ratings and details, and showing what is missing. */
(function () {
  "use strict";

  const { t, announce, measures, required } = self.pn;

  function ratings(form, prefix) {
    const out = {};
    for (const m of measures) {
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
    const missing = required.filter((m) => !(m in given));
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

  Object.assign(self.pn, { ratings, missingRatings, details, fieldErrorsFrom });
})();

/* Leaving the before form to add a therapist keeps every rating already tapped: the form
   is kept in this tab's sessionStorage and put back when the person returns to it. */
(function () {
  "use strict";

  const KEY = "pnapp.draft";
  const form = document.querySelector("form[data-offline=create]");
  if (!form || !self.sessionStorage) return;
  const user = self.pn.user || "";

  form.querySelectorAll('a[href*="back=new-session"]').forEach((link) =>
    link.addEventListener("click", () => {
      const fields = [];
      for (const el of form.elements) {
        if (!el.name || el.name === "csrf_token" || el.type === "hidden") continue;
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.checked) fields.push([el.name, el.value, true]);
        } else if (el.value) {
          fields.push([el.name, el.value, false]);
        }
      }
      sessionStorage.setItem(KEY, JSON.stringify({ user, at: Date.now(), fields }));
    }));

  const draft = JSON.parse(sessionStorage.getItem(KEY) || "null");
  sessionStorage.removeItem(KEY);
  if (!draft || draft.user !== user || Date.now() - draft.at > 3600 * 1000) return;
  // A therapist just added arrives chosen in the page (?therapist=): that choice stands.
  const added = new URLSearchParams(location.search).has("therapist");
  for (const [name, value, checkable] of draft.fields) {
    if (added && name === "therapist_id") continue;
    const els = [...form.elements].filter((el) => el.name === name);
    for (const el of els) {
      if (checkable) { if (el.value === value) el.checked = true; } else el.value = value;
    }
  }
  if (draft.fields.some(([n]) => n.startsWith("areas") || n.startsWith("adjuncts") ||
      n === "duration_min" || n === "notes" || n === "therapist_id")) {
    const more = form.querySelector("details.more");
    if (more) more.open = true;
  }
})();
