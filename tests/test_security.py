"""Security headers, and what a proxy may tell us."""

from __future__ import annotations

import pytest

from pnapp import create_app


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/api/v1/me",
        "/api/openapi.json",
        "/static/css/app.css",
        "/sw.js",
        "/no-such-page",
    ],
)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_hsts_is_sent_over_https(client):
    response = client.get("/login", base_url="https://pnapp.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_proto_is_believed_only_when_configured(app, db_url):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert (
        "Strict-Transport-Security"
        not in app.test_client().get("/login", headers=forwarded).headers
    )
    trusting = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "x", "TRUST_PROXY": True}
    )
    assert (
        "Strict-Transport-Security"
        in trusting.test_client().get("/login", headers=forwarded).headers
    )


def test_pages_have_no_inline_style_and_one_inline_script_the_csp_names_by_hash(client):
    import base64
    import hashlib
    import re

    for path in ("/", "/login", "/register", "/offline", "/shell/session"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        # The loader of the page's scripts, and nothing else: no script by address in the
        # page itself (they start after the first paint), no other inline code.
        assert not re.search(r"<script[^>]*\bsrc=", html), path
        inline = re.findall(r"<script>(.*?)</script>", html, re.S)
        assert len(inline) == 1 and "pnapp-scripts" in inline[0], path
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        csp = response.headers["Content-Security-Policy"]
        assert f"script-src 'self' 'sha256-{digest}'" in csp, path
        assert " style=" not in html and "<style" not in html, path


def test_the_session_cookie_is_httponly_and_samesite(anon, alice):
    response = anon.post("/auth/login", {"email": alice.email, "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_static_files_neither_set_nor_vary_on_the_session_cookie(app, as_alice):
    from pnapp.assets import static_url

    with app.test_request_context():
        url = static_url("js/core.js")
    response = as_alice.client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    # Pages still renew the logged-in person's cookie.
    assert "Set-Cookie" in as_alice.client.get("/").headers


def test_repeated_logins_are_rate_limited_with_retry_after(limited_app, alice):
    from tests.conftest import Api

    api = Api(limited_app.test_client())
    codes = [
        api.post("/auth/login", {"email": alice.email, "password": "wrong password!"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    response = api.post("/auth/login", {"email": alice.email, "password": "wrong password!"})
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


def test_the_login_page_is_rate_limited_too(limited_app, alice):
    import re

    client = limited_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    codes = [
        client.post(
            "/login", data={"csrf_token": token, "email": alice.email, "password": "wrong"}
        ).status_code
        for _ in range(11)
    ]
    assert codes[-1] == 429 and "Too many requests" in client.post(
        "/login", data={"csrf_token": token}
    ).get_data(as_text=True)
