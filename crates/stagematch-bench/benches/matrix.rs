//! The benchmark matrix of QUALITY.md: stagematch next to a hand-written column-scan floor
//! and SQLite (bundled, in memory, the best of three index sets per query), on the same
//! generated cohort, in the same process.
//!
//! - `tab/N`: a service's open tab in round 3: broad (one province, bike or e-bike), narrow
//!   (postcode 9500 and a name), name substring, no filter, a deep page (offset 10 000), the
//!   count alone; then every sort order, first page and deep page.
//! - `open/N`: opening a store file of N students, ready to query, next to a bare redb scan
//!   of its student table.
//! - `decision`: one durable decision next to a raw 4 KiB write + fdatasync on the same disk
//!   and SQLite's durable update; p50 and p99 are printed besides criterion's figures.
//! - `race`: 16 threads accepting the same 64 students at once (one winner each, the rest
//!   `AlreadyPlaced`); SQLite with 16 connections, each accept a write transaction.
//!
//! The machine's memory copy rate and fdatasync time are printed first. Every engine is
//! checked against the others before it is timed.
//!
//! Run: `cargo bench -p stagematch-bench --bench matrix` (10 k, 100 k, 1 M), or with
//! `STAGEMATCH_BENCH_SIZES=2000000` for the scale check. Under `cargo test` it runs once at
//! 5 000 students as a smoke test.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use stagematch_bench::machine;
use stagematch_bench::tab::{Asker, Floor, IndexSet, SqliteTab, facts};
use stagematch_core::redb::{
    self, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};
use stagematch_core::{
    Decision, Error, Province, Query, Sort, Status, Store, StudentId, Transport, synth,
};

fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn sizes() -> Vec<usize> {
    match std::env::var("STAGEMATCH_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) if full() => vec![10_000, 100_000, 1_000_000],
        Err(_) => vec![5_000],
    }
}

fn queries(n: usize) -> Vec<(&'static str, Query)> {
    let deep = 10_000.min(n / 4);
    let mut list = vec![
        (
            "broad",
            Query {
                provinces: vec![Province::EastFlanders],
                transport: vec![Transport::Bike, Transport::EBike],
                ..Query::default()
            },
        ),
        (
            "narrow",
            Query {
                postcode: Some("9500".into()),
                name: Some("ael".into()),
                ..Query::default()
            },
        ),
        (
            "name",
            Query {
                name: Some("smet".into()),
                ..Query::default()
            },
        ),
        ("all", Query::default()),
        (
            "deep_page",
            Query {
                offset: deep,
                ..Query::default()
            },
        ),
        (
            "count",
            Query {
                limit: 0,
                ..Query::default()
            },
        ),
    ];
    for sort in Sort::ALL {
        for (page, offset) in [("first", 0), ("deep", deep)] {
            let label: &'static str =
                Box::leak(format!("sort_{}_{page}", sort.code().replace('-', "desc_")).into());
            list.push((
                label,
                Query {
                    sort,
                    offset,
                    ..Query::default()
                },
            ));
        }
    }
    list
}

/// The median time of `runs` calls of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

fn tab(crit: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    machine::report(dir.path());

    for n in sizes() {
        let built = Instant::now();
        let store = Store::memory().expect("store");
        let season = synth::cohort(&store, n, 2025).expect("cohort");
        let (service, province) = season.services[2];
        let at = season.at;
        let who = Asker::new(service, province, at);
        let all = facts(&store);
        let floor = Floor::new(&all);
        let sqlite: Vec<SqliteTab> = IndexSet::ALL
            .iter()
            .map(|set| SqliteTab::new(&all, *set))
            .collect();
        drop(all);
        eprintln!(
            "cohort of {n}: built in {:.1?}; query columns {:.1} bytes a student \
             (the floor's {:.1})",
            built.elapsed(),
            store.query_bytes_per_student(),
            floor.bytes_per_student()
        );

        let engine = |q: &Query| {
            let page = store.students(service, q, at).expect("query");
            (
                page.total,
                page.rows.iter().map(|r| r.id.get()).collect::<Vec<_>>(),
            )
        };

        let mut group = crit.benchmark_group(format!("tab/{n}"));
        group.sampling_mode(SamplingMode::Flat);
        if n >= 1_000_000 {
            group
                .sample_size(30)
                .measurement_time(Duration::from_secs(4));
        } else {
            group
                .sample_size(30)
                .measurement_time(Duration::from_secs(2));
        }
        group.warm_up_time(Duration::from_millis(300));

        for (label, q) in queries(n) {
            // All engines agree before anything is timed.
            let want = engine(&q);
            assert_eq!(floor.query(&who, &q), want, "floor, {label} at {n}");
            for s in &sqlite {
                assert_eq!(
                    s.query(&who, &q),
                    want,
                    "SQLite ({}), {label} at {n}",
                    s.indexes.name()
                );
            }

            // SQLite's best index set for this query, and its plan.
            let timed: Vec<(Duration, &SqliteTab)> = sqlite
                .iter()
                .map(|s| (median(3, || drop(black_box(s.query(&who, &q)))), s))
                .collect();
            let (_, best) = timed.iter().min_by_key(|(t, _)| *t).expect("an index set");
            eprintln!(
                "{n} {label}: SQLite {}; best: {} (plan: {})",
                timed
                    .iter()
                    .map(|(t, s)| format!("{} {:.2} ms", s.indexes.name(), t.as_secs_f64() * 1e3))
                    .collect::<Vec<_>>()
                    .join(", "),
                best.indexes.name(),
                best.plan(&who, &q)
            );

            group.bench_function(BenchmarkId::new("stagematch", label), |b| {
                b.iter(|| black_box(engine(&q)))
            });
            group.bench_function(BenchmarkId::new("floor", label), |b| {
                b.iter(|| black_box(floor.query(&who, &q)))
            });
            group.bench_function(BenchmarkId::new("sqlite_best", label), |b| {
                b.iter(|| black_box(best.query(&who, &q)))
            });
        }
        group.finish();

        // p50 and p99 of the bar's query: the default order, first page and total.
        let q = Query::default();
        let times: Vec<Duration> = (0..if full() { 400 } else { 20 })
            .map(|_| {
                let start = Instant::now();
                black_box(store.students(service, &q, at).expect("query"));
                start.elapsed()
            })
            .collect();
        eprintln!(
            "{n} open tab, default order, first page and total: p50 {:.2} ms, p99 {:.2} ms \
             over {} runs",
            machine::percentile(&times, 50.0).as_secs_f64() * 1e3,
            machine::percentile(&times, 99.0).as_secs_f64() * 1e3,
            times.len()
        );
    }
}

const STUDENTS: TableDefinition<u32, &[u8]> = TableDefinition::new("students");

fn open(crit: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    for n in sizes() {
        let path = dir.path().join(format!("open-{n}.redb"));
        {
            let store = Store::open(&path).expect("store");
            synth::cohort(&store, n, 2025).expect("cohort");
        }

        let mut group = crit.benchmark_group(format!("open/{n}"));
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        if n >= 1_000_000 {
            group.measurement_time(Duration::from_secs(20));
        }
        group.bench_function("stagematch_open_ready_to_query", |b| {
            b.iter(|| {
                let store = Store::open(&path).expect("open");
                assert_eq!(store.student_count(), n);
                store
            })
        });
        group.bench_function("redb_scan_of_the_student_table", |b| {
            b.iter(|| {
                let db = redb::Database::open(&path).expect("open");
                let txn = db.begin_read().expect("read");
                let table = txn.open_table(STUDENTS).expect("table");
                let mut bytes = 0usize;
                for item in table.iter().expect("iter") {
                    let (_, value) = item.expect("item");
                    bytes += value.value().len();
                }
                assert_eq!(table.len().expect("len") as usize, n);
                black_box(bytes)
            })
        });
        group.finish();
    }
}

/// A durable decision: stagematch, a raw write + fdatasync, SQLite's update with an audit row.
fn decision(crit: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("decisions.redb");
    let store = Store::open(&path).expect("store");
    let season = synth::cohort(&store, 5_000, 2025).expect("cohort");
    let (service, _) = season.services[0];
    let base = season.at + chrono::Duration::days(1);

    // Each call turns a student down or back to undecided, at ever later moments.
    let mut step = 0i64;
    let mut decide = || {
        let student = StudentId::new((step % 4_000) as u32 + 1).expect("id");
        let to = if (step / 4_000) % 2 == 0 {
            Status::NotAccepted
        } else {
            Status::Undecided
        };
        let at = base + chrono::Duration::milliseconds(step);
        step += 1;
        match store.decide(service, student, &Decision::new(to), at) {
            Ok(()) | Err(Error::InvalidTransition { .. }) | Err(Error::AlreadyPlaced { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    };

    let sqlite_path = dir.path().join("decisions.sqlite");
    let conn = rusqlite::Connection::open(&sqlite_path).expect("sqlite");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE statuses (service INTEGER, student INTEGER, status TEXT,
                                PRIMARY KEY (service, student));
         CREATE TABLE audit (id INTEGER PRIMARY KEY, service INTEGER, student INTEGER,
                             status TEXT, at INTEGER);",
    )
    .expect("schema");
    let mut k = 0i64;
    let mut sqlite_decide = || {
        k += 1;
        let tx = conn.unchecked_transaction().expect("tx");
        tx.execute(
            "INSERT INTO statuses VALUES (1, ?1, 'not_accepted')
             ON CONFLICT (service, student) DO UPDATE SET status = excluded.status",
            [k % 4_000],
        )
        .expect("status");
        tx.execute(
            "INSERT INTO audit (service, student, status, at) VALUES (1, ?1, 'not_accepted', ?2)",
            [k % 4_000, k],
        )
        .expect("audit");
        tx.commit().expect("commit");
    };

    let probe = dir.path().join("probe");
    let mut file = std::fs::File::create(&probe).expect("probe");
    let mut raw_fsync = || {
        use std::io::Write;
        file.write_all(&[7u8; 4096]).expect("write");
        file.sync_data().expect("fdatasync");
    };

    let runs = if full() { 1_000 } else { 20 };
    let mut line = String::from("one durable decision, p50 / p99:");
    for (name, f) in [
        ("stagematch", &mut decide as &mut dyn FnMut()),
        ("raw fdatasync", &mut raw_fsync),
        ("SQLite", &mut sqlite_decide),
    ] {
        let times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        line.push_str(&format!(
            " {name} {:.3} / {:.3} ms;",
            machine::percentile(&times, 50.0).as_secs_f64() * 1e3,
            machine::percentile(&times, 99.0).as_secs_f64() * 1e3
        ));
    }
    eprintln!("{line} ({runs} runs each)");

    let mut group = crit.benchmark_group("decision");
    group.sample_size(50);
    group.bench_function("stagematch_decide", |b| b.iter(&mut decide));
    group.bench_function("raw_write_fdatasync", |b| b.iter(&mut raw_fsync));
    group.bench_function("sqlite_update_and_audit", |b| b.iter(&mut sqlite_decide));
    group.finish();
}

/// 16 services accepting the same 64 students at once: one winner each.
fn race(crit: &mut Criterion) {
    const THREADS: usize = 16;
    const STUDENTS_PER_RACE: u32 = 64;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut round = 0u32;

    let mut group = crit.benchmark_group("race");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("stagematch_16_threads_64_students", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let path = dir.path().join(format!("race-{round}.redb"));
                let store = Arc::new(Store::open(&path).expect("store"));
                let season =
                    synth::cohort(&store, STUDENTS_PER_RACE as usize * 3, 7).expect("cohort");
                let at = season.at + chrono::Duration::hours(1);
                let racing: Vec<StudentId> = store
                    .all_students()
                    .expect("students")
                    .into_iter()
                    .filter(|s| !s.data.track.is_dual())
                    .map(|s| s.id)
                    .filter(|id| store.placement(*id).expect("placement").is_none())
                    .take(STUDENTS_PER_RACE as usize)
                    .collect();
                let barrier = Arc::new(Barrier::new(THREADS));
                let start = Instant::now();
                let winners: usize = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..THREADS)
                        .map(|t| {
                            let (store, barrier, season) = (&store, &barrier, &season);
                            let racing = &racing;
                            scope.spawn(move || {
                                let (service, _) = season.services[t];
                                let contact = season.contacts[t];
                                barrier.wait();
                                let mut won = 0;
                                for &id in racing {
                                    match store.decide(service, id, &Decision::accept(contact), at)
                                    {
                                        Ok(()) => won += 1,
                                        Err(Error::AlreadyPlaced { .. }) => {}
                                        Err(e) => panic!("{e}"),
                                    }
                                }
                                won
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().expect("thread")).sum()
                });
                spent += start.elapsed();
                assert_eq!(winners, racing.len(), "one winner per student");
                drop(store);
                std::fs::remove_file(&path).expect("remove");
            }
            spent
        })
    });
    group.bench_function("sqlite_16_connections_64_students", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let path = dir.path().join(format!("race-{round}.sqlite"));
                {
                    let conn = rusqlite::Connection::open(&path).expect("sqlite");
                    conn.execute_batch(
                        "PRAGMA journal_mode = WAL;
                         CREATE TABLE students (id INTEGER PRIMARY KEY, accepted_by INTEGER);",
                    )
                    .expect("schema");
                    for s in 1..=STUDENTS_PER_RACE {
                        conn.execute("INSERT INTO students VALUES (?1, NULL)", [s])
                            .expect("insert");
                    }
                }
                let barrier = Arc::new(Barrier::new(THREADS));
                let start = Instant::now();
                let winners: usize = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..THREADS)
                        .map(|t| {
                            let (path, barrier) = (&path, &barrier);
                            scope.spawn(move || {
                                let conn = rusqlite::Connection::open(path).expect("sqlite");
                                conn.execute_batch("PRAGMA synchronous = FULL;")
                                    .expect("pragma");
                                conn.busy_timeout(Duration::from_secs(30)).expect("timeout");
                                barrier.wait();
                                let mut won = 0;
                                for s in 1..=STUDENTS_PER_RACE {
                                    // What a developer writes for "exactly one accept": a
                                    // write transaction that takes the student only if free.
                                    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                                    let taken = conn
                                        .execute(
                                            "UPDATE students SET accepted_by = ?1
                                             WHERE id = ?2 AND accepted_by IS NULL",
                                            [t as u32 + 1, s],
                                        )
                                        .expect("update");
                                    conn.execute_batch("COMMIT").expect("commit");
                                    won += taken;
                                }
                                won
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().expect("thread")).sum()
                });
                spent += start.elapsed();
                assert_eq!(
                    winners, STUDENTS_PER_RACE as usize,
                    "one winner per student"
                );
                for end in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{end}", path.display()));
                }
            }
            spent
        })
    });
    group.finish();
}

criterion_group!(benches, tab, open, decision, race);
criterion_main!(benches);
