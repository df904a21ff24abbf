"""The Web Push channel: VAPID keys, which endpoints we may send to, and one message sent.

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
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from pnapp.reminders.channels import TransportError

log = logging.getLogger(__name__)

# (connect, read) seconds: a slow push service must not hold a sender, or a request, long.
TIMEOUT_S = (5, 5)


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
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
#
# An endpoint is a URL a user hands us and we then POST to from inside our network, so it
# is checked as strictly as we can (the server must never be made to reach anywhere else):
#
# - Only printable ASCII without backslashes: parsers disagree about where the host of
#   "https://127.0.0.1\\.push.apple.com/x" ends (urlsplit says the Apple name, urllib3
#   connects to 127.0.0.1), and non-ASCII hosts are read differently once IDNA-encoded.
# - https, no userinfo, no fragment; the host is lower-case [a-z0-9.-] labels and must be
#   on PUSH_ALLOWED_HOSTS; port 443 (or none).
# - A host that looks like an IP address in any notation (127.1, 0x7f000001, [::1]) is
#   refused unless that exact address is itself an entry of PUSH_ALLOWED_HOSTS. Such an
#   entry is for test setups (the local push service on 127.0.0.1): it alone may use http
#   and any port, and it is reachable only when the endpoint writes it literally.
#   Production lists only names.
# - A *name*, listed or not, must resolve to public addresses only. That is checked when
#   the subscription is stored and again on every connection (_Guard), which connects to
#   the very address it checked: DNS answers can change in between.
# - The URL is rebuilt from the parts checked, and that is what is stored and sent.

_HOST_PORT = re.compile(r"([a-z0-9.-]+)(?::([0-9]{1,5}))?")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")


def normalize_endpoint(endpoint: str, allowed_hosts: str) -> str | None:
    """The endpoint as we will store and send it, or None when it is not a push service
    this app may send to (see the rules above)."""
    if not endpoint.isascii() or not endpoint.isprintable() or any(c in endpoint for c in "\\ #"):
        return None
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    match = _HOST_PORT.fullmatch(parts.netloc.lower())  # no "@", no "[...]"
    if match is None:
        return None
    host, port_text = match.groups()
    port = int(port_text) if port_text else None
    listed_ips = allowed_ips(allowed_hosts)
    if _looks_like_ip(host):
        if host not in {str(ip) for ip in listed_ips}:
            return None
        if scheme not in ("http", "https") or port == 0 or (port or 0) > 65535:
            return None
    else:
        labels = host.split(".")
        if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
            return None
        if not _listed(host, allowed_hosts) or scheme != "https" or port not in (None, 443):
            return None
        if _resolves_to_private(host):
            return None
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def allowed_ips(allowed_hosts: str) -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The entries of PUSH_ALLOWED_HOSTS that are IP addresses (test setups only)."""
    found = set()
    for entry in allowed_hosts.split(","):
        try:
            found.add(ipaddress.ip_address(entry.strip()))
        except ValueError:
            pass
    return frozenset(found)


def _listed(host: str, allowed_hosts: str) -> bool:
    for pattern in (p.strip().lower() for p in allowed_hosts.split(",")):
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif pattern and host == pattern:
            return True
    return False


def _looks_like_ip(host: str) -> bool:
    # As browsers and inet_aton read hosts: a numeric last label makes the whole an IPv4
    # address (127.1, 2130706433, 0x7f.0.0.1).
    return bool(_NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]))


def address_allowed(address: str, listed_ips: frozenset) -> bool:
    """Public unicast addresses, or one listed literally on PUSH_ALLOWED_HOSTS."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip in listed_ips or (ip.is_global and not ip.is_multicast)


def _resolves_to_private(host: str) -> bool:
    """True when the name resolves to an address we must not reach. Listed IP entries do
    not count here: they are reachable only when written literally. A name that does not
    resolve now is let through: the connection guard checks again before each send."""
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return not all(address_allowed(info[4][0], frozenset()) for info in infos)


# Sending


class BlockedAddressError(NewConnectionError):
    """The endpoint's name resolved to an address we must not reach."""


class _Guard:
    listed_ips: frozenset = frozenset()

    def _new_conn(self):
        # Resolve once, check every address, and connect to one that was checked, so a
        # second DNS answer cannot send us elsewhere.
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as err:
            raise NameResolutionError(self.host, self, err) from err
        # A listed IP entry is reachable only when the endpoint names it literally; a name
        # (even a listed one) must resolve to public addresses only.
        try:
            literal = frozenset({ipaddress.ip_address(self._dns_host.strip("[]"))})
        except ValueError:
            literal = frozenset()
        exempt = literal & self.listed_ips
        if not infos or not all(address_allowed(i[4][0], exempt) for i in infos):
            raise BlockedAddressError(self, "the push endpoint resolves to a private address")
        address = infos[0][4][0]
        try:
            return create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as err:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from err
        except OSError as err:
            raise NewConnectionError(self, f"Failed to establish a new connection: {err}") from err


def _guarded_adapter(pool_size: int, listed_ips: frozenset) -> requests.adapters.HTTPAdapter:
    http_conn = type("GuardedHTTPConnection", (_Guard, HTTPConnection), {"listed_ips": listed_ips})
    https_conn = type(
        "GuardedHTTPSConnection", (_Guard, HTTPSConnection), {"listed_ips": listed_ips}
    )
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    return Adapter(pool_connections=pool_size, pool_maxsize=pool_size)


def http_session(pool_size: int, allowed_hosts: str) -> requests.Session:
    """A shared HTTP session for push services: kept-alive connections, every connection
    checked by the guard above, no redirects followed (a push service never redirects;
    following one could be made to reach elsewhere), and no proxy or .netrc from the
    environment (a proxy would connect on our behalf where the guard cannot see)."""
    session = requests.Session()
    session.max_redirects = 0
    session.trust_env = False
    adapter = _guarded_adapter(pool_size, allowed_ips(allowed_hosts))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# A VAPID token may live up to 24 h (RFC 8292); ours live 12 h, as pywebpush's do, and are
# made anew an hour before they end.
VAPID_LIFETIME_S = 12 * 3600
VAPID_RENEW_S = 3600


@dataclass(frozen=True)
class Connection:
    """What the messages of one pass share, so sending threads need no app context."""

    vapid: Vapid
    subject: str
    session: requests.Session
    # push service origin -> (signed VAPID headers, when to sign again)
    _signed: dict = field(default_factory=dict, compare=False)
    _signing: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        """The Authorization header for a push service: its token is signed once per pass
        and service (an ECDSA signature per message cost a sixth of a reminder's CPU)."""
        url = urlsplit(endpoint)
        audience = f"{url.scheme}://{url.netloc}"
        now = time.time()
        with self._signing:
            signed = self._signed.get(audience)
            if signed is None or signed[1] <= now:
                claims = {"sub": self.subject, "aud": audience, "exp": int(now) + VAPID_LIFETIME_S}
                expires = now + VAPID_LIFETIME_S - VAPID_RENEW_S
                signed = self._signed[audience] = (self.vapid.sign(claims), expires)
        return signed[0]


@contextmanager
def connect(pool_size: int = 16) -> Iterator[Connection]:
    """The key, the subject and `pool_size` kept-alive connections, closed afterwards."""
    config = current_app.config
    session = http_session(pool_size, config["PUSH_ALLOWED_HOSTS"])
    try:
        yield Connection(load_vapid(current_app), config["VAPID_SUBJECT"], session)
    finally:
        session.close()


def send(
    connection: Connection,
    subscription: dict[str, Any],
    payload: dict[str, Any],
    *,
    ttl: int,
    topic: str,
    urgency: str = "normal",
    timeout: float | tuple[float, float] | None = None,
) -> None:
    """Send one message, or raise TransportError saying whether trying again can help."""
    headers = {
        **connection.vapid_headers(subscription["endpoint"]),
        "Topic": topic,
        "Urgency": urgency,
    }
    try:
        # pywebpush's webpush() without its signing: the encryption and the POST.
        response = WebPusher(subscription, requests_session=connection.session).send(
            json.dumps(payload, separators=(",", ":")),
            headers,
            ttl=ttl,
            timeout=timeout or TIMEOUT_S,
        )
        if response.status_code > 202:
            raise WebPushException(f"push failed: {response.status_code}", response=response)
    except WebPushException as err:
        raise _from_status(
            err.response.status_code if err.response is not None else None, err.response
        ) from err
    except requests.TooManyRedirects as err:
        raise TransportError("the push service answered with a redirect", permanent=True) from err
    except requests.ConnectionError as err:
        if _refused_peer(err):
            raise TransportError("refused address", permanent=True) from err
        raise TransportError(type(err).__name__, permanent=False) from err
    except requests.Timeout as err:
        raise TransportError(type(err).__name__, permanent=False) from err
    except requests.RequestException as err:
        raise TransportError(type(err).__name__, permanent=True) from err


def _refused_peer(err: requests.ConnectionError) -> bool:
    reason = err.args[0] if err.args else None
    return isinstance(getattr(reason, "reason", reason), BlockedAddressError)


def _from_status(status: int | None, response: requests.Response | None) -> TransportError:
    if status in (404, 410):
        return TransportError(str(status), permanent=True, gone=True, status=status)
    if status == 429 or (status is not None and status >= 500):
        retry_after = _retry_after(response)
        return TransportError(str(status), permanent=False, retry_after=retry_after, status=status)
    if status in (400, 401, 403):
        log.error("push service refused our request (%s): check the VAPID key and subject", status)
    return TransportError(f"HTTP {status}", permanent=True, status=status)


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if value and value.strip().isdigit():
        return float(value)
    return None
