"""Weekly reminders and after-rating nudges, sent through a real local push service."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import Delivery, MassageSession, PushSubscription, User
from pnapp.reminders import send_due_reminders
from pnapp.reminders.channels import push
from pnapp.timeutil import next_weekly
from tests.conftest import Api, make_user
from tests.helpers import iso, session_body


def remind_at(app, api: Api, weekday: int, time: str, **extra) -> None:
    assert (
        api.patch(
            "/me", {"reminder": {"enabled": True, "weekday": weekday, "time": time}, **extra}
        ).status_code
        == 200
    )


def subscribe(api: Api, service, name: str):
    sub = service.subscriber(name)
    response = api.post("/push/subscriptions", sub.subscription())
    assert response.status_code == 201, response.get_json()
    return sub


def run(app, now: datetime):
    with app.app_context():
        return send_due_reminders(now)


def delivery_states(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (d.kind, d.period, d.state) for d in db.session.query(Delivery).order_by(Delivery.id)
        ]


def due_instant(app, user_id: int) -> datetime:
    with app.app_context():
        return db.session.get(User, user_id).next_reminder_at


def test_a_due_patient_gets_one_encrypted_generic_reminder(app, as_alice, alice, push_service):
    remind_at(app, as_alice, weekday=2, time="09:00")
    subscribe(as_alice, push_service, "alice-phone")
    due = due_instant(app, alice.id)
    assert due.astimezone(datetime.now().astimezone().tzinfo)  # aware
    run(app, due - timedelta(minutes=1))
    assert push_service.messages == []

    report = run(app, due + timedelta(seconds=30))
    assert report.sent == 1
    [message] = push_service.to("alice-phone")
    note = message.payload["notification"]
    week = "W".join(delivery_states(app)[0][1].split("-W"))
    assert message.payload["web_push"] == 8030
    assert note["title"] == "pnapp"
    assert note["body"] == "Time for your weekly massage check-in"
    assert note["navigate"].endswith("/sessions/new")
    assert note["tag"] == f"weekly-{week}"
    # Nothing about health on a lock screen.
    assert not any(w in str(message.payload).lower() for w in ("pain", "neuropathy", "stress"))
    assert message.headers["ttl"] == str(12 * 3600)
    assert message.headers["urgency"] == "normal"
    assert message.headers["topic"] == note["tag"] and len(note["tag"]) <= 32
    assert message.signature_ok
    assert message.jwt_header["alg"] == "ES256"
    assert message.claims["aud"] == push_service.base
    assert message.claims["sub"] == "mailto:care@pnapp.example"
    assert 0 < message.claims["exp"] - datetime.now(UTC).timestamp() <= 24 * 3600
    assert message.vapid_key == as_alice.get("/push/key").get_json()["public_key"]

    run(app, due + timedelta(minutes=5))
    run(app, due + timedelta(hours=2))
    assert len(push_service.messages) == 1
    assert delivery_states(app)[0][2] == "sent"


def test_the_reminder_goes_to_each_of_the_patients_devices(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 0, "10:00")
    for device in ("phone", "tablet"):
        subscribe(as_alice, push_service, device)
    run(app, due_instant(app, alice.id) + timedelta(minutes=1))
    assert {m.name for m in push_service.messages} == {"phone", "tablet"}


def test_no_reminder_once_the_weeks_goal_is_met(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 6, "18:00")  # Sunday evening
    subscribe(as_alice, push_service, "phone")
    due = due_instant(app, alice.id)
    with app.app_context():
        user = db.session.get(User, alice.id)
        db.session.add(
            MassageSession(
                patient_id=user.id,
                client_id="met",
                request_hash="x",
                started_at=due - timedelta(days=2),
                before_pain=5,
                before_stress=5,
                before_recorded_at=due - timedelta(days=2),
                areas=[],
                adjuncts=[],
                entered_by=user.id,
            )
        )
        db.session.commit()
    run(app, due + timedelta(minutes=1))
    assert push_service.messages == []
    # The next week is planned all the same.
    assert due_instant(app, alice.id) == due + timedelta(days=7)


def test_a_goal_of_two_still_reminds_after_one_session(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 6, "18:00", weekly_goal=2)
    subscribe(as_alice, push_service, "phone")
    due = due_instant(app, alice.id)
    as_alice.post("/sessions", session_body(started_at=iso(due - timedelta(days=6, hours=1))))
    run(app, due + timedelta(minutes=1))
    assert len(push_service.messages) == 1


def test_a_reminder_found_hours_late_is_skipped_not_sent_at_an_odd_hour(
    app, as_alice, alice, push_service
):
    remind_at(app, as_alice, 1, "09:00")
    subscribe(as_alice, push_service, "phone")
    due = due_instant(app, alice.id)
    run(app, due + timedelta(hours=7))
    assert push_service.messages == []
    assert due_instant(app, alice.id) > due + timedelta(hours=7)


def test_no_device_means_no_delivery_row(app, as_alice, alice):
    remind_at(app, as_alice, 1, "09:00")
    run(app, due_instant(app, alice.id) + timedelta(minutes=1))
    assert delivery_states(app) == []


def test_reminders_switched_off_are_not_sent(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 1, "09:00")
    due = due_instant(app, alice.id)
    subscribe(as_alice, push_service, "phone")
    as_alice.patch("/me", {"reminder": {"enabled": False}})
    assert due_instant(app, alice.id) is None
    run(app, due + timedelta(minutes=1))
    assert push_service.messages == []


@pytest.mark.parametrize(
    ("status", "subscription_kept", "state"),
    [
        (404, False, "gone"),
        (410, False, "gone"),
        (400, True, "failed"),
        (403, True, "failed"),
        (413, True, "failed"),
    ],
)
def test_final_answers_from_the_push_service(
    app, as_alice, alice, push_service, status, subscription_kept, state, caplog
):
    remind_at(app, as_alice, 3, "08:30")
    subscribe(as_alice, push_service, "phone")
    push_service.answers["phone"] = [(status, {})]
    due = due_instant(app, alice.id)
    with caplog.at_level(logging.ERROR, logger="pnapp.push"):
        run(app, due + timedelta(minutes=1))
    assert delivery_states(app)[0][2] == state
    with app.app_context():
        assert (db.session.query(PushSubscription).count() == 1) is subscription_kept
    if status in (400, 403):
        assert "refused our request" in caplog.text
    run(app, due + timedelta(hours=1))
    assert len(push_service.messages) == 1  # never retried


def test_429_waits_as_long_as_the_push_service_asks(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 3, "08:30")
    subscribe(as_alice, push_service, "phone")
    push_service.answers["phone"] = [(429, {"Retry-After": "600"})]
    due = due_instant(app, alice.id)
    run(app, due + timedelta(minutes=1))
    assert delivery_states(app)[0][2] == "pending"
    run(app, due + timedelta(minutes=10))  # 9 minutes after the 429: too early
    assert len(push_service.messages) == 1
    run(app, due + timedelta(minutes=12))
    assert len(push_service.messages) == 2
    assert delivery_states(app)[0][2] == "sent"
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 1


def test_server_errors_retry_with_backoff_until_the_message_would_expire(
    app, as_alice, alice, push_service
):
    remind_at(app, as_alice, 3, "08:30")
    subscribe(as_alice, push_service, "phone")
    push_service.answers["phone"] = [(500, {})] * 100
    due = due_instant(app, alice.id)
    gaps, now, last_count, last_try = [], due + timedelta(minutes=1), 0, None
    while now < due + timedelta(hours=20):
        run(app, now)
        if len(push_service.messages) > last_count:
            if last_try:
                gaps.append(now - last_try)
            last_count, last_try = len(push_service.messages), now
        now += timedelta(minutes=5)
    # Backing off: soon at first, then no more than about once an hour (with jitter).
    assert gaps[0] <= timedelta(minutes=5) and min(gaps[-2:]) >= timedelta(minutes=30)
    assert last_try <= due + timedelta(hours=12)  # nothing after the message would expire
    assert delivery_states(app)[0][2] == "failed"  # gave up once the 12 h TTL was over
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 1


def test_a_timeout_is_retried(app, as_alice, alice, push_service, monkeypatch):
    monkeypatch.setattr(push, "TIMEOUT_S", 0.3)
    remind_at(app, as_alice, 3, "08:30")
    subscribe(as_alice, push_service, "phone")
    push_service.delay = 1.0
    due = due_instant(app, alice.id)
    run(app, due + timedelta(minutes=1))
    assert delivery_states(app)[0][2] == "pending"
    push_service.delay = 0
    run(app, due + timedelta(hours=2))
    assert delivery_states(app)[0][2] == "sent"


def nudges(service) -> list:
    return [m for m in service.messages if m.payload["notification"]["tag"].startswith("after-")]


def test_the_after_rating_nudge_is_sent_once(app, as_alice, alice, push_service):
    as_alice.patch("/me", {"reminder": {"enabled": True}})
    subscribe(as_alice, push_service, "phone")
    started = datetime.now(UTC) - timedelta(minutes=30)
    s = as_alice.post("/sessions", session_body(started_at=iso(started))).get_json()
    done = as_alice.post(
        "/sessions",
        session_body(
            started_at=iso(started - timedelta(minutes=5)), after={"pain": 1, "stress": 1}
        ),
    )
    assert done.status_code == 201
    run(app, started + timedelta(hours=2, minutes=59))
    assert nudges(push_service) == []
    run(app, started + timedelta(hours=3, minutes=1))
    run(app, started + timedelta(hours=3, minutes=2))
    run(app, started + timedelta(hours=5))
    [message] = nudges(push_service)
    assert message.payload["notification"]["navigate"].endswith(f"/sessions/{s['id']}#after")
    assert message.payload["notification"]["tag"] == f"after-{s['id']}"
    assert message.headers["topic"] == f"after-{s['id']}"


def test_the_test_notification_reaches_each_device(app, as_alice, push_service):
    subscribe(as_alice, push_service, "phone")
    gone = subscribe(as_alice, push_service, "old-phone")
    push_service.answers[gone.name] = [(410, {})]
    response = as_alice.post("/push/test")
    assert response.status_code == 202
    assert response.get_json() == {"sent": 1, "failed": 1}
    assert push_service.to("phone")[0].payload["notification"]["body"] == (
        "This is a test reminder from pnapp."
    )
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 1


# Subscriptions


def test_subscribing_twice_keeps_one_subscription(app, as_alice, push_service):
    sub = push_service.subscriber("tablet")
    assert as_alice.post("/push/subscriptions", sub.subscription()).status_code == 201
    assert as_alice.post("/push/subscriptions", sub.subscription()).status_code == 200
    with app.app_context():
        [stored] = db.session.query(PushSubscription).all()
        assert db.session.get(User, stored.user_id).email == "alice@example.com"


def test_unsubscribing(app, as_alice, push_service):
    sub = subscribe(as_alice, push_service, "phone")
    assert as_alice.delete("/push/subscriptions", {"endpoint": sub.endpoint}).status_code == 204
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://fcm.googleapis.com:8443/fcm/send/x",  # not 443
        "https://user:pw@fcm.googleapis.com/fcm/send/x",  # credentials
        "https://evil.example/push",  # not a push service
        "https://fcm.googleapis.com.evil.example/x",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://localhost:5000/api/v1/me",  # loopback not on the list
        "https://push.apple.com/x",  # only subdomains are listed
        "ftp://fcm.googleapis.com/x",
        "not a url",
    ],
)
def test_endpoints_outside_the_push_services_are_refused(as_alice, app, endpoint):
    sub = {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    response = as_alice.post("/push/subscriptions", sub)
    assert response.status_code == 422
    assert "endpoint" in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.query(PushSubscription).count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://web.push.apple.com/QGx",
        "https://updates.push.services.mozilla.com/wpush/v2/x",
        "https://db5p.notify.windows.com/w/",
    ],
)
def test_real_push_services_are_accepted(as_alice, endpoint):
    sub = {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    assert as_alice.post("/push/subscriptions", sub).status_code == 201


def test_the_public_key_is_an_uncompressed_p256_point(anon):
    key = anon.get("/push/key").get_json()["public_key"]
    from tests.pushservice import unb64url

    raw = unb64url(key)
    assert len(raw) == 65 and raw[0] == 4


# Time zones: 09:00 local stays 09:00 local.


@pytest.mark.parametrize(
    ("tz", "start", "expected_utc"),
    [
        # New York springs forward on Sunday 8 March 2026: 09:00 EST, then 09:00 EDT.
        (
            "America/New_York",
            datetime(2026, 3, 1, 15, tzinfo=UTC),
            ["2026-03-01T14:00", "2026-03-08T13:00", "2026-03-15T13:00"],
        ),
        # ... and falls back on Sunday 1 November 2026.
        (
            "America/New_York",
            datetime(2026, 10, 25, 15, tzinfo=UTC),
            ["2026-10-25T13:00", "2026-11-01T14:00", "2026-11-08T14:00"],
        ),
        # Berlin: 29 March and 25 October 2026.
        (
            "Europe/Berlin",
            datetime(2026, 3, 22, 9, tzinfo=UTC),
            ["2026-03-22T08:00", "2026-03-29T07:00", "2026-04-05T07:00"],
        ),
        (
            "Europe/Berlin",
            datetime(2026, 10, 18, 9, tzinfo=UTC),
            ["2026-10-18T07:00", "2026-10-25T08:00", "2026-11-01T08:00"],
        ),
        # Kolkata has no daylight-saving time, and a half-hour offset.
        (
            "Asia/Kolkata",
            datetime(2026, 3, 1, 4, tzinfo=UTC),
            ["2026-03-01T03:30", "2026-03-08T03:30", "2026-03-15T03:30"],
        ),
    ],
)
def test_sunday_9am_reminders_across_daylight_saving(tz, start, expected_utc):
    now, seen = start - timedelta(days=1), []
    for _ in expected_utc:
        now = next_weekly(now, tz, 6, "09:00")
        seen.append(now.strftime("%Y-%m-%dT%H:%M"))
    assert seen == expected_utc


def test_a_time_that_does_not_exist_runs_an_hour_later_and_a_doubled_one_runs_once():
    # 02:30 on 8 March 2026 does not exist in New York: 03:30 EDT (07:30 UTC).
    spring = next_weekly(datetime(2026, 3, 7, tzinfo=UTC), "America/New_York", 6, "02:30")
    assert spring == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # 01:30 on 1 November 2026 happens twice: the first one (EDT, 05:30 UTC).
    fall = next_weekly(datetime(2026, 10, 31, tzinfo=UTC), "America/New_York", 6, "01:30")
    assert fall == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    after = next_weekly(fall, "America/New_York", 6, "01:30")
    assert after == datetime(2026, 11, 8, 6, 30, tzinfo=UTC)


def test_reminders_in_iso_week_53(app, push_service):
    kiri = make_user(app, "kiri@example.com", timezone="Pacific/Auckland")
    api = Api(app.test_client()).login(kiri.email)
    subscribe(api, push_service, "kiri")
    with app.app_context():
        user = db.session.get(User, kiri.id)
        user.reminder = {"enabled": True, "weekday": 3, "time": "09:00"}
        user.schedule_reminder(datetime(2026, 12, 28, tzinfo=UTC))
        db.session.commit()
        due = user.next_reminder_at
    assert due == datetime(2026, 12, 30, 20, tzinfo=UTC)  # Thu 31 Dec 09:00 NZDT
    run(app, due + timedelta(minutes=1))
    assert delivery_states(app) == [("weekly", "2026-W53", "sent")]
    assert push_service.messages[0].payload["notification"]["tag"] == "weekly-2026W53"


def test_changing_zone_between_weeks_keeps_the_local_hour_and_sends_no_night_ping(
    app, as_alice, alice, push_service
):
    remind_at(app, as_alice, 0, "09:00")  # Monday 09:00 in Toronto
    subscribe(as_alice, push_service, "phone")
    first = due_instant(app, alice.id)
    run(app, first + timedelta(minutes=1))
    # She flies to Berlin on Tuesday and changes her zone.
    with app.app_context():
        user = db.session.get(User, alice.id)
        user.update({"timezone": "Europe/Berlin"}, now=first + timedelta(days=1))
    second = due_instant(app, alice.id)
    assert second - first == timedelta(days=7, hours=-6)  # 09:00 Berlin, not 03:00
    run(app, second - timedelta(hours=1))
    assert len(push_service.messages) == 1
    run(app, second + timedelta(minutes=1))
    assert len(push_service.messages) == 2
    assert [s for _, _, s in delivery_states(app)] == ["sent", "sent"]


def test_a_redirect_from_the_push_service_is_never_followed(app, as_alice, alice, push_service):
    remind_at(app, as_alice, 3, "08:30")
    subscribe(as_alice, push_service, "phone")
    elsewhere = push_service.subscriber("elsewhere")
    push_service.answers["phone"] = [(307, {"Location": elsewhere.endpoint})]
    run(app, due_instant(app, alice.id) + timedelta(minutes=1))
    assert [m.name for m in push_service.messages] == ["phone"]  # nothing sent onwards
    assert delivery_states(app)[0][2] == "failed"
