"""The bad-input catalogue (tests/bad_inputs.json) through the Python API.

Every bad cell of a student is registered with `register_student` (as an analyst's script
would pass it) and imported from a school's file; every bad file is imported. Each must raise
the right exception naming the field, and the store's digest must be as it was before.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import stagematch as sm

CATALOGUE = json.loads(
    (Path(__file__).resolve().parents[3] / "tests" / "bad_inputs.json").read_text("utf-8")
)
AT = datetime(2025, 6, 3, 10)


class Setup:
    def __init__(self) -> None:
        self.store = sm.Store.memory()
        self.service = self.store.add_service(name="Familiehulp Gent", province="VOV")
        self.contact = self.store.add_contact(
            self.service, name="An", phone="09 222 33 44", email="an@fh.be"
        )
        self.school = self.store.add_school(name="Sint-Lucas Gent")
        first = dict(CATALOGUE["base"], national_number=CATALOGUE["registered_before"])
        kwargs = arguments(first)
        assert kwargs is not None
        self.student = self.store.register_student(
            self.school, **kwargs, at=datetime(2025, 6, 2, 10)
        )


@pytest.fixture(scope="module")
def setup() -> Setup:
    return Setup()


def parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def arguments(row: dict[str, str]) -> dict[str, Any] | None:
    """The keyword arguments of `register_student` for `row`; None where Python's own types
    cannot hold a cell (a date of 31 February): only the CSV import sees those."""
    periods = []
    for span in filter(None, row["periods"].split("|")):
        start, sep, end = span.partition("-")
        first, last = parse_day(start), parse_day(end)
        if not sep or first is None or last is None:
            return None
        periods.append((first, last))

    def number(text: str) -> float | str:
        try:
            return float(text)
        except ValueError:
            return text  # passed as it is: the binding must refuse it, naming the argument

    def optional(column: str) -> str | None:
        return row[column] or None

    return dict(
        track=row["track"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        street=row["street"],
        postcode=row["postcode"],
        city=row["city"],
        transport=[t for t in row["transport"].split("|") if t],
        periods=periods,
        hours_per_week=number(row["hours_per_week"]),
        total_hours=number(row["total_hours"]),
        form=row["form"],
        days=[d for d in row["days"].split("|") if d] or None,
        preferred_service=optional("preferred_service"),
        national_number=optional("national_number"),
        email=optional("email"),
        phone=optional("phone"),
        supervisor={
            "name": optional("supervisor_name"),
            "email": optional("supervisor_email"),
            "phone": optional("supervisor_phone"),
        },
        remarks=optional("remarks"),
    )


def csv_file(row: dict[str, str]) -> str:
    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ';"\n\r') else v

    return ";".join(row) + "\n" + ";".join(quote(v) for v in row.values()) + "\n"


def names(error: sm.StagematchError, field: str) -> bool:
    if isinstance(error, sm.ValidationError):
        return error.field == field
    return field == "preferred_service" and isinstance(error, sm.NotFound)


def test_the_catalogue_has_fifty_cases() -> None:
    assert len(CATALOGUE["fields"]) + len(CATALOGUE["files"]) >= 50


@pytest.mark.parametrize("case", CATALOGUE["fields"], ids=lambda c: c["case"])
def test_a_bad_cell_is_refused_and_changes_nothing(setup: Setup, case: dict[str, str]) -> None:
    row = dict(CATALOGUE["base"])
    assert case["column"] in row
    row[case["column"]] = case["cell"]
    before = setup.store.digest()

    kwargs = arguments(row)
    if kwargs is not None:
        with pytest.raises(sm.StagematchError) as caught:
            setup.store.register_student(setup.school, **kwargs, at=AT)
        assert names(caught.value, case["column"]), repr(caught.value)
        assert setup.store.digest() == before

    with pytest.raises(sm.ImportFailed) as failed:
        setup.store.import_students(io.StringIO(csv_file(row)), setup.school, at=AT)
    errors = failed.value.errors
    assert [(e["line"], e["field"]) for e in errors] == [(2, case["column"])]
    assert errors[0]["message"]
    assert setup.store.digest() == before
    assert setup.store.student_count() == 1


def encoded(case: dict[str, Any]) -> bytes:
    text: str = case["file"]
    if case.get("latin1"):
        return text.encode("latin-1")
    if case.get("utf16"):
        return text.encode("utf-16")
    return text.encode("utf-8")


@pytest.mark.parametrize("case", CATALOGUE["files"], ids=lambda c: c["case"])
def test_a_bad_file_is_refused_whole(setup: Setup, case: dict[str, Any], tmp_path: Path) -> None:
    before = setup.store.digest()
    path = tmp_path / "leerlingen.csv"
    path.write_bytes(encoded(case))
    for source in (path, io.BytesIO(encoded(case))):
        with pytest.raises(sm.ImportFailed) as failed:
            setup.store.import_students(source, setup.school, at=AT)
        first = failed.value.errors[0]
        assert first["line"] == case["line"], failed.value.errors
        if case.get("column"):
            assert first["field"] == case["column"]
        assert setup.store.digest() == before


ROUND3 = datetime(2025, 9, 22, 10)


def plain_student() -> dict[str, Any]:
    kwargs = arguments(dict(CATALOGUE["base"], national_number=""))
    assert kwargs is not None
    return kwargs


OTHER_CALLS: dict[str, tuple[Any, type[Exception], str | None]] = {
    "a province that does not exist": (
        lambda s: s.store.add_service(name="X", province="Atlantis"),
        sm.ValidationError,
        "province",
    ),
    "a service without a name": (
        lambda s: s.store.add_service(name=" ", province="VAN"),
        sm.ValidationError,
        "name",
    ),
    "a contact with an email without @": (
        lambda s: s.store.add_contact(s.service, name="An", phone="09 222 33 44", email="a.be"),
        sm.ValidationError,
        "email",
    ),
    "a contact for a service that does not exist": (
        lambda s: s.store.add_contact("svc-99", name="An", phone="09 222 33 44", email="a@b.be"),
        sm.NotFound,
        None,
    ),
    "a decision about a student that does not exist": (
        lambda s: s.store.decide(s.service, "stu-999", "not_accepted", at=ROUND3),
        sm.NotFound,
        None,
    ),
    "a decision before the student is visible": (
        lambda s: s.store.decide(s.service, s.student, "not_accepted", at=datetime(2025, 6, 1)),
        sm.NotVisible,
        None,
    ),
    "an acceptance without a contact person": (
        lambda s: s.store.decide(s.service, s.student, "accepted", at=ROUND3),
        sm.ValidationError,
        "contact",
    ),
    "an interview status for a placement student": (
        lambda s: s.store.decide(s.service, s.student, "uitgenodigd", at=ROUND3),
        sm.InvalidTransition,
        None,
    ),
    "a status that does not exist": (
        lambda s: s.store.decide(s.service, s.student, "misschien", at=ROUND3),
        sm.ValidationError,
        "status",
    ),
    "a moment in words": (
        lambda s: s.store.phase(at="morgen om tien"),
        sm.ValidationError,
        "at",
    ),
    "a moment of the wrong type": (lambda s: s.store.phase(at=12), sm.ValidationError, "at"),
    "periods as text": (
        lambda s: s.store.register_student(
            s.school, **dict(plain_student(), periods="oktober"), at=AT
        ),
        sm.ValidationError,
        "periods",
    ),
    "a sort order that does not exist": (
        lambda s: s.store.students(s.service, sort="age"),
        sm.ValidationError,
        "sort",
    ),
    "a negative offset": (
        lambda s: s.store.students(s.service, offset=-1),
        sm.ValidationError,
        "offset",
    ),
    "a login with an email without @": (
        lambda s: s.store.create_login("els.fh.be", role="coordinator"),
        sm.ValidationError,
        "email",
    ),
    "an invitation code nobody was given": (
        lambda s: s.store.activate("not-a-code", "een lang wachtwoord"),
        sm.AuthError,
        None,
    ),
    "a calendar file with an unknown key": (
        lambda s: s.store.set_calendar(
            sm.Calendar.parse(sm.Calendar.default().to_text() + "ronde4 = 2025-10-01 12:00\n")
        ),
        sm.ValidationError,
        "calendar",
    ),
}


@pytest.mark.parametrize("what", sorted(OTHER_CALLS))
def test_other_bad_calls_raise_and_change_nothing(setup: Setup, what: str) -> None:
    call, exception, field = OTHER_CALLS[what]
    before = setup.store.digest()
    with pytest.raises(exception) as caught:
        call(setup)
    if field is not None:
        assert caught.value.field == field, what  # type: ignore[attr-defined]
    assert setup.store.digest() == before
