//! CSV import and export, stagematch next to SQLite on the same cohort in the same run.
//!
//! - import: a school's file of N students into a new store file, every row validated, every
//!   national register number checked for duplicates and kept apart, one durable
//!   transaction; SQLite gets the same file read and validated by stagematch's reader and
//!   inserted through one prepared statement in one transaction (WAL, synchronous FULL) into
//!   a table with a unique index on the number, and, as a floor, the same file inserted as
//!   unchecked text without the index.
//! - export: a service's open tab sorted by name, and the coordinator's full export, to a file;
//!   SQLite writes its table sorted by name through an index on the name.
//!
//! Run: `cargo bench -p stagematch-bench --bench csv` (100 k and 1 M students), or with
//! `STAGEMATCH_BENCH_SIZES=100000`. Under `cargo test` it runs once at 2 000 students, as a
//! smoke test.

use std::hint::black_box;
use std::io::BufWriter;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use stagematch_bench as bench;
use stagematch_core::csv::ExportOptions;
use stagematch_core::{Query, ServiceId, Sort, brussels};

fn sizes() -> Vec<usize> {
    let full = std::env::args().any(|a| a == "--bench");
    match std::env::var("STAGEMATCH_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) if full => vec![100_000, 1_000_000],
        Err(_) => vec![2_000],
    }
}

fn import(crit: &mut Criterion) {
    bench::machine::report(&std::env::temp_dir());
    for n in sizes() {
        let file = bench::school_file(&bench::students(n));
        let dir = tempfile::tempdir().expect("tempdir");
        let at = brussels(2025, 5, 20, 9, 0).expect("moment");

        let mut group = crit.benchmark_group(format!("import/{n}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(100));
        group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 40 } else { 5 }));
        group.throughput(Throughput::Elements(n as u64));

        group.bench_function(BenchmarkId::new("stagematch", n), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for i in 0..iters {
                    let path = dir.path().join(format!("s{i}.redb"));
                    let (store, school) = bench::empty_store(&path);
                    let start = Instant::now();
                    let ids = store
                        .import_students(file.as_slice(), school, at)
                        .expect("import");
                    spent += start.elapsed();
                    assert_eq!(ids.len(), n);
                    drop(store);
                    std::fs::remove_file(&path).expect("remove");
                }
                spent
            })
        });

        for (name, run, rules) in [
            (
                "sqlite_validated",
                bench::sqlite_import_validated as fn(&mut _, &[u8]) -> usize,
                true,
            ),
            ("sqlite_unchecked", bench::sqlite_import_unchecked, false),
        ] {
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for i in 0..iters {
                        let path = dir.path().join(format!("q{i}.sqlite"));
                        let mut conn = bench::sqlite(&path);
                        if rules {
                            bench::sqlite_rules(&conn);
                        }
                        let start = Instant::now();
                        assert_eq!(run(&mut conn, file.as_slice()), n);
                        spent += start.elapsed();
                        drop(conn);
                        for end in ["", "-wal", "-shm"] {
                            let _ = std::fs::remove_file(format!("{}{end}", path.display()));
                        }
                    }
                    spent
                })
            });
        }
        group.finish();
    }
}

fn export(crit: &mut Criterion) {
    for n in sizes() {
        let students = bench::students(n);
        let file = bench::school_file(&students);
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, school) = bench::empty_store(&dir.path().join("export.redb"));
        store
            .import_students(
                file.as_slice(),
                school,
                brussels(2025, 5, 20, 9, 0).expect("at"),
            )
            .expect("import");
        let mut conn = bench::sqlite(&dir.path().join("export.sqlite"));
        bench::sqlite_import_unchecked(&mut conn, &file);
        bench::sqlite_name_index(&conn);

        // In January every registered student is in every service's open tab.
        let at = brussels(2026, 1, 20, 12, 0).expect("moment");
        let service = ServiceId::new(1).expect("id");
        let by_name = Query {
            sort: Sort::Name,
            ..Query::default()
        };
        let out = dir.path().join("out.csv");
        let options = ExportOptions::default();

        let mut group = crit.benchmark_group(format!("export/{n}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(100));
        group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 20 } else { 5 }));
        group.throughput(Throughput::Elements(n as u64));

        // Each export goes to a new file, as a user's would: truncating the last run's file
        // (and the kernel writing it back) is no part of an export's cost.
        type Export<'a> = Box<dyn Fn(BufWriter<std::fs::File>) -> usize + 'a>;
        let exports: [(&str, Export<'_>); 4] = [
            (
                "stagematch_tab_by_name",
                Box::new(|w| {
                    let query = &by_name;
                    store
                        .export_tab(service, query, at, &options, w)
                        .expect("export")
                }),
            ),
            (
                "stagematch_tab_default",
                Box::new(|w| {
                    let query = Query::default();
                    store
                        .export_tab(service, &query, at, &options, w)
                        .expect("export")
                }),
            ),
            (
                "stagematch_coordinator",
                Box::new(|w| store.export_students(&options, w).expect("export")),
            ),
            (
                "sqlite_by_name",
                Box::new(|w| black_box(bench::sqlite_export_by_name(&conn, w))),
            ),
        ];
        for (name, export) in &exports {
            group.bench_function(BenchmarkId::new(*name, n), |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let _ = std::fs::remove_file(&out);
                        let w = BufWriter::new(std::fs::File::create(&out).expect("file"));
                        let start = Instant::now();
                        assert_eq!(export(w), n);
                        spent += start.elapsed();
                    }
                    spent
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, import, export);
criterion_main!(benches);
