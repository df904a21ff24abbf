/* The rating forms: reading the before/after ratings and details, and showing what is missing. */
(function () {
  "use strict";

  const { t, tn, measures, required } = self.pn;

  // What to do about each rating left out ("Choose a number for pain").
  const CHOOSE = {
    pain: () => t("choose.pain"),
    stress: () => t("choose.stress"),
    numbness: () => t("choose.numbness"),
    tingling: () => t("choose.tingling"),
    weakness: () => t("choose.weakness"),
  };

  function ratings(form, prefix) {
    const out = {};
    for (const m of measures) {
      const checked = form.querySelector(`input[name="${prefix}.${m}"]:checked`);
      if (checked && checked.value !== "") out[m] = Number(checked.value);
    }
    return out;
  }

  function clearErrors(form) {
    form.querySelectorAll(".error[data-js], .error-summary[data-js]").forEach((e) => e.remove());
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

  /* The box above the form that says what to do, as the server's form_errors draws it:
     an alert (announced at once, unlike the polite status line of a success), one link
     to each question left out. */
  function errorSummary(form, problems) {
    const box = Object.assign(document.createElement("div"), { className: "error-summary" });
    box.dataset.js = "";
    box.setAttribute("role", "alert");
    const title = document.createElement("p");
    title.append(Object.assign(document.createElement("strong"),
      { textContent: tn("check", problems.length) }));
    const list = document.createElement("ul");
    for (const { id, text } of problems) {
      const item = document.createElement("li");
      item.append(Object.assign(document.createElement("a"), { href: `#${id}`, textContent: text }));
      list.append(item);
    }
    box.append(title, list);
    form.prepend(box);
  }

  /* Marks each required rating left out beside its question ("Choose a number for pain"),
     lists them above the form, and moves the focus to the first one's tiles. */
  function missingRatings(form, prefix) {
    clearErrors(form);
    const given = ratings(form, prefix);
    const missing = required.filter((m) => !(m in given));
    if (!missing.length) return false;
    const problems = missing.map((m) => ({ id: `${prefix}-${m}`, text: CHOOSE[m]() }));
    missing.forEach((m, i) => showFieldError(form, `${prefix}.${m}`, problems[i].text));
    errorSummary(form, problems);
    const first = form.querySelector(`#${CSS.escape(problems[0].id)}`);
    if (first) {
      first.scrollIntoView({ block: "center" });
      const radio = first.querySelector("input");
      if (radio) radio.focus();
    }
    return true;
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
    // The server's 4xx message for an entry: shown to the patient as an alert, not retried.
    clearErrors(form);
    const message = t("not_saved", { error: entry.error });
    const box = Object.assign(document.createElement("div"), { className: "error-summary" });
    box.dataset.js = "";
    box.setAttribute("role", "alert");
    box.append(Object.assign(document.createElement("p"), { textContent: message }));
    form.prepend(box);
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
