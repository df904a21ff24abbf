/* The SMART Health Links viewer (/s#shlink:/...). The link, with its key, is in the address
   after "#", which browsers never send to a server: this script reads it, asks for the
   passcode when the link has one, POSTs the manifest request, and decrypts each file (a
   compact JWE, dir + A256GCM) here with Web Crypto. It shows the visit summary, and offers
   the report PDF and the full record as downloads. Nothing is stored. */
(function () {
  "use strict";

  const root = document.getElementById("shl");
  if (!root) return;
  const words = JSON.parse(root.dataset.words);
  const $ = (id) => document.getElementById(id);
  const lang = document.documentElement.lang || undefined;
  const plurals = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;

  const SNOMED = "http://snomed.info/sct";
  const LOINC_PAIN = "72514-3";
  // SNOMED CT body structures back to the symptom areas the app asks about (exports/fhir.py).
  const AREA_OF = {
    "56459004": "feet_lower_legs", "30021000": "feet_lower_legs",
    "85562004": "hands_lower_arms", "14975008": "hands_lower_arms",
    "38266002": "whole_body",
  };
  const RECENT = 6;
  const CARD = ["card", "shl-session"].join(" ");
  // A resource's FHIR type, in lower case (code, not words to translate).
  const kind = (r) => String(r.resourceType || "").toLowerCase();

  function say(key, values = {}) {
    return String(words[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
      name in values ? values[name] : whole);
  }

  function sayn(key, n) {
    const one = plurals ? plurals.select(n) === "one" : n === 1;
    return say(`${key}.${one ? "one" : "other"}`, { n });
  }

  function el(tag, attrs = {}, ...children) {
    const node = Object.assign(document.createElement(tag), attrs);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function problem(text) {
    const p = $("shl-problem");
    p.textContent = text;
    p.hidden = !text;
  }

  function b64uBytes(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  function readLink() {
    const hash = location.hash.slice(1);
    const at = hash.indexOf("shlink:/");
    if (at < 0) return null;
    try {
      const payload = JSON.parse(new TextDecoder().decode(b64uBytes(hash.slice(at + 8))));
      if (typeof payload.url !== "string" || typeof payload.key !== "string" ||
          payload.key.length !== 43) return null;
      return payload;
    } catch (e) {
      return null;
    }
  }

  async function inflateRaw(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // A compact JWE with alg "dir" and enc "A256GCM": header..iv.ciphertext.tag, the header's
  // base64url text as the additional data.
  async function decrypt(key, jwe) {
    const [header64, encryptedKey, iv64, ct64, tag64] = jwe.trim().split(".");
    const header = JSON.parse(new TextDecoder().decode(b64uBytes(header64)));
    if (header.alg !== "dir" || header.enc !== "A256GCM" || encryptedKey !== "") {
      throw new Error("unsupported-jwe");
    }
    const ct = b64uBytes(ct64);
    const tag = b64uBytes(tag64);
    const sealed = new Uint8Array(ct.length + tag.length);
    sealed.set(ct);
    sealed.set(tag, ct.length);
    const plain = new Uint8Array(await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: b64uBytes(iv64), additionalData: new TextEncoder().encode(header64),
        tagLength: 128 },
      key, sealed));
    return new TextDecoder().decode(header.zip === "DEF" ? await inflateRaw(plain) : plain);
  }

  async function fetchManifest(link, passcode) {
    const body = { recipient: "pnapp viewer" };
    if (passcode !== undefined) body.passcode = passcode;
    const response = await fetch(link.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status === 401) {
      const answer = await response.json().catch(() => ({}));
      return { wrong: Number(answer.remainingAttempts) || 0 };
    }
    if (response.status === 404) return { ended: true };
    if (!response.ok) throw new Error(`manifest: ${response.status}`);
    return response.json();
  }

  async function openFiles(link, manifest) {
    const key = await crypto.subtle.importKey("raw", b64uBytes(link.key), "AES-GCM", false,
      ["decrypt"]);
    const bundles = [];
    for (const file of manifest.files || []) {
      let jwe = file.embedded;
      if (!jwe && file.location) {
        const response = await fetch(file.location, { credentials: "omit", cache: "no-store" });
        if (!response.ok) throw new Error(`file: ${response.status}`);
        jwe = await response.text();
      }
      if (!jwe || file.contentType !== "application/fhir+json") continue;
      bundles.push(JSON.parse(await decrypt(key, jwe)));
    }
    return bundles;
  }

  // What the bundles hold, read the way exports/fhir.py and links/bundles.py write it.
  function read(bundles) {
    const sessions = new Map();
    const documents = [];
    const records = [];
    let patient = null;
    for (const bundle of bundles) {
      const tags = ((bundle.meta && bundle.meta.tag) || []).map((tag) => tag.code);
      if (tags.includes("fhir")) records.push(bundle);
      for (const entry of bundle.entry || []) {
        const r = entry.resource || {};
        if (kind(r) === "patient" && !patient) patient = r;
        if (kind(r) === "documentreference") documents.push(r);
        if (kind(r) === "procedure") {
          const known = sessions.get(entry.fullUrl);
          // The summary's copy says more (what was used, notes): it wins over the record's.
          if (!known || tags.includes("summary")) {
            sessions.set(entry.fullUrl, { procedure: r, ratings: (known && known.ratings) || {} });
          }
        }
      }
    }
    for (const bundle of bundles) {
      for (const entry of bundle.entry || []) {
        const r = entry.resource || {};
        if (kind(r) !== "observation") continue;
        const ref = ((r.partOf || [])[0] || {}).reference;
        const session = sessions.get(ref);
        if (!session) continue;
        const coding = ((r.code || {}).coding || [])[0] || {};
        const measure = coding.code === LOINC_PAIN ? "pain" : coding.code;
        const timing = (((r.component || [])[0] || {}).valueCodeableConcept || {}).coding || [];
        const when = (timing[0] || {}).code;
        if (!(measure in words.measures) || !["before", "after"].includes(when)) continue;
        session.ratings[measure] = Object.assign(session.ratings[measure] || {},
          { [when]: r.valueInteger });
      }
    }
    const list = [...sessions.values()].sort((a, b) =>
      String(b.procedure.performedDateTime).localeCompare(String(a.procedure.performedDateTime)));
    return { patient, sessions: list, documents, records };
  }

  function day(iso, style = "full") {
    return new Intl.DateTimeFormat(lang, { dateStyle: style }).format(new Date(iso));
  }

  function download(label, blob, name) {
    const a = el("a", { className: "button", href: URL.createObjectURL(blob), download: name },
      label);
    return el("p", {}, a);
  }

  function sessionCard(session) {
    const p = session.procedure;
    const card = el("section", { className: CARD },
      el("h3", {}, day(p.performedDateTime, "medium")));
    const who = ((p.performer || [])[0] || {}).actor;
    if (who && who.display) card.append(el("p", {}, say("with", { name: who.display })));
    const areas = areasOf([session]);
    if (areas.length) card.append(el("p", {}, areas.join(" · ")));
    const used = (p.usedCode || []).map((c) => words.adjuncts[((c.coding || [])[0] || {}).code])
      .filter(Boolean);
    if (used.length) card.append(el("p", {}, `${say("used")}: ${used.join(" · ")}`));
    // One group per measure that wraps on a narrow screen or with large text, where a
    // three-column table would break words letter by letter.
    const measures = Object.keys(words.measures).filter((m) => m in session.ratings);
    if (measures.length) {
      card.append(el("p", { className: "shl-scale" }, say("rating")));
      const list = el("dl", { className: "shl-ratings" });
      for (const m of measures) {
        const r = session.ratings[m];
        const row = el("div", {}, el("dt", {}, words.measures[m]));
        for (const when of ["before", "after"]) {
          if (r[when] !== undefined) {
            row.append(el("dd", {}, `${say(when)}: `, el("strong", {}, String(r[when]))));
          }
        }
        list.append(row);
      }
      card.append(list);
    }
    for (const note of p.note || []) {
      card.append(el("p", { className: "shl-note" }, el("strong", {}, `${say("note")}: `), note.text));
    }
    return card;
  }

  function areasOf(sessions) {
    const found = new Set();
    for (const s of sessions) {
      for (const site of s.procedure.bodySite || []) {
        for (const c of site.coding || []) {
          if (c.system === SNOMED && AREA_OF[c.code]) found.add(AREA_OF[c.code]);
        }
      }
    }
    return Object.keys(words.areas).filter((a) => found.has(a)).map((a) => words.areas[a]);
  }

  function show(link, bundles) {
    const { patient, sessions, documents, records } = read(bundles);
    const content = $("shl-content");
    const name = patient && patient.name && patient.name[0] && patient.name[0].text;
    if (name) $("shl-title").textContent = name;
    const parts = [];
    if (link.exp) parts.push(el("p", {}, say("until", { date: day(link.exp * 1000) })));
    for (const d of documents) {
      const attachment = ((d.content || [])[0] || {}).attachment || {};
      if (attachment.contentType === "application/pdf" && attachment.data) {
        // Standard base64 (FHIR's): b64uBytes reads it too.
        parts.push(download(say("report"),
          new Blob([b64uBytes(attachment.data)], { type: "application/pdf" }),
          attachment.title || "report.pdf"));
      }
    }
    for (const record of records) {
      parts.push(download(say("record"),
        new Blob([JSON.stringify(record, null, 1)], { type: "application/fhir+json" }),
        "record.fhir.json"));
    }
    if (sessions.length || !documents.length) {
      const areas = areasOf(sessions.slice(0, RECENT));
      if (areas.length) {
        parts.push(el("section", { className: "card" }, el("h2", {}, say("areas_title")),
          el("ul", {}, ...areas.map((a) => el("li", {}, a)))));
      }
      parts.push(el("h2", {}, say("last_sessions")));
      if (!sessions.length) parts.push(el("p", {}, say("none")));
      if (sessions.length > RECENT) parts.push(el("p", {}, sayn("sessions", sessions.length)));
      parts.push(...sessions.slice(0, RECENT).map(sessionCard));
    }
    content.replaceChildren(...parts);
    content.hidden = false;
    $("shl-passcode").hidden = true;
    // Screen readers start reading at the patient's name, not at the vanished form.
    $("shl-title").setAttribute("tabindex", "-1");
    $("shl-title").focus();
  }

  async function open(link, passcode) {
    problem("");
    const status = $("status");
    if (status) status.replaceChildren(el("p", {}, say("opening")));
    try {
      const manifest = await fetchManifest(link, passcode);
      if (status) status.replaceChildren();
      if (manifest.ended) {
        $("shl-passcode").hidden = true;
        return problem(say("ended"));
      }
      if ("wrong" in manifest) {
        if (manifest.wrong <= 0) {
          $("shl-passcode").hidden = true;
          return problem(say("ended"));
        }
        problem(sayn("wrong", manifest.wrong));
        const input = $("shl-passcode-input");
        input.setAttribute("aria-invalid", "true");
        input.select();
        return input.focus();
      }
      show(link, await openFiles(link, manifest));
    } catch (e) {
      if (status) status.replaceChildren();
      problem(say("failed"));
    }
  }

  const link = readLink();
  if (!link) return problem(say("no_link"));
  if (link.label) {
    $("shl-label").textContent = say("for", { label: link.label });
    $("shl-label").hidden = false;
  }
  if (link.exp && link.exp * 1000 < Date.now()) return problem(say("ended"));
  if ((link.flag || "").includes("P")) {
    const form = $("shl-passcode");
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("shl-passcode-input").value.trim();
      if (value) open(link, value);
      else $("shl-passcode-input").focus();
    });
    $("shl-passcode-input").focus();
  } else {
    open(link);
  }
})();
