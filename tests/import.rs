//! Importing a school's student CSV: every row or none, every bad row reported.
#![allow(clippy::unwrap_used)]

mod common;

use common::{at, season};
use stagematch_core::{Error, Query, Track};

const HEADER: &str = "first_name;last_name;track;street;postcode;city;transport;periods;\
                      hours_per_week;total_hours;form;preferred_service;national_number";

fn row(last: &str, postcode: &str, pref: &str) -> String {
    format!(
        "Noor;{last};secondary;Kerkstraat 1;{postcode};Gent;bike|openbaar vervoer;\
         06/10/2025-31/10/2025|2025-12-01/2025-12-19;16;120;blok;{pref};85.07.30-033.28"
    )
}

#[test]
fn a_good_file_is_stored_whole_and_visible() {
    let s = season();
    let file = format!(
        "{HEADER}\n{}\n{}\n\n{}\n",
        row("Aerts", "2000", "Familiezorg Antwerpen"),
        row("Bosmans", "3500", "svc-2"),
        row("Claes", "9000", "")
    );
    let ids = s
        .store
        .import_students(file.as_bytes(), s.school, at(6, 2, 10, 0))
        .unwrap();
    assert_eq!(ids.len(), 3);

    let round1 = s
        .store
        .students(s.antwerp, &Query::default(), at(7, 1, 9, 0))
        .unwrap();
    assert_eq!(
        round1
            .rows
            .iter()
            .map(|c| c.last_name.as_str())
            .collect::<Vec<_>>(),
        ["Aerts"]
    );
    let record = s.store.student_record(ids[1]).unwrap();
    assert_eq!(record.data.preferred_service, Some(s.limburg));
    assert_eq!(record.data.periods.len(), 2);
    assert_eq!(record.data.track, Track::Secondary);
}

#[test]
fn a_bad_file_stores_nothing_and_reports_every_bad_row() {
    let s = season();
    let before = s.store.student_count();
    let file = format!(
        "{HEADER}\n{}\n{}\n{}\n{}\nNoor;Kort\n{}\n",
        row("Goed", "2000", ""),
        row("Fout", "0999", ""),
        row("Goed", "2000", "Onbekende Dienst"),
        row("Goed", "2000", "").replace("85.07.30-033.28", "85.07.30-033.29"),
        row("Goed", "2000", "").replace("16;120", "sixteen;120"),
    );
    let err = s
        .store
        .import_students(file.as_bytes(), s.school, at(6, 2, 10, 0))
        .unwrap_err();
    let Error::ImportFailed { errors } = err else {
        panic!("{err:?}")
    };
    let found: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (3, "postcode"),
            (4, "preferred_service"),
            (5, "national_number"),
            (6, ""),
            (7, "hours_per_week")
        ]
    );
    assert_eq!(errors[0].value, "0999");
    assert_eq!(s.store.student_count(), before);
    assert!(s.store.all_students().unwrap().is_empty());
}

#[test]
fn encodings_and_headers() {
    let s = season();
    let mut latin1 = format!("{HEADER}\n").into_bytes();
    latin1.extend_from_slice(
        row("Lef\u{e8}vre", "2000", "")
            .replace('è', "\u{0}")
            .as_bytes(),
    );
    let pos = latin1.iter().position(|b| *b == 0).unwrap();
    latin1[pos] = 0xE8; // "è" in Latin-1, not UTF-8
    let Error::ImportFailed { errors } = s
        .store
        .import_students(latin1.as_slice(), s.school, None)
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].reason.contains("UTF-8"), "{:?}", errors[0]);

    let missing = "first_name;last_name\nA;B\n";
    let Error::ImportFailed { errors } = s
        .store
        .import_students(missing.as_bytes(), s.school, None)
        .unwrap_err()
    else {
        panic!()
    };
    assert_eq!((errors[0].line, errors[0].column.as_str()), (1, "track"));

    let ghost = "sch-9".parse().unwrap();
    let file = format!("{HEADER}\n{}\n", row("A", "2000", ""));
    assert!(matches!(
        s.store
            .import_students(file.as_bytes(), ghost, None)
            .unwrap_err(),
        Error::NotFound { what: "school", .. }
    ));
    assert_eq!(s.store.student_count(), 0);
}
