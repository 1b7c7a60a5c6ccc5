"""Times a service's open tab through stagematch, polars and DuckDB, side by side.

The queries of the Rust matrix (`crates/stagematch-bench/benches/matrix.rs`, fn `queries`)
as service `svc-3` sees them on 25 September 2025 10:00 Brussels time (round 3: every
unplaced student past its visibility moment is open, dual students included): broad,
narrow, name, all, deep page, count, and every sort order on the first and a deep page.
Each query gives the total and the ids of one page of 50.

polars and DuckDB work on the same facts, loaded once and not timed: the coordinator's
export (`Store.export_students`) read with polars, with the columns the rules need derived
from it (province index, postcode, folded names, transport bits, registration and
visibility moments, preferred and accepting service). DuckDB gets that DataFrame as an
in-memory table. Before anything is timed, every engine must give stagematch's total and
page, in order; the script stops otherwise.

How the rivals are written (the faster of the obvious forms tried at 100 k): polars
selects the columns the query reads, filters eagerly on the one-column predicates, then on
the name, takes the total as the height and the page as `bottom_k(offset + 50)` sorted and
sliced (a lazy `sort().slice()` was 4x slower on deep pages, a filter in one predicate 7x
slower on `narrow`; a lazy plan with `collect_all` of count and page was faster on `all`
and `name` at 1 M but 5x slower on `narrow` and the deep pages); DuckDB runs
one statement over a native table: a materialised CTE of the matches, `count(*)` of it,
and `ORDER BY ... LIMIT 50 OFFSET k` (faster than a count and a page statement on the
filtered queries, 20 % slower on `all`; a window count was slower still). Names sort as
folded UTF-8 bytes, ties on the id.

The export gives whom a student was placed with but not when: a rival counts every
`placed_with` as placed. That is exact for the synthetic cohort, whose accepts all fall
on 25 September 2025 10:00, the moment queried (an accept at that moment counts), but not
for a store with later accepts. Registration moments are exported to the minute, which is
the synthetic cohort's precision too.

The round statistics: stagematch's `round_stats` (every phase, province, track and
service: open, invited, accepted, days to accept) into a `pyarrow.Table` and a
`polars.DataFrame`, next to what the export allows a rival: open and accepted students
per province and track as of the moment, a smaller job. It is checked against the
engine's `open` of the phase in force and its `accepted` summed over phases and services.

Each figure is a median of `--runs` timed calls (30 by default) after a warm-up call; the
three engines take turns call by call, so that a slow spell of the shared machine hits all
of them alike (and none keeps its caches warm between its own calls).

Reproduce (a store from the synthetic cohort, then this script, in the venv that has
stagematch, polars and duckdb):

    cargo run --release --example synthetic_store -- /tmp/synthetic.redb 1000000
    target/py-venv/bin/python -m pip install duckdb
    target/py-venv/bin/python crates/stagematch-py/bench/queries.py /tmp/synthetic.redb --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa

import stagematch as sm

BRUSSELS = ZoneInfo("Europe/Brussels")
SERVICE = "svc-3"
AT = datetime(2025, 9, 25, 10, 0)  # naive: Brussels time, as stagematch reads it
STATS_AT = datetime(2025, 10, 8)
BLACKOUT = (datetime(2025, 6, 30, 12, 0), datetime(2025, 8, 15, 12, 0))
RELEASE = datetime(2025, 9, 19, 12, 0)
PAGE = 50

# The order of `Province` in src/student/address.rs: the default sort compares this index.
PROVINCES = ["BRU", "VAN", "VBR", "VLI", "VOV", "VWV", "WBR", "WHT", "WLG", "WLX", "WNA"]
# Postcode ranges of DOMAIN.md, [low, high] inclusive.
POSTCODE_PROVINCES = [
    (1000, 1299, "BRU"),
    (1300, 1499, "WBR"),
    (1500, 1999, "VBR"),
    (2000, 2999, "VAN"),
    (3000, 3499, "VBR"),
    (3500, 3999, "VLI"),
    (4000, 4999, "WLG"),
    (5000, 5999, "WNA"),
    (6000, 6599, "WHT"),
    (6600, 6999, "WLX"),
    (7000, 7999, "WHT"),
    (8000, 8999, "VWV"),
    (9000, 9999, "VOV"),
]
# One bit per means of transport (our own encoding, for polars and DuckDB alike).
TRANSPORT_BITS = {"car": 1, "moped": 2, "e_bike": 4, "bike": 8, "public_transport": 16}

# Each sort order as (column, descending) pairs; ties end on the id, as in the engine.
NAME = [("last_f", False), ("first_f", False)]
SORTS: dict[str, list[tuple[str, bool]]] = {
    "default": [("province", False), ("postcode", False), *NAME, ("id", False)],
    "name": [*NAME, ("id", False)],
    "-name": [("last_f", True), ("first_f", True), ("id", False)],
    "postcode": [("postcode", False), *NAME, ("id", False)],
    "-registered": [("registered_us", True), ("id", True)],
}


@dataclass(frozen=True)
class Query:
    """One query of a service's open tab: filters, order and page."""

    label: str
    name: str | None = None
    provinces: tuple[str, ...] = ()
    postcode: str | None = None
    transport: tuple[str, ...] = ()
    sort: str = "default"
    offset: int = 0
    limit: int = PAGE


Answer = tuple[int, list[int]]  # the total, then the page's ids as numbers


def queries(n: int) -> list[Query]:
    """The queries of the Rust matrix, with its deep offset (10 000, or n / 4 if smaller)."""
    deep = min(10_000, n // 4)
    listed = [
        Query("broad", provinces=("VOV",), transport=("bike", "e_bike")),
        Query("narrow", postcode="9500", name="ael"),
        Query("name", name="smet"),
        Query("all"),
        Query("deep_page", offset=deep),
        Query("count", limit=0),
    ]
    for sort in SORTS:
        for page, offset in (("first", 0), ("deep", deep)):
            label = f"sort_{sort.replace('-', 'desc_')}_{page}"
            listed.append(Query(label, sort=sort, offset=offset))
    return listed


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of a naive Brussels moment."""
    return int(moment.replace(tzinfo=BRUSSELS).timestamp()) * 1_000_000


def fold(text: str) -> str:
    """Lower case without accents: NFKD, combining marks (category M) dropped, lower case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).lower()


def province_index(postcode: int) -> int:
    """The index in `PROVINCES` of the province a postcode lies in."""
    for low, high, code in POSTCODE_PROVINCES:
        if low <= postcode <= high:
            return PROVINCES.index(code)
    raise ValueError(f"postcode {postcode} lies in no province")


def transport_bits(codes: str | None) -> int:
    """The bits of a `|`-separated list of transport codes."""
    return sum(TRANSPORT_BITS[c] for c in (codes or "").split("|") if c)


def map_unique(column: str, f: Callable, dtype: pl.DataType) -> pl.Expr:
    """`f` applied to each value of `column`, computed once per distinct value."""
    return pl.col(column).map_batches(
        lambda s: s.replace_strict({v: f(v) for v in s.unique().to_list()}, return_dtype=dtype),
        return_dtype=dtype,
    )


def service_number(column: str) -> pl.Expr:
    """`svc-3` as 3, an empty field as null."""
    return pl.col(column).str.strip_prefix("svc-").cast(pl.UInt16)


def load_facts(store: sm.Store, directory: Path) -> pl.DataFrame:
    """Every student's query facts, from the coordinator's export read with polars."""
    path = directory / "students.csv"
    store.export_students(path)
    raw = pl.read_csv(path, separator=";", infer_schema=False)
    registered = (
        pl.col("registered_at")
        .str.to_datetime("%d/%m/%Y %H:%M", time_unit="us")
        .dt.replace_time_zone("Europe/Brussels", ambiguous="earliest")
        .dt.epoch("us")
    )
    facts = raw.select(
        pl.col("id").str.strip_prefix("stu-").cast(pl.UInt32),
        map_unique("postcode", lambda p: province_index(int(p)), pl.UInt8).alias("province"),
        pl.col("postcode").cast(pl.UInt16),
        map_unique("last_name", fold, pl.String).alias("last_f"),
        map_unique("first_name", fold, pl.String).alias("first_f"),
        map_unique("transport", transport_bits, pl.UInt8).alias("transport"),
        pl.col("track"),
        registered.alias("registered_us"),
        service_number("preferred_service").alias("preferred"),
        service_number("placed_with").alias("placed_with"),
    )
    low, high = micros(BLACKOUT[0]), micros(BLACKOUT[1])
    in_blackout = pl.col("registered_us").is_between(low, high, closed="left")
    visible = pl.when(in_blackout).then(micros(RELEASE)).otherwise(pl.col("registered_us"))
    return facts.with_columns(visible.alias("visible_us"))


# --- stagematch ------------------------------------------------------------------------


def engine_answer(store: sm.Store, q: Query) -> Answer:
    """The query through the bindings."""
    page = store.students(
        SERVICE,
        at=AT,
        name=q.name,
        provinces=list(q.provinces) or None,
        postcode=q.postcode,
        transport=list(q.transport) or None,
        sort=q.sort,
        offset=q.offset,
        limit=q.limit,
    )
    return page.total, [int(card.id.removeprefix("stu-")) for card in page.rows]


# --- polars ----------------------------------------------------------------------------


def polars_filter(q: Query, at: int) -> pl.Expr:
    """Round 3's open tab (unplaced and visible, every track) and the one-column filters."""
    keep = pl.col("placed_with").is_null() & (pl.col("visible_us") <= at)
    if q.provinces:
        keep &= pl.col("province").is_in([PROVINCES.index(p) for p in q.provinces])
    if q.transport:
        bits = sum(TRANSPORT_BITS[t] for t in q.transport)
        keep &= (pl.col("transport") & bits) != 0
    if q.postcode:
        low, high = postcode_range(q.postcode)
        keep &= pl.col("postcode").is_between(low, high)
    return keep


def polars_name(name: str) -> pl.Expr:
    """The name filter: a substring of the folded last or first name."""
    needle = fold(name)
    last = pl.col("last_f").str.contains(needle, literal=True)
    return last | pl.col("first_f").str.contains(needle, literal=True)


FILTERED = ["placed_with", "visible_us", "province", "transport", "postcode", "last_f", "first_f"]


def polars_answer(facts: pl.DataFrame, q: Query, at: int) -> Answer:
    """Only the columns the query reads; the cheap filters, then the name on what is left
    (polars evaluates every term of a predicate); the total is the height; the page the
    `offset + 50` first rows in sort order (`bottom_k`), sorted, then sliced."""
    columns, descending = (list(c) for c in zip(*SORTS[q.sort]))
    matches = facts.select(list(dict.fromkeys(["id", *columns, *FILTERED]))).filter(
        polars_filter(q, at)
    )
    if q.name:
        matches = matches.filter(polars_name(q.name))
    if q.limit == 0:
        return matches.height, []
    page = (
        matches.bottom_k(q.offset + q.limit, by=columns, reverse=descending)
        .sort(columns, descending=descending)
        .slice(q.offset, q.limit)
    )
    return matches.height, page["id"].to_list()


def postcode_range(prefix: str) -> tuple[int, int]:
    """The postcodes a postcode or its first digits stand for."""
    scale = 10 ** (4 - len(prefix))
    return int(prefix) * scale, int(prefix) * scale + scale - 1


# --- DuckDB ----------------------------------------------------------------------------


def duckdb_connect(facts: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the facts as a native table."""
    con = duckdb.connect()
    con.register("facts", facts.to_arrow())
    con.execute("CREATE TABLE students AS SELECT * FROM facts")
    con.unregister("facts")
    return con


def sql_where(q: Query, at: int) -> str:
    """The WHERE clause of `polars_filter`."""
    terms = ["placed_with IS NULL", f"visible_us <= {at}"]
    if q.provinces:
        terms.append(f"province IN ({', '.join(str(PROVINCES.index(p)) for p in q.provinces)})")
    if q.transport:
        terms.append(f"transport & {sum(TRANSPORT_BITS[t] for t in q.transport)} <> 0")
    if q.postcode:
        low, high = postcode_range(q.postcode)
        terms.append(f"postcode BETWEEN {low} AND {high}")
    if q.name:
        needle = fold(q.name).replace("'", "''")
        terms.append(f"(contains(last_f, '{needle}') OR contains(first_f, '{needle}'))")
    return " AND ".join(terms)


def sql_order(sort: str) -> str:
    """The ORDER BY list of a sort order."""
    return ", ".join(f"{col} {'DESC' if desc else 'ASC'}" for col, desc in SORTS[sort])


def duckdb_answer(con: duckdb.DuckDBPyConnection, q: Query, at: int) -> Answer:
    """One statement: the matches filtered once (a materialised CTE), their count, and the
    page with ORDER BY, LIMIT and OFFSET."""
    where = sql_where(q, at)
    count = f"SELECT count(*) FROM students WHERE {where}"
    if q.limit == 0:
        return con.sql(count).fetchall()[0][0], []
    columns = ", ".join(dict.fromkeys(["id", *(c for c, _ in SORTS[q.sort])]))
    page = con.sql(
        f"WITH m AS MATERIALIZED (SELECT {columns} FROM students WHERE {where}) "
        f"SELECT (SELECT count(*) FROM m), id FROM m ORDER BY {sql_order(q.sort)} "
        f"LIMIT {q.limit} OFFSET {q.offset}"
    ).fetchall()
    if not page:  # past the last match: no row carries the count
        return con.sql(count).fetchall()[0][0], []
    return page[0][0], [r[1] for r in page]


# --- round statistics -------------------------------------------------------------------


def polars_stats(facts: pl.DataFrame, at: int) -> pl.DataFrame:
    """Open (unplaced, visible) and accepted students per province and track as of `at`."""
    placed = pl.col("placed_with").is_not_null()
    open_ = ~placed & (pl.col("visible_us") <= at)
    return facts.group_by("province", "track").agg(
        open_.sum().alias("open"), placed.sum().alias("accepted")
    )


STATS_SQL = """
    SELECT province, track,
           count(*) FILTER (WHERE placed_with IS NULL AND visible_us <= {at}) AS open,
           count(*) FILTER (WHERE placed_with IS NOT NULL) AS accepted
    FROM students GROUP BY province, track
"""


def duckdb_stats(con: duckdb.DuckDBPyConnection, at: int) -> pa.Table:
    """`polars_stats` in SQL, fetched as an Arrow table."""
    return con.sql(STATS_SQL.format(at=at)).to_arrow_table()


Summary = dict[tuple[int, str], tuple[int, int]]  # (province index, track) -> open, accepted


def engine_stats_summary(store: sm.Store) -> Summary:
    """The engine's table cut down to what the rivals compute: `open` of the phase in force
    (after round 3 the same for every service, so `svc-3`'s rows), `accepted` summed over
    phases and services."""
    stats = pl.DataFrame(store.round_stats(at=STATS_AT))
    keys = ["province", "track"]
    in_force = (pl.col("phase") == store.phase(at=STATS_AT)) & (pl.col("service") == SERVICE)
    opened = stats.filter(in_force).select(*keys, "open")
    accepted = stats.group_by(keys).agg(pl.col("accepted").sum())
    both = opened.join(accepted, on=keys, how="full", coalesce=True).fill_null(0)
    both = both.with_columns(pl.col("province").replace_strict(PROVINCES, range(len(PROVINCES))))
    return rival_stats_summary(both)


def rival_stats_summary(table: pl.DataFrame) -> Summary:
    """Statistics as a dict keyed by (province index, track), all-zero rows left out."""
    return {
        (r["province"], r["track"]): (r["open"], r["accepted"])
        for r in table.iter_rows(named=True)
        if r["open"] or r["accepted"]
    }


# --- checking and timing ----------------------------------------------------------------


def check(label: str, expected: object, got: dict[str, object]) -> None:
    """Stops the script if any engine disagrees with stagematch."""
    for engine, answer in got.items():
        if answer != expected:
            sys.exit(f"DISAGREEMENT on {label}: {engine} gave {answer}, stagematch {expected}")


def medians_ms(runs: int, fs: list[Callable[[], object]]) -> list[float]:
    """The median wall time of `runs` calls of each of `fs`, in ms, after a warm-up call of
    each. The calls take turns, so that the machine's slow spells hit every engine alike."""
    times: list[list[float]] = [[] for _ in fs]
    for f in fs:
        f()
    for _ in range(runs):
        for f, spent in zip(fs, times):
            start = time.perf_counter()
            f()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) * 1e3 for spent in times]


def row(label: str, total: object, engine: float, polars: float, duck: float) -> str:
    """One line of the result table."""
    return (
        f"{label:<32} {total!s:>7} {engine:>10.2f} {polars:>8.2f} {duck:>8.2f} "
        f"{polars / engine:>7.1f}x {duck / engine:>7.1f}x"
    )


Engines = dict[str, Callable[[], object]]


def query_cases(store: sm.Store, facts: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> list:
    """Each query with its three engines, checked to agree with stagematch."""
    at = micros(AT)
    cases = []
    for q in queries(store.student_count()):
        engines: Engines = {
            "stagematch": lambda q=q: engine_answer(store, q),
            "polars": lambda q=q: polars_answer(facts, q, at),
            "duckdb": lambda q=q: duckdb_answer(con, q, at),
        }
        total, ids = engines["stagematch"]()
        check(q.label, (total, ids), {k: f() for k, f in engines.items() if k != "stagematch"})
        if q.limit and len(ids) != q.limit:
            sys.exit(f"{q.label}: a short page ({len(ids)} rows) checks too little")
        cases.append((q.label, total, engines))
    return cases


def check_stats(store: sm.Store, facts: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> None:
    """The rivals' open and accepted counts must be the engine's."""
    at = micros(STATS_AT)
    rivals = {
        "polars": rival_stats_summary(polars_stats(facts, at)),
        "duckdb": rival_stats_summary(pl.DataFrame(duckdb_stats(con, at))),
    }
    check(
        "round statistics (open, accepted by province, track)", engine_stats_summary(store), rivals
    )


def print_stats_timings(
    store: sm.Store, facts: pl.DataFrame, con: duckdb.DuckDBPyConnection, runs: int
) -> None:
    """The engine's round statistics into Arrow and polars, next to the rivals' summary."""
    at = micros(STATS_AT)
    to_arrow, to_polars, polars, duck = medians_ms(
        runs,
        [
            lambda: pa.table(store.round_stats(at=STATS_AT)),
            lambda: pl.DataFrame(store.round_stats(at=STATS_AT)),
            lambda: polars_stats(facts, at),
            lambda: duckdb_stats(con, at),
        ],
    )
    print(row("round_stats -> pyarrow.Table", "", to_arrow, polars, duck))
    print(row("round_stats -> polars.DataFrame", "", to_polars, polars, duck))
    print(
        "round_stats: stagematch computes open, invited, accepted and days to accept per phase,"
        "\n  province, track and service; the polars and duckdb figures (the same on both lines)"
        "\n  only open and accepted per province and track as of the moment: less work."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", help="a store file, e.g. from examples/synthetic_store.rs")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per median")
    args = parser.parse_args()

    started = time.perf_counter()
    store = sm.Store.open(args.store)
    with tempfile.TemporaryDirectory() as directory:
        facts = load_facts(store, Path(directory))
    con = duckdb_connect(facts)
    loaded = time.perf_counter() - started
    print(f"{store.student_count()} students, opened, exported and loaded in {loaded:.1f} s")
    print(
        f"python {sys.version.split()[0]}, polars {pl.__version__}, duckdb {duckdb.__version__},"
        f" os.cpu_count() {os.cpu_count()}; medians of {args.runs} runs after a warm-up"
    )

    cases = query_cases(store, facts, con)
    check_stats(store, facts, con)
    print(f"agreement: all {len(cases)} queries and the round statistics match stagematch")

    print(
        f"\n{'query':<32} {'total':>7} {'stagematch':>10} {'polars':>8} {'duckdb':>8} "
        f"{'pl/sm':>8} {'duck/sm':>8}   (ms)"
    )
    for label, total, engines in cases:
        print(row(label, total, *medians_ms(args.runs, list(engines.values()))))
    print_stats_timings(store, facts, con, args.runs)


if __name__ == "__main__":
    main()
