//! Crash safety: a child process makes decisions and imports on a store file; the parent
//! kills it with SIGKILL at random moments, opens the file again and checks that
//!
//! - redb's integrity check passes,
//! - every decision and import the child had acknowledged is there, and nothing else but at
//!   most the one operation that was under way when it died (whole, or not at all),
//! - every import is whole or absent,
//! - no student is accepted by two services.
//!
//! The child is this test binary again, running `crash_child` with the store's path in the
//! environment; it prints `TRY ...` before an operation and `OK` or `ERR ...` after it, and
//! the parent replays those lines on its model of the store.
//!
//! `cargo test --test crash` kills the child 30 times; `STAGEMATCH_CRASH_KILLS=1000 cargo test
//! --release --test crash -- --nocapture` is the long run (its figures are printed at the end).
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use stagematch_core::synth::{self, Rng};
use stagematch_core::{
    ContactId, Decision, Error, Key, NewContact, Province, ServiceId, Status, Store, StudentId,
    Track,
};

const CHILD_PATH: &str = "STAGEMATCH_CRASH_CHILD";
const CHILD_SEED: &str = "STAGEMATCH_CRASH_SEED";
const CHILD_BASE: &str = "STAGEMATCH_CRASH_BASE";
const KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff";
const SERVICES: u32 = 3;
const FIRST_STUDENTS: u32 = 60;
const BATCH: usize = 12;

fn key() -> Key {
    Key::from_hex(KEY).unwrap()
}

fn open(path: &Path) -> Store {
    Store::open_with(path, None, Some(&key())).unwrap()
}

/// The first moment of cycle `n`: after round 3, when every unplaced student stays visible;
/// each cycle an hour later, so that decisions about a student keep the order of their moments.
fn base(cycle: u64) -> DateTime<Utc> {
    common::at(10, 1, 9, 0) + chrono::Duration::hours(cycle as i64)
}

/// Three services with a contact each, a school and the first students.
fn set_up(path: &Path) {
    let store = open(path);
    for (name, province) in [
        ("Familiehulp Gent", Province::EastFlanders),
        ("Familiezorg Antwerpen", Province::Antwerp),
        ("Thuiszorg Limburg", Province::Limburg),
    ] {
        let svc = store.add_service(name, province).unwrap();
        let contact = NewContact::new("Els Wouters", "03 111 22 33", "els@fz.be");
        store.add_contact(svc, &contact).unwrap();
    }
    let school = store.add_school("Sint-Jozef Zorgschool").unwrap();
    let first: Vec<_> = (0..FIRST_STUDENTS)
        .map(|k| common::student(Track::Secondary, &format!("Eerste{k}"), "9000", None))
        .collect();
    store
        .register_students(school, &first, common::at(6, 2, 10, 0))
        .unwrap();
}

/// The child: decisions and imports, one after the other, until it is killed.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_PATH) else {
        return;
    };
    let seed: u64 = std::env::var(CHILD_SEED).unwrap().parse().unwrap();
    let cycle: u64 = std::env::var(CHILD_BASE).unwrap().parse().unwrap();
    let mut rng = Rng::new(seed);
    let store = open(Path::new(&path));
    let school = store.find_school("Sint-Jozef Zorgschool").unwrap().id;
    println!("READY");

    for op in 0u64.. {
        let at = base(cycle) + chrono::Duration::seconds(op as i64);
        if rng.chance(8) {
            let tag = format!("Batch{cycle}x{op}");
            let mut file = String::from(
                "first_name;last_name;track;street;postcode;city;transport;periods;\
                 hours_per_week;total_hours;form;national_number\n",
            );
            for k in 0..BATCH {
                // A number no other student has: one counter over every cycle, as a birth
                // date before that of the first students and a serial.
                assert!(op < 800, "a cycle made more than 800 operations");
                let n = cycle * 10_000 + op * BATCH as u64 + k as u64;
                let born = chrono::NaiveDate::from_ymd_opt(1984, 1, 1).unwrap()
                    - chrono::Duration::days((n / 997) as i64);
                let serial = (n % 997) as u32 + 1;
                file.push_str(&format!(
                    "Lina;{tag}n{k};adult;Kerkstraat {k};9000;Gent;bike;\
                     06/10/2025-31/10/2025;16;120;blok;{}\n",
                    synth::national_number(born, serial)
                ));
            }
            println!("TRY I {tag}");
            report(store.import_students(file.as_bytes(), school, at).map(drop));
        } else {
            let count = u32::try_from(store.student_count()).unwrap();
            let student = StudentId::new(1 + rng.below(u64::from(count)) as u32).unwrap();
            let service = 1 + rng.below(u64::from(SERVICES)) as u32;
            let status = match rng.below(6) {
                0 => Status::Accepted,
                1..=3 => Status::NotAccepted,
                _ => Status::Undecided,
            };
            println!("TRY D {service} {} {}", student.get(), status.code());
            let decision = match status {
                Status::Accepted => Decision::accept(ContactId::new(service).unwrap()),
                other => Decision::new(other),
            };
            let svc = ServiceId::new(service).unwrap();
            report(store.decide(svc, student, &decision, at));
        }
    }
}

fn report(result: stagematch_core::Result<()>) {
    match result {
        Ok(()) => println!("OK"),
        Err(Error::AlreadyPlaced { .. }) => println!("ERR placed"),
        Err(Error::InvalidTransition { .. }) => println!("ERR transition"),
        Err(e) => panic!("the child's operation failed: {e}"),
    }
}

/// One operation of the child, as it printed it.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Decide(u32, u32, Status),
    Import(String),
}

fn parse_op(line: &str) -> Op {
    let words: Vec<&str> = line.split(' ').collect();
    match words[..] {
        ["TRY", "D", svc, student, status] => Op::Decide(
            svc.parse().unwrap(),
            student.parse().unwrap(),
            status.parse().unwrap(),
        ),
        ["TRY", "I", tag] => Op::Import(tag.to_owned()),
        _ => panic!("the child printed {line:?}"),
    }
}

/// What the parent knows the store must hold.
#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    /// Status per (service, student), where it is not `undecided`.
    statuses: BTreeMap<(u32, u32), Status>,
    /// Imports, by tag.
    imports: BTreeMap<String, usize>,
    students: usize,
}

impl Model {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Decide(svc, student, Status::Undecided) => {
                self.statuses.remove(&(*svc, *student));
            }
            Op::Decide(svc, student, status) => {
                self.statuses.insert((*svc, *student), *status);
            }
            Op::Import(tag) => {
                self.imports.insert(tag.clone(), BATCH);
                self.students += BATCH;
            }
        }
    }

    /// What the store holds, read the same way.
    fn of(store: &Store) -> Model {
        let mut model = Model {
            students: store.student_count(),
            ..Model::default()
        };
        let students = store.all_students().unwrap();
        for s in &students {
            for svc in 1..=SERVICES {
                let status = store
                    .status(ServiceId::new(svc).unwrap(), s.id, None)
                    .unwrap();
                if status != Status::Undecided {
                    model.statuses.insert((svc, s.id.get()), status);
                }
            }
            if let Some(tag) = s.data.last_name.strip_prefix("Batch") {
                let tag = format!("Batch{}", tag.split('n').next().unwrap());
                *model.imports.entry(tag).or_default() += 1;
            }
        }
        model
    }
}

#[derive(Debug, Default)]
struct Figures {
    kills: u64,
    acknowledged: u64,
    in_flight_kept: u64,
    in_flight_lost: u64,
    repaired: u64,
    refused: u64,
}

/// Runs the child once, kills it after `delay`, and returns what it printed.
fn run_child(path: &Path, seed: u64, cycle: u64, delay: Duration) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_PATH, path)
        .env(CHILD_SEED, seed.to_string())
        .env(CHILD_BASE, cycle.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(|l| l.ok())
            .filter(|l| l.starts_with("TRY") || l.starts_with("OK") || l.starts_with("ERR"))
            .collect::<Vec<_>>()
    });

    std::thread::sleep(delay);
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the child ended by itself: {status}"
    );
    reader.join().unwrap()
}

#[test]
fn killed_at_random_moments_the_store_keeps_what_it_acknowledged() {
    if std::env::var(CHILD_PATH).is_ok() {
        return;
    }
    let kills: u64 = std::env::var("STAGEMATCH_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    set_up(&path);

    let mut model = Model {
        students: FIRST_STUDENTS as usize,
        ..Model::default()
    };
    let mut figures = Figures::default();
    let mut rng = Rng::new(2025);
    let started = Instant::now();

    for cycle in 0..kills {
        // Mostly kills in the middle of the work, some while the store is still opening.
        let delay = Duration::from_millis(if rng.chance(10) {
            rng.below(8)
        } else {
            8 + rng.below(120)
        });
        let lines = run_child(&path, rng.next_u64(), cycle, delay);
        figures.kills += 1;

        // Replay what the child acknowledged; keep the operation under way apart.
        let mut in_flight = None;
        for line in &lines {
            if line.starts_with("TRY") {
                in_flight = Some(parse_op(line));
            } else if let Some(op) = in_flight.take() {
                figures.acknowledged += 1;
                if line == "OK" {
                    model.apply(&op);
                } else {
                    figures.refused += 1;
                }
            }
        }

        match Store::check_file(&path) {
            Ok(true) => {}
            Ok(false) => figures.repaired += 1,
            Err(e) => panic!("cycle {cycle}: the integrity check failed: {e}"),
        }
        let found = Model::of(&open(&path));

        let mut with = model.clone();
        if let Some(op) = &in_flight {
            with.apply(op);
        }
        if found == model {
            figures.in_flight_lost += u64::from(in_flight.is_some());
        } else if in_flight.is_some() && found == with {
            figures.in_flight_kept += 1;
            model = with;
        } else {
            let missing: Vec<_> = model
                .statuses
                .iter()
                .filter(|(k, v)| found.statuses.get(k) != Some(v))
                .collect();
            panic!(
                "cycle {cycle}: the store does not hold what was acknowledged \
                 (in flight: {in_flight:?}); differing: {missing:?}; imports {:?} vs {:?}",
                found.imports, model.imports
            );
        }

        // No student is accepted by two services, and every import is whole.
        let mut accepted: HashMap<u32, u32> = HashMap::new();
        for ((svc, student), status) in &found.statuses {
            if *status == Status::Accepted {
                let earlier = accepted.insert(*student, *svc);
                assert!(earlier.is_none(), "student {student} accepted twice");
            }
        }
        assert!(
            found.imports.values().all(|n| *n == BATCH),
            "{:?}",
            found.imports
        );
    }

    eprintln!(
        "{} kills in {:.0?}: {} operations acknowledged ({} refused as placed or not allowed), \
         in flight at the kill {} kept and {} lost, {} files repaired on reopening, {} \
         students, {} imports",
        figures.kills,
        started.elapsed(),
        figures.acknowledged,
        figures.refused,
        figures.in_flight_kept,
        figures.in_flight_lost,
        figures.repaired,
        model.students,
        model.imports.len(),
    );
    assert!(
        figures.acknowledged > kills,
        "the child did too little: {figures:?}"
    );
}
