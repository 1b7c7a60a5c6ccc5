//! Model-based tests: random sequences of up to 50 steps run against the store and against a
//! small model written here from `DOMAIN.md`, with the invariants checked after every step.
//!
//! - the decision machines: every outcome (ok, `AlreadyPlaced`, `InvalidTransition`) as the
//!   model predicts; at most one accept per student; accept is final; personal data only
//!   where the service's status is `invited` or `accepted`;
//! - visibility across the calendar: the open and accepted tabs of every service at random
//!   moments equal the model's, and a decision succeeds only on a visible student.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use common::{at, student};
use proptest::prelude::*;
use stagematch_core::{
    ContactId, Decision, Error, NewContact, Province, Query, ServiceId, Status, Store, StudentId,
    Tab, Track,
};

// ----- the decision machines ---------------------------------------------------------------

/// The machines of DOMAIN.md, written out again independently of the crate.
fn model_allows(track: Track, from: Status, to: Status) -> bool {
    use Status::*;
    let placement = [
        (Undecided, NotAccepted),
        (NotAccepted, Undecided),
        (Undecided, Accepted),
        (NotAccepted, Accepted),
    ];
    let interview = [
        (Undecided, NotInvited),
        (NotInvited, Undecided),
        (Undecided, Invited),
        (NotInvited, Invited),
        (Invited, Accepted),
        (Invited, NotAccepted),
        (Invited, NoShow),
        (NotAccepted, NoShow),
        (NoShow, NotAccepted),
    ];
    let table: &[(Status, Status)] = if track == Track::Dual {
        &interview
    } else {
        &placement
    };
    table.contains(&(from, to))
}

struct World {
    store: Store,
    services: Vec<(ServiceId, ContactId)>,
    students: Vec<(StudentId, Track)>,
}

fn world(tracks: &[Track]) -> World {
    let store = Store::memory().unwrap();
    let provinces = [Province::Antwerp, Province::Limburg, Province::EastFlanders];
    let services = provinces
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let svc = store.add_service(&format!("Dienst {k}"), *p).unwrap();
            let c = store
                .add_contact(svc, &NewContact::new("Mentor", "09 123 45 67", "m@d.be"))
                .unwrap();
            (svc, c)
        })
        .collect();
    let school = store.add_school("School").unwrap();
    let students = tracks
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let id = store
                .register_student(
                    school,
                    &student(*t, &format!("S{k}"), "2000", None),
                    at(6, 1, 9, 0),
                )
                .unwrap();
            (id, *t)
        })
        .collect();
    World {
        store,
        services,
        students,
    }
}

#[derive(Debug, Clone)]
struct Step {
    service: usize,
    student: usize,
    status: Status,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (
            0..3usize,
            0..4usize,
            proptest::sample::select(Status::ALL.to_vec()),
        )
            .prop_map(|(service, student, status)| Step {
                service,
                student,
                status,
            }),
        1..=50,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decision_machines_follow_the_model(
        tracks in proptest::collection::vec(proptest::sample::select(Track::ALL.to_vec()), 4),
        steps in steps(),
    ) {
        let w = world(&tracks);
        let mut status: HashMap<(usize, usize), Status> = HashMap::new();
        let mut placed: HashMap<usize, usize> = HashMap::new();
        let t0 = at(9, 20, 9, 0);

        for (n, step) in steps.iter().enumerate() {
            let t = t0 + Duration::minutes(n as i64);
            let (svc, contact) = w.services[step.service];
            let (sid, track) = w.students[step.student];
            let decision = if step.status == Status::Accepted {
                Decision::accept(contact)
            } else {
                Decision::new(step.status)
            };

            let from = status.get(&(step.service, step.student)).copied().unwrap_or(Status::Undecided);
            let result = w.store.decide(svc, sid, &decision, t);
            match placed.get(&step.student) {
                Some(&owner) if owner != step.service => {
                    prop_assert!(matches!(result, Err(Error::AlreadyPlaced { .. })), "{result:?}");
                }
                _ if !model_allows(track, from, step.status) => {
                    prop_assert!(matches!(result, Err(Error::InvalidTransition { .. })), "{result:?}");
                }
                _ => {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    status.insert((step.service, step.student), step.status);
                    if step.status == Status::Accepted {
                        placed.insert(step.student, step.service);
                    }
                }
            }

            // Invariants after every step.
            for (s, (svc, _)) in w.services.iter().enumerate() {
                let accepted = Query { tab: Tab::Accepted, ..Query::default() };
                let page = w.store.students(*svc, &accepted, t).unwrap();
                let mine: usize = placed.values().filter(|o| **o == s).count();
                prop_assert_eq!(page.total, mine);

                let open = w.store.students(*svc, &Query::default(), t).unwrap();
                prop_assert_eq!(open.total, w.students.len() - placed.len());
                for card in open.rows.iter().chain(&page.rows) {
                    let k = w.students.iter().position(|(id, _)| *id == card.id).unwrap();
                    let st = status.get(&(s, k)).copied().unwrap_or(Status::Undecided);
                    prop_assert_eq!(card.status, st);
                    let allowed = matches!(st, Status::Invited | Status::Accepted);
                    prop_assert_eq!(card.national_number.is_some(), allowed);
                    prop_assert_eq!(card.email.is_some(), allowed);
                    prop_assert_eq!(card.phone.is_some(), allowed);
                    let supervisor = card.supervisor.as_ref().unwrap();
                    prop_assert_eq!(supervisor.email.is_some(), allowed);
                    prop_assert_eq!(supervisor.phone.is_some(), allowed);
                    prop_assert!(supervisor.name.is_some());
                }
            }
            for (k, (sid, _)) in w.students.iter().enumerate() {
                let accepts = w
                    .services
                    .iter()
                    .filter(|(svc, _)| w.store.status(*svc, *sid, t).unwrap() == Status::Accepted)
                    .count();
                prop_assert!(accepts <= 1);
                let owner = w.store.placement(*sid).unwrap().map(|p| p.service);
                prop_assert_eq!(owner, placed.get(&k).map(|s| w.services[*s].0));
            }
        }
    }
}

// ----- visibility across the calendar ------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Register {
        track: Track,
        postcode: &'static str,
        pref: Option<usize>,
        minutes: i64,
    },
    Decide {
        service: usize,
        student: usize,
        minutes: i64,
    },
    Look {
        service: usize,
        minutes: i64,
    },
}

/// Minutes from 1 May to 31 December 2025, with the boundaries of the calendar
/// over-weighted.
fn moment() -> impl Strategy<Value = i64> {
    let base = at(5, 1, 0, 0);
    let boundaries: Vec<i64> = [
        at(6, 16, 0, 0),
        at(6, 30, 12, 0),
        at(8, 15, 12, 0),
        at(9, 5, 12, 0),
        at(9, 19, 12, 0),
        at(9, 30, 12, 0),
        at(12, 2, 0, 0),
    ]
    .iter()
    .map(|b| (*b - base).num_minutes())
    .collect();
    prop_oneof![
        0i64..(245 * 24 * 60),
        (proptest::sample::select(boundaries), -1i64..=1).prop_map(|(b, d)| b + d),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            proptest::sample::select(Track::ALL.to_vec()),
            proptest::sample::select(vec!["2000", "3500", "9000", "1000"]),
            proptest::option::of(0..3usize),
            moment(),
        )
            .prop_map(|(track, postcode, pref, minutes)| Op::Register {
                track,
                postcode,
                pref,
                minutes
            }),
        (0..3usize, 0..12usize, moment()).prop_map(|(service, student, minutes)| Op::Decide {
            service,
            student,
            minutes
        }),
        (0..3usize, moment()).prop_map(|(service, minutes)| Op::Look { service, minutes }),
    ]
}

struct ModelStudent {
    id: StudentId,
    track: Track,
    province: Province,
    pref: Option<usize>,
    registered: DateTime<Utc>,
    accepted: Option<(usize, DateTime<Utc>)>,
}

const SERVICE_PROVINCES: [Province; 3] =
    [Province::Antwerp, Province::Limburg, Province::EastFlanders];

/// DOMAIN.md's visibility rule for the default calendar, written out independently.
fn model_open(s: &ModelStudent, service: usize, t: DateTime<Utc>) -> bool {
    if s.accepted.is_some_and(|(_, when)| when <= t) {
        return false;
    }
    let blackout = at(6, 30, 12, 0) <= s.registered && s.registered < at(8, 15, 12, 0);
    let visible_from = if blackout {
        at(9, 19, 12, 0)
    } else {
        s.registered
    };
    if t < visible_from {
        return false;
    }
    if s.track == Track::Dual {
        return t >= at(6, 16, 0, 0);
    }
    if t < at(6, 30, 12, 0) {
        false
    } else if t < at(9, 5, 12, 0) {
        s.pref == Some(service) && s.province == SERVICE_PROVINCES[service]
    } else if t < at(9, 19, 12, 0) {
        s.pref == Some(service)
    } else {
        true
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn visibility_follows_the_calendar(ops in proptest::collection::vec(op(), 1..=50)) {
        let w = world(&[]);
        let school = w.store.schools()[0].id;
        let base = at(5, 1, 0, 0);
        let mut model: Vec<ModelStudent> = Vec::new();

        for op in ops {
            match op {
                Op::Register { track, postcode, pref, minutes } => {
                    let t = base + Duration::minutes(minutes);
                    let pref_id = pref.map(|p| w.services[p].0);
                    let new = student(track, "Student", postcode, pref_id);
                    let id = w.store.register_student(school, &new, t).unwrap();
                    let province = new.postcode.parse::<stagematch_core::Postcode>().unwrap().province();
                    model.push(ModelStudent { id, track, province, pref, registered: t, accepted: None });
                }
                Op::Decide { service, student: k, minutes } => {
                    if model.is_empty() {
                        continue;
                    }
                    let k = k % model.len();
                    let t = base + Duration::minutes(minutes);
                    let (svc, contact) = w.services[service];
                    let s = &model[k];
                    let decision = if s.track == Track::Dual {
                        Decision::new(Status::Invited)
                    } else {
                        Decision::accept(contact)
                    };
                    // Decisions about one student must come in the order of their moments.
                    let earlier = w.store.history(Some(s.id)).unwrap().iter().any(|e| e.at() > t);
                    let invited = w.store.status(svc, s.id, None).unwrap() == Status::Invited;
                    let result = w.store.decide(svc, s.id, &decision, t);
                    if let Some((owner, _)) = s.accepted {
                        if owner != service {
                            prop_assert!(matches!(result, Err(Error::AlreadyPlaced { .. })), "{result:?}");
                        } else {
                            let final_accept = matches!(
                                result,
                                Err(Error::InvalidTransition { from: Status::Accepted, .. })
                            );
                            prop_assert!(final_accept, "{result:?}");
                        }
                    } else if !model_open(s, service, t) {
                        prop_assert!(matches!(result, Err(Error::NotVisible { .. })), "{result:?}");
                    } else if invited {
                        let again = matches!(
                            result,
                            Err(Error::InvalidTransition { from: Status::Invited, to: Status::Invited, .. })
                        );
                        prop_assert!(again, "{result:?}");
                    } else if earlier {
                        let err = result.unwrap_err();
                        prop_assert_eq!(err.field(), Some("at"));
                    } else {
                        prop_assert!(result.is_ok(), "{:?}", result);
                        if s.track != Track::Dual {
                            model[k].accepted = Some((service, t));
                        }
                    }
                }
                Op::Look { service, minutes } => {
                    let t = base + Duration::minutes(minutes);
                    let svc = w.services[service].0;
                    let q = Query { limit: 1000, ..Query::default() };
                    let mut got: Vec<StudentId> = w.store.students(svc, &q, t).unwrap().rows.iter().map(|c| c.id).collect();
                    got.sort();
                    let want: Vec<StudentId> = model.iter().filter(|s| model_open(s, service, t)).map(|s| s.id).collect();
                    prop_assert_eq!(got, want);

                    let q = Query { tab: Tab::Accepted, limit: 1000, ..Query::default() };
                    let mut got: Vec<StudentId> = w.store.students(svc, &q, t).unwrap().rows.iter().map(|c| c.id).collect();
                    got.sort();
                    let want: Vec<StudentId> = model
                        .iter()
                        .filter(|s| s.accepted.is_some_and(|(o, when)| o == service && when <= t))
                        .map(|s| s.id)
                        .collect();
                    prop_assert_eq!(got, want);
                }
            }
        }
    }
}
