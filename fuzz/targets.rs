//! What each fuzz target checks, shared by the targets (`fuzz_targets/`, under cargo fuzz)
//! and by `tests/fuzz_corpus.rs`, which replays the kept corpus as an ordinary test.
//!
//! Every target feeds bytes to one parser and checks that it answers without a panic, with
//! a value or a typed error, and that what it accepts survives a round trip.
// Each fuzz target uses one of these functions.
#![allow(dead_code)]

use stagematch_core::csv::{ExportOptions, student_rows, write_student_file};
use stagematch_core::{Calendar, Error, NationalNumber, Postcode, ServiceId, Store};

/// A target: what it does with one input.
pub type Target = fn(&[u8]);

/// The targets by name, as the corpus folders are named.
pub const TARGETS: [(&str, Target); 5] = [
    ("csv_rows", csv_rows),
    ("csv_import", csv_import),
    ("national_number", national_number),
    ("postcode", postcode),
    ("calendar", calendar),
];

/// A school's CSV file: every row is a student or a row error with a line; a student read
/// from the file is written as a school's file again and reads back the same.
pub fn csv_rows(data: &[u8]) {
    // The one service, by name or by id, as a store resolves them.
    let resolve = |name: &str| {
        (name == "Familiehulp" || name == "svc-1")
            .then_some(ServiceId::new(1))
            .flatten()
    };
    let Ok(rows) = student_rows(data, resolve) else {
        return;
    };
    for (line, row) in rows {
        assert!(line >= 2, "row on line {line}");
        let Ok(student) = row else {
            continue;
        };
        let mut file = Vec::new();
        write_student_file([&student], &ExportOptions::default(), &mut file)
            .expect("writing into memory");
        let back: Vec<_> = student_rows(file.as_slice(), resolve)
            .expect("our own header")
            .collect();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].1.as_ref().expect("our own row"), &student);
    }
}

/// A school's CSV file imported into a store: every row or none, and a refused import
/// leaves the store exactly as it was.
pub fn csv_import(data: &[u8]) {
    let store = Store::memory().expect("a store in memory");
    store
        .add_service("Familiehulp", stagematch_core::Province::EastFlanders)
        .expect("service");
    let school = store.add_school("Sint-Lucas").expect("school");
    let before = store.digest().expect("digest");

    match store.import_students(data, school, None) {
        Ok(ids) => assert_eq!(ids.len(), store.student_count()),
        Err(Error::ImportFailed { errors }) => {
            assert!(!errors.is_empty());
            assert_eq!(store.digest().expect("digest"), before);
        }
        Err(e) => panic!("an import fails only with ImportFailed, not {e:?}"),
    }
}

/// A national register number: accepted ones keep their digits and read back from their
/// formatted form; refused ones name the field.
pub fn national_number(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<NationalNumber>() {
        Ok(n) => {
            assert_eq!(n.digits().len(), 11);
            assert_eq!(
                n.formatted().parse::<NationalNumber>().expect("formatted"),
                n
            );
        }
        Err(e) => assert_eq!(e.field(), Some("national_number")),
    }
}

/// A postcode: accepted ones are 1000 to 9999, have a province, and read back.
pub fn postcode(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Postcode>() {
        Ok(p) => {
            assert!((1000..=9999).contains(&p.get()));
            let _ = p.province();
            assert_eq!(p.get().to_string().parse::<Postcode>().expect("digits"), p);
        }
        Err(e) => assert_eq!(e.field(), Some("postcode")),
    }
}

/// A calendar file: an accepted calendar is valid and its own file reads back to it.
pub fn calendar(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Calendar::parse(text) {
        Ok(cal) => {
            cal.validate().expect("a parsed calendar is valid");
            assert_eq!(
                Calendar::parse(&cal.to_string()).expect("its own file"),
                cal
            );
        }
        Err(e) => assert!(e.field().is_some(), "{e:?}"),
    }
}
