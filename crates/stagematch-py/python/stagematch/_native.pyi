"""Type stubs of the native module behind ``stagematch`` (checked by ``mypy.stubtest``)."""

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, Any, final

__version__: str
__all__ = [
    "AlreadyPlaced",
    "AuthError",
    "Calendar",
    "ImportFailed",
    "InvalidTransition",
    "Message",
    "NotFound",
    "NotVisible",
    "Page",
    "Session",
    "StagematchError",
    "Store",
    "StoreError",
    "StudentCard",
    "Table",
    "ValidationError",
    "__version__",
    "generate_key",
]

_Moment = datetime | str | None

def generate_key() -> str: ...

_Span = tuple[date, date]

class StagematchError(Exception):
    """Every stagematch error."""

class ValidationError(StagematchError):
    """A value breaks a rule; ``field``, ``value`` and ``reason`` say which."""

    field: str
    value: str
    reason: str

class NotFound(StagematchError):
    """A referenced service, school, contact person or student does not exist."""

class NotVisible(StagematchError):
    """The student is not visible to the service at that moment."""

class InvalidTransition(StagematchError):
    """The decision machine of the student's track refuses the change."""

class AlreadyPlaced(StagematchError):
    """Another service accepted the student; ``service`` is its id."""

    service: str

class ImportFailed(StagematchError):
    """A CSV import was refused; ``errors`` lists every bad row."""

    errors: list[dict[str, Any]]

class AuthError(StagematchError):
    """A login, token or session was refused, or the session's role may not do this."""

    reason: str

class StoreError(StagematchError):
    """The store file cannot be used (damaged, or another format version)."""

@final
class Calendar:
    """The season calendar; every boundary a moment in Brussels time."""

    def __new__(
        cls,
        *,
        dual: tuple[datetime, datetime],
        round1: tuple[datetime, datetime],
        blackout: tuple[datetime, datetime],
        release: datetime,
        round2: tuple[datetime, datetime],
        round3: tuple[datetime, datetime],
        placement_target: datetime,
    ) -> Calendar: ...
    @staticmethod
    def default() -> Calendar: ...
    @staticmethod
    def parse(text: str) -> Calendar:
        """A calendar from a calendar file's text; ValidationError names the key and line."""
    def to_text(self) -> str:
        """The calendar as a calendar file, which `Calendar.parse` reads back."""
    def phase(self, at: _Moment = None) -> str: ...
    @property
    def dual(self) -> tuple[datetime, datetime]: ...
    @property
    def round1(self) -> tuple[datetime, datetime]: ...
    @property
    def blackout(self) -> tuple[datetime, datetime]: ...
    @property
    def release(self) -> datetime: ...
    @property
    def round2(self) -> tuple[datetime, datetime]: ...
    @property
    def round3(self) -> tuple[datetime, datetime]: ...
    @property
    def placement_target(self) -> datetime: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class StudentCard:
    """A student as one service sees it; personal data is None unless invited or accepted."""

    @property
    def id(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def school(self) -> str: ...
    @property
    def school_name(self) -> str: ...
    @property
    def street(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def province(self) -> str: ...
    @property
    def transport(self) -> list[str]: ...
    @property
    def track(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def registered_at(self) -> datetime: ...
    @property
    def form(self) -> str: ...
    @property
    def hours_per_week(self) -> float: ...
    @property
    def total_hours(self) -> float: ...
    @property
    def periods(self) -> list[_Span]: ...
    @property
    def days(self) -> list[str]: ...
    @property
    def preferred_service(self) -> str | None: ...
    @property
    def remarks(self) -> str | None: ...
    @property
    def supervisor_name(self) -> str | None: ...
    @property
    def supervisor_email(self) -> str | None: ...
    @property
    def supervisor_phone(self) -> str | None: ...
    @property
    def national_number(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def contact(self) -> str | None: ...
    @property
    def accepted_periods(self) -> list[_Span] | None: ...
    @property
    def notes(self) -> str | None: ...

@final
class Page:
    """A page of a tab."""

    @property
    def total(self) -> int: ...
    @property
    def rows(self) -> list[StudentCard]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[StudentCard]: ...
    def to_table(self) -> Table: ...
    def to_pylist(self) -> list[dict[str, Any]]: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def _repr_html_(self) -> str: ...

@final
class Table:
    """A table for analysts: pandas, polars, pyarrow and duckdb take it directly."""

    def to_pylist(self) -> list[dict[str, Any]]: ...
    @property
    def column_names(self) -> list[str]: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

@final
class Store:
    """A placement season on an embedded redb store, safe to share across threads."""

    @staticmethod
    def open(
        path: str | os.PathLike[str], calendar: Calendar | None = None, key: str | None = None
    ) -> Store: ...
    @staticmethod
    def memory(calendar: Calendar | None = None, key: str | None = None) -> Store: ...
    def seals_personal_data(self) -> bool: ...
    def digest(self) -> str:
        """SHA-256 of everything the store holds; unchanged by a refused operation."""
    def calendar(self) -> Calendar: ...
    def set_calendar(self, calendar: Calendar) -> None: ...
    def phase(self, at: _Moment = None) -> str: ...
    def add_service(self, name: str, province: str) -> str: ...
    def add_school(self, name: str) -> str: ...
    def add_contact(self, service: str, *, name: str, phone: str, email: str) -> str: ...
    def register_student(
        self,
        school: str,
        *,
        track: str,
        first_name: str,
        last_name: str,
        street: str,
        postcode: str,
        city: str,
        transport: str | Sequence[str],
        periods: Sequence[_Span],
        hours_per_week: float,
        total_hours: float,
        form: str,
        days: str | Sequence[str] | None = None,
        preferred_service: str | None = None,
        national_number: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        supervisor: dict[str, str | None] | None = None,
        remarks: str | None = None,
        province: str | None = None,
        at: _Moment = None,
    ) -> str: ...
    def import_students(
        self,
        path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes],
        school: str,
        at: _Moment = None,
    ) -> dict[str, Any]: ...
    def students(
        self,
        service: str,
        tab: str = "open",
        at: _Moment = None,
        name: str | None = None,
        provinces: str | Sequence[str] | None = None,
        school: str | None = None,
        postcode: str | None = None,
        transport: str | Sequence[str] | None = None,
        track: str | None = None,
        sort: str = "default",
        offset: int = 0,
        limit: int = 50,
    ) -> Page: ...
    def export_csv(
        self,
        service: str,
        path: str | os.PathLike[str],
        tab: str = "open",
        at: _Moment = None,
        name: str | None = None,
        provinces: str | Sequence[str] | None = None,
        school: str | None = None,
        postcode: str | None = None,
        transport: str | Sequence[str] | None = None,
        track: str | None = None,
        sort: str = "default",
        delimiter: str = ";",
    ) -> int: ...
    def export_students(self, path: str | os.PathLike[str], delimiter: str = ";") -> int: ...
    def student(self, service: str, student: str, at: _Moment = None) -> StudentCard: ...
    def decide(
        self,
        service: str,
        student: str,
        status: str,
        contact: str | None = None,
        periods: Sequence[_Span] | None = None,
        notes: str | None = None,
        at: _Moment = None,
    ) -> None: ...
    def decide_many(
        self,
        service: str,
        decisions: Iterable[tuple[str, str] | tuple[str, str, str | None]],
        at: _Moment = None,
    ) -> list[StagematchError | None]: ...
    def status(self, service: str, student: str, at: _Moment = None) -> str: ...
    def status_counts(self) -> Table: ...
    def round_stats(self, at: _Moment = None) -> Table: ...
    def create_login(
        self,
        email: str,
        role: str = "service",
        service: str | None = None,
        school: str | None = None,
    ) -> str: ...
    def invite_again(self, email: str) -> str: ...
    def logins(self) -> list[dict[str, Any]]: ...
    def remove_login(self, email: str) -> None: ...
    def activate(self, token: str, password: str) -> dict[str, Any]: ...
    def sign_in(self, email: str, password: str) -> Session: ...
    def session(self, token: str) -> Session: ...
    def request_password_reset(self, email: str) -> None: ...
    def reset_password(self, token: str, password: str) -> None: ...
    def take_outbox(self) -> list[Message]: ...
    def queue_mailings(self, at: _Moment = None) -> int: ...
    def queue_reminders(self, at: _Moment = None) -> int: ...
    def set_clock(self, at: _Moment = None) -> None: ...
    def now(self) -> datetime: ...
    def student_count(self) -> int: ...
    def services(self) -> list[dict[str, str]]: ...

@final
class Message:
    """A message of the outbox, for the host to deliver."""

    @property
    def kind(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...

@final
class Session:
    """A signed-in login: the store's operations for its role, without the service or
    school argument; anything else raises ``AuthError``."""

    @property
    def token(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def service(self) -> str | None: ...
    @property
    def school(self) -> str | None: ...
    @property
    def store(self) -> Store: ...
    def sign_out(self) -> None: ...
    def create_login(
        self,
        email: str,
        role: str = "service",
        service: str | None = None,
        school: str | None = None,
    ) -> str: ...
    def students(
        self,
        tab: str = "open",
        at: _Moment = None,
        name: str | None = None,
        provinces: str | Sequence[str] | None = None,
        school: str | None = None,
        postcode: str | None = None,
        transport: str | Sequence[str] | None = None,
        track: str | None = None,
        sort: str = "default",
        offset: int = 0,
        limit: int = 50,
    ) -> Page: ...
    def student(self, student: str, at: _Moment = None) -> StudentCard: ...
    def status(self, student: str, at: _Moment = None) -> str: ...
    def decide(
        self,
        student: str,
        status: str,
        contact: str | None = None,
        periods: Sequence[_Span] | None = None,
        notes: str | None = None,
    ) -> None: ...
    def decide_many(
        self, decisions: Iterable[tuple[str, str] | tuple[str, str, str | None]]
    ) -> list[StagematchError | None]: ...
    def add_contact(self, *, name: str, phone: str, email: str) -> str: ...
    def contacts(self) -> list[dict[str, str]]: ...
    def export_csv(
        self,
        path: str | os.PathLike[str],
        tab: str = "open",
        at: _Moment = None,
        name: str | None = None,
        provinces: str | Sequence[str] | None = None,
        school: str | None = None,
        postcode: str | None = None,
        transport: str | Sequence[str] | None = None,
        track: str | None = None,
        sort: str = "default",
        delimiter: str = ";",
    ) -> int: ...
    def register_student(
        self,
        *,
        track: str,
        first_name: str,
        last_name: str,
        street: str,
        postcode: str,
        city: str,
        transport: str | Sequence[str],
        periods: Sequence[_Span],
        hours_per_week: float,
        total_hours: float,
        form: str,
        days: str | Sequence[str] | None = None,
        preferred_service: str | None = None,
        national_number: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        supervisor: dict[str, str | None] | None = None,
        remarks: str | None = None,
        province: str | None = None,
    ) -> str: ...
    def import_students(
        self, path_or_file: str | os.PathLike[str] | IO[str] | IO[bytes]
    ) -> dict[str, Any]: ...
    def own_students(self) -> list[dict[str, Any]]: ...
