"""Push and reminders under abuse and bad timing: slow push services, hostile endpoints,
accounts and shares that end mid-send, and endpoints posted by someone else."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pnapp.extensions import db
from pnapp.models import MAX_DEVICES, CareShare, Delivery, PushSubscription, User
from pnapp.reminders import IN_FLIGHT, SEND_BATCH, send_due_reminders
from tests.conftest import PUSH_HOSTS, Api, add_due_patients, share_with
from tests.helpers import iso, session_body
from tests.test_reminders import delivery_states, due_instant, remind_at, run, subscribe

KEYS = {"p256dh": "B" * 87, "auth": "A" * 22}
# Monday 16 November 2026, 09:00 in Toronto.
MONDAY_9AM = datetime(2026, 11, 16, 14, tzinfo=UTC)


def stored_endpoints(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(PushSubscription.endpoint)))


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def timed_session_entry(api: Api) -> float:
    started = time.monotonic()
    response = api.post("/sessions", session_body())
    assert response.status_code == 201, response.get_json()
    return time.monotonic() - started


# A slow push service holds no database lock.


def test_a_slow_push_test_does_not_hold_up_another_patients_entry(
    app, as_alice, as_charlie, push_service
):
    subscribe(as_alice, push_service, "phone")
    push_service.delay = 3.0
    answer = {}
    sender = threading.Thread(target=lambda: answer.update(r=as_alice.post("/push/test")))
    sender.start()
    wait_for(lambda: push_service.to("phone"))
    assert timed_session_entry(as_charlie) < 1.5
    sender.join()
    assert answer["r"].status_code == 202
    assert answer["r"].get_json() == {"sent": 1, "failed": 0}


def test_a_slow_push_service_does_not_hold_up_entries_while_reminders_go_out(
    app, as_charlie, push_service
):
    # Enough patients to fill every batch the scheduler keeps on the wire, the first of
    # them with a phone whose push service is slow to answer.
    first, *others = add_due_patients(app, push_service, SEND_BATCH * IN_FLIGHT + 1, MONDAY_9AM)
    with app.app_context():
        db.session.get(User, first).next_reminder_at = MONDAY_9AM - timedelta(minutes=1)
        db.session.commit()
    push_service.delays[f"u{first}"] = 3.0
    sender = threading.Thread(target=run, args=(app, MONDAY_9AM + timedelta(minutes=1)))
    sender.start()
    # Every batch on the wire has arrived; the sender now waits on the first one.
    wait_for(lambda: len(push_service.messages) == SEND_BATCH * IN_FLIGHT)
    assert timed_session_entry(as_charlie) < 1.5
    sender.join()
    assert len({m.name for m in push_service.messages}) == len(others) + 1


def test_an_eleventh_device_retires_the_oldest(app, as_alice, alice, push_service):
    phones = [subscribe(as_alice, push_service, f"phone{i}") for i in range(MAX_DEVICES + 1)]
    assert sorted(stored_endpoints(app)) == sorted(p.endpoint for p in phones[1:])
    response = as_alice.post("/push/test")
    assert response.get_json() == {"sent": MAX_DEVICES, "failed": 0}
    assert push_service.to("phone0") == []


# Endpoints: only the push services, as checked.


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1\\.push.apple.com/x",  # urllib3 would connect to 127.0.0.1
        "https://evil@fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com@127.0.0.1/x",
        "https://fcm.googleapis.com.evil.com/x",
        "https://[::1]/x",
        "https://0x7f000001/x",
        "https://2130706433/x",
        "https://127.1/x",
        "http://fcm.googleapis.com/x",
        "https://fcm.googleapis.com/x#fragment",
        "https://fcm.googleapis.com/x\\y",
        "https://fcm.googleapis.com/x y",
        "https://fcm.gооgleapis.com/x",  # Cyrillic o's
        "https://web.push.äpple.com/x",
        "https://xn--web-push.apple.com./x",
    ],
)
def test_hostile_endpoints_are_refused_and_nothing_is_stored(as_alice, app, endpoint):
    response = as_alice.post("/push/subscriptions", {"endpoint": endpoint, "keys": KEYS})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["endpoint"]
    assert stored_endpoints(app) == []


@pytest.mark.parametrize(
    "template",
    [
        "{base}\\.push.apple.com/push/{name}",
        "http://fcm.googleapis.com@{host}/push/{name}",
        "http://localhost:{port}/push/{name}",
        "http://127.1:{port}/push/{name}",
        "http://0x7f000001:{port}/push/{name}",
    ],
)
def test_a_refused_endpoint_is_never_connected_to(as_alice, app, push_service, template):
    base = push_service.base
    port = base.rsplit(":", 1)[1]
    endpoint = template.format(base=base, host=base.split("//")[1], port=port, name="x")
    response = as_alice.post("/push/subscriptions", {"endpoint": endpoint, "keys": KEYS})
    assert response.status_code == 422
    assert as_alice.post("/push/test").get_json() == {"sent": 0, "failed": 0}
    assert push_service.messages == []


def test_a_listed_name_that_resolves_to_a_private_address_is_refused(as_alice, app, monkeypatch):
    # Only an IP literal listed as such may be private (the tests' 127.0.0.1); a listed
    # name must resolve to public addresses, whatever it resolves to.
    monkeypatch.setitem(app.config, "PUSH_ALLOWED_HOSTS", PUSH_HOSTS + ",localhost")
    response = as_alice.post(
        "/push/subscriptions", {"endpoint": "https://localhost/x", "keys": KEYS}
    )
    assert response.status_code == 422
    assert stored_endpoints(app) == []


def test_a_stored_endpoint_whose_name_now_resolves_privately_is_not_reached(
    app, as_alice, alice, push_service
):
    # As if stored before these checks, or its DNS answer changed since.
    port = push_service.base.rsplit(":", 1)[1]
    sub = push_service.subscriber("rebound")
    with app.app_context():
        db.session.add(
            PushSubscription(
                user_id=alice.id,
                endpoint=f"http://localhost:{port}/push/rebound",
                p256dh=sub.subscription()["keys"]["p256dh"],
                auth=sub.subscription()["keys"]["auth"],
            )
        )
        db.session.commit()
    assert as_alice.post("/push/test").get_json() == {"sent": 0, "failed": 1}
    assert push_service.messages == []


def test_the_endpoint_is_stored_as_checked(app, as_alice):
    response = as_alice.post(
        "/push/subscriptions", {"endpoint": "HTTPS://FCM.GoogleApis.com/fcm/send/AbC", "keys": KEYS}
    )
    assert response.status_code == 201
    assert response.get_json()["endpoint"] == "https://fcm.googleapis.com/fcm/send/AbC"
    assert stored_endpoints(app) == ["https://fcm.googleapis.com/fcm/send/AbC"]


# Recording a batch survives an account deleted while it was on the wire.


def test_an_account_deleted_mid_batch_costs_no_one_else_a_reminder_or_a_repeat(app, push_service):
    ids = add_due_patients(app, push_service, 6, MONDAY_9AM)
    leaver = ids[2]

    def delete_leaver(name: str) -> None:
        if name == f"u{leaver}":
            with app.app_context():
                db.session.get(User, leaver).delete_account()

    push_service.on_message = delete_leaver
    now = MONDAY_9AM + timedelta(minutes=1)
    run(app, now)
    push_service.on_message = None
    run(app, now + timedelta(minutes=15))  # after the lease: nothing is sent again
    assert Counter(m.name for m in push_service.messages) == {f"u{i}": 1 for i in ids}
    with app.app_context():
        states = dict(db.session.execute(db.select(Delivery.user_id, Delivery.state)).all())
        assert db.session.get(User, leaver) is None
    assert states == {i: "sent" for i in ids if i != leaver}


# Nobody but its owner changes where a person's reminders go.


def test_posting_someone_elses_endpoint_does_not_take_their_reminders(
    app, as_alice, alice, as_charlie, charlie, push_service
):
    remind_at(app, as_alice, 3, "08:30")
    phone = subscribe(as_alice, push_service, "alice-phone")
    charlies_keys = push_service.subscriber("charlie-browser").subscription()["keys"]
    taken = as_charlie.post(
        "/push/subscriptions", {"endpoint": phone.endpoint, "keys": charlies_keys}
    )
    assert taken.status_code == 200  # as if stored: nothing tells charlie whose it is
    assert as_charlie.post("/push/test").get_json() == {"sent": 0, "failed": 0}
    as_charlie.delete("/push/subscriptions", {"endpoint": phone.endpoint})
    run(app, due_instant(app, alice.id) + timedelta(minutes=1))
    [reminder] = push_service.to("alice-phone")
    # Encrypted to alice's keys (the push service decrypted it with hers), never charlie's.
    assert reminder.payload["notification"]["body"] == "Time for your weekly massage check-in"
    with app.app_context():
        [stored] = db.session.query(PushSubscription).all()
        assert stored.user_id == alice.id and stored.auth == phone.subscription()["keys"]["auth"]


@pytest.mark.parametrize("how", ["share ended", "alerts scope removed"])
def test_an_alert_planned_before_the_share_ended_is_not_sent(
    app, as_alice, as_bob, alice, push_service, how
):
    share = share_with(as_alice, as_bob, ["progress", "alerts"])
    subscribe(as_bob, push_service, "bob-phone")
    with app.app_context():
        db.session.query(CareShare).update({"created_at": datetime(2026, 11, 1, tzinfo=UTC)})
        db.session.commit()
    push_service.answers["bob-phone"] = [(503, {})]  # the first try fails; a retry is planned
    with app.app_context():
        send_due_reminders(MONDAY_9AM + timedelta(minutes=1))
    assert len(push_service.to("bob-phone")) == 1
    if how == "share ended":
        assert as_alice.delete(f"/shares/{share['id']}").status_code == 204
    else:
        assert as_alice.patch(f"/shares/{share['id']}", {"scopes": ["progress"]}).status_code == 200
    with app.app_context():
        send_due_reminders(MONDAY_9AM + timedelta(hours=2))
    assert len(push_service.to("bob-phone")) == 1
    assert [s for _, _, s in delivery_states(app)] == ["failed"]


def test_no_after_rating_nudge_with_reminders_off(app, as_alice, alice, push_service):
    subscribe(as_alice, push_service, "phone")
    started = datetime.now(UTC) - timedelta(minutes=30)
    assert as_alice.post("/sessions", session_body(started_at=iso(started))).status_code == 201
    for hours in (3.1, 4, 6):
        run(app, started + timedelta(hours=hours))
    assert push_service.messages == []
    assert delivery_states(app) == []


def test_a_nudge_planned_before_reminders_were_turned_off_is_not_sent(
    app, as_alice, alice, push_service
):
    as_alice.patch("/me", {"reminder": {"enabled": True, "weekday": 0, "time": "09:00"}})
    subscribe(as_alice, push_service, "phone")
    started = datetime.now(UTC) - timedelta(minutes=30)
    s = as_alice.post("/sessions", session_body(started_at=iso(started))).get_json()
    push_service.answers["phone"] = [(503, {})]
    run(app, started + timedelta(hours=3, minutes=1))
    tagged = [
        m for m in push_service.messages if m.payload["notification"]["tag"] == f"after-{s['id']}"
    ]
    assert len(tagged) == 1
    as_alice.patch("/me", {"reminder": {"enabled": False}})
    run(app, started + timedelta(hours=5))
    tagged = [
        m for m in push_service.messages if m.payload["notification"]["tag"] == f"after-{s['id']}"
    ]
    assert len(tagged) == 1
