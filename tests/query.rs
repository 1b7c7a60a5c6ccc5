//! The tabs' filters, sort orders and paging, checked against a naive model that filters and
//! sorts deserialized records the obvious way.
#![allow(clippy::unwrap_used)]

mod common;

use std::cmp::Ordering;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use common::{Season, at, season, student};
use proptest::prelude::*;
use stagematch_core::{
    Decision, Province, Query, Sort, Status, Student, StudentId, Tab, Track, Transport, fold,
};

const FIRST: [&str; 8] = [
    "Élodie", "Jan", "Ayşe", "Noor", "Émile", "Lotte", "Mohamed", "Zoë",
];
const LAST: [&str; 8] = [
    "Peeters",
    "De Smet",
    "Çelik",
    "Van Damme",
    "Maes",
    "Janssens",
    "Lefèvre",
    "Öztürk",
];
const POSTCODES: [&str; 8] = [
    "2000", "2018", "2800", "3500", "9000", "9500", "9520", "1000",
];

struct Fixture {
    season: Season,
    records: Vec<Student>,
    placed: std::collections::HashMap<StudentId, stagematch_core::ServiceId>,
    t: DateTime<Utc>,
}

impl Fixture {
    fn new(season: Season, t: DateTime<Utc>) -> Fixture {
        let records = season.store.all_students().unwrap();
        let placed = records
            .iter()
            .filter_map(|r| {
                season
                    .store
                    .placement(r.id)
                    .unwrap()
                    .map(|p| (r.id, p.service))
            })
            .collect();
        Fixture {
            season,
            records,
            placed,
            t,
        }
    }
}

/// 240 students of every kind, a second school, some accepted, queried in round 3.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let s = season();
        let other_school = s
            .store
            .add_school("Technisch Instituut Sint-Lucas")
            .unwrap();
        let mut ids = Vec::new();
        for k in 0..240usize {
            let track = [Track::Secondary, Track::Adult, Track::Dual][k % 3];
            let mut st = student(track, LAST[k % 8], POSTCODES[(k / 3) % 8], None);
            st.first_name = FIRST[(k * 7 / 5) % 8].into();
            st.transport = match k % 4 {
                0 => vec![Transport::Car],
                1 => vec![Transport::Bike, Transport::EBike],
                2 => vec![Transport::PublicTransport],
                _ => vec![Transport::Moped, Transport::Car],
            };
            let school = if k % 5 == 0 { other_school } else { s.school };
            let registered = at(6, 1 + (k % 28) as u32, 9, (k % 60) as u32);
            ids.push(s.store.register_student(school, &st, registered).unwrap());
        }

        let t = at(9, 25, 10, 0);
        for (k, id) in ids.iter().enumerate().filter(|(k, _)| k % 11 == 0) {
            let (svc, contact) = if k % 2 == 0 {
                (s.antwerp, s.antwerp_contact)
            } else {
                (s.limburg, s.limburg_contact)
            };
            if k % 3 == 2 {
                s.store
                    .decide(svc, *id, &Decision::new(Status::Invited), t)
                    .unwrap();
            }
            s.store
                .decide(svc, *id, &Decision::accept(contact), t)
                .unwrap();
        }

        assert_eq!(ids.len(), 240);
        Fixture::new(s, t)
    })
}

/// Names that trip naive name keys and naive substring searches: punctuation, non-ASCII
/// letters that do not fold to ASCII, and neighbours whose names run into each other.
const TRICKY: [(&str, &str); 12] = [
    ("De Wilde", "Eefje"),
    ("X", "Marie"),
    ("Eeckhout", "An"),
    ("D'z", "Ee"),
    ("D-a", "Lee"),
    ("Ærø", "Noor"),
    ("Øberg", "Sven"),
    ("Бойко", "Олена"),
    ("Яр", "Ірина"),
    ("Van der Veen", "Reetje"),
    ("O'Neill", "Ceés"),
    ("Peeters", "Eefke"),
];

/// More than two chunks of the engine (16 384 students each), with tricky names mixed into
/// synthetic ones, some accepted: exercises the multi-chunk bound and the sampled bound.
fn big() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let s = season();
        let services = [
            (s.antwerp, Province::Antwerp),
            (s.limburg, Province::Limburg),
        ];
        let mut rng = stagematch_core::synth::Rng::new(99);
        let batch: Vec<_> = (0..40_000)
            .map(|k| {
                let mut st = stagematch_core::synth::student(&mut rng, &services);
                if k % 3 == 0 {
                    let (last, first) = TRICKY[(k / 3) % TRICKY.len()];
                    st.last_name = last.into();
                    st.first_name = first.into();
                }
                // A few rare postcodes (Ostend, Knokke), as real cohorts have hundreds.
                if k % 50 == 1 {
                    (st.postcode, st.city) = if k % 100 == 1 {
                        ("8400".into(), "Oostende".into())
                    } else {
                        ("8300".into(), "Knokke-Heist".into())
                    };
                }
                st
            })
            .collect();
        for (k, part) in batch.chunks(5_000).enumerate() {
            s.store
                .register_students(s.school, part, at(6, 1 + k as u32, 9, 0))
                .unwrap();
        }
        let t = at(9, 25, 10, 0);
        for i in (0..40_000).step_by(97) {
            let id = format!("stu-{}", i + 1).parse().unwrap();
            let _ = s
                .store
                .decide(s.antwerp, id, &Decision::accept(s.antwerp_contact), t);
        }
        Fixture::new(s, t)
    })
}

/// What the naive model says a query returns: the total and the ids of the page.
fn model(f: &Fixture, svc: stagematch_core::ServiceId, q: &Query) -> (usize, Vec<StudentId>) {
    let schools = f.season.store.schools();
    let mut hits: Vec<&Student> = f
        .records
        .iter()
        .filter(|s| {
            let placed = f.placed.get(&s.id).copied();
            match q.tab {
                Tab::Accepted => placed == Some(svc),
                // Round 3: every unplaced student is visible.
                Tab::Open => placed.is_none(),
            }
        })
        .filter(|s| q.provinces.is_empty() || q.provinces.contains(&s.data.province()))
        .filter(|s| {
            q.transport.is_empty() || q.transport.iter().any(|t| s.data.transport.contains(*t))
        })
        .filter(|s| q.track.is_none_or(|t| t == s.data.track))
        .filter(|s| {
            q.postcode
                .as_deref()
                .is_none_or(|p| s.data.postcode.to_string().starts_with(p))
        })
        .filter(|s| {
            q.school.as_deref().is_none_or(|n| {
                let name = &schools[s.school.get() as usize - 1].name;
                fold(name).contains(&fold(n))
            })
        })
        .filter(|s| {
            q.name.as_deref().is_none_or(|n| {
                fold(&s.data.first_name).contains(&fold(n))
                    || fold(&s.data.last_name).contains(&fold(n))
            })
        })
        .collect();

    let name = |s: &Student| (fold(&s.data.last_name), fold(&s.data.first_name));
    hits.sort_by(|a, b| -> Ordering {
        match q.sort {
            Sort::Default => (a.data.province(), a.data.postcode, name(a), a.id).cmp(&(
                b.data.province(),
                b.data.postcode,
                name(b),
                b.id,
            )),
            Sort::Name => (name(a), a.id).cmp(&(name(b), b.id)),
            Sort::NameDesc => name(b).cmp(&name(a)).then(a.id.cmp(&b.id)),
            Sort::Postcode => {
                (a.data.postcode, name(a), a.id).cmp(&(b.data.postcode, name(b), b.id))
            }
            Sort::RegisteredDesc => (b.registered_micros, b.id).cmp(&(a.registered_micros, a.id)),
        }
    });

    let total = hits.len();
    let page = hits
        .into_iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|s| s.id)
        .collect();
    (total, page)
}

fn run(f: &Fixture, svc: stagematch_core::ServiceId, q: &Query) -> (usize, Vec<StudentId>) {
    let page = f.season.store.students(svc, q, f.t).unwrap();
    (page.total, page.rows.into_iter().map(|c| c.id).collect())
}

#[test]
fn name_filter_ignores_case_and_accents() {
    let f = fixture();
    let svc = f.season.antwerp;
    for needle in ["elodie", "ÉLODIE", "celik", "Çel", "zoe", "ÖZT", "van d"] {
        let q = Query {
            name: Some(needle.into()),
            limit: 500,
            ..Query::default()
        };
        let (total, rows) = run(f, svc, &q);
        assert!(total > 0, "{needle}");
        assert_eq!((total, rows), model(f, svc, &q), "{needle}");
    }
}

#[test]
fn each_filter_alone_matches_the_model() {
    let f = fixture();
    let svc = f.season.limburg;
    let queries = [
        Query {
            provinces: vec![Province::EastFlanders, Province::Brussels],
            ..Query::default()
        },
        Query {
            school: Some("sint-lucas".into()),
            ..Query::default()
        },
        Query {
            school: Some("zorg".into()),
            ..Query::default()
        },
        Query {
            postcode: Some("95".into()),
            ..Query::default()
        },
        Query {
            postcode: Some("9520".into()),
            ..Query::default()
        },
        Query {
            transport: vec![Transport::EBike, Transport::Moped],
            ..Query::default()
        },
        Query {
            track: Some(Track::Dual),
            ..Query::default()
        },
        Query {
            tab: Tab::Accepted,
            ..Query::default()
        },
    ];
    for q in queries {
        let got = run(f, svc, &q);
        assert!(got.0 > 0, "{q:?}");
        assert_eq!(got, model(f, svc, &q), "{q:?}");
    }
}

#[test]
fn every_sort_order_and_deep_pages() {
    let f = fixture();
    for sort in Sort::ALL {
        for (offset, limit) in [(0, 50), (37, 20), (200, 50), (5000, 10), (0, 0)] {
            let q = Query {
                sort,
                offset,
                limit,
                ..Query::default()
            };
            assert_eq!(
                run(f, f.season.antwerp, &q),
                model(f, f.season.antwerp, &q),
                "{sort} {offset}"
            );
        }
    }
}

#[test]
fn the_default_order_is_province_postcode_last_name() {
    let f = fixture();
    let page = f
        .season
        .store
        .students(
            f.season.antwerp,
            &Query {
                limit: 500,
                ..Query::default()
            },
            f.t,
        )
        .unwrap();
    let keys: Vec<_> = page
        .rows
        .iter()
        .map(|c| (c.province, c.postcode, fold(&c.last_name)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(page.rows[0].province, Province::Brussels);
}

#[test]
fn bad_query_values_name_their_field() {
    let f = fixture();
    for (field, q) in [
        (
            "postcode",
            Query {
                postcode: Some("9x".into()),
                ..Query::default()
            },
        ),
        (
            "postcode",
            Query {
                postcode: Some("95000".into()),
                ..Query::default()
            },
        ),
        (
            "limit",
            Query {
                limit: 1_000_000,
                ..Query::default()
            },
        ),
    ] {
        let err = f
            .season
            .store
            .students(f.season.antwerp, &q, f.t)
            .unwrap_err();
        assert_eq!(err.field(), Some(field));
    }
}

fn query_strategy() -> impl Strategy<Value = Query> {
    (
        prop_oneof![Just(Tab::Open), Just(Tab::Accepted)],
        proptest::option::of(prop_oneof![
            Just("e"),
            Just("PEE"),
            Just("ël"),
            Just("an"),
            Just("zz")
        ]),
        proptest::sample::subsequence(Province::ALL.to_vec(), 0..3),
        proptest::option::of(prop_oneof![Just("lucas"), Just("ZORG"), Just("nope")]),
        proptest::option::of(prop_oneof![Just("2"), Just("20"), Just("9500"), Just("3")]),
        proptest::sample::subsequence(Transport::ALL.to_vec(), 0..3),
        proptest::option::of(proptest::sample::select(Track::ALL.to_vec())),
        proptest::sample::select(Sort::ALL.to_vec()),
        0usize..120,
        0usize..60,
    )
        .prop_map(
            |(tab, name, provinces, school, postcode, transport, track, sort, offset, limit)| {
                Query {
                    tab,
                    name: name.map(Into::into),
                    provinces,
                    school: school.map(Into::into),
                    postcode: postcode.map(Into::into),
                    transport,
                    track,
                    sort,
                    offset,
                    limit,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_combination_matches_the_model(q in query_strategy(), antwerp in any::<bool>()) {
        let f = fixture();
        let svc = if antwerp { f.season.antwerp } else { f.season.limburg };
        prop_assert_eq!(run(f, svc, &q), model(f, svc, &q));
    }
}

#[test]
fn tricky_names_across_chunks_match_the_model() {
    let f = big();
    for needle in ["ee", "EE", "ée", "øb", "бой", "o'n", "d-a", "r v", "an"] {
        for sort in Sort::ALL {
            for offset in [0, 1_500] {
                let q = Query {
                    name: Some(needle.into()),
                    sort,
                    offset,
                    ..Query::default()
                };
                let got = run(f, f.season.antwerp, &q);
                assert!(got.0 > 0, "{needle}");
                assert_eq!(got, model(f, f.season.antwerp, &q), "{needle} {sort}");
            }
        }

        // With a postcode that leaves few students, each one's names are searched on its
        // own instead of sweeping all names: the same answers.
        for postcode in ["2", "20", "9000"] {
            let q = Query {
                name: Some(needle.into()),
                postcode: Some(postcode.into()),
                ..Query::default()
            };
            assert_eq!(
                run(f, f.season.antwerp, &q),
                model(f, f.season.antwerp, &q),
                "{needle} {postcode}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn many_students_match_the_model(q in query_strategy(), deep in 0usize..4) {
        let f = big();
        let q = Query { offset: q.offset + deep * 3_000, ..q };
        prop_assert_eq!(run(f, f.season.limburg, &q), model(f, f.season.limburg, &q));
    }
}

/// A postcode filter that leaves few students visits only that postcode's students (the
/// postcode index) instead of scanning everyone: every order, page, tab and other filter
/// on such postcodes gives the model's answer.
#[test]
fn queries_on_a_rare_postcode_match_the_model() {
    let f = big();
    let mut counts = std::collections::HashMap::<u16, usize>::new();
    for s in &f.records {
        *counts.entry(s.data.postcode.get()).or_default() += 1;
    }
    // Postcodes held by fewer than one student in 64, but by at least a page of them.
    let mut rare: Vec<(u16, usize)> = counts
        .into_iter()
        .filter(|(_, n)| *n * 64 < f.records.len() && *n > 60)
        .collect();
    rare.sort_unstable();
    assert!(!rare.is_empty(), "{rare:?}");

    for (postcode, _) in rare.iter().take(3) {
        let region = postcode.to_string();
        for prefix in [
            region.clone(),
            region[..3].to_owned(),
            region[..2].to_owned(),
        ] {
            for sort in Sort::ALL {
                for (tab, offset) in [(Tab::Open, 0), (Tab::Open, 40), (Tab::Accepted, 0)] {
                    for transport in [vec![], vec![Transport::Bike]] {
                        let q = Query {
                            tab,
                            postcode: Some(prefix.clone()),
                            transport,
                            sort,
                            offset,
                            ..Query::default()
                        };
                        for svc in [f.season.antwerp, f.season.limburg] {
                            let got = run(f, svc, &q);
                            assert_eq!(got, model(f, svc, &q), "{q:?}");
                        }
                    }
                }
            }
        }
    }
}

/// The postcode index is kept on every path that adds students: registrations, an import,
/// and opening the file again. A rare postcode's tab, visited through the index, holds
/// exactly the students of that postcode after each.
#[test]
fn the_postcode_index_follows_imports_and_reopening() {
    use stagematch_core::Store;
    use stagematch_core::csv::{ExportOptions, write_student_file};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.redb");
    let mut rng = stagematch_core::synth::Rng::new(5);
    let mut make = |k: usize| {
        let mut st = stagematch_core::synth::student(&mut rng, &[]);
        if k % 40 == 0 {
            (st.postcode, st.city) = ("8300".into(), "Knokke-Heist".into());
        }
        st
    };
    let registered: Vec<_> = (0..4_000).map(&mut make).collect();
    let imported: Vec<_> = (0..4_000).map(|k| make(k).into_data().unwrap()).collect();
    let mut file = Vec::new();
    write_student_file(&imported, &ExportOptions::default(), &mut file).unwrap();

    let check = |store: &Store, what: &str| {
        let svc = store.services()[0].id;
        let q = Query {
            postcode: Some("8300".into()),
            limit: 5_000,
            ..Query::default()
        };
        let page = store.students(svc, &q, at(9, 25, 10, 0)).unwrap();
        let mut got: Vec<StudentId> = page.rows.iter().map(|c| c.id).collect();
        got.sort_unstable();
        let want: Vec<StudentId> = store
            .all_students()
            .unwrap()
            .into_iter()
            .filter(|s| s.data.postcode.get() == 8300)
            .map(|s| s.id)
            .collect();
        assert!(!want.is_empty());
        assert_eq!((page.total, got), (want.len(), want), "{what}");
    };

    {
        let s = common::season_in(Store::open(&path).unwrap());
        s.store
            .register_students(s.school, &registered, at(6, 2, 10, 0))
            .unwrap();
        check(&s.store, "registered");
        s.store
            .import_students(file.as_slice(), s.school, at(6, 3, 10, 0))
            .unwrap();
        check(&s.store, "imported");
    }
    check(&Store::open(&path).unwrap(), "reopened");
}
