"""Page weight on a phone: what a patient's first and repeat visits cost in bytes.

What it measures. It prepares a fresh instance folder (SQLite) with the demo patient
(`flask --app pnapp init`, then `demo-data`), serves the app with gunicorn as production
would on a free 127.0.0.1 port, and drives Debian's Chromium held like a phone (390 x 844,
touch). Logged in as the demo patient (through the API, so that the first page the browser
loads is the page measured), it loads, each time with the browser's DevTools protocol
recording the network (Network.enable on the page and on the service worker):

  - /            first visit: a fresh browser profile, nothing cached, no service worker;
  - /            repeat visit: the same profile, once the service worker controls the page
                 (the tab goes to about:blank and comes back);
  - /sessions/new first visit (fresh profile) and repeat visit;
  - /            first visit again, asking the server not to compress anything
                 (Accept-Encoding: identity through Network.setExtraHTTPHeaders): the
                 baseline that shows what compression saves.

For each it counts the page's requests, how many went to the network and how many were
answered from a cache (the service worker's, response.fromServiceWorker with
serviceWorkerResponseSource "cache-storage", or the browser's own), and sums the bytes
transferred: encodedDataLength of Network.loadingFinished, headers plus the body as sent. A
request the service worker passes on to the network counts as a network request, with the
bytes of the worker's own request. On first visits a second row shows what the worker's
install fetches in the background (importScripts and the precached shell, read from the
worker's target, plus /sw.js itself, which the browser fetches before the worker runs and
out of DevTools' sight: its size comes from a direct request), and a third the total.

Targets: the first visit of / weighs under 60 KB, the worker's install included; a repeat
visit loads the shell (CSS, JS, icons) with no network request at all (only the page
itself, which carries health data and is never cached, comes from the server). The script
exits with status 1 when a target is missed.

    .venv/bin/python bench/page_weight.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import Request as HttpRequest
from urllib.request import urlopen

from _server import flask, gunicorn  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_EMAIL = "demo@pnapp.example"
DEMO_PASSWORD = "demo-password"
FIRST_VISIT_TARGET_KB = 60
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "timezone_id": "America/Toronto",
    "locale": "en-CA",
}


# The app, with the demo patient


@contextmanager
def demo_server():
    """gunicorn serving a fresh SQLite instance with the demo patient; yields its base URL.

    The server and the temporary instance folder are always removed afterwards."""
    instance = Path(tempfile.mkdtemp(prefix="pnapp-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PNAPP_")}
    env.pop("DATABASE_URL", None)
    env["PNAPP_INSTANCE_PATH"] = str(instance)
    try:
        flask(env, "init")
        flask(env, "demo-data")
        with gunicorn(env, instance / "gunicorn.log") as base:
            yield base
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def log_in(context: BrowserContext, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD):
    """Log in through the API: the context gets the session cookie, no page is loaded."""
    token = context.request.get("/api/v1/auth/csrf").json()["csrf_token"]
    response = context.request.post(
        "/api/v1/auth/login",
        data={"email": email, "password": password},
        headers={"X-CSRFToken": token},
    )
    if response.status != 200:
        raise RuntimeError(f"log in failed: {response.status} {response.text()[:200]}")


# Recording one visit


@dataclass
class Request:
    url: str
    resource: str = ""
    status: int = 0
    from_service_worker: bool = False
    sw_source: str = ""  # cache-storage, http-cache, network or fallback-code
    from_disk_cache: bool = False
    encoded_bytes: float = 0.0  # headers and body as received
    done: bool = False

    @property
    def where(self) -> str:
        if self.from_service_worker:
            return {
                "cache-storage": "service worker cache",
                "http-cache": "browser cache, through the service worker",
                "fallback-code": "network",
            }.get(self.sw_source, "network, through the service worker")
        return "browser cache" if self.from_disk_cache else "network"

    @property
    def from_network(self) -> bool:
        return self.where.startswith("network")

    @property
    def path(self) -> str:
        return "/" + self.url.split("/", 3)[-1]


@dataclass
class Visit:
    page: str
    visit: str
    requests: dict[str, Request] = field(default_factory=dict)  # the page's own
    worker: dict[str, Request] = field(default_factory=dict)  # the service worker's own

    def passed_on(self, request: Request) -> Request | None:
        """The worker's request that fetched what it answered the page with, if any."""
        if not (request.from_service_worker and request.from_network):
            return None
        return next((w for w in self.worker.values() if w.url == request.url), None)

    @property
    def install(self) -> list[Request]:
        """What the worker fetched for itself (precaching on install), not for the page."""
        answered = {id(self.passed_on(r)) for r in self.requests.values()}
        # /sw.js itself (and the browser's checks for a new version of it) is counted apart.
        return [
            w
            for w in self.worker.values()
            if id(w) not in answered and not w.path.startswith("/sw.js")
        ]

    @property
    def network(self) -> list[Request]:
        return [r for r in self.requests.values() if r.from_network]

    @property
    def cached(self) -> list[Request]:
        return [r for r in self.requests.values() if not r.from_network]

    def bytes_for(self, request: Request) -> float:
        if request.from_service_worker:
            behind = self.passed_on(request)
            return behind.encoded_bytes if behind else 0.0
        return request.encoded_bytes

    @property
    def bytes(self) -> float:
        return sum(self.bytes_for(r) for r in self.requests.values())

    @property
    def install_bytes(self) -> float:
        return sum(w.encoded_bytes for w in self.install)


class Recorder:
    """Network events of one page and of its service worker, through the DevTools protocol.

    The worker runs in a target of its own. The page's session auto-attaches to it as it
    starts (paused until its Network domain is on, so that no request of its install is
    missed); a browser-wide session also attaches to it, since the page's lets go of the
    worker between documents and would miss the navigation request of a repeat visit. Both
    talk to the worker through Target.sendMessageToTarget; a request reported twice counts
    once."""

    def __init__(
        self,
        browser: Browser,
        context: BrowserContext,
        page: Page,
        headers: dict | None = None,
    ):
        self.visit: Visit | None = None
        self.headers = headers
        self._message_id = 0
        self.cdp = context.new_cdp_session(page)
        self.context_id = self.cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
        self.cdp.on("Network.requestWillBeSent", lambda e: self._sent(e, "page"))
        self.cdp.on("Network.responseReceived", lambda e: self._response(e, "page"))
        self.cdp.on("Network.loadingFinished", lambda e: self._finished(e, "page"))
        self.cdp.on("Network.loadingFailed", lambda e: self._failed(e, "page"))
        self.cdp.on("Target.attachedToTarget", self._attached)
        self.cdp.on("Target.receivedMessageFromTarget", self._worker_message)
        self.cdp.send("Network.enable")
        if headers:
            self.cdp.send("Network.setExtraHTTPHeaders", {"headers": headers})
        self.cdp.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": False},
        )
        # The page's session lets go of the worker whenever the page it controls goes
        # away, and attaches again only after the next navigation has been answered:
        # a browser-wide session stays with the worker throughout.
        self.browser_cdp = browser.new_browser_cdp_session()
        self.browser_cdp.on("Target.targetCreated", self._worker_started)
        self.browser_cdp.on("Target.attachedToTarget", self._attached)
        self.browser_cdp.on("Target.receivedMessageFromTarget", self._worker_message)
        self.browser_cdp.send("Target.setDiscoverTargets", {"discover": True})

    def _log(self, source: str) -> dict[str, Request] | None:
        if self.visit is None:
            return None
        return self.visit.requests if source == "page" else self.visit.worker

    def _sent(self, event, source: str) -> None:
        log = self._log(source)
        url = event["request"]["url"]
        # Two sessions may report the same worker request: the first report stands.
        if log is not None and not url.startswith("data:") and event["requestId"] not in log:
            log[event["requestId"]] = Request(url=url, resource=event.get("type", ""))

    def _response(self, event, source: str) -> None:
        request = (self._log(source) or {}).get(event["requestId"])
        if request:
            response = event["response"]
            request.status = response["status"]
            request.from_service_worker = bool(response.get("fromServiceWorker"))
            request.sw_source = response.get("serviceWorkerResponseSource") or ""
            request.from_disk_cache = bool(response.get("fromDiskCache"))

    def _finished(self, event, source: str) -> None:
        request = (self._log(source) or {}).get(event["requestId"])
        if request:
            request.encoded_bytes = event["encodedDataLength"]
            request.done = True

    def _failed(self, event, source: str) -> None:
        request = (self._log(source) or {}).get(event["requestId"])
        if request:
            request.done = True

    def _worker_started(self, event) -> None:
        info = event["targetInfo"]
        if info["type"] == "service_worker" and info["browserContextId"] == self.context_id:
            try:
                self.browser_cdp.send(
                    "Target.attachToTarget", {"targetId": info["targetId"], "flatten": False}
                )
            except Exception:  # gone already (replaced by a newer version): nothing to record
                pass

    def _attached(self, event) -> None:
        session = event["sessionId"]
        if event["targetInfo"]["type"] == "service_worker":
            self._to_worker(session, "Network.enable")
            if self.headers:
                self._to_worker(session, "Network.setExtraHTTPHeaders", {"headers": self.headers})
        if event.get("waitingForDebugger"):
            self._to_worker(session, "Runtime.runIfWaitingForDebugger")

    def _to_worker(self, session: str, method: str, params: dict | None = None) -> None:
        self._message_id += 1
        message = json.dumps({"id": self._message_id, "method": method, "params": params or {}})
        for cdp in (self.cdp, self.browser_cdp):  # whichever of the two holds this session
            try:
                cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})
                return
            except Exception:
                continue

    def _worker_message(self, event) -> None:
        message = json.loads(event["message"])
        handler = {
            "Network.requestWillBeSent": self._sent,
            "Network.responseReceived": self._response,
            "Network.loadingFinished": self._finished,
            "Network.loadingFailed": self._failed,
        }.get(message.get("method"))
        if handler:
            handler(message["params"], "worker")

    def start(self, name: str, visit: str) -> None:
        self.visit = Visit(page=name, visit=visit)

    def stop(self, page: Page) -> Visit:
        """Waits (at most 10 s) for every request seen to finish, then hands the visit over."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
            r.done for r in [*self.visit.requests.values(), *self.visit.worker.values()]
        ):
            page.wait_for_timeout(50)
        visit, self.visit = self.visit, None
        return visit


def wait_for_shell(page: Page) -> None:
    """Until the service worker controls the page: it claims pages once its install, which
    stores the shell, has finished. (wait_for_function cannot wait for a Promise.)"""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    if not page.evaluate("caches.keys().then((k) => k.some((n) => n.startsWith('pnapp-')))"):
        raise RuntimeError("the service worker controls the page but stored no shell")


def worker_script_size(base: str, identity: bool = False) -> tuple[int, int]:
    """/sw.js is fetched by the browser itself before the worker starts, out of DevTools'
    sight: its size (header and body bytes, as sent) is read with a plain request."""
    encoding = "identity" if identity else "gzip, deflate, br, zstd"
    with urlopen(HttpRequest(f"{base}/sw.js", headers={"Accept-Encoding": encoding})) as response:
        body = response.read()
        head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
    return head, len(body)


# The benchmark


@dataclass
class Row:
    page: str
    visit: str
    requests: int
    network: int
    cached: int
    bytes: float


def phone_context(browser: Browser, base: str) -> BrowserContext:
    return browser.new_context(base_url=base, service_workers="allow", **PHONE)


def first_and_repeat(browser: Browser, base: str, path: str) -> tuple[Visit, Visit]:
    """A fresh profile loads `path`, waits for the service worker to take over, then loads
    it again (after leaving it for about:blank, as when the app is opened again)."""
    context = phone_context(browser, base)
    try:
        log_in(context)
        page = context.new_page()
        recorder = Recorder(browser, context, page)
        recorder.start(path, "first")
        page.goto(path)
        wait_for_shell(page)
        page.wait_for_load_state("networkidle")
        first = recorder.stop(page)
        page.goto("about:blank")
        recorder.start(path, "repeat")
        page.goto(path)
        page.wait_for_load_state("networkidle")
        return first, recorder.stop(page)
    finally:
        context.close()


def uncompressed_first_visit(browser: Browser, base: str) -> Visit:
    context = phone_context(browser, base)
    try:
        log_in(context)
        page = context.new_page()
        recorder = Recorder(browser, context, page, headers={"Accept-Encoding": "identity"})
        recorder.start("/", "first, no compression")
        page.goto("/")
        wait_for_shell(page)
        page.wait_for_load_state("networkidle")
        return recorder.stop(page)
    finally:
        context.close()


def rows_for(visit: Visit, worker_script: tuple[int, int] | None) -> list[Row]:
    rows = [
        Row(
            visit.page,
            visit.visit,
            len(visit.requests),
            len(visit.network),
            len(visit.cached),
            visit.bytes,
        )
    ]
    if worker_script:
        install = visit.install
        fetched = [w for w in install if w.where == "network" and w.encoded_bytes]
        rows.append(
            Row(
                "  + worker install",
                "(in the background)",
                len(install) + 1,
                len(fetched) + 1,
                len(install) - len(fetched),
                visit.install_bytes + sum(worker_script),
            )
        )
        rows.append(
            Row(
                "  = total",
                visit.visit,
                rows[0].requests + rows[1].requests,
                rows[0].network + rows[1].network,
                rows[0].cached + rows[1].cached,
                rows[0].bytes + rows[1].bytes,
            )
        )
    return rows


def kb(value: float) -> str:
    return f"{value / 1024:.1f}"


def table(rows: list[Row]) -> str:
    head = ("page", "visit", "requests", "from network", "from service worker/cache", "KB")
    cells = [head] + [
        (r.page, r.visit, str(r.requests), str(r.network), str(r.cached), kb(r.bytes)) for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for n, row in enumerate(cells):
        pairs = enumerate(zip(row, widths, strict=True))
        line = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        lines.append("  ".join(line).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def details(visit: Visit) -> str:
    lines = [f"{visit.page} ({visit.visit}), the page's requests:"]
    for r in visit.requests.values():
        lines.append(f"  {r.path[:52]:<52} {r.status:>3} {kb(visit.bytes_for(r)):>6} KB  {r.where}")
    install = visit.install
    if install:
        lines.append("  and the service worker's own (install: importScripts, precache):")
        for w in install:
            where = w.where if w.encoded_bytes else "browser cache"
            lines.append(f"  {w.path[:52]:<52} {w.status:>3} {kb(w.encoded_bytes):>6} KB  {where}")
    return "\n".join(lines)


def main() -> int:
    with demo_server() as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            home_first, home_repeat = first_and_repeat(browser, base, "/")
            new_first, new_repeat = first_and_repeat(browser, base, "/sessions/new")
            baseline = uncompressed_first_visit(browser, base)
        finally:
            browser.close()
        worker_script = worker_script_size(base)
        worker_script_plain = worker_script_size(base, identity=True)

    home_rows = rows_for(home_first, worker_script)
    baseline_rows = rows_for(baseline, worker_script_plain)
    rows = home_rows + rows_for(home_repeat, None)
    rows += rows_for(new_first, worker_script) + rows_for(new_repeat, None)
    rows += baseline_rows

    print("Page weight on a phone (390x844), demo patient logged in; Chromium, DevTools protocol")
    print("(KB = bytes transferred, headers included: encodedDataLength of loadingFinished)")
    print()
    print(table(rows))
    print()
    page_ratio = baseline.bytes / home_first.bytes
    total_ratio = baseline_rows[-1].bytes / home_rows[-1].bytes
    print(
        f"Compression (gzip/br) against Accept-Encoding: identity, first visit of /: the page "
        f"{kb(home_first.bytes)} KB vs {kb(baseline.bytes)} KB ({page_ratio:.1f}x smaller); "
        f"with the worker's install {kb(home_rows[-1].bytes)} KB vs "
        f"{kb(baseline_rows[-1].bytes)} KB ({total_ratio:.1f}x smaller)."
    )
    print(
        "/sw.js is fetched by the browser before the worker runs, out of DevTools' sight: "
        f"its {kb(sum(worker_script))} KB are read with a direct request. On every navigation "
        "the browser also asks for /sw.js again to look for a new version (not counted)."
    )
    print()
    for visit in (home_first, home_repeat, new_first, new_repeat, baseline):
        print(details(visit))
    print()

    failures = []
    total = home_rows[-1].bytes
    verdict = "met" if total < FIRST_VISIT_TARGET_KB * 1024 else "MISSED"
    print(
        f"Target: first visit of / under {FIRST_VISIT_TARGET_KB} KB, the worker's install "
        f"included: {verdict} ({kb(total)} KB; the page alone {kb(home_first.bytes)} KB)."
    )
    if verdict != "met":
        failures.append("first visit")
    print("Target: a repeat visit loads the shell (CSS, JS, icons) with no network request:")
    for visit in (home_repeat, new_repeat):
        shell = [r for r in visit.network if r.resource != "Document"]
        if shell:
            print(f"  {visit.page}: MISSED, from the network: {', '.join(r.path for r in shell)}")
            failures.append(f"{visit.page} repeat")
        else:
            documents = len(visit.network)
            print(
                f"  {visit.page}: met (from the network only the page itself, which carries "
                f"health data and is never cached: {documents} request"
                f"{'' if documents == 1 else 's'})."
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
