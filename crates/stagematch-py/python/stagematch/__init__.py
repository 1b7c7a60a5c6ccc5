"""stagematch: placement matching for Flemish home-care services.

Open a season store, browse a service's students, record decisions, and take round
statistics into pandas, polars or duckdb::

    import stagematch as sm

    store = sm.Store.memory()
    gent = store.add_service(name="Familiehulp Gent", province="VOV")
    page = store.students(gent, at=datetime(2025, 9, 22, 10, 0))
    print(page.total, page.rows[:3])
"""

from ._native import (
    AlreadyPlaced,
    AuthError,
    Calendar,
    ImportFailed,
    InvalidTransition,
    Message,
    NotFound,
    NotVisible,
    Page,
    Session,
    StagematchError,
    Store,
    StoreError,
    StudentCard,
    Table,
    ValidationError,
    __version__,
    generate_key,
)

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
