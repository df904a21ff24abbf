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
  const n = data.notification || {};
  // Every push shows a notification: browsers revoke subscriptions that push silently.
  event.waitUntil(self.registration.showNotification(n.title || "pnapp", {
    {#- Translators: a weekly reminder's text, shown only if the server sent none. #}
    body: n.body || {{ _("Time for your weekly massage check-in")|tojson }},
    tag: n.tag || "pnapp",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/maskable-192.png",
    data: { url: n.navigate || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/",
    self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin === self.location.origin && "focus" in client) {
        await client.focus();
        return client.navigate(target);
      }
    }
    return self.clients.openWindow(target);
  })());
});
