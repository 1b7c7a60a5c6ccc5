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
