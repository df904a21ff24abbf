"""The SMART Health Links wire format, as the HL7 specification gives it:

- the payload {url, key, exp, flag, label}: minified JSON, base64url without padding, after
  `shlink:/`, here behind our viewer's address and a `#` (the fragment never reaches a
  server, so neither does the key);
- each file a compact JWE: `alg` dir, `enc` A256GCM, `cty` the content type, a fresh IV per
  file, under the link's key (32 random bytes). No `zip`: joserfc caps DEFLATE at 250 KiB,
  which a report PDF could pass.
"""

from __future__ import annotations

import base64
import json
import secrets

from joserfc import jwe
from joserfc.jwk import OctKey

FHIR_JSON = "application/fhir+json"
PREFIX = "shlink:/"
LABEL_MAX = 80


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A link's key: 32 random bytes as 43 base64url characters."""
    return b64u(secrets.token_bytes(32))


def shlink(url: str, key: str, *, exp: int, passcode: bool, label: str) -> str:
    payload = {"url": url, "key": key, "exp": int(exp)}
    if passcode:
        payload["flag"] = "P"
    if label:
        payload["label"] = label[:LABEL_MAX]
    return PREFIX + b64u(json.dumps(payload, separators=(",", ":")).encode())


def parse(link: str) -> dict:
    """The payload of a shlink:/ link, with or without a viewer's address in front."""
    if "#" in link:
        link = link.split("#", 1)[1]
    if not link.startswith(PREFIX):
        raise ValueError("not a SMART Health Link")
    return json.loads(b64u_decode(link[len(PREFIX) :]))


def encrypt(key: str, plaintext: bytes, content_type: str = FHIR_JSON) -> str:
    header = {"alg": "dir", "enc": "A256GCM", "cty": content_type}
    return jwe.encrypt_compact(header, plaintext, OctKey.import_key(b64u_decode(key)))


def decrypt(key: str, token: str) -> tuple[str, bytes]:
    """The content type and plaintext of a file (tests, and anyone checking a link)."""
    found = jwe.decrypt_compact(token, OctKey.import_key(b64u_decode(key)))
    return found.protected["cty"], found.plaintext
