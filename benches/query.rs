//! A service's open tab at 10 k, 100 k and 1 M students: stagematch's column scan next to a
//! naive filter over the deserialized records, in the same process on the same cohort.
//!
//! Run: `cargo bench --bench query` (all sizes), or with `STAGEMATCH_BENCH_SIZES=10000,100000`.
//! Under `cargo test` the bench runs once at 10 k students, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use stagematch_core::synth;
use stagematch_core::{
    Calendar, Page, Phase, Province, Query, ServiceId, Sort, Store, Student, Track, Transport, fold,
};

struct Cohort {
    store: Store,
    records: Vec<Student>,
    accepted: Vec<u32>,
    service: ServiceId,
    province: Province,
    school_names: Vec<String>,
    t: DateTime<Utc>,
}

/// The seeded benchmark season of [`synth::cohort`] (30 services, 60 schools, registrations
/// from May to late September, some inside the blackout, 2 % accepted in round 3), and what
/// the naive version needs to know of it.
fn cohort(n: usize) -> Cohort {
    let store = Store::memory().expect("memory store");
    let season = synth::cohort(&store, n, 2025).expect("cohort");
    let records = store.all_students().expect("records");
    let accepted = records
        .iter()
        .map(|s| {
            store
                .placement(s.id)
                .expect("placement")
                .map_or(0, |p| p.service.get())
        })
        .collect();
    let school_names = store.schools().into_iter().map(|s| s.name).collect();
    let (service, province) = season.services[2];
    Cohort {
        store,
        records,
        accepted,
        service,
        province,
        school_names,
        t: season.at,
    }
}

/// What a developer would write without the engine: filter the records with the rules,
/// sort the matches by a computed key, take the page.
fn naive(c: &Cohort, q: &Query) -> (usize, Vec<u32>) {
    let cal = Calendar::default();
    let phase = cal.phase(c.t);
    let needle = q.name.as_deref().map(fold);

    let mut hits: Vec<&Student> = c
        .records
        .iter()
        .filter(|s| {
            if c.accepted[s.id.get() as usize - 1] != 0 {
                return false;
            }
            if cal.visible_from(s.registered_at()) > c.t {
                return false;
            }
            let pref = s.data.preferred_service == Some(c.service);
            let admitted = match (s.data.track, phase) {
                (Track::Dual, _) => cal.dual_open(c.t),
                (_, Phase::Closed) => false,
                (_, Phase::Round1) => pref && s.data.province() == c.province,
                (_, Phase::Round2) => pref,
                _ => true,
            };
            admitted
                && (q.provinces.is_empty() || q.provinces.contains(&s.data.province()))
                && (q.transport.is_empty()
                    || q.transport.iter().any(|t| s.data.transport.contains(*t)))
                && q.postcode
                    .as_ref()
                    .is_none_or(|p| s.data.postcode.to_string().starts_with(p))
                && needle.as_ref().is_none_or(|n| {
                    fold(&s.data.first_name).contains(n) || fold(&s.data.last_name).contains(n)
                })
                && q.school.as_ref().is_none_or(|x| {
                    fold(&c.school_names[s.school.get() as usize - 1]).contains(&fold(x))
                })
        })
        .collect();

    hits.sort_by_cached_key(|s| {
        (
            s.data.province(),
            s.data.postcode,
            fold(&s.data.last_name),
            fold(&s.data.first_name),
            s.id,
        )
    });
    let total = hits.len();
    (
        total,
        hits.iter()
            .skip(q.offset)
            .take(q.limit)
            .map(|s| s.id.get())
            .collect(),
    )
}

fn engine(c: &Cohort, q: &Query) -> Page {
    c.store.students(c.service, q, c.t).expect("query")
}

fn queries() -> Vec<(&'static str, Query)> {
    vec![
        ("all_default", Query::default()),
        (
            "broad",
            Query {
                provinces: vec![Province::EastFlanders],
                transport: vec![Transport::Bike, Transport::EBike],
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
        (
            "deep_page",
            Query {
                offset: 10_000,
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
    ]
}

fn sizes() -> Vec<usize> {
    let full = std::env::args().any(|a| a == "--bench");
    match std::env::var("STAGEMATCH_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        Err(_) if full => vec![10_000, 100_000, 1_000_000],
        Err(_) => vec![10_000],
    }
}

fn open_tab(crit: &mut Criterion) {
    for n in sizes() {
        let c = cohort(n);
        eprintln!(
            "cohort of {n}: {:.1} bytes of query columns per student",
            c.store.query_bytes_per_student()
        );

        // Both sides must agree before they are timed.
        for (label, q) in queries() {
            let page = engine(&c, &q);
            let ids: Vec<u32> = page.rows.iter().map(|r| r.id.get()).collect();
            assert_eq!((page.total, ids), naive(&c, &q), "{label} at {n}");
        }

        let mut group = crit.benchmark_group(format!("open_tab/{n}"));
        if n >= 1_000_000 {
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(8));
        }
        for (label, q) in queries() {
            group.bench_with_input(BenchmarkId::new("stagematch", label), &q, |b, q| {
                b.iter(|| black_box(engine(&c, q)))
            });
            group.bench_with_input(BenchmarkId::new("naive_records", label), &q, |b, q| {
                b.iter(|| black_box(naive(&c, q)))
            });
        }
        group.finish();

        let sorts = crit.benchmark_group(format!("sort/{n}"));
        let mut sorts = sorts;
        if n >= 1_000_000 {
            sorts.sample_size(20);
        }
        for sort in Sort::ALL {
            for (page, offset) in [("first", 0), ("deep", 10_000)] {
                let q = Query {
                    sort,
                    offset,
                    ..Query::default()
                };
                let id = BenchmarkId::new(format!("stagematch_{page}"), sort.code());
                sorts.bench_with_input(id, &q, |b, q| b.iter(|| black_box(engine(&c, q))));
            }
        }
        sorts.finish();
    }
}

criterion_group!(benches, open_tab);
criterion_main!(benches);
