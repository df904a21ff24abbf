/* pnapp outbox: every rating is kept on this device (IndexedDB) first, then sent.
   A classic script so that both the pages and the service worker can load it.

   One entry per massage session, keyed by its client_id:
     {client_id, user, session_id, create, patch, sent_once, attempts, next_try, error}
   - create: the POST /sessions body, until the server has it; retries are safe because
     the server treats client_id as an idempotency key.
   - patch: after ratings for a session the server already has (PATCH /sessions/{id}).
   - user: who was logged in when it was entered; it is only ever sent as that person.
     null when nobody was (the offline shell after a log-out): it waits until a person who
     logs in says it is theirs (claim), and is never sent as anyone before that.
   - declined: ids of people who said such an entry is not theirs; they are not asked again. */
(function (scope) {
  "use strict";

  const API = "/api/v1";
  const STORE = "outbox";
  // client_id -> server session id, for entries already sent (by a page or the worker).
  const SENT = "sent";
  const MAX_DELAY_MS = 5 * 60 * 1000;
  let dbPromise = null;
  let strings = null;

  // Words for people, in their language (templates/_strings.js): the page's
  // <meta name="pnapp-strings"> or, in the service worker, the copy sw.js sets as
  // self.pnStrings.
  function text(key) {
    if (!strings) {
      const block = scope.document && scope.document.querySelector('meta[name="pnapp-strings"]');
      try {
        strings = block ? JSON.parse(block.content) : (scope.pnStrings || {});
      } catch (e) {
        strings = {};
      }
    }
    return typeof strings[key] === "string" ? strings[key] : key;
  }

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open("pnapp", 2);
        request.onupgradeneeded = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains(STORE)) {
            db.createObjectStore(STORE, { keyPath: "client_id" });
          }
          if (!db.objectStoreNames.contains(SENT)) db.createObjectStore(SENT);
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  // Runs body(store, setResult) in one transaction and resolves once it has committed.
  async function transact(mode, body, storeName = STORE) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      let result;
      body(tx.objectStore(storeName), (value) => { result = value; });
      tx.oncomplete = () => resolve(result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }

  function all() {
    return transact("readonly", (store, done) => {
      store.getAll().onsuccess = (e) => done(e.target.result);
    });
  }

  function get(clientId) {
    return transact("readonly", (store, done) => {
      store.get(clientId).onsuccess = (e) => done(e.target.result);
    });
  }

  // Read, change and write one entry atomically; change() returns the new entry or null.
  function update(clientId, change) {
    return transact("readwrite", (store, done) => {
      store.get(clientId).onsuccess = (e) => {
        const next = change(e.target.result);
        if (next) store.put(next);
        else if (e.target.result) store.delete(clientId);
        done(next);
      };
    });
  }

  function remove(clientId) {
    return transact("readwrite", (store) => store.delete(clientId));
  }

  // The server id of a session whose entry was sent, whoever sent it.
  function sentId(clientId) {
    return transact("readonly", (store, done) => {
      store.get(clientId).onsuccess = (e) => done(e.target.result || null);
    }, SENT);
  }

  function rememberSent(clientId, sessionId) {
    return transact("readwrite", (store) => store.put(sessionId, clientId), SENT);
  }

  function blank(clientId, user) {
    return { client_id: clientId, user: user ? String(user) : null, session_id: null, create: null,
             patch: null, sent_once: false, attempts: 0, next_try: 0, error: null };
  }

  /* Entries saved while nobody was logged in */

  function unclaimed(entries, userId) {
    return entries.filter((e) => e.user === null &&
      !(e.declined || []).includes(String(userId)));
  }

  function claim(clientId, userId) {
    return update(clientId, (e) => e && (e.user === null ? Object.assign(e, { user: String(userId) }) : e));
  }

  function decline(clientId, userId) {
    return update(clientId, (e) => e && Object.assign(e,
      { declined: [...(e.declined || []), String(userId)] }));
  }

  /* Saving */

  function saveCreate(body, user) {
    return update(body.client_id, (entry) => {
      if (entry && entry.sent_once) return entry; // the first body stands: a retry of it
      return Object.assign(entry || blank(body.client_id, user), { create: body, error: null });
    });
  }

  async function saveAfter({ clientId, sessionId, after, user }) {
    // The before ratings may have been sent already (by this page or the service worker).
    const known = sessionId || await sentId(clientId);
    return update(clientId, (entry) => {
      entry = entry || blank(clientId, user);
      if (known && !entry.session_id) entry.session_id = Number(known);
      if (entry.create && !entry.sent_once) {
        // Not sent yet: one request carries both before and after.
        entry.create = Object.assign({}, entry.create, { after });
      } else {
        // The server may already hold the first body; changing it would be a conflict.
        entry.patch = Object.assign({}, entry.patch, { after });
      }
      entry.error = null;
      entry.next_try = 0;
      return entry;
    });
  }

  /* Sending */

  class HttpError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function call(method, path, body, token) {
    const response = await fetch(API + path, {
      method,
      credentials: "same-origin",
      headers: Object.assign({ Accept: "application/json" },
        body ? { "Content-Type": "application/json" } : {},
        token ? { "X-CSRFToken": token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  function backoff(entry) {
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** entry.attempts);
    return Date.now() + delay / 2 + Math.random() * delay / 2;
  }

  // Sends one entry: create first, then patch. Returns the entry as it stands after.
  async function send(entry, token) {
    if (entry.create) {
      // From here on the body is frozen (later after ratings go to patch), so read it now.
      entry = await update(entry.client_id, (e) => e && Object.assign(e, { sent_once: true }));
      if (!entry) return null;
      const created = await call("POST", "/sessions", entry.create, token);
      await rememberSent(entry.client_id, created.id);
      entry = await update(entry.client_id, (e) => e && Object.assign(e, {
        create: null, session_id: created.id, attempts: 0 }));
      if (!entry) return null;
    }
    if (entry.patch && !entry.session_id) {
      const known = await sentId(entry.client_id);
      if (known) entry = await update(entry.client_id, (e) => e && Object.assign(e, {
        session_id: known }));
      if (!entry) return null;
    }
    if (entry.patch && entry.session_id) {
      const sent = entry.patch;
      await call("PATCH", `/sessions/${entry.session_id}`, sent, token);
      await rememberSent(entry.client_id, entry.session_id);
      entry = await update(entry.client_id, (e) => {
        if (!e) return null;
        // A newer after rating may have arrived while this one was on its way.
        if (JSON.stringify(e.patch) === JSON.stringify(sent)) e.patch = null;
        return e;
      });
    }
    if (entry && !entry.create && !entry.patch) {
      await remove(entry.client_id);
      return Object.assign(entry, { done: true });
    }
    return entry;
  }

  function withLock(fn) {
    // One flush at a time across tabs and the service worker, where the browser can lock.
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request("pnapp-outbox", fn);
    }
    return fn();
  }

  /* Sends what is due. Resolves to a summary:
     {sent: [{client_id, session_id}], waiting, failed, needsLogin, offline} */
  function flush({ force = false } = {}) {
    return withLock(async () => {
      const summary = { sent: [], waiting: 0, failed: 0, needsLogin: false, offline: false };
      const entries = await all();
      if (!entries.length) return summary;
      let me, token;
      try {
        me = await call("GET", "/me");
        token = (await call("GET", "/auth/csrf")).csrf_token;
      } catch (err) {
        summary.needsLogin = err.status === 401;
        summary.offline = !err.status;
        return Object.assign(summary, await counts());
      }
      for (const entry of entries) {
        if (entry.user !== String(me.id) || entry.error) continue;
        if (!force && entry.next_try > Date.now()) continue;
        try {
          const after = await send(entry, token);
          if (after && after.done) summary.sent.push({ client_id: entry.client_id,
                                                       session_id: after.session_id });
        } catch (err) {
          if (err.status === 401) { summary.needsLogin = true; break; }
          const retry = !err.status || err.status >= 500 || err.status === 429 ||
            (err.body && err.body.error && err.body.error.code === "csrf_failed");
          await update(entry.client_id, (e) => e && Object.assign(e, retry
            ? { attempts: e.attempts + 1, next_try: backoff(e) }
            : { error: err.message || text("entry_not_saved") }));
          if (!err.status) { summary.offline = true; break; }
        }
      }
      return Object.assign(summary, await counts(me.id));
    });
  }

  async function counts(userId) {
    const entries = (await all()).filter((e) => userId === undefined || e.user === String(userId));
    return {
      waiting: entries.filter((e) => !e.error).length,
      failed: entries.filter((e) => e.error).length,
      entries,
    };
  }

  scope.pnOutbox = { saveCreate, saveAfter, flush, all, get, remove, counts, sentId, text,
                     unclaimed, claim, decline };
})(self);
