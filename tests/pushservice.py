"""A real Web Push service on 127.0.0.1 for the tests: it receives what the app sends over
HTTP, checks the VAPID signature, and decrypts the payload with the subscriber's keys
(RFC 8291), as a browser's push service and the browser would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's side of a subscription: its key pair and auth secret."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }


@dataclass
class Message:
    name: str
    headers: dict
    body: bytes
    payload: dict | None = None
    jwt_header: dict | None = None
    claims: dict | None = None
    vapid_key: str | None = None
    signature_ok: bool = False


class PushService:
    """Answers 201 unless told otherwise; `answers[name]` is a list of (status, headers)
    taken in order, and `delay` seconds (or `delays[name]`) are slept before answering.
    `on_message(name)`, when set, runs once a message has arrived and before the answer:
    what else happens in the world while the app waits for the push service."""

    def __init__(self):
        self.subscribers: dict[str, Subscriber] = {}
        self.messages: list[Message] = []
        self.answers: dict[str, list[tuple[int, dict]]] = {}
        self.delay = 0.0
        self.delays: dict[str, float] = {}
        self.on_message = None
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                name = self.path.rsplit("/", 1)[-1]
                status, headers = service.receive(name, dict(self.headers), body)
                if service.on_message is not None:
                    service.on_message(name)
                delay = service.delays.get(name, service.delay)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # Four schedulers with 16 threads each connect at once: a deep enough backlog.
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass  # a sender killed mid-request is part of the tests, not an error here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def subscriber(self, name: str) -> Subscriber:
        sub = Subscriber(name, f"{self.base}/push/{name}")
        self.subscribers[name] = sub
        return sub

    def receive(self, name: str, headers: dict, body: bytes) -> tuple[int, dict]:
        message = Message(name, {k.lower(): v for k, v in headers.items()}, body)
        sub = self.subscribers.get(name)
        if sub is not None:
            self._check(message, sub)
        with self.lock:
            self.messages.append(message)
            queue = self.answers.get(name)
            if queue:
                return queue.pop(0)
        return 201, {}

    def _check(self, message: Message, sub: Subscriber) -> None:
        plaintext = http_ece.decrypt(
            message.body,
            private_key=sub.private_key,
            auth_secret=sub.auth_secret,
            version="aes128gcm",
        )
        message.payload = json.loads(plaintext)
        auth = message.headers.get("authorization", "")
        # RFC 8292: "vapid t=<JWT>, k=<public key>"
        parts = dict(p.strip().split("=", 1) for p in auth.removeprefix("vapid ").split(","))
        token, key = parts["t"], parts["k"]
        head, claims, signature = token.split(".")
        message.jwt_header = json.loads(unb64url(head))
        message.claims = json.loads(unb64url(claims))
        message.vapid_key = key
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
            message.signature_ok = True
        except Exception:
            message.signature_ok = False

    def to(self, name: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.name == name]
