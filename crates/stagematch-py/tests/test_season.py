"""The manual's season through the Python API, the exception classes, and moments."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from conftest import Season, at, make_season, student

import stagematch as sm


def open_ids(s: Season, svc: str, when: datetime) -> list[str]:
    return [c.id for c in s.store.students(svc, at=when, sort="name", limit=1000).rows]


def cast(s: Season) -> dict[str, str]:
    return {
        "own": s.register("secondary", "Aerts", "2000", s.antwerp),
        "far": s.register("secondary", "Bosmans", "3500", s.antwerp),
        "nopref": s.register("secundair", "Claes", "2018"),
        "other": s.register("secondary", "Dierckx", "2100", s.limburg),
    }


def test_the_rounds(season: Season) -> None:
    c = cast(season)
    assert open_ids(season, season.antwerp, at(6, 30, 11, 59)) == []
    assert season.store.phase(at=at(6, 30, 11, 59)) == "closed"
    assert open_ids(season, season.antwerp, at(6, 30, 12, 0)) == [c["own"]]
    assert open_ids(season, season.limburg, at(7, 15)) == []
    assert open_ids(season, season.antwerp, at(9, 5, 12)) == [c["own"], c["far"]]
    assert open_ids(season, season.limburg, at(9, 5, 12)) == [c["other"]]
    everyone = [c["own"], c["far"], c["nopref"], c["other"]]
    assert open_ids(season, season.limburg, at(9, 19, 12)) == everyone
    assert season.store.phase(at=at(10, 1)) == "open"


def test_blackout_registrations_wait_for_the_release(season: Season) -> None:
    late = season.register("secondary", "Laat", "2000", season.antwerp, when=at(7, 10))
    assert open_ids(season, season.antwerp, at(9, 19, 11, 59)) == []
    assert open_ids(season, season.antwerp, at(9, 19, 12, 0)) == [late]


def test_a_second_accept_fails(season: Season) -> None:
    c = cast(season)
    t = at(9, 22)
    season.store.decide(
        season.antwerp, c["nopref"], "accepted", contact=season.antwerp_contact, at=t
    )
    with pytest.raises(sm.AlreadyPlaced) as info:
        season.store.decide(
            season.limburg, c["nopref"], "aanvaard", contact=season.limburg_contact, at=t
        )
    assert info.value.service == season.antwerp
    accepted = season.store.students(season.antwerp, tab="accepted", at=t)
    assert [r.id for r in accepted.rows] == [c["nopref"]]
    assert accepted.rows[0].contact == season.antwerp_contact
    assert accepted.rows[0].accepted_periods == accepted.rows[0].periods
    with pytest.raises(sm.NotVisible):
        season.store.student(season.limburg, c["nopref"], at=t)


def test_accept_with_some_periods_and_notes(season: Season) -> None:
    c = cast(season)
    october = (date(2025, 10, 6), date(2025, 10, 31))
    season.store.decide(
        season.antwerp,
        c["own"],
        "accepted",
        contact=season.antwerp_contact,
        periods=[october],
        notes="welkom",
        at=at(9, 22),
    )
    card = season.store.student(season.antwerp, c["own"], at=at(9, 23))
    assert card.accepted_periods == [october]
    assert card.notes == "welkom"
    with pytest.raises(sm.ValidationError) as info:
        season.store.decide(
            season.antwerp,
            c["far"],
            "accepted",
            contact=season.antwerp_contact,
            periods=[(date(2025, 11, 3), date(2025, 11, 7))],
            at=at(9, 22),
        )
    assert info.value.field == "periods"


def test_dual_needs_an_invitation_and_personal_data_follows_it(season: Season) -> None:
    dual = season.register("duaal", "Duaal", "3600", when=at(6, 1))
    t = at(6, 20)
    with pytest.raises(sm.InvalidTransition):
        season.store.decide(season.antwerp, dual, "accepted", contact=season.antwerp_contact, at=t)
    before = season.store.student(season.antwerp, dual, at=t)
    assert (before.national_number, before.email, before.phone) == (None, None, None)
    assert before.supervisor_email is None and before.supervisor_name == "Mevr. Claes"

    season.store.decide(season.antwerp, dual, "uitgenodigd", at=t)
    card = season.store.student(season.antwerp, dual, at=t)
    assert card.national_number is not None and card.national_number.startswith("850730")
    assert card.email == "noor@leerling.be"
    assert card.supervisor_phone == "03 123 45 67"
    assert season.store.student(season.limburg, dual, at=t).phone is None
    season.store.decide(season.antwerp, dual, "accepted", contact=season.antwerp_contact, at=t)
    assert season.store.status(season.antwerp, dual) == "accepted"


def test_card_attributes_and_repr(season: Season) -> None:
    c = cast(season)
    card = season.store.student(season.limburg, c["nopref"], at=at(9, 22))
    assert card.id == c["nopref"]
    assert (card.postcode, card.province, card.track, card.status) == (
        "2018",
        "VAN",
        "secondary",
        "undecided",
    )
    assert card.transport == ["bike", "public_transport"]
    assert card.school == season.school and card.school_name == "Sint-Jozef Zorgschool"
    assert card.registered_at == datetime(2025, 6, 2, 8, 0, tzinfo=timezone.utc)
    assert card.periods[0] == (date(2025, 10, 6), date(2025, 10, 31))
    assert "Claes, Noor" in repr(card) and c["nopref"] in repr(card)
    page = season.store.students(season.limburg, at=at(9, 22), limit=2)
    assert (page.total, len(page.rows), len(page)) == (4, 2, 2)
    assert repr(page) == "Page(total=4, rows=2)"


def test_filters_and_sorts(season: Season) -> None:
    cast(season)
    t = at(9, 22)

    def names(**kw):
        return [r.last_name for r in season.store.students(season.antwerp, at=t, **kw).rows]  # noqa: E731

    assert names(sort="-name") == ["Dierckx", "Claes", "Bosmans", "Aerts"]
    assert names(provinces=["Limburg"]) == ["Bosmans"]
    assert names(postcode="20", sort="name") == ["Aerts", "Claes"]
    assert names(name="CLA") == ["Claes"]
    assert names(school="jozef", track="secondary", transport=["bike"], sort="postcode") == [
        "Aerts",
        "Claes",
        "Dierckx",
        "Bosmans",
    ]


def test_aware_naive_and_text_moments_agree(season: Season) -> None:
    brussels_summer = timezone(timedelta(hours=2))
    for moment in (
        datetime(2025, 9, 19, 12, 0),
        datetime(2025, 9, 19, 10, 0, tzinfo=timezone.utc),
        datetime(2025, 9, 19, 12, 0, tzinfo=brussels_summer),
        "2025-09-19 12:00",
    ):
        assert season.store.phase(at=moment) == "round3"
    assert season.store.phase(at=datetime(2025, 9, 19, 11, 59)) == "round2"
    with pytest.raises(sm.ValidationError) as info:
        season.store.phase(at=date(2025, 9, 19))  # type: ignore[arg-type]
    assert info.value.field == "at"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postcode": "0999"}, "postcode"),
        ({"postcode": "B-1000"}, "postcode"),
        ({"national_number": "85073003329"}, "national_number"),
        ({"periods": [(date(2025, 10, 31), date(2025, 10, 6))]}, "periods"),
        ({"periods": []}, "periods"),
        ({"hours_per_week": 61}, "hours_per_week"),
        ({"first_name": "a\x00b"}, "first_name"),
        ({"email": "nope"}, "email"),
        ({"track": "circus"}, "track"),
        ({"transport": ["hovercraft"]}, "transport"),
        ({"province": "VOV"}, "province"),
    ],
)
def test_bad_input_names_its_field_and_stores_nothing(
    season: Season, change: dict, field: str
) -> None:
    with pytest.raises(sm.ValidationError) as info:
        season.store.register_student(
            season.school, **{**student("secondary", "X", "2000"), **change}
        )
    assert info.value.field == field
    assert isinstance(info.value, sm.StagematchError)
    assert season.store.student_count() == 0


def test_every_exception_class(season: Season) -> None:
    c = cast(season)
    with pytest.raises(sm.NotFound):
        season.store.students("svc-99")
    with pytest.raises(sm.ValidationError) as info:
        season.store.students("sch-1")
    assert info.value.field == "service"
    with pytest.raises(sm.NotVisible):
        season.store.decide(season.limburg, c["own"], "not_accepted", at=at(7, 1))
    with pytest.raises(sm.InvalidTransition):
        season.store.decide(season.antwerp, c["own"], "invited", at=at(7, 1))
    for cls in (sm.ImportFailed, sm.AuthError, sm.StoreError, sm.AlreadyPlaced):
        assert issubclass(cls, sm.StagematchError)


def test_os_errors_are_python_os_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        sm.Store.open(tmp_path / "missing" / "season.redb")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(OSError):
        sm.Store.open(folder)


def test_a_file_store_survives_reopening(tmp_path) -> None:
    path = tmp_path / "season.redb"
    s = make_season(sm.Store.open(path))
    c = cast(s)
    s.store.decide(s.antwerp, c["own"], "accepted", contact=s.antwerp_contact, at=at(9, 22))
    del s
    store = sm.Store.open(str(path))
    assert store.student_count() == 4
    assert store.status("svc-1", c["own"]) == "accepted"
    assert store.calendar() == sm.Calendar.default()
    assert [x["name"] for x in store.services()] == ["Familiezorg Antwerpen", "Thuiszorg Limburg"]


# The 2026-2027 season, as a coordinator would enter it.
SEASON_2026 = dict(
    dual=(datetime(2026, 6, 15), datetime(2026, 12, 1)),
    round1=(datetime(2026, 6, 29, 12), datetime(2026, 8, 14, 12)),
    blackout=(datetime(2026, 6, 29, 12), datetime(2026, 8, 14, 12)),
    release=datetime(2026, 9, 18, 12),
    round2=(datetime(2026, 9, 4, 12), datetime(2026, 9, 18, 12)),
    round3=(datetime(2026, 9, 18, 12), datetime(2026, 9, 29, 12)),
    placement_target=datetime(2026, 10, 6, 12),
)


def test_a_custom_calendar() -> None:
    cal = sm.Calendar(**SEASON_2026)
    store = sm.Store.memory(calendar=cal)
    assert store.phase(at=datetime(2026, 9, 20)) == "round3"
    assert cal.round1[0] == datetime(2026, 6, 29, 10, tzinfo=timezone.utc)
    backwards = (datetime(2026, 9, 18, 12), datetime(2026, 9, 4, 12))
    with pytest.raises(sm.ValidationError) as info:
        sm.Calendar(**{**SEASON_2026, "round2": backwards})
    assert info.value.field == "round2"


def test_zoneinfo_and_pandas_moments(season: Season) -> None:
    from zoneinfo import ZoneInfo

    import pandas as pd

    brussels = ZoneInfo("Europe/Brussels")
    assert season.store.phase(at=datetime(2025, 9, 19, 12, 0, tzinfo=brussels)) == "round3"
    assert season.store.phase(at=datetime(2025, 9, 19, 11, 59, tzinfo=brussels)) == "round2"
    assert season.store.phase(at=pd.Timestamp("2025-09-19 12:00", tz="Europe/Brussels")) == "round3"
    # The hour that the autumn change repeats: fold=1 is the second, winter-time one.
    sid = season.register("secondary", "X", "2000")
    second = datetime(2025, 10, 26, 2, 30, tzinfo=brussels, fold=1)
    season.store.decide(season.antwerp, sid, "not_accepted", at=second)
    card = season.store.student(
        season.antwerp, sid, at=datetime(2025, 10, 26, 1, 31, tzinfo=timezone.utc)
    )
    assert card.status == "not_accepted"
    earlier = season.store.student(
        season.antwerp, sid, at=datetime(2025, 10, 26, 1, 29, tzinfo=timezone.utc)
    )
    assert earlier.status == "undecided"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"periods": [("2025-10-06", "2025-10-31")]}, "periods"),
        ({"periods": (date(2025, 10, 6), date(2025, 10, 31))}, "periods"),
        ({"periods": [(datetime(2025, 10, 6, 9), date(2025, 10, 31))]}, "periods"),
        ({"periods": [(date(2025, 10, 6),)]}, "periods"),
        ({"periods": "2025-10-06/2025-10-31"}, "periods"),
        ({"transport": [5]}, "transport"),
        ({"days": ["someday"]}, "days"),
        ({"preferred_service": "sch-1"}, "preferred_service"),
        ({"supervisor": {"naam": "X"}}, "supervisor"),
    ],
)
def test_wrong_types_are_validation_errors(season: Season, change: dict, field: str) -> None:
    with pytest.raises(sm.ValidationError) as info:
        season.store.register_student(
            season.school, **{**student("secondary", "X", "2000"), **change}
        )
    assert info.value.field == field
    assert season.store.student_count() == 0


def test_lists_of_codes_accept_one_string_and_counts_must_not_be_negative(season: Season) -> None:
    sid = season.store.register_student(
        season.school,
        **{**student("secondary", "X", "2000"), "transport": "bike", "days": "maandag"},
        at=at(6, 2),
    )
    assert season.store.student(season.antwerp, sid, at=at(9, 22)).days == ["monday"]
    assert season.store.students(season.antwerp, at=at(9, 22), provinces="VAN").total == 1
    for field in ("limit", "offset"):
        with pytest.raises(sm.ValidationError) as info:
            season.store.students(season.antwerp, **{field: -1})
        assert info.value.field == field


def test_hours_keep_their_decimals_and_pages_iterate(season: Season) -> None:
    sid = season.store.register_student(
        season.school,
        **{**student("adult", "X", "2000"), "hours_per_week": 16.1, "total_hours": 7.5},
        at=at(6, 2),
    )
    card = season.store.student(season.antwerp, sid, at=at(9, 22))
    assert (card.hours_per_week, card.total_hours) == (16.1, 7.5)
    page = season.store.students(season.antwerp, at=at(9, 22))
    assert [c.id for c in page] == [sid]


def test_calendar_errors_name_the_window_and_calendars_hash() -> None:
    good = SEASON_2026
    for change, field in [
        ({"release": None}, "release"),
        ({"round1": (None, datetime(2026, 8, 14))}, "round1"),
        ({"round3": (1, 2, 3)}, "round3"),
        ({"dual": "soon"}, "dual"),
    ]:
        with pytest.raises(sm.ValidationError) as info:
            sm.Calendar(**{**good, **change})
        assert info.value.field == field
    assert len({sm.Calendar(**good), sm.Calendar(**good), sm.Calendar.default()}) == 2


def test_a_file_that_is_not_a_store_is_a_store_error(tmp_path) -> None:
    junk = tmp_path / "junk.redb"
    junk.write_text("not a database, just words\n" * 100)
    with pytest.raises(sm.StoreError):
        sm.Store.open(junk)


CSV_HEADER = (
    "voornaam;achternaam;type;straat;postcode;gemeente;vervoer;periodes;"
    "uren_per_week;totaal_uren;vorm;voorkeursdienst"
)


def test_import_students_all_or_nothing(season: Season, tmp_path) -> None:
    good = (
        f"{CSV_HEADER}\n"
        "Lotte;De Smet;secundair;Veldstraat 5;2000;Antwerpen;fiets;"
        "06/10/2025-31/10/2025;18;72;blok;Familiezorg Antwerpen\n"
        "Jan;Peeters;cvo;Markt 1;3500;Hasselt;auto;2025-10-06/2025-10-31;19,5;80;blok;\n"
    )
    path = tmp_path / "leerlingen.csv"
    path.write_text(good, encoding="utf-8-sig")
    report = season.store.import_students(path, season.school, at=at(6, 2))
    assert report["imported"] == 2 and len(report["ids"]) == 2
    assert open_ids(season, season.antwerp, at(7, 1)) == [report["ids"][0]]

    bad = good.replace(";2000;", ";0999;").replace(";auto;", ";hovercraft;")
    with pytest.raises(sm.ImportFailed) as info:
        season.store.import_students(io.StringIO(bad), season.school, at=at(6, 2))
    assert [(e["line"], e["field"]) for e in info.value.errors] == [(2, "postcode"), (3, "vervoer")]
    assert info.value.errors[0]["value"] == "0999"
    assert season.store.student_count() == 2
    with pytest.raises(FileNotFoundError):
        season.store.import_students(tmp_path / "missing.csv", season.school)


def test_export_csv_for_excel(season: Season, tmp_path) -> None:
    c = cast(season)
    t = at(9, 22)
    season.store.decide(season.antwerp, c["own"], "accepted", contact=season.antwerp_contact, at=t)
    path = tmp_path / "open.csv"
    n = season.store.export_csv(season.limburg, path, at=t, sort="-name", provinces=["VAN"])
    assert n == 2
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("first_name;last_name;track;")
    assert [line.split(";")[1] for line in lines[1:]] == ["Dierckx", "Claes"]
    assert "85.07.30-" not in text and "06/10/2025-31/10/2025" in text

    accepted = tmp_path / "accepted.csv"
    assert season.store.export_csv(season.antwerp, accepted, tab="accepted", at=t) == 1
    assert "85.07.30-" in accepted.read_text(encoding="utf-8-sig")
    with pytest.raises(sm.ValidationError) as info:
        season.store.export_csv(season.antwerp, accepted, delimiter="|")
    assert info.value.field == "delimiter"


def test_the_coordinators_export_reads_back(season: Season, tmp_path) -> None:
    c = cast(season)
    t = at(9, 22)
    season.store.decide(season.antwerp, c["own"], "accepted", contact=season.antwerp_contact, at=t)
    path = tmp_path / "all.csv"
    assert season.store.export_students(path) == season.store.student_count()
    text = path.read_text(encoding="utf-8-sig")
    assert "85.07.30-" in text
    tail = ";id;school;registered_at;placed_with;contact;accepted_periods"
    assert text.splitlines()[0].endswith(tail)

    copy = sm.Store.memory()
    copy.add_service("Familiezorg Antwerpen", province="VAN")
    copy.add_service("Thuiszorg Limburg", province="Limburg")
    school = copy.add_school("Kopie")
    report = copy.import_students(path, school, at=at(5, 20))
    assert report["imported"] == season.store.student_count() == copy.student_count()
    with pytest.raises(sm.ValidationError) as info:
        season.store.export_students(path, delimiter="\t")
    assert info.value.field == "delimiter"


def test_decide_many_records_the_good_decisions_in_one_go(season: Season) -> None:
    c = cast(season)
    t = at(9, 22)
    results = season.store.decide_many(
        season.antwerp,
        [
            (c["own"], "accepted", season.antwerp_contact),
            (c["far"], "niet aanvaard"),
            (c["own"], "not_accepted"),
            (c["other"], "accepted", season.limburg_contact),
        ],
        at=t,
    )
    assert results[0] is None and results[1] is None
    assert isinstance(results[2], sm.InvalidTransition)
    assert isinstance(results[3], sm.ValidationError) and results[3].field == "contact"
    assert season.store.status(season.antwerp, c["own"], at=t) == "accepted"
    assert season.store.status(season.antwerp, c["far"], at=t) == "not_accepted"

    lost = season.store.decide_many(
        season.limburg, [(c["own"], "accepted", season.limburg_contact)], at=t
    )
    assert isinstance(lost[0], sm.AlreadyPlaced) and lost[0].service == season.antwerp
    for bad in ([("stu-1",)], [42], [("stu-1", None)]):
        with pytest.raises(sm.ValidationError) as info:
            season.store.decide_many(season.antwerp, bad, at=t)
        assert info.value.field == "decisions"
