//! Fault injection: a redb storage backend that fails its Nth I/O operation, once or from then
//! on, for every N up to the length of a workload. After each run the store is opened again on
//! the same bytes and must hold exactly what the workload acknowledged, plus, at most, whole
//! operations whose calls failed (a failed fsync may still have reached the disk), never a
//! part of one.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stagematch_core::redb::backends::InMemoryBackend;
use stagematch_core::redb::{BackendError, StorageBackend};
use stagematch_core::{
    Decision, Error, NewContact, Province, Role, Status, Store, Track, csv::ExportOptions, synth,
};

/// How the backend fails.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Never: counts operations.
    Never,
    /// The Nth operation fails; later ones succeed.
    Once(u64),
    /// The Nth operation and every later one fail.
    FromThenOn(u64),
}

/// The bytes live in an `InMemoryBackend` shared between the faulty run and the reopen.
#[derive(Debug)]
struct Faulty {
    inner: Arc<InMemoryBackend>,
    mode: Mode,
    count: Arc<AtomicU64>,
}

impl Faulty {
    fn new(inner: Arc<InMemoryBackend>, mode: Mode) -> Faulty {
        Faulty {
            inner,
            mode,
            count: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts one operation and says whether it must fail.
    fn fault(&self) -> Result<(), BackendError> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let fails = match self.mode {
            Mode::Never => false,
            Mode::Once(k) => n == k,
            Mode::FromThenOn(k) => n >= k,
        };
        if fails {
            Err(BackendError::Io(std::io::Error::other(format!(
                "injected fault at I/O operation {n}"
            ))))
        } else {
            Ok(())
        }
    }
}

impl StorageBackend for Faulty {
    fn len(&self) -> Result<u64, BackendError> {
        self.fault()?;
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), BackendError> {
        self.fault()?;
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), BackendError> {
        self.fault()?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), BackendError> {
        self.fault()?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        self.fault()?;
        self.inner.write(offset, data)
    }
}

/// One step of the workload. Steps find what they need by name, so that a reference run that
/// leaves a step out still runs the rest.
type Step = fn(&Store) -> stagematch_core::Result<()>;

fn number(serial: u32) -> String {
    synth::national_number(
        common::day(3, 14) - chrono::Duration::days(365 * 19),
        serial,
    )
}

fn gent(store: &Store) -> stagematch_core::Result<stagematch_core::ServiceId> {
    Ok(store.find_service("Familiehulp Gent")?.id)
}

fn student_named(store: &Store, last: &str) -> stagematch_core::Result<stagematch_core::StudentId> {
    store
        .all_students()?
        .into_iter()
        .find(|s| s.data.last_name == last)
        .map(|s| s.id)
        .ok_or_else(|| stagematch_core::Error::NotFound {
            what: "student",
            id: last.into(),
        })
}

fn workload() -> Vec<(&'static str, Step)> {
    vec![
        ("add a service", |s| {
            s.add_service("Familiehulp Gent", Province::EastFlanders)
                .map(drop)
        }),
        ("add a second service", |s| {
            s.add_service("Familiezorg Antwerpen", Province::Antwerp)
                .map(drop)
        }),
        ("add a contact", |s| {
            let contact = NewContact::new("An Peeters", "09 222 33 44", "an@fh.be");
            s.add_contact(gent(s)?, &contact).map(drop)
        }),
        ("add a school", |s| {
            s.add_school("Sint-Lucas Gent").map(drop)
        }),
        ("register three students", |s| {
            let school = s.find_school("Sint-Lucas Gent")?.id;
            let mut batch = Vec::new();
            for (k, last) in ["Aerts", "Bosmans", "Claes"].into_iter().enumerate() {
                let mut student = common::student(Track::Secondary, last, "9000", None);
                student.national_number = Some(number(k as u32 + 1));
                batch.push(student);
            }
            s.register_students(school, &batch, common::at(6, 2, 10, 0))
                .map(drop)
        }),
        ("import five students", |s| {
            let school = s.find_school("Sint-Lucas Gent")?.id;
            let mut file = String::from(
                "first_name;last_name;track;street;postcode;city;transport;periods;\
                 hours_per_week;total_hours;form;national_number\n",
            );
            for k in 0..5u32 {
                file.push_str(&format!(
                    "Lina;Imported{k};adult;Kerkstraat {k};9000;Gent;bike;\
                     06/10/2025-31/10/2025;16;120;blok;{}\n",
                    number(10 + k)
                ));
            }
            s.import_students(file.as_bytes(), school, common::at(6, 3, 10, 0))
                .map(drop)
        }),
        ("turn a student down", |s| {
            let student = student_named(s, "Aerts")?;
            let no = Decision::new(Status::NotAccepted);
            s.decide(gent(s)?, student, &no, common::at(9, 20, 10, 0))
        }),
        ("accept a student", |s| {
            let svc = gent(s)?;
            let contact = s
                .contacts(svc)?
                .first()
                .map(|c| c.id)
                .ok_or(Error::NotFound {
                    what: "contact",
                    id: "An Peeters".into(),
                })?;
            let student = student_named(s, "Bosmans")?;
            s.decide(
                svc,
                student,
                &Decision::accept(contact),
                common::at(9, 20, 11, 0),
            )
        }),
        ("decide a batch", |s| {
            let svc = gent(s)?;
            let contact = s
                .contacts(svc)?
                .first()
                .map(|c| c.id)
                .ok_or(Error::NotFound {
                    what: "contact",
                    id: "An Peeters".into(),
                })?;
            let batch = vec![
                (student_named(s, "Claes")?, Decision::accept(contact)),
                (
                    student_named(s, "Imported2")?,
                    Decision::new(Status::NotAccepted),
                ),
            ];
            let at = common::at(9, 21, 9, 0);
            let results = s.decide_many(svc, &batch, at)?;
            results.into_iter().collect()
        }),
        ("create a login", |s| {
            s.create_login("planning@fh.be", Role::Service(gent(s)?))
                .map(drop)
        }),
        ("queue the mailings", |s| {
            s.queue_mailings(common::at(9, 22, 9, 0)).map(drop)
        }),
        ("take the outbox", |s| s.take_outbox().map(drop)),
    ]
}

/// Everything a user can read of a store, as text (tokens, which are random, left out).
fn fingerprint(store: &Store) -> String {
    let mut export = Vec::new();
    store
        .export_students(&ExportOptions::default(), &mut export)
        .unwrap();
    let logins: Vec<_> = store
        .logins()
        .into_iter()
        .map(|l| (l.email, l.role, l.active))
        .collect();
    let outbox: Vec<_> = store
        .take_outbox()
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.to))
        .collect();
    format!(
        "{}\nservices {:?}\nschools {:?}\ncounts {:?}\nlog {:?}\nlogins {logins:?}\n\
         outbox {outbox:?}\n",
        String::from_utf8(export).unwrap(),
        store.services(),
        store.schools(),
        store.status_counts().unwrap(),
        store.history(None).unwrap(),
    )
}

/// Runs the workload on a fresh store, with the steps that `keep` allows.
fn reference(keep: impl Fn(usize) -> bool) -> String {
    let store = Store::memory().unwrap();
    store.set_clock(Some(common::at(9, 1, 8, 0)));
    for (k, (_, step)) in workload().into_iter().enumerate() {
        if keep(k) {
            // A step can fail here only where a step it needs was left out; the faulty run
            // then could not have acknowledged it either.
            let _ = step(&store);
        }
    }
    fingerprint(&store)
}

/// What one faulty run acknowledged: `Some(true)` acknowledged, `Some(false)` failed, `None`
/// never ran (the store did not open).
fn run(bytes: &Arc<InMemoryBackend>, mode: Mode) -> (Vec<Option<bool>>, u64) {
    let backend = Faulty::new(Arc::clone(bytes), mode);
    let count = Arc::clone(&backend.count);
    let mut outcome = vec![None; workload().len()];

    if let Ok(store) = Store::with_backend(backend, None, None) {
        store.set_clock(Some(common::at(9, 1, 8, 0)));
        for (k, (_, step)) in workload().into_iter().enumerate() {
            outcome[k] = Some(step(&store).is_ok());
        }
    }
    (outcome, count.load(Ordering::SeqCst))
}

#[test]
fn every_injected_fault_leaves_exactly_the_acknowledged_operations() {
    // The length of the workload in I/O operations, counted on a run without faults.
    let bytes = Arc::new(InMemoryBackend::new());
    let (outcome, total) = run(&bytes, Mode::Never);
    assert!(outcome.iter().all(|o| *o == Some(true)), "{outcome:?}");
    let whole = reference(|_| true);
    assert_eq!(
        fingerprint(&Store::with_backend(Faulty::new(bytes, Mode::Never), None, None).unwrap()),
        whole
    );
    assert!(total > 50, "the workload did only {total} I/O operations");

    let mut runs = 0;
    let mut failed_steps = 0;
    let mut unfinished = 0;
    let mut models: HashMap<u32, String> = HashMap::new();
    for n in 1..=total + 1 {
        for mode in [Mode::Once(n), Mode::FromThenOn(n)] {
            let bytes = Arc::new(InMemoryBackend::new());
            let (outcome, _) = run(&bytes, mode);
            runs += 1;
            failed_steps += outcome.iter().filter(|o| **o == Some(false)).count();

            // Opening again on the same bytes, without faults, must work, unless the store
            // was never created: then nothing was acknowledged and a clear error is right.
            let again =
                Store::with_backend(Faulty::new(Arc::clone(&bytes), Mode::Never), None, None);
            let reopened = match again {
                Ok(store) => store,
                Err(e) if outcome[0].is_none() => {
                    assert!(
                        matches!(e, Error::Storage(_) | Error::Corrupt(_) | Error::Io(_)),
                        "{mode:?}: {e:?}"
                    );
                    unfinished += 1;
                    continue;
                }
                Err(e) => panic!("{mode:?}: the store does not open again: {e}"),
            };
            let found = fingerprint(&reopened);

            // Acknowledged steps must be there; of the failed ones, any one may have reached
            // the bytes whole (its commit was written before the fault), but no part of one.
            let acked: u32 = (0..outcome.len())
                .filter(|k| outcome[*k] == Some(true))
                .map(|k| 1 << k)
                .sum();
            let mut masks = vec![acked];
            for (k, o) in outcome.iter().enumerate() {
                if *o == Some(false) {
                    masks.push(acked | 1 << k);
                }
            }
            for mask in &masks {
                models
                    .entry(*mask)
                    .or_insert_with(|| reference(|k| mask & 1 << k != 0));
            }
            let matches = masks.iter().any(|mask| models[mask] == found);
            assert!(
                matches,
                "{mode:?}: outcome {outcome:?}, the reopened store matches no model:\n{found}"
            );
        }
    }

    eprintln!(
        "{runs} faulty runs, {failed_steps} failed steps, {unfinished} stores never created, \
         {total} I/O operations"
    );
    assert!(failed_steps > 0);
}
