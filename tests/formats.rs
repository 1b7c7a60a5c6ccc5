//! Format versions: a small store written by the current format (2) is kept in
//! `tests/fixtures/`, so that a later build that changes the format must open it, or refuse it
//! clearly, and is tested against it; the store of format 1 is in `tests/personal.rs`.
//!
//! The fixture is written by `cargo test --test formats -- --ignored`; that is done once per
//! format version, never to make this test pass.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use stagematch_core::csv::ExportOptions;
use stagematch_core::{Decision, Error, FORMAT_VERSION, Key, Role, Status, Store, Track};

const KEY: &str = "5e1ec7ed5e1ec7ed5e1ec7ed5e1ec7ed00000000000000000000000000000002";
const FIXTURE: &str = "tests/fixtures/format-2-season";

fn key() -> Key {
    Key::from_hex(KEY).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn export(store: &Store) -> String {
    let mut csv = Vec::new();
    store
        .export_students(&ExportOptions::default(), &mut csv)
        .unwrap();
    String::from_utf8(csv).unwrap()
}

#[test]
#[ignore = "writes the fixture of a new format version; run once, by hand"]
fn write_the_format_2_fixture() {
    assert_eq!(
        FORMAT_VERSION, 2,
        "write a fixture for the new version instead"
    );
    let path = Path::new(FIXTURE).with_extension("redb");
    let _ = std::fs::remove_file(&path);
    {
        let s = common::season_in(Store::open_with(&path, None, Some(&key())).unwrap());
        s.store.set_clock(Some(common::at(9, 1, 8, 0)));
        let aerts = s.register(
            Track::Secondary,
            "Aerts",
            "2000",
            Some(s.antwerp),
            common::at(6, 2, 10, 0),
        );
        let bosmans = s.register(
            Track::Adult,
            "Bosmans",
            "3500",
            None,
            common::at(7, 10, 9, 0),
        );
        let claes = s.register(Track::Dual, "Claes", "2018", None, common::at(6, 20, 9, 0));
        s.register(
            Track::Secondary,
            "Dubois",
            "1000",
            None,
            common::at(9, 20, 9, 0),
        );
        let round1 = common::at(7, 1, 9, 0);
        s.store
            .decide(
                s.antwerp,
                aerts,
                &Decision::accept(s.antwerp_contact),
                round1,
            )
            .unwrap();
        let round3 = common::at(9, 22, 10, 0);
        s.store
            .decide(
                s.limburg,
                bosmans,
                &Decision::new(Status::NotAccepted),
                round3,
            )
            .unwrap();
        s.store
            .decide(s.antwerp, claes, &Decision::new(Status::Invited), round3)
            .unwrap();
        let token = s
            .store
            .create_login("els@fz.be", Role::Service(s.antwerp))
            .unwrap();
        s.store.activate(&token, "een lang wachtwoord").unwrap();
        s.store
            .create_login("coordinator@vivo.be", Role::Coordinator)
            .unwrap();
        std::fs::write(Path::new(FIXTURE).with_extension("csv"), export(&s.store)).unwrap();
        let digest = hex(&s.store.digest().unwrap());
        std::fs::write(
            Path::new(FIXTURE).with_extension("digest"),
            format!("{digest}\n"),
        )
        .unwrap();
    }
}

#[test]
fn a_store_of_the_current_format_opens_as_it_was_written() {
    assert_eq!(
        FORMAT_VERSION, 2,
        "a new format version must open this fixture (a migration), or refuse it clearly, \
         and get a fixture of its own"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("format-2.redb");
    std::fs::copy(Path::new(FIXTURE).with_extension("redb"), &path).unwrap();

    assert!(matches!(Store::open(&path), Err(Error::KeyRequired)));
    let other = Key::from_hex(&"ab".repeat(32)).unwrap();
    assert!(matches!(
        Store::open_with(&path, None, Some(&other)),
        Err(Error::WrongKey)
    ));

    let store = Store::open_with(&path, None, Some(&key())).unwrap();
    let digest = std::fs::read_to_string(Path::new(FIXTURE).with_extension("digest")).unwrap();
    assert_eq!(
        hex(&store.digest().unwrap()),
        digest.trim(),
        "opening changed the store"
    );
    let csv = std::fs::read_to_string(Path::new(FIXTURE).with_extension("csv")).unwrap();
    assert_eq!(export(&store), csv);
    assert_eq!(store.student_count(), 4);
    assert_eq!(store.history(None).unwrap().len(), 3);
    let logins = store.logins();
    assert_eq!(logins.len(), 2);
    assert!(logins.iter().any(|l| l.email == "els@fz.be" && l.active));
    assert!(store.sign_in("els@fz.be", "een lang wachtwoord").is_ok());
    drop(store);
    assert!(Store::check_file(&path).unwrap());
}
