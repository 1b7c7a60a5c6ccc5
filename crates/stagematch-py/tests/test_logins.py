"""Logins, sessions and the outbox from Python: the rules of API.md and QUALITY.md."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from conftest import Season, at, student

import stagematch as sm

PASSWORD = "een lang genoeg paswoord"


def service_login(season: Season, email: str = "els@familiezorg.be") -> str:
    token = season.store.create_login(email, role="service", service=season.antwerp)
    season.store.activate(token, PASSWORD)
    return email


def test_invitation_activation_and_sign_in(season: Season) -> None:
    store = season.store
    store.set_clock(at(6, 1))
    token = store.create_login("Els@FamilieZorg.be", role="service", service=season.antwerp)
    [message] = store.take_outbox()
    assert isinstance(message, sm.Message)
    assert (message.kind, message.to) == ("invitation", "els@familiezorg.be")
    assert token in message.body and "Familiezorg Antwerpen" in message.body
    assert store.take_outbox() == []

    with pytest.raises(sm.ValidationError) as info:
        store.activate(token, "kort")
    assert info.value.field == "password"
    login = store.activate(token, PASSWORD)
    assert login["active"] and login["role"] == "service" and login["service"] == season.antwerp
    with pytest.raises(sm.AuthError):
        store.activate(token, PASSWORD)

    session = store.sign_in("els@familiezorg.be", PASSWORD)
    assert isinstance(session, sm.Session)
    assert (session.role, session.service, session.school) == ("service", season.antwerp, None)
    assert len(session.token) == 64
    assert [entry["email"] for entry in store.logins()] == ["els@familiezorg.be"]


def test_roles_are_checked(season: Season) -> None:
    store = season.store
    store.set_clock(at(9, 22))
    with pytest.raises(sm.ValidationError) as info:
        store.create_login("x@y.be", role="service")
    assert info.value.field == "role"
    with pytest.raises(sm.ValidationError):
        store.create_login("x@y.be", role="janitor")

    email = service_login(season)
    school_token = store.create_login("sec@school.be", role="school", school=season.school)
    store.activate(school_token, PASSWORD)
    vivo_token = store.create_login("vivo@vivo.be", role="coordinator")
    store.activate(vivo_token, PASSWORD)

    school = store.sign_in("sec@school.be", PASSWORD)
    sid = school.register_student(**student("secondary", "Peeters", "2000"))
    assert [s["id"] for s in school.own_students()] == [sid]
    number = school.own_students()[0]["national_number"]
    assert number.startswith("850730") and len(number) == 11
    with pytest.raises(sm.AuthError) as denied:
        school.students()
    assert "only a service" in denied.value.reason

    service = store.sign_in(email, PASSWORD)
    page = service.students()
    assert [card.id for card in page.rows] == [sid]
    assert page.rows[0].national_number is None
    service.decide(sid, "accepted", contact=season.antwerp_contact)
    assert service.status(sid) == "accepted"
    assert service.student(sid).national_number == number
    assert [c["name"] for c in service.contacts()] == ["Els"]
    with pytest.raises(sm.AuthError):
        service.register_student(**student("secondary", "X", "2000"))
    with pytest.raises(sm.AuthError):
        _ = service.store
    with pytest.raises(sm.ValidationError) as future:
        service.students(at=at(10, 1))
    assert future.value.field == "at"

    vivo = store.sign_in("vivo@vivo.be", PASSWORD)
    assert vivo.store is store
    vivo.create_login("tweede@familiezorg.be", role="service", service=season.antwerp)
    assert len(store.logins()) == 4


def test_one_session_per_login_and_idle_and_reset_end_sessions(season: Season) -> None:
    store = season.store
    store.set_clock(at(9, 22))
    email = service_login(season)
    first = store.sign_in(email, PASSWORD)
    second = store.sign_in(email, PASSWORD)
    with pytest.raises(sm.AuthError):
        first.students()
    assert store.session(second.token).email == email

    store.set_clock(at(9, 22, 10, 31))
    with pytest.raises(sm.AuthError):
        second.students()

    third = store.sign_in(email, PASSWORD)
    store.take_outbox()
    store.request_password_reset(email)
    store.request_password_reset("niemand@nergens.be")
    [reset] = store.take_outbox()
    assert reset.kind == "password_reset"
    token = next(word for word in reset.body.split() if len(word) == 64)
    store.reset_password(token, "een nieuw paswoord")
    with pytest.raises(sm.AuthError):
        third.students()
    with pytest.raises(sm.AuthError) as wrong:
        store.sign_in(email, PASSWORD)
    with pytest.raises(sm.AuthError) as unknown:
        store.sign_in("niemand@nergens.be", PASSWORD)
    assert str(wrong.value) == str(unknown.value)
    store.sign_in(email, "een nieuw paswoord").sign_out()


def test_failed_sign_ins_are_slowed_down(season: Season) -> None:
    store = season.store
    store.set_clock(at(9, 22))
    email = service_login(season)
    for _ in range(5):
        with pytest.raises(sm.AuthError):
            store.sign_in(email, "fout fout fout")
    with pytest.raises(sm.AuthError) as waiting:
        store.sign_in(email, PASSWORD)
    assert "try again" in str(waiting.value)
    store.set_clock(at(9, 22) + timedelta(seconds=2))
    store.sign_in(email, PASSWORD)


def test_racing_activations_and_sign_ins(season: Season) -> None:
    store = season.store
    token = store.create_login("a@dienst.be", role="service", service=season.antwerp)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def activate(k: int) -> None:
        barrier.wait()
        try:
            results.append(store.activate(token, f"paswoord nummer {k}"))
        except sm.AuthError as e:
            results.append(e)

    threads = [threading.Thread(target=activate, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, sm.AuthError) for r in results) == 3


def test_mailings_and_reminders_reach_the_outbox(season: Season) -> None:
    store = season.store
    store.set_clock(at(9, 22))
    service_login(season)
    store.take_outbox()
    store.register_student(season.school, **student("secondary", "Een", "2000"), at=at(6, 2))
    assert store.queue_mailings(at=at(9, 19, 18)) == 2
    assert {m.kind for m in store.take_outbox()} == {"round_start", "round_close"}
    assert store.queue_mailings(at=at(9, 19, 19)) == 0
    assert store.queue_reminders(at=at(9, 22)) == 1
    [reminder] = store.take_outbox()
    assert reminder.kind == "reminder" and "1 aanvraag" in reminder.subject


def test_the_outbox_and_sessions_survive_a_reopen(tmp_path) -> None:
    path = tmp_path / "logins.redb"
    store = sm.Store.open(path)
    svc = store.add_service(name="Familiezorg", province="VAN")
    token = store.create_login("els@fz.be", role="service", service=svc)
    store.activate(token, PASSWORD)
    session_token = store.sign_in("els@fz.be", PASSWORD).token
    del store

    again = sm.Store.open(path)
    assert again.session(session_token).service == svc
    assert [m.kind for m in again.take_outbox()] == ["invitation"]
    assert again.take_outbox() == []
    assert PASSWORD.encode() not in path.read_bytes()


def test_a_key_seals_national_numbers_and_is_needed_to_open(tmp_path) -> None:
    path = tmp_path / "sealed.redb"
    key = sm.generate_key()
    assert len(key) == 64
    store = sm.Store.open(path, key=key)
    assert store.seals_personal_data()
    school = store.add_school(name="School")
    fields = student("secondary", "Peeters", "2000")
    sid = store.register_student(school, **fields, at=at(6, 2))
    again = dict(fields, last_name="Dubbel")
    with pytest.raises(sm.ValidationError) as twice:
        store.register_student(school, **again, at=at(6, 2))
    assert twice.value.field == "national_number"
    del store

    assert fields["national_number"].encode() not in path.read_bytes()
    with pytest.raises(sm.StoreError):
        sm.Store.open(path)
    with pytest.raises(sm.StoreError):
        sm.Store.open(path, key=sm.generate_key())
    with pytest.raises(sm.ValidationError) as bad:
        sm.Store.open(path, key="abc")
    assert bad.value.field == "key"
    reopened = sm.Store.open(path, key=key)
    assert reopened.student_count() == 1
    assert sid
