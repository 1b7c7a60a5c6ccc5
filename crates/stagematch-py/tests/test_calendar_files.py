"""Calendars as files: read, written back, set on a store; the store's digest."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import stagematch as sm


def test_a_calendar_file_reads_back_to_the_same_calendar() -> None:
    text = sm.Calendar.default().to_text()
    assert "round1 = 2025-06-30 12:00 .. 2025-08-15 12:00" in text
    assert sm.Calendar.parse(text) == sm.Calendar.default()


def test_a_new_school_year_from_a_file(tmp_path: Path) -> None:
    next_year = sm.Calendar.parse(sm.Calendar.default().to_text().replace("2025-", "2026-"))
    store = sm.Store.open(tmp_path / "next.redb", calendar=next_year)
    assert store.phase(at=datetime(2025, 9, 22, 10)) == "closed"
    assert store.phase(at=datetime(2026, 9, 22, 10)) == "round3"

    moved = next_year.to_text().replace(
        "round3 = 2026-09-19 12:00 .. 2026-09-30 12:00",
        "round3 = 2026-09-19 12:00 .. 2026-10-01 12:00",
    )
    store.set_calendar(sm.Calendar.parse(moved))
    assert store.phase(at=datetime(2026, 9, 30, 18)) == "round3"
    assert store.calendar().round3[1] == datetime.fromisoformat("2026-10-01T10:00:00+00:00")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (("round2 = ", "ronde 2 = "), "calendar", "line 7"),
        (("placement_target = 2025-10-07 12:00\n", ""), "placement_target", "missing"),
        (("2025-10-07 12:00", "7 oktober"), "placement_target", "line 9"),
        (("round3 = 2025-09-19", "round3 = 2025-09-01"), "round3", "after round 2"),
    ],
)
def test_a_bad_calendar_file_names_the_key(change: tuple[str, str], field: str, says: str) -> None:
    text = sm.Calendar.default().to_text().replace(*change)
    with pytest.raises(sm.ValidationError) as caught:
        sm.Calendar.parse(text)
    assert caught.value.field == field
    assert says in str(caught.value)


def test_the_digest_changes_with_every_change_and_never_on_a_refusal() -> None:
    store = sm.Store.memory()
    first = store.digest()
    assert len(first) == 64 and int(first, 16) >= 0
    assert store.digest() == first

    with pytest.raises(sm.ValidationError):
        store.add_service(name="Nergens", province="Atlantis")
    assert store.digest() == first

    store.add_service(name="Familiehulp", province="VOV")
    assert store.digest() != first
