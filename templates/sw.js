/* pnapp service worker {{ version }}.
   Keeps a small app shell for cold starts offline, sends saved ratings on Background Sync,
   and shows reminders. Pages with anyone's data are never cached from the network (they are
   no-store); a few are kept by the page itself, per person, for reading offline (keep.js). */
"use strict";
// What outbox.js shows or stores for people, in the language of whoever loaded this worker.
self.pnStrings = {% include "_strings.js" %};
importScripts("{{ outbox_url }}");

const VERSION = "{{ version }}";
const SHELL = `pnapp-shell-${VERSION}`;
// Pages a person kept for reading offline (static/js/keep.js): one cache each, and whose
// they may show. A new version of the worker leaves them alone; log-out empties them.
const KEPT_PREFIX = "pnapp-user-";
const WHO = "pnapp-who";
const SHELL_URLS = {{ assets|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)));
  // No skipWaiting here: a new version waits until the patient taps "Update now".
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("pnapp-shell-") && n !== SHELL)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
});

// The copy of this page kept by the person last logged in on this phone, if any.
async function keptPage(url) {
  if (!(await caches.has(WHO))) return null;
  const who = await (await caches.open(WHO)).match("/who");
  if (!who) return null;
  const name = KEPT_PREFIX + (await who.text());
  if (!(await caches.has(name))) return null;
  const kept = await (await caches.open(name))
    .match(url.pathname + (url.pathname === "/" ? "" : url.search));
  // Served under the same policy as the page it copies (pnapp/security.py).
  return kept && new Response(kept.body, { headers: {
    "Content-Type": "text/html;charset=utf-8",
    "Content-Security-Policy": {{ csp|tojson }},
    "X-Content-Type-Options": "nosniff",
  } });
}

function shellFor(url) {
  // Recording a session works offline; every other page falls back to the offline page.
  return /^\/sessions\/(new|\d+)\/?$/.test(url.pathname) ? "/shell/session" : "/offline";
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(async () => (await keptPage(url)) ||
      (await caches.match(shellFor(url))) || Response.error()));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith((async () => {
      const cached = await caches.match(request);
      if (cached) return cached;
      const response = await fetch(request);
      if (response.ok && url.searchParams.has("v")) {
        const cache = await caches.open(SHELL);
        cache.put(request, response.clone());
      }
      return response;
    })());
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === "pnapp-outbox") event.waitUntil(self.pnOutbox.flush());
});

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  // Declarative Web Push (API.md, Notification payloads): the same JSON Safari shows itself.
  const n = data.notification || {};
  const actions = Array.isArray(n.actions) ? n.actions : [];
  const jobs = [];
  // Every push shows a notification: browsers revoke subscriptions that push silently.
  jobs.push(self.registration.showNotification(n.title || "pnapp", {
    {#- Translators: a weekly reminder's text, shown only if the server sent none. #}
    body: n.body || {{ _("Time for your weekly massage check-in")|tojson }},
    tag: n.tag || "pnapp",
    lang: n.lang || "",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/maskable-192.png",
    actions: actions.map((a) => ({ action: a.action, title: a.title })),
    data: { url: n.navigate || "/",
            actions: Object.fromEntries(actions.map((a) => [a.action, a.navigate])) },
  }));
  // Something is due (this week's session, an after rating): the app icon says so.
  const badge = data.app_badge ?? n.app_badge;
  if (badge != null && self.navigator.setAppBadge) {
    jobs.push(self.navigator.setAppBadge(Number(badge)).catch(() => {}));
  }
  event.waitUntil(Promise.all(jobs));
});

/* "Remind me tomorrow" is answered without opening pnapp: a POST with the person's own
   cookie and CSRF token. Logged out (or offline), the snooze page opens instead. */
async function snooze(url) {
  try {
    const csrf = await (await fetch("/api/v1/auth/csrf", { credentials: "same-origin" })).json();
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrf.csrf_token, "X-Requested-With": "pnapp-sw" },
    });
    return response.ok;
  } catch (e) {
    return false;
  }
}

async function openPage(target) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin === self.location.origin && "focus" in client) {
      await client.focus();
      return client.navigate(target);
    }
  }
  return self.clients.openWindow(target);
}

async function answer(notification, action) {
  const data = notification.data || {};
  const byAction = data.actions || {};
  // A button's own page; the notification's page where buttons are not shown (iOS).
  const target = new URL(byAction[action] || data.url || "/", self.location.origin);
  if (target.origin !== self.location.origin) target.href = new URL("/", self.location.origin).href;
  if (action === "snooze" && await snooze(target.href)) return "snoozed";
  await openPage(target.href);
  return "opened";
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const done = answer(event.notification, event.action);
  self.lastClick = done; // tests await the answer to a click they dispatched
  event.waitUntil(done);
});
