"""One Web Push message: encrypt, sign, send, and map the answer to what to do next.

PLATFORM.md: 201/200/202 sent; 404/410 the subscription is dead; 429 wait Retry-After;
5xx and time-outs retry with backoff; 400/401/403/413 are our configuration or our bug:
log loudly, keep the subscription, do not retry the same message.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

log = logging.getLogger(__name__)

TIMEOUT_S = 10


@dataclass(frozen=True)
class Outcome:
    result: str  # "sent" | "gone" | "retry" | "error"
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


# Keys


def load_vapid(app: Flask) -> Vapid:
    """The VAPID key: from PNAPP_VAPID_PRIVATE_KEY, else the instance folder (made once).

    Subscriptions are bound to this key: a new key would strand every device.
    """
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        if "BEGIN" in configured:
            return Vapid.from_pem(configured.encode())
        return Vapid.from_string(private_key=configured)
    return _instance_vapid(app.instance_path)


@cache
def _instance_vapid(instance_path: str) -> Vapid:
    path = Path(instance_path) / "vapid_private.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = Vapid()
        fresh.generate_keys()
        tmp = path.with_name(f".vapid.{os.getpid()}")
        fresh.save_key(str(tmp))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: when two processes race, one key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return Vapid.from_file(str(path))


def public_key(vapid: Vapid) -> str:
    """The application server key for PushManager.subscribe: base64url, uncompressed point."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Endpoints


def allowed_endpoint(endpoint: str, allowed_hosts: str) -> bool:
    """Only known push services: https on 443, no credentials, a host on the allow-list.

    A host listed literally as a loopback address (tests) may also use http and any port.
    """
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        return False
    patterns = [h.strip().lower() for h in allowed_hosts.split(",") if h.strip()]
    listed = any(
        host == p or (p.startswith("*.") and host.endswith(p[1:]) and host != p[2:])
        for p in patterns
    )
    if not listed:
        return False
    if _is_loopback(host) and host in patterns:
        return parts.scheme in ("http", "https")
    return parts.scheme == "https" and port in (None, 443)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


# Sending


def http_session(pool_size: int = 16) -> requests.Session:
    """A shared HTTP session: kept-alive connections, and no redirects followed (a push
    service never redirects; following one could be made to reach elsewhere)."""
    session = requests.Session()
    session.max_redirects = 0
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def send(
    subscription: dict[str, Any],
    payload: dict[str, Any],
    *,
    vapid: Vapid,
    subject: str,
    ttl: int,
    topic: str,
    session: requests.Session,
    urgency: str = "normal",
    timeout: float | None = None,
) -> Outcome:
    """Send one message and say what happened."""
    try:
        response = webpush(
            subscription,
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},  # fresh each call: pywebpush writes aud and exp in
            ttl=ttl,
            headers={"Topic": topic, "Urgency": urgency},
            timeout=timeout or TIMEOUT_S,
            requests_session=session,
        )
        return Outcome("sent", response.status_code)
    except WebPushException as err:
        return _from_status(
            err.response.status_code if err.response is not None else None, err.response
        )
    except requests.TooManyRedirects:
        return Outcome("error", detail="the push service answered with a redirect")
    except (requests.Timeout, requests.ConnectionError) as err:
        return Outcome("retry", detail=type(err).__name__)
    except requests.RequestException as err:
        return Outcome("error", detail=type(err).__name__)


def _from_status(status: int | None, response: requests.Response | None) -> Outcome:
    if status in (404, 410):
        return Outcome("gone", status)
    if status == 429 or (status is not None and status >= 500):
        retry_after = _retry_after(response)
        return Outcome("retry", status, retry_after)
    if status in (400, 401, 403):
        log.error("push service refused our request (%s): check the VAPID key and subject", status)
    return Outcome("error", status, detail=f"HTTP {status}")


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if value and value.strip().isdigit():
        return float(value)
    return None


def vapid_subject() -> str:
    return current_app.config["VAPID_SUBJECT"]
