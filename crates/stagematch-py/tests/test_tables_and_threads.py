"""Tables for analysts (Arrow to pandas, polars and pyarrow) and one store shared by threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import polars as pl
import pyarrow as pa
from conftest import Season, at

import stagematch as sm


def played(season: Season) -> list[str]:
    ids = [season.register("adult", f"S{k}", "9000") for k in range(6)]
    t = at(9, 22)
    for sid in ids[:3]:
        season.store.decide(season.antwerp, sid, "accepted", contact=season.antwerp_contact, at=t)
    season.store.decide(season.limburg, ids[3], "not_accepted", at=t)
    season.store.decide(season.limburg, ids[3], "undecided", at=t)
    season.store.decide(season.limburg, ids[3], "not_accepted", at=t)
    return ids


def test_status_counts_reach_pandas_polars_and_pyarrow(season: Season) -> None:
    ids = played(season)
    table = season.store.status_counts()
    rows = table.to_pylist()
    assert {
        "student": ids[3],
        "service": season.limburg,
        "status": "not_accepted",
        "count": 2,
    } in rows
    assert len(table) == len(rows) == 5
    assert table.column_names == ["student", "service", "status", "count"]

    arrow = pa.table(table)
    assert arrow.num_rows == 5 and arrow.schema.field("count").type == pa.int64()
    frame = pl.DataFrame(table)
    assert frame.filter(pl.col("status") == "accepted").height == 3
    pdf = pd.DataFrame(arrow.to_pandas())
    assert int(pdf["count"].sum()) == 6


def test_round_stats_as_a_dataframe(season: Season) -> None:
    played(season)
    stats = season.store.round_stats(at=at(9, 25))
    frame = pl.DataFrame(stats)
    r3 = frame.filter((pl.col("phase") == "round3") & (pl.col("service") == season.antwerp))
    assert r3["accepted"].sum() == 3
    assert r3["open"].sum() == 3
    assert r3["median_days_to_accept"].drop_nulls().to_list() == [112.0]
    html = stats._repr_html_()
    assert html.startswith("<table>") and "median_days_to_accept" in html
    assert "round3" in repr(pa.table(stats).column("phase").to_pylist())


def test_a_tab_as_a_table(season: Season) -> None:
    ids = played(season)
    t = at(9, 22)
    page = season.store.students(season.antwerp, tab="accepted", at=t, sort="name")
    frame = pl.DataFrame(page)
    assert frame["id"].to_list() == [r.id for r in page.rows] == ids[:3]
    numbers = frame["national_number"].to_list()
    assert len(set(numbers)) == 3 and all(n.startswith("850730") for n in numbers)
    assert frame.schema["registered_at"] == pl.Datetime("us", "UTC")

    open_page = season.store.students(season.limburg, at=t)
    rows = open_page.to_pylist()
    assert [r["id"] for r in rows] == [r.id for r in open_page.rows]
    assert all(r["national_number"] is None and r["phone"] is None for r in rows)
    assert rows[0]["registered_at"] == open_page.rows[0].registered_at
    assert pa.table(open_page.to_table()).num_rows == open_page.total == 3
    assert "3 matching students" in open_page._repr_html_()


def test_racing_accepts_from_python_threads_have_one_winner() -> None:
    store = sm.Store.memory()
    school = store.add_school(name="School")
    from conftest import student

    sid = store.register_student(school, **student("secondary", "Gegeerd", "2000"), at=at(6, 1))
    racers = []
    for k in range(16):
        svc = store.add_service(name=f"Dienst {k}", province="VAN")
        racers.append((svc, store.add_contact(svc, name="M", phone="03 123 45 67", email="m@d.be")))

    barrier = threading.Barrier(len(racers))

    def race(svc: str, contact: str) -> str:
        barrier.wait()
        try:
            store.decide(svc, sid, "accepted", contact=contact, at=at(9, 22))
            return "won"
        except sm.AlreadyPlaced:
            return "placed"

    with ThreadPoolExecutor(len(racers)) as pool:
        outcomes = list(pool.map(lambda r: race(*r), racers))
    assert outcomes.count("won") == 1
    assert outcomes.count("placed") == 15


def test_queries_run_in_parallel_threads(season: Season) -> None:
    played(season)
    t = at(9, 22)

    def look(_: int) -> int:
        return season.store.students(season.limburg, at=t).total

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(look, range(200))) == {3}
