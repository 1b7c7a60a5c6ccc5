//! Personal data at rest: national register numbers sealed with the host's key, found twice
//! through a keyed digest, and a store of the first format brought forward unchanged.
#![allow(clippy::unwrap_used)]

mod common;

use common::{at, student};
use stagematch_core::csv::ExportOptions;
use stagematch_core::{Error, Key, Province, Store, Track};

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn with_a_key_numbers_are_sealed_and_the_store_needs_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sealed.redb");
    let key = Key::generate().unwrap();
    let new = student(Track::Secondary, "Peeters", "2000", None);
    let number = new.national_number.clone().unwrap();
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();

    let id = {
        let store = Store::open_with(&path, None, Some(&key)).unwrap();
        assert!(store.seals_personal_data());
        let school = store.add_school("School").unwrap();
        store
            .register_student(school, &new, at(6, 2, 10, 0))
            .unwrap()
    };
    assert!(
        !file_contains(&path, &digits),
        "the digits are not in the file"
    );
    assert!(!file_contains(&path, &number));

    assert!(matches!(Store::open(&path), Err(Error::KeyRequired)));
    let wrong = Key::generate().unwrap();
    assert!(matches!(
        Store::open_with(&path, None, Some(&wrong)),
        Err(Error::WrongKey)
    ));

    let store = Store::open_with(&path, None, Some(&key)).unwrap();
    let record = store.student_record(id).unwrap();
    assert_eq!(record.data.national_number.unwrap().digits(), digits);
    let mut csv = Vec::new();
    store
        .export_students(&ExportOptions::default(), &mut csv)
        .unwrap();
    let formatted = number
        .parse::<stagematch_core::NationalNumber>()
        .unwrap()
        .formatted();
    assert!(String::from_utf8(csv).unwrap().contains(&formatted));

    // The digest still finds the number registered again, however it is written.
    let school = store.add_school("Andere School").unwrap();
    let mut again = student(Track::Adult, "Dubbel", "2000", None);
    again.national_number = Some(digits.clone());
    let err = store
        .register_student(school, &again, at(6, 3, 10, 0))
        .unwrap_err();
    assert_eq!(err.field(), Some("national_number"));
    assert!(err.to_string().contains(&id.to_string()), "{err}");
    assert!(!err.to_string().contains(&digits), "{err}");
}

#[test]
fn a_store_without_a_key_still_finds_duplicates_and_can_be_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clear.redb");
    let batch = [
        student(Track::Secondary, "Een", "2000", None),
        student(Track::Secondary, "Twee", "2000", None),
    ];
    {
        let store = Store::open(&path).unwrap();
        assert!(!store.seals_personal_data());
        let school = store.add_school("School").unwrap();
        store
            .register_students(school, &batch, at(6, 2, 10, 0))
            .unwrap();
        let twice = [batch[0].clone(), batch[0].clone()];
        let err = store
            .register_students(school, &twice, at(6, 2, 10, 0))
            .unwrap_err();
        assert_eq!(err.field(), Some("national_number"));
        assert_eq!(store.student_count(), 2);
    }

    // Given a key, the store seals what it holds and from then on needs the key.
    let key = Key::generate().unwrap();
    let store = Store::open_with(&path, None, Some(&key)).unwrap();
    let numbers: Vec<_> = store
        .all_students()
        .unwrap()
        .into_iter()
        .map(|s| s.data.national_number.unwrap().digits().to_owned())
        .collect();
    let expected: Vec<_> = batch
        .iter()
        .map(|s| s.national_number.clone().unwrap())
        .collect();
    assert_eq!(numbers, expected);
    drop(store);
    assert!(matches!(Store::open(&path), Err(Error::KeyRequired)));
}

#[test]
fn a_store_of_format_1_opens_with_every_student_and_number_as_before() {
    for key in [None, Some(Key::generate().unwrap())] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("format-1.redb");
        std::fs::copy("tests/fixtures/format-1-season.redb", &path).unwrap();

        let store = Store::open_with(&path, None, key.as_ref()).unwrap();
        let mut csv = Vec::new();
        store
            .export_students(&ExportOptions::default(), &mut csv)
            .unwrap();
        let expected = std::fs::read("tests/fixtures/format-1-season.csv").unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            String::from_utf8(expected).unwrap(),
            "key: {key:?}"
        );
        drop(store);

        // Brought forward once: it opens again as the current format.
        let again = Store::open_with(&path, None, key.as_ref()).unwrap();
        assert_eq!(again.student_count(), 28);
    }
}

#[test]
fn a_memory_store_with_a_key_works_like_a_file() {
    let key = Key::from_hex(&"ab".repeat(32)).unwrap();
    let store = Store::memory_with(None, Some(&key)).unwrap();
    let svc = store.add_service("Dienst", Province::Antwerp).unwrap();
    let school = store.add_school("School").unwrap();
    let id = store
        .register_student(
            school,
            &student(Track::Secondary, "Peeters", "2000", Some(svc)),
            at(6, 2, 10, 0),
        )
        .unwrap();
    assert!(
        store
            .student_record(id)
            .unwrap()
            .data
            .national_number
            .is_some()
    );
}

#[test]
fn with_a_key_an_untaken_invitation_is_sealed_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.redb");
    let key = Key::generate().unwrap();
    let token = {
        let store = Store::open_with(&path, None, Some(&key)).unwrap();
        let svc = store.add_service("Dienst", Province::Antwerp).unwrap();
        store
            .create_login("els@dienst.be", stagematch_core::Role::Service(svc))
            .unwrap()
    };
    assert!(!file_contains(&path, &token));

    let store = Store::open_with(&path, None, Some(&key)).unwrap();
    let outbox = store.take_outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].body.contains(&token));
}
