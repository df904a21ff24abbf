"""First paint on a slow phone: Lighthouse's mobile LCP against its FCP, page by page.

What it measures. It serves the demo patient as page_weight.py does (a fresh SQLite
instance, gunicorn on a free 127.0.0.1 port) and runs Lighthouse 12 (installed from the npm
registry into .venv/lighthouse on first use) on Debian's Chromium, with its default mobile
settings: a Moto G Power sized screen, slow 4G and a 4x slower CPU, simulated. Each page is
audited --runs times in a fresh browser profile: the landing page as a visitor, then home,
/sessions/new, /progress and /history as the demo patient (her session cookie goes in
Lighthouse's extra headers, so the first page loaded is the page measured).

For each page it prints FCP, LCP, LCP - FCP in milliseconds and the performance score,
as min / median / max over the runs.

Targets: on every page the largest paint is the first one (the median LCP - FCP at most
50 ms: no script, font or image stands between the first paint and the largest) and the
performance score is 100 in every run. The script exits with status 1 when one is missed.

    .venv/bin/python bench/lighthouse.py [--runs N] [--page PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from _server import ROOT  # noqa: E402
from page_weight import CHROMIUM, DEMO_EMAIL, DEMO_PASSWORD, demo_server

LIGHTHOUSE_VERSION = "12.8.2"
LIGHTHOUSE_HOME = ROOT / ".venv" / "lighthouse"
LIGHTHOUSE = LIGHTHOUSE_HOME / "node_modules" / ".bin" / "lighthouse"
PAGES = {  # path: logged in?
    "/": False,
    "/ (home)": True,
    "/sessions/new": True,
    "/progress": True,
    "/history": True,
}
GAP_TARGET_MS = 50


def install_lighthouse() -> None:
    """Lighthouse from the npm registry, pinned, beside the project's own packages."""
    if LIGHTHOUSE.exists():
        return
    LIGHTHOUSE_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(LIGHTHOUSE_HOME),
            f"lighthouse@{LIGHTHOUSE_VERSION}",
        ],
        check=True,
        capture_output=True,
    )


def session_cookie(base: str) -> str:
    """The demo patient's Cookie header, from logging in through the API."""
    with requests.Session() as http:
        token = http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        answer = http.post(
            f"{base}/api/v1/auth/login",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            headers={"X-CSRFToken": token},
            timeout=10,
        )
        answer.raise_for_status()
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def audit(url: str, cookie: str | None, tries: int = 3) -> dict[str, float]:
    """One Lighthouse run (mobile, simulated slow 4G) of `url`: FCP, LCP and the score.
    Lighthouse now and then fails to record a trace (NO_NAVSTART, the page's own fault in
    no way): such a run is tried again, at most `tries` times in all."""
    for attempt in range(tries):
        try:
            return _audit(url, cookie)
        except RuntimeError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _audit(url: str, cookie: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pnapp-lh-") as scratch:
        report = Path(scratch) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            "--only-categories=performance",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
            f"--user-data-dir={scratch}/profile",
        ]
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        env = {**os.environ, "CHROME_PATH": CHROMIUM}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not report.exists():
            raise RuntimeError(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
        result = json.loads(report.read_text())
    if result.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {result['runtimeError']}")
    audits = result["audits"]
    final = result.get("finalDisplayedUrl") or result.get("finalUrl", "")
    if final.rstrip("/") != url.rstrip("/"):
        raise RuntimeError(f"{url} ended at {final}: the page measured is not the page asked")
    fcp = audits["first-contentful-paint"]["numericValue"]
    lcp = audits["largest-contentful-paint"]["numericValue"]
    return {
        "fcp": fcp,
        "lcp": lcp,
        "gap": lcp - fcp,
        "score": 100 * result["categories"]["performance"]["score"],
    }


def spread(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", action="append", choices=list(PAGES), help="default: all")
    args = parser.parse_args()
    install_lighthouse()
    failures = []
    print(
        f"Lighthouse {LIGHTHOUSE_VERSION}, mobile, simulated slow 4G; {args.runs} runs; "
        "min / median / max"
    )
    print(f"{'page':<15} {'FCP ms':>16} {'LCP ms':>16} {'LCP - FCP':>14} {'score':>14}")
    with demo_server() as base:
        cookie = session_cookie(base)
        for page in args.page or PAGES:
            path = page.split(" ")[0]
            runs = [audit(base + path, cookie if PAGES[page] else None) for _ in range(args.runs)]
            column = {key: [run[key] for run in runs] for key in runs[0]}
            print(
                f"{page:<15} {spread(column['fcp']):>16} {spread(column['lcp']):>16} "
                f"{spread(column['gap']):>14} {spread(column['score']):>14}",
                flush=True,
            )
            if statistics.median(column["gap"]) > GAP_TARGET_MS:
                failures.append(
                    f"{page}: the largest paint comes "
                    f"{statistics.median(column['gap']):.0f} ms after the first"
                )
            if min(column["score"]) < 100:
                failures.append(f"{page}: a performance score of {min(column['score']):.0f}")
    for failure in failures:
        print("MISSED", failure)
    print("all targets met" if not failures else f"{len(failures)} target(s) missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
