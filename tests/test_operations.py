"""What operators see: /metrics and /healthz?deep=1 (for allowed addresses only), the
scheduler's passes recorded in the database, and one log line per request.
tests/test_cluster.py checks the same across real machines."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pnapp import scheduler
from pnapp.extensions import db
from pnapp.models import SchedulerRun, User
from pnapp.models.operations import process_name
from pnapp.requestlog import JsonFormatter
from pnapp.timeutil import utcnow
from tests.conftest import add_due_patients

OPERATOR = {"REMOTE_ADDR": "10.20.30.40"}


def session(**extra) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "started_at": "2026-11-02T15:00:00Z",
        "before": {"pain": 7, "stress": 4},
        **extra,
    }


@pytest.fixture
def operators(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW", "127.0.0.2, 10.0.0.0/8")


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics", environ_base=OPERATOR)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert "Set-Cookie" not in response.headers
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples, name, **labels) -> float:
    return sum(
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_are_refused_to_everyone_until_addresses_are_allowed(app, client):
    assert app.config["METRICS_ALLOW"] == ""
    for address in ("127.0.0.1", "10.20.30.40"):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 404
        assert response.get_json() == {
            "error": {"status": 404, "code": "not_found", "message": "Not found."}
        }
        assert "Set-Cookie" not in response.headers


def test_metrics_answer_allowed_addresses_only(app, client, operators):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "11.0.0.1"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code == 200
    assert client.get("/metrics", environ_base=OPERATOR).status_code == 200


def test_a_logged_in_scrape_gets_no_cookie_either(app, as_alice, operators):
    response = as_alice.client.get("/metrics", environ_base=OPERATOR)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_requests_are_counted_by_route_template_never_by_id(app, as_alice, operators):
    created = as_alice.post("/sessions", session())
    assert created.status_code == 201, created.get_json()
    session_id = created.get_json()["id"]
    before = scrape(as_alice.client)
    route = "/api/v1/sessions/<int:session_id>"
    for _ in range(3):
        assert as_alice.get(f"/sessions/{session_id}").status_code == 200
    as_alice.client.get("/no/such/page/123456")
    after = scrape(as_alice.client)
    seen = value(after, "pnapp_http_requests_total", method="GET", route=route, status="200")
    earlier = value(before, "pnapp_http_requests_total", method="GET", route=route, status="200")
    assert seen - earlier == 3
    assert value(after, "pnapp_http_request_duration_seconds_count", route=route) >= 3
    routes = {s.labels["route"] for s in after["pnapp_http_requests_total"]}
    assert "(no route)" in routes
    assert not [r for r in routes if str(session_id) in r.split("/") or "123456" in r]
    assert value(after, "pnapp_db_pool_connections_open") >= 1


def test_metrics_count_reminders_by_kind_channel_and_state(app, client, push_service, operators):
    add_due_patients(app, push_service, 3, utcnow() - timedelta(minutes=1))
    scheduler.run_once(app)
    samples = scrape(client)
    labels = {"kind": "weekly", "channel": "push"}
    assert value(samples, "pnapp_reminders", state="sent", **labels) == 3
    assert value(samples, "pnapp_reminders", state="pending", **labels) == 0
    assert value(samples, "pnapp_reminders_planned", **labels) == 3
    assert value(samples, "pnapp_reminders_retried", **labels) == 0
    assert value(samples, "pnapp_channel_answers_total", channel="push", result="sent") == 3
    assert value(samples, "pnapp_scheduler_passes_total", result="ok") == 1
    assert value(samples, "pnapp_reminder_lag_seconds") == 0
    last = value(samples, "pnapp_scheduler_last_success_timestamp_seconds")
    assert abs(last - utcnow().timestamp()) < 60
    assert value(samples, "pnapp_database_up") == 1


def test_retries_and_failures_show_in_the_metrics(app, client, push_service, operators):
    ids = add_due_patients(app, push_service, 2, utcnow() - timedelta(minutes=1))
    push_service.answers[f"u{ids[0]}"] = [(503, {})]  # try again later
    push_service.answers[f"u{ids[1]}"] = [(400, {})]  # our configuration: never again
    scheduler.run_once(app)
    samples = scrape(client)
    labels = {"kind": "weekly", "channel": "push"}
    assert value(samples, "pnapp_reminders", state="pending", **labels) == 1
    assert value(samples, "pnapp_reminders", state="failed", **labels) == 1
    assert value(samples, "pnapp_channel_answers_total", channel="push", result="retry") == 1
    assert value(samples, "pnapp_channel_answers_total", channel="push", result="error") == 1


def deep(client, environ=OPERATOR):
    return client.get("/healthz", query_string={"deep": "1"}, environ_base=environ)


def test_deep_health_is_for_operators_and_plain_health_stays_plain(app, client, operators):
    refused = deep(client, {"REMOTE_ADDR": "192.0.2.1"})
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "not_found"
    plain = client.get("/healthz", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert plain.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in plain.headers


def test_deep_health_tells_whether_a_scheduler_is_passing(app, client, operators):
    never = deep(client)
    assert never.status_code == 503
    assert never.get_json()["scheduler"]["status"] == "never ran"
    now = utcnow()
    with app.app_context():
        SchedulerRun.record(
            "other-host:1", now, now - timedelta(minutes=30), now - timedelta(minutes=30)
        )
    late = deep(client)
    assert late.status_code == 503
    assert late.get_json()["scheduler"]["status"] == "late"
    scheduler.run_once(app)
    ok = deep(client)
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["status"] == "ok"
    assert body["scheduler"]["status"] == "ok"
    assert body["scheduler"]["seconds_ago"] < 60
    assert body["reminders"] == {"status": "ok", "lag_seconds": 0.0, "lag_limit_seconds": 900.0}


def test_deep_health_tells_reminders_waiting_too_long(app, client, alice, operators):
    scheduler.run_once(app)  # a scheduler that passes, but nothing plans alice's reminder
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.reminder_enabled = True
        user.next_reminder_at = utcnow() - timedelta(minutes=20)
        db.session.commit()
    late = deep(client)
    assert late.status_code == 503
    reminders = late.get_json()["reminders"]
    assert reminders["status"] == "late"
    assert 1190 < reminders["lag_seconds"] < 1300


def test_a_failed_pass_is_recorded_and_is_not_a_success(app, monkeypatch):
    def broken(now):
        raise RuntimeError("the database went away (with alice@example.com in the text)")

    monkeypatch.setattr(scheduler, "send_due_reminders", broken)
    with pytest.raises(RuntimeError):
        scheduler.run_once(app)
    with app.app_context():
        run = db.session.get(SchedulerRun, process_name())
        assert (run.passes, run.failed_passes) == (1, 1)
        assert run.last_error == "RuntimeError"  # the class only, never the text
        assert run.last_success_at is None


def test_two_passes_add_up_their_answers(app, push_service):
    add_due_patients(app, push_service, 2, utcnow() - timedelta(minutes=1))
    scheduler.run_once(app)
    scheduler.run_once(app)
    with app.app_context():
        run = db.session.get(SchedulerRun, process_name())
        assert run.passes == 2
        assert run.answers == {"push": {"sent": 2}}
        assert SchedulerRun.totals() == ({"ok": 2, "error": 0}, {("push", "sent"): 2})


def test_mail_answers_are_counted_under_their_own_channel(app, mailbox):
    add_due_patients(app, None, 2, utcnow() - timedelta(minutes=1), email_verified=True)
    scheduler.run_once(app)
    assert len(mailbox.messages) == 2
    with app.app_context():
        run = db.session.get(SchedulerRun, process_name())
        assert run.answers == {"email": {"sent": 2}}
        assert SchedulerRun.totals()[1] == {("email", "sent"): 2}


# The request log


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pnapp.request"]


def test_each_request_is_logged_once_with_its_route_status_and_id(app, as_alice, caplog):
    caplog.set_level(logging.INFO, logger="pnapp.request")
    body = session(notes="a very private note")
    created = as_alice.post("/sessions", body, headers={"X-Request-Id": "proxy-id-0001"})
    assert created.headers["X-Request-Id"] == "proxy-id-0001"
    caplog.clear()
    path = f"/sessions/{created.get_json()['id']}"
    response = as_alice.get(path, headers={"X-Request-Id": "not sane!"})
    generated = response.headers["X-Request-Id"]
    assert len(generated) == 32 and generated != "not sane!"
    (line,) = request_lines(caplog)
    assert line.request_id == generated
    assert (line.method, line.route, line.status) == (
        "GET",
        "/api/v1/sessions/<int:session_id>",
        200,
    )
    assert line.duration_ms >= 0
    assert str(created.get_json()["id"]) not in line.getMessage().split("/")


def test_request_logs_carry_no_person_or_what_they_recorded(app, anon, as_alice, caplog):
    caplog.set_level(logging.DEBUG)
    assert as_alice.post("/sessions", session(notes="a very private note")).status_code == 201
    anon.post("/auth/login", {"email": "alice@example.com", "password": "guess-guess-guess"})
    text = "\n".join(JsonFormatter().format(r) for r in request_lines(caplog))
    assert "/api/v1/auth/login" in text
    for private in ("alice@example.com", "guess-guess", "a very private note", "pain"):
        assert private not in text


def test_json_log_lines_are_one_object_each():
    record = logging.LogRecord("pnapp.request", logging.INFO, __file__, 1, "x", None, None)
    fields = {"request_id": "r1234567", "method": "GET", "route": "/", "status": 200}
    for key, val in {**fields, "duration_ms": 1.5}.items():
        setattr(record, key, val)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "request" and parsed["level"] == "INFO"
    assert {k: parsed[k] for k in fields} == fields
    assert parsed["time"].endswith("Z")
