"""Shared fixtures: a season with two services, a school and the manual's cast."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

import stagematch as sm


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A naive moment in 2025, which stagematch reads as Brussels time."""
    return datetime(2025, month, day, hour, minute)


_serials = itertools.count(1)


def national_number() -> str:
    """A valid national register number no other call returned (born 30 July 1985)."""
    serial = next(_serials)
    nine = f"850730{serial:03d}"
    return f"{nine}{97 - int(nine) % 97:02d}"


def student(track: str, last: str, postcode: str, pref: str | None = None) -> dict[str, Any]:
    return dict(
        track=track,
        first_name="Noor",
        last_name=last,
        street="Kerkstraat 1",
        postcode=postcode,
        city="Ergens",
        transport=["fiets", "public_transport"],
        periods=[(date(2025, 10, 6), date(2025, 10, 31)), (date(2025, 12, 1), date(2025, 12, 19))],
        hours_per_week=16,
        total_hours=120,
        form="blok",
        preferred_service=pref,
        national_number=national_number(),
        email="noor@leerling.be",
        phone="0470 12 34 56",
        supervisor={"name": "Mevr. Claes", "email": "claes@school.be", "phone": "03 123 45 67"},
        remarks="Spreekt Frans en Nederlands.",
    )


@dataclass
class Season:
    store: sm.Store
    antwerp: str
    limburg: str
    antwerp_contact: str
    limburg_contact: str
    school: str

    def register(
        self,
        track: str,
        last: str,
        postcode: str,
        pref: str | None = None,
        when: datetime | None = None,
    ) -> str:
        when = when or at(6, 2)
        return self.store.register_student(
            self.school, **student(track, last, postcode, pref), at=when
        )


def make_season(store: sm.Store) -> Season:
    antwerp = store.add_service(name="Familiezorg Antwerpen", province="VAN")
    limburg = store.add_service(name="Thuiszorg Limburg", province="Limburg")
    return Season(
        store=store,
        antwerp=antwerp,
        limburg=limburg,
        antwerp_contact=store.add_contact(
            antwerp, name="Els", phone="03 111 22 33", email="e@fz.be"
        ),
        limburg_contact=store.add_contact(
            limburg, name="Jef", phone="011 22 33 44", email="j@tl.be"
        ),
        school=store.add_school(name="Sint-Jozef Zorgschool"),
    )


@pytest.fixture
def season() -> Season:
    return make_season(sm.Store.memory())
