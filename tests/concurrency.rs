//! Threads sharing one store: racing accepts have exactly one winner, and readers never see
//! half a decision.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use common::{at, student};
use stagematch_core::{Decision, Error, NewContact, Province, Query, Status, Store, Tab, Track};

#[test]
fn sixteen_services_race_for_one_student_on_a_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("race.redb")).unwrap());
    let school = store.add_school("School").unwrap();
    let sid = store
        .register_student(
            school,
            &student(Track::Secondary, "Gegeerd", "2000", None),
            at(6, 1, 9, 0),
        )
        .unwrap();
    let racers: Vec<_> = (0..16)
        .map(|k| {
            let svc = store
                .add_service(&format!("Dienst {k}"), Province::Antwerp)
                .unwrap();
            let c = store
                .add_contact(svc, &NewContact::new("M", "03 123 45 67", "m@d.be"))
                .unwrap();
            (svc, c)
        })
        .collect();

    let t = at(9, 22, 10, 0);
    let barrier = Arc::new(Barrier::new(racers.len()));
    let handles: Vec<_> = racers
        .iter()
        .map(|(svc, c)| {
            let (store, barrier, svc, c) = (store.clone(), barrier.clone(), *svc, *c);
            thread::spawn(move || {
                barrier.wait();
                store.decide(svc, sid, &Decision::accept(c), t)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let winners: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = racers[winners[0].0].0;
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(r, Err(Error::AlreadyPlaced { service, .. }) if *service == winner),
            "{r:?}"
        );
    }
    assert_eq!(store.placement(sid).unwrap().unwrap().service, winner);
    assert_eq!(store.history(Some(sid)).unwrap().len(), 1);
}

#[test]
fn readers_never_see_half_a_decision() {
    let store = Arc::new(Store::memory().unwrap());
    let school = store.add_school("School").unwrap();
    let batch: Vec<_> = (0..200)
        .map(|k| student(Track::Adult, &format!("S{k:03}"), "3500", None))
        .collect();
    let ids = store
        .register_students(school, &batch, at(6, 1, 9, 0))
        .unwrap();
    let services: Vec<_> = (0..4)
        .map(|k| {
            let svc = store
                .add_service(&format!("Dienst {k}"), Province::Limburg)
                .unwrap();
            let c = store
                .add_contact(svc, &NewContact::new("M", "011 12 34 56", "m@d.be"))
                .unwrap();
            (svc, c)
        })
        .collect();
    let t = at(9, 22, 10, 0);

    let writers: Vec<_> = services
        .iter()
        .map(|(svc, c)| {
            let (store, ids, svc, c) = (store.clone(), ids.clone(), *svc, *c);
            thread::spawn(move || {
                let mut won = 0;
                for id in ids {
                    match store.decide(svc, id, &Decision::accept(c), t) {
                        Ok(()) => won += 1,
                        Err(Error::AlreadyPlaced { .. }) => {}
                        Err(other) => panic!("{other}"),
                    }
                }
                won
            })
        })
        .collect();

    let writing = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = services
        .iter()
        .map(|(svc, _)| {
            let (store, svc, writing) = (store.clone(), *svc, writing.clone());
            thread::spawn(move || {
                let mut rounds = 0;
                while writing.load(Ordering::Acquire) || rounds < 5 {
                    rounds += 1;
                    let accepted = Query {
                        tab: Tab::Accepted,
                        limit: 200,
                        ..Query::default()
                    };
                    for card in store.students(svc, &accepted, t).unwrap().rows {
                        assert_eq!(card.status, Status::Accepted);
                        assert_eq!(card.placement.as_ref().map(|p| p.service), Some(svc));
                        assert!(card.phone.is_some());
                    }
                    let open = Query {
                        limit: 200,
                        ..Query::default()
                    };
                    for card in store.students(svc, &open, t).unwrap().rows {
                        assert_ne!(card.status, Status::Accepted);
                    }
                }
                rounds
            })
        })
        .collect();

    let won: usize = writers.into_iter().map(|h| h.join().unwrap()).sum();
    writing.store(false, Ordering::Release);
    let rounds: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(rounds >= 4 * 5);
    assert_eq!(won, ids.len());
    for id in &ids {
        assert!(store.placement(*id).unwrap().is_some());
    }
    assert_eq!(store.history(None).unwrap().len(), ids.len());
}

#[test]
fn batches_of_decisions_race_with_one_winner_per_student_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batches.redb");
    let store = Arc::new(Store::open(&path).unwrap());
    let school = store.add_school("School").unwrap();
    let mut cohort: Vec<_> = (0..60)
        .map(|k| student(Track::Secondary, &format!("S{k:03}"), "2000", None))
        .collect();
    cohort.extend((0..20).map(|k| student(Track::Dual, &format!("D{k:03}"), "2000", None)));
    let ids = store
        .register_students(school, &cohort, at(6, 1, 9, 0))
        .unwrap();
    let racers: Vec<_> = (0..6)
        .map(|k| {
            let svc = store
                .add_service(&format!("Dienst {k}"), Province::Antwerp)
                .unwrap();
            let c = store
                .add_contact(svc, &NewContact::new("M", "03 123 45 67", "m@d.be"))
                .unwrap();
            (svc, c)
        })
        .collect();

    // Every service sends one batch about every student: dual students invited, then
    // accepted in the same batch; the others accepted at once.
    let t = at(9, 22, 10, 0);
    let barrier = Arc::new(Barrier::new(racers.len()));
    let handles: Vec<_> = racers
        .iter()
        .map(|&(svc, c)| {
            let (store, barrier, ids) = (store.clone(), barrier.clone(), ids.clone());
            thread::spawn(move || {
                let mut batch = Vec::new();
                for (k, id) in ids.iter().enumerate() {
                    if k >= 60 {
                        batch.push((*id, Decision::new(Status::Invited)));
                    }
                    batch.push((*id, Decision::accept(c)));
                }
                barrier.wait();
                (
                    svc,
                    batch.clone(),
                    store.decide_many(svc, &batch, t).unwrap(),
                )
            })
        })
        .collect();
    let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    for (svc, batch, results) in &outcomes {
        assert_eq!(batch.len(), results.len());
        for ((id, decision), result) in batch.iter().zip(results) {
            let placement = store.placement(*id).unwrap().unwrap();
            match result {
                Ok(()) if decision.status == Status::Accepted => {
                    assert_eq!(placement.service, *svc)
                }
                Ok(()) => assert_eq!(decision.status, Status::Invited),
                Err(Error::AlreadyPlaced { service, .. }) => {
                    assert_eq!(*service, placement.service);
                    assert_ne!(*service, *svc);
                }
                Err(other) => panic!("{other:?}"),
            }
        }
    }
    let accepts: usize = outcomes
        .iter()
        .flat_map(|(_, b, r)| b.iter().zip(r))
        .filter(|((_, d), r)| d.status == Status::Accepted && r.is_ok())
        .count();
    assert_eq!(accepts, ids.len(), "exactly one accept per student");

    // What was acknowledged is in the file.
    let placed: Vec<_> = ids.iter().map(|id| store.placement(*id).unwrap()).collect();
    let audit = store.history(None).unwrap().len();
    drop(outcomes);
    drop(store);
    let reopened = Store::open(&path).unwrap();
    let again: Vec<_> = ids
        .iter()
        .map(|id| reopened.placement(*id).unwrap())
        .collect();
    assert_eq!(placed, again);
    assert_eq!(reopened.history(None).unwrap().len(), audit);
}

#[test]
fn a_batch_checks_each_decision_and_records_the_good_ones() {
    let store = Store::memory().unwrap();
    let school = store.add_school("School").unwrap();
    let svc = store.add_service("Dienst", Province::Antwerp).unwrap();
    let other = store.add_service("Andere", Province::Antwerp).unwrap();
    let c = store
        .add_contact(svc, &NewContact::new("M", "03 123 45 67", "m@d.be"))
        .unwrap();
    let foreign = store
        .add_contact(other, &NewContact::new("N", "03 123 45 68", "n@d.be"))
        .unwrap();
    let cohort = [
        student(Track::Secondary, "Een", "2000", None),
        student(Track::Dual, "Twee", "2000", None),
        student(Track::Secondary, "Drie", "2000", None),
    ];
    let ids = store
        .register_students(school, &cohort, at(6, 1, 9, 0))
        .unwrap();

    let t = at(9, 22, 10, 0);
    let results = store
        .decide_many(
            svc,
            &[
                (ids[0], Decision::accept(c)),
                (ids[1], Decision::accept(c)), // dual: not without an invitation
                (ids[2], Decision::accept(foreign)),
                (ids[0], Decision::new(Status::NotAccepted)),
                (ids[2], Decision::new(Status::NotAccepted)),
            ],
            t,
        )
        .unwrap();
    assert!(results[0].is_ok(), "{results:?}");
    assert!(matches!(results[1], Err(Error::InvalidTransition { .. })));
    assert_eq!(results[2].as_ref().unwrap_err().field(), Some("contact"));
    assert!(matches!(results[3], Err(Error::InvalidTransition { .. })));
    assert!(results[4].is_ok());

    assert_eq!(store.status(svc, ids[0], t).unwrap(), Status::Accepted);
    assert_eq!(store.status(svc, ids[1], t).unwrap(), Status::Undecided);
    assert_eq!(store.status(svc, ids[2], t).unwrap(), Status::NotAccepted);
    assert_eq!(store.history(None).unwrap().len(), 2);
    assert!(store.decide_many(svc, &[], t).unwrap().is_empty());
    assert!(matches!(
        store.decide_many("svc-9".parse().unwrap(), &[], t),
        Err(Error::NotFound { .. })
    ));
}
