"""Links for a therapist or a doctor (SMART Health Links): the round trip a receiving viewer
makes (parse the shlink:/ payload, POST the manifest, decrypt each JWE with the key from the
payload, read a valid FHIR R4 Bundle), passcodes and their ten tries, expiry, revocation,
the account's end, and the patient's pages."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from fhir.resources import R4B
from joserfc import jwe
from joserfc.jwk import OctKey
from pypdf import PdfReader

from pnapp.extensions import db
from pnapp.links import protocol
from pnapp.models import Link, User
from tests.conftest import PASSWORD, Api, make_user
from tests.helpers import iso, session_body

NOTE = "Left foot burned all night"


def validate(resource: dict):
    model = R4B.get_fhir_model_class(resource["resourceType"])
    parse = getattr(model, "model_validate", None) or model.parse_obj
    return parse(resource)


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def record_sessions(api: Api) -> list[dict]:
    therapist = api.post("/therapists", {"name": "Dana Lee", "credential": "RMT"}).get_json()
    made = []
    for days, (before, after) in enumerate([(7, 3), (6, 4), (8, 2)], start=1):
        body = session_body(
            started_at=iso(datetime.now(UTC) - timedelta(days=days * 7)),
            before={"pain": before, "stress": 5},
            after={"pain": after, "stress": 2},
            areas=["feet_lower_legs"],
            adjuncts=["heat_towels", "sauna"] if days == 1 else [],
            therapist_id=therapist["id"],
            notes=NOTE if days == 1 else None,
        )
        response = api.post("/sessions", body)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json())
    return made


def make(api: Api, **body) -> dict:
    body = {"label": "Dana Lee, RMT", "contents": ["summary"], **body}
    response = api.post("/links", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def manifest(client, link: dict, **body):
    """POST the manifest as a viewer would: no cookie, no CSRF token."""
    payload = protocol.parse(link["shlink"])
    path = payload["url"].split("://", 1)[1].split("/", 1)[1]
    return client.post("/" + path, json={"recipient": "Dana Lee", **body})


def open_files(link: dict, answer) -> list[dict]:
    """Decrypt every file with joserfc and the key from the payload, as any viewer would."""
    key = OctKey.import_key(b64u_decode(protocol.parse(link["shlink"])["key"]))
    bundles = []
    for f in answer.get_json()["files"]:
        assert f["contentType"] == "application/fhir+json"
        token = f["embedded"]
        assert token.split(".")[1] == ""  # alg dir: no encrypted key
        found = jwe.decrypt_compact(token, key)
        assert found.protected == {
            "alg": "dir",
            "enc": "A256GCM",
            "cty": "application/fhir+json",
        }
        bundle = json.loads(found.plaintext)
        validate(bundle)
        for entry in bundle["entry"]:
            validate(entry["resource"])
        bundles.append(bundle)
    return bundles


def of_type(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_shlink_payload_follows_the_specification(app, as_alice):
    link = make(as_alice, passcode="482913", expires_in_days=30)
    assert link["url"] == f"{app.config['PUBLIC_URL']}/s#{link['shlink']}"
    encoded = link["shlink"].removeprefix("shlink:/")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", encoded)  # base64url, no padding
    payload = json.loads(b64u_decode(encoded))
    assert set(payload) == {"url", "key", "exp", "flag", "label"}
    assert payload["flag"] == "P" and payload["label"] == "Dana Lee, RMT"
    assert len(payload["key"]) == 43 and len(b64u_decode(payload["key"])) == 32
    assert payload["url"].startswith(f"{app.config['PUBLIC_URL']}/api/v1/shl/")
    assert len(payload["url"]) <= 128
    assert len(payload["url"].rsplit("/", 1)[1]) == 43  # 256 random bits
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert payload["exp"] == int(expires.timestamp())
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert link["qr_svg"].startswith("<svg") and "QR code" in link["qr_svg"]
    # A link without a passcode has no flag, and the key is different for every link.
    other = protocol.parse(make(as_alice)["shlink"])
    assert "flag" not in other and other["key"] != payload["key"]


def test_round_trip_summary_report_and_record_with_the_passcode(app, as_alice):
    record_sessions(as_alice)
    link = make(as_alice, contents=["summary", "report", "fhir"], passcode="482913", notes=True)
    anon = app.test_client()

    missing = manifest(anon, link)
    assert missing.status_code == 401
    assert missing.get_json()["remainingAttempts"] == 9
    assert missing.get_json()["error"]["code"] == "unauthorized"

    answer = manifest(anon, link, passcode="482913", embeddedLengthMax=1_000_000)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in answer.headers
    summary, report, record = open_files(link, answer)

    # The visit summary: who, where, each session's before and after, what was used, notes.
    assert [t["code"] for t in summary["meta"]["tag"]] == ["summary"]
    (patient,) = of_type(summary, "Patient")
    assert patient == {"resourceType": "Patient", "name": [{"text": "Alice"}]}
    procedures = of_type(summary, "Procedure")
    assert len(procedures) == 3
    newest = max(procedures, key=lambda p: p["performedDateTime"])
    assert newest["performer"] == [{"actor": {"display": "Dana Lee"}}]
    assert {c["coding"][0]["code"] for c in newest["usedCode"]} == {"heat_towels", "sauna"}
    assert newest["note"] == [{"text": NOTE}]
    assert {s["coding"][0]["code"] for s in newest["bodySite"]} == {"56459004", "30021000"}
    pains = sorted(
        (o["component"][0]["valueCodeableConcept"]["coding"][0]["code"], o["valueInteger"])
        for o in of_type(summary, "Observation")
        if o["code"]["coding"][0]["code"] == "72514-3"
    )
    assert pains == sorted(
        [("before", 7), ("after", 3), ("before", 6), ("after", 4), ("before", 8), ("after", 2)]
    )

    # The report: a DocumentReference whose attachment is the PDF.
    (document,) = of_type(report, "DocumentReference")
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    pdf = base64.b64decode(attachment["data"])
    assert pdf.startswith(b"%PDF") and attachment["size"] == len(pdf)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Alice" in text

    # The full record: every session, and no e-mail address.
    assert len(of_type(record, "Procedure")) == 3
    assert "alice@example.com" not in json.dumps(record)

    listed = as_alice.get("/links").get_json()["items"][0]
    assert listed["opens"] == 1 and listed["last_opened_at"] is not None
    assert listed["passcode"] is True and listed["active"] is True
    assert listed["contents"] == ["summary", "report", "fhir"]


def test_notes_stay_out_unless_ticked(app, as_alice):
    record_sessions(as_alice)
    link = make(as_alice)
    (summary,) = open_files(link, manifest(app.test_client(), link))
    assert NOTE not in json.dumps(summary)
    assert all("note" not in p for p in of_type(summary, "Procedure"))


def test_ten_wrong_passcodes_end_the_link(app, as_alice):
    link = make(as_alice, passcode="482913")
    anon = app.test_client()
    left = [manifest(anon, link, passcode=f"wrong{i}").get_json() for i in range(10)]
    assert [a["remainingAttempts"] for a in left] == list(range(9, -1, -1))
    # Dead for good: the right passcode now gets the same 404 as an unknown link.
    assert manifest(anon, link, passcode="482913").status_code == 404
    item = as_alice.get("/links").get_json()["items"][0]
    assert item["active"] is False and item["opens"] == 0


def test_a_right_passcode_after_wrong_ones_opens_and_counts_once(app, as_alice):
    link = make(as_alice, passcode="482913")
    anon = app.test_client()
    assert manifest(anon, link, passcode="nope").get_json()["remainingAttempts"] == 9
    assert manifest(anon, link, passcode="482913").status_code == 200
    assert manifest(anon, link, passcode="482913").status_code == 200
    assert as_alice.get("/links").get_json()["items"][0]["opens"] == 2
    # Each open is in the patient's access log under the link's label; wrong tries are not.
    log = as_alice.get("/access-log").get_json()["items"]
    assert [(e["who"], e["what"]) for e in log] == [
        ({"id": None, "display_name": "Dana Lee, RMT"}, "link")
    ] * 2


def test_files_longer_than_embedded_length_max_come_by_location_for_an_hour(app, as_alice):
    record_sessions(as_alice)
    link = make(as_alice, contents=["summary", "report"], passcode="482913")
    anon = app.test_client()
    answer = manifest(anon, link, passcode="482913", embeddedLengthMax=10)
    files = answer.get_json()["files"]
    assert [set(f) for f in files] == [{"contentType", "location"}] * 2
    key = OctKey.import_key(b64u_decode(protocol.parse(link["shlink"])["key"]))
    for f in files:
        assert f["location"].startswith(f"{app.config['PUBLIC_URL']}/api/v1/shl-files/")
        got = anon.get(f["location"].removeprefix(app.config["PUBLIC_URL"]))
        assert got.status_code == 200 and got.mimetype == "application/jose"
        assert got.headers["Access-Control-Allow-Origin"] == "*"
        validate(json.loads(jwe.decrypt_compact(got.get_data(as_text=True), key).plaintext))
    path = files[0]["location"].removeprefix(app.config["PUBLIC_URL"])
    # Another file number under the same signature, or a changed signature: nothing.
    assert anon.get(path.rsplit("/", 1)[0] + "/2").status_code == 404
    assert anon.get(path.replace("/shl-files/", "/shl-files/x")).status_code == 404
    # Over an hour later, or once the link is revoked: 404.
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    with mock.patch("itsdangerous.timed.time.time") as clock:
        clock.return_value = later.timestamp()
        assert anon.get(path).status_code == 404
    assert anon.get(path).status_code == 200
    assert as_alice.delete(f"/links/{link['id']}").status_code == 204
    assert anon.get(path).status_code == 404
    # Big enough to embed: embedded.
    whole = manifest(anon, make(as_alice), embeddedLengthMax=10**7).get_json()["files"]
    assert [set(f) for f in whole] == [{"contentType", "embedded"}]


def test_expired_and_revoked_links_answer_404(app, as_alice):
    expired = make(as_alice, expires_in_days=1)
    revoked = make(as_alice)
    with app.app_context():
        link = db.session.get(Link, expired["id"])
        link.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    anon = app.test_client()
    assert manifest(anon, revoked).status_code == 200
    assert as_alice.delete(f"/links/{revoked['id']}").status_code == 204
    for link in (expired, revoked):
        answer = manifest(anon, link)
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_found"
    items = {i["id"]: i for i in as_alice.get("/links").get_json()["items"]}
    assert not items[expired["id"]]["active"] and not items[revoked["id"]]["active"]
    # Revoking twice, or someone else's link, is a 404 that changes nothing.
    assert as_alice.delete(f"/links/{revoked['id'] + 100}").status_code == 404


def test_an_unknown_manifest_and_bad_requests_are_clear_4xx(app, as_alice):
    link = make(as_alice)
    anon = app.test_client()
    path = "/api/v1/shl/" + "A" * 43
    assert anon.post(path, json={"recipient": "x"}).status_code == 404
    assert manifest(anon, link, surprise=1).status_code == 422
    payload = protocol.parse(link["shlink"])
    own = "/" + payload["url"].split("://", 1)[1].split("/", 1)[1]
    assert anon.post(own, json={}).status_code == 422  # recipient is required
    assert anon.post(own, data="x", content_type="text/plain").status_code == 400
    assert as_alice.get("/links").get_json()["items"][0]["opens"] == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"contents": []}, "contents"),
        ({"contents": ["summary", "summary"]}, "contents"),
        ({"contents": ["everything"]}, "contents.0"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"passcode": "123"}, "passcode"),
        ({"passcode": "x" * 33}, "passcode"),
        ({"label": "   "}, "label"),
        ({"label": "x" * 81}, "label"),
    ],
)
def test_a_bad_link_request_is_a_422_and_makes_nothing(as_alice, body, field):
    response = as_alice.post("/links", {"label": "Dana", "contents": ["summary"], **body})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert as_alice.get("/links").get_json()["items"] == []


def test_only_the_patient_sees_and_revokes_her_links(app, as_alice, as_bob, as_charlie):
    link = make(as_alice)
    assert as_bob.get("/links").status_code == 403  # a caregiver
    assert as_bob.post("/links", {"label": "x", "contents": ["summary"]}).status_code == 403
    dave = Api(app.test_client()).login(make_user(app, "dave@example.com").email)
    assert dave.get("/links").get_json()["items"] == []
    assert dave.delete(f"/links/{link['id']}").status_code == 404
    assert manifest(app.test_client(), link).status_code == 200


def test_links_die_with_the_account(app, as_alice, alice):
    link = make(as_alice)
    assert as_alice.delete("/me", {"password": PASSWORD}).status_code == 204
    assert manifest(app.test_client(), link).status_code == 404
    with app.app_context():
        assert db.session.get(User, alice.id) is None
        assert db.session.query(Link).count() == 0


def test_the_server_keeps_no_key_and_no_readable_data(app, as_alice):
    record_sessions(as_alice)
    link = make(as_alice, notes=True, passcode="482913")
    key = protocol.parse(link["shlink"])["key"]
    manifest_id = protocol.parse(link["shlink"])["url"].rsplit("/", 1)[1]
    with app.app_context():
        row = db.session.get(Link, link["id"])
        stored = json.dumps({c.name: str(getattr(row, c.name)) for c in Link.__table__.columns})
    for secret in (key, manifest_id, NOTE, "482913"):
        assert secret not in stored


# Pages


def test_the_link_page_makes_a_link_shown_once_with_qr_share_and_copy(app, as_alice):
    therapist = as_alice.post("/therapists", {"name": "Dana Lee", "credential": "RMT"})
    client = as_alice.client
    page = client.get(f"/links?therapist={therapist.get_json()['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="Dana Lee, RMT"' in html
    passcode = re.search(r'id="passcode"[^>]*value="(\d{6})"', html).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    made = client.post(
        "/links",
        data={
            "csrf_token": token,
            "label": "Dana Lee, RMT",
            "contents": ["summary", "report"],
            "expires_in_days": "7",
            "passcode": passcode,
        },
    )
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    url = re.search(r'<textarea id="shl-url"[^>]*>([^<]+)</textarea>', html).group(1)
    assert url.startswith(f"{app.config['PUBLIC_URL']}/s#shlink:/")
    assert 'class="segno"' in html  # the QR code
    assert 'data-share="shl-url"' in html and 'data-copy="shl-url"' in html
    assert passcode in html
    assert protocol.parse(url)["flag"] == "P"
    items = as_alice.get("/links").get_json()["items"]
    assert [i["contents"] for i in items] == [["summary", "report"]]
    # The list shows it, and the revoke button ends it.
    again = client.get("/links").get_data(as_text=True)
    assert "Dana Lee, RMT" in again and "Not opened yet." in again
    revoked = client.post(f"/links/{items[0]['id']}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert as_alice.get("/links").get_json()["items"][0]["active"] is False
    assert "Revoked." in client.get("/links").get_data(as_text=True)


def test_a_bad_link_form_says_what_is_wrong_and_makes_nothing(as_alice):
    client = as_alice.client
    html = client.get("/links").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    answer = client.post("/links", data={"csrf_token": token, "label": "", "passcode": "12"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'aria-invalid="true"' in html
    assert as_alice.get("/links").get_json()["items"] == []


def test_the_therapist_and_progress_pages_lead_to_the_link_page(as_alice):
    therapist = as_alice.post("/therapists", {"name": "Dana Lee"}).get_json()
    for page in (f"/therapists/{therapist['id']}", "/progress"):
        html = as_alice.client.get(page).get_data(as_text=True)
        assert "/links" in html and "Share with my therapist or doctor" in html, page


def test_the_viewer_page_is_public_static_and_strict(client):
    page = client.get("/s")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "shl-viewer.js" in html and html.count("<script>") == 1  # the loader, by hash
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp


def test_a_viewer_served_elsewhere_may_ask_and_the_manifest_is_rate_limited(limited_app):
    alice = make_user(limited_app, "alice@example.com")
    link = make(Api(limited_app.test_client()).login(alice.email))
    viewer = limited_app.test_client()
    path = "/" + protocol.parse(link["shlink"])["url"].split("://", 1)[1].split("/", 1)[1]
    preflight = viewer.options(
        path,
        headers={
            "Origin": "https://viewer.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    answers = [viewer.post(path, json={"recipient": "x"}) for _ in range(31)]
    assert [a.status_code for a in answers] == [200] * 30 + [429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) > 0
