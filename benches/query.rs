//! A service's open tab at 10 k, 100 k and 1 M students: stagematch's column scan next to a
//! naive filter over the deserialized records, in the same process on the same cohort.
//!
//! Run: `cargo bench --bench query` (all sizes), or with `STAGEMATCH_BENCH_SIZES=10000,100000`.
//! Under `cargo test` the bench runs once at 10 k students, as a smoke test.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use stagematch_core::synth::{self, Rng};
use stagematch_core::{
    Calendar, Decision, NewContact, Page, Phase, Province, Query, ServiceId, Sort, Store, Student,
    Track, Transport, brussels, fold,
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

/// Builds a seeded cohort: 30 services, 60 schools, registrations from May to late September
/// (some inside the blackout), 2 % of the students accepted in round 3.
fn cohort(n: usize) -> Cohort {
    let store = Store::memory().expect("memory store");
    let services: Vec<(ServiceId, Province)> = synth::services(30)
        .into_iter()
        .map(|(name, p)| (store.add_service(&name, p).expect("service"), p))
        .collect();
    let schools: Vec<_> = synth::schools(60)
        .iter()
        .map(|name| store.add_school(name).expect("school"))
        .collect();
    let contacts: Vec<_> = services
        .iter()
        .map(|(s, _)| {
            store
                .add_contact(*s, &NewContact::new("Mentor", "09 123 45 67", "m@d.be"))
                .expect("contact")
        })
        .collect();

    let mut rng = Rng::new(2025);
    let batch = 10_000.min(n);
    let start = brussels(2025, 5, 15, 9, 0).expect("moment");
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        let students: Vec<_> = (0..k)
            .map(|_| synth::student(&mut rng, &services))
            .collect();
        let at = start + chrono::Duration::minutes((done as i64 * 131) % (130 * 24 * 60));
        let school = schools[rng.below(schools.len() as u64) as usize];
        store
            .register_students(school, &students, at)
            .expect("register");
        done += k;
    }

    let t = brussels(2025, 9, 25, 10, 0).expect("moment");
    let mut accepted = vec![0u32; n];
    for i in (0..n).step_by(50) {
        let (svc, _) = services[i % services.len()];
        let id = format!("stu-{}", i + 1).parse().expect("id");
        let track = store.student_record(id).expect("record").data.track;
        if track == Track::Dual {
            continue;
        }
        if store
            .decide(svc, id, &Decision::accept(contacts[i % services.len()]), t)
            .is_ok()
        {
            accepted[i] = svc.get();
        }
    }

    let records = store.all_students().expect("records");
    let school_names = store.schools().into_iter().map(|s| s.name).collect();
    let (service, province) = services[2];
    Cohort {
        store,
        records,
        accepted,
        service,
        province,
        school_names,
        t,
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
