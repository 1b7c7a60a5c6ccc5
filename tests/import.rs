//! Importing a school's student CSV: every row or none, every bad row reported.
#![allow(clippy::unwrap_used)]

mod common;

use common::{at, season};
use stagematch_core::{Error, Query, Track};

const HEADER: &str = "first_name;last_name;track;street;postcode;city;transport;periods;\
                      hours_per_week;total_hours;form;preferred_service;national_number";

/// A row with a national register number no other row has.
fn row(last: &str, postcode: &str, pref: &str) -> String {
    row_n(last, postcode, pref, &common::unique_national_number())
}

fn row_n(last: &str, postcode: &str, pref: &str, number: &str) -> String {
    format!(
        "Noor;{last};secondary;Kerkstraat 1;{postcode};Gent;bike|openbaar vervoer;\
         06/10/2025-31/10/2025|2025-12-01/2025-12-19;16;120;blok;{pref};{number}"
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
        row_n("Goed", "2000", "", "85.07.30-033.29"),
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

/// Twenty-odd malformed files: each refused with the right line, and nothing stored.
#[test]
fn malformed_files_are_refused_with_the_right_line() {
    let good = row_n("Goed", "2000", "", "85.07.30-033.28");
    let cases: Vec<(&str, Vec<u8>, u64, &str)> = vec![
        ("empty file", Vec::new(), 1, ""),
        (
            "header only, unknown column",
            format!("{HEADER};schoenmaat\n").into_bytes(),
            1,
            "schoenmaat",
        ),
        (
            "missing required column",
            HEADER.replace(";form", "").into_bytes(),
            1,
            "form",
        ),
        (
            "repeated column",
            format!("{HEADER};voornaam\n").into_bytes(),
            1,
            "voornaam",
        ),
        (
            "tab separated",
            HEADER.replace(';', "\t").into_bytes(),
            1,
            "",
        ),
        (
            "truncated row",
            format!("{HEADER}\n{good}\nNoor;Kort;secondary\n").into_bytes(),
            3,
            "",
        ),
        (
            "extra field",
            format!("{HEADER}\n{good};extra\n").into_bytes(),
            2,
            "",
        ),
        (
            "bad postcode",
            format!("{HEADER}\n{}\n", row("A", "10000", "")).into_bytes(),
            2,
            "postcode",
        ),
        (
            "postcode with prefix",
            format!("{HEADER}\n{}\n", row("A", "B-1000", "")).into_bytes(),
            2,
            "postcode",
        ),
        (
            "unknown track",
            format!("{HEADER}\n{}\n", good.replace("secondary", "circus")).into_bytes(),
            2,
            "track",
        ),
        (
            "unknown transport",
            format!("{HEADER}\n{}\n", good.replace("bike|", "jetpack|")).into_bytes(),
            2,
            "transport",
        ),
        (
            "overlapping periods",
            format!(
                "{HEADER}\n{}\n",
                good.replace("2025-12-01/2025-12-19", "2025-10-20/2025-11-02")
            )
            .into_bytes(),
            2,
            "periods",
        ),
        (
            "period ending before it starts",
            format!(
                "{HEADER}\n{}\n",
                good.replace("06/10/2025-31/10/2025", "31/10/2025-06/10/2025")
            )
            .into_bytes(),
            2,
            "periods",
        ),
        (
            "impossible date",
            format!("{HEADER}\n{}\n", good.replace("31/10/2025", "31/02/2025")).into_bytes(),
            2,
            "periods",
        ),
        (
            "hours not a number",
            format!("{HEADER}\n{}\n", good.replace(";16;", ";veel;")).into_bytes(),
            2,
            "hours_per_week",
        ),
        (
            "too many hours a week",
            format!("{HEADER}\n{}\n", good.replace(";16;", ";61;")).into_bytes(),
            2,
            "hours_per_week",
        ),
        (
            "wrong check digits",
            format!("{HEADER}\n{}\n", good.replace("033.28", "033.27")).into_bytes(),
            2,
            "national_number",
        ),
        (
            "wrong century",
            format!(
                "{HEADER}\n{}\n",
                good.replace("85.07.30-033.28", "00022900178")
            )
            .into_bytes(),
            2,
            "national_number",
        ),
        (
            "bis month out of range",
            format!("{HEADER}\n{}\n", good.replace("85.07.30", "85.67.30")).into_bytes(),
            2,
            "national_number",
        ),
        (
            "empty first name",
            format!("{HEADER}\n{}\n", good.replacen("Noor", "", 1)).into_bytes(),
            2,
            "first_name",
        ),
        (
            "control character",
            format!(
                "{HEADER}\n{}\n",
                good.replace("Kerkstraat", "Kerk\u{7}straat")
            )
            .into_bytes(),
            2,
            "street",
        ),
        (
            "huge field",
            format!("{HEADER}\n{}\n", good.replace("Gent", &"G".repeat(5000))).into_bytes(),
            2,
            "city",
        ),
        (
            "unknown preferred service",
            format!("{HEADER}\n{}\n", row("A", "2000", "Nergens")).into_bytes(),
            2,
            "preferred_service",
        ),
        (
            "latin-1 bytes",
            {
                let mut b = format!("{HEADER}\n").into_bytes();
                b.extend(good.replace("Noor", "No\u{0}r").into_bytes());
                let i = b.iter().position(|x| *x == 0).unwrap();
                b[i] = 0xF6;
                b
            },
            2,
            "first_name",
        ),
        (
            "bad row after good rows",
            format!(
                "{HEADER}\n{good}\n{}\n{}\n",
                row("B", "2000", ""),
                row("A", "0999", "")
            )
            .into_bytes(),
            4,
            "postcode",
        ),
        (
            "the same national register number twice",
            format!("{HEADER}\n{good}\n{}\n", good.replace("Goed", "Ander")).into_bytes(),
            3,
            "national_number",
        ),
    ];
    assert!(cases.len() >= 20);

    for (what, bytes, line, column) in cases {
        let s = season();
        let err = s
            .store
            .import_students(bytes.as_slice(), s.school, at(6, 2, 10, 0))
            .unwrap_err();
        let Error::ImportFailed { errors } = err else {
            panic!("{what}: {err:?}")
        };
        assert_eq!(errors.len(), 1, "{what}: {errors:?}");
        assert_eq!(
            (errors[0].line, errors[0].column.as_str()),
            (line, column),
            "{what}: {errors:?}"
        );
        assert!(!errors[0].reason.is_empty(), "{what}");
        assert_eq!(s.store.student_count(), 0, "{what}");
    }
}

#[test]
fn a_national_number_registered_before_is_refused_without_echoing_it() {
    let s = season();
    let number = common::unique_national_number();
    let first = format!("{HEADER}\n{}\n", row_n("Eerst", "2000", "", &number));
    let ids = s
        .store
        .import_students(first.as_bytes(), s.school, at(6, 2, 10, 0))
        .unwrap();

    // Written differently (no separators), it is the same number.
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let again = format!(
        "{HEADER}\n{}\n{}\n",
        row("Nieuw", "2000", ""),
        row_n("Later", "2000", "", &digits)
    );
    let err = s
        .store
        .import_students(again.as_bytes(), s.school, at(6, 3, 10, 0))
        .unwrap_err();
    let Error::ImportFailed { errors } = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].line, errors[0].column.as_str()),
        (3, "national_number")
    );
    assert!(errors[0].reason.contains(&ids[0].to_string()), "{errors:?}");
    assert!(!format!("{errors:?}").contains(&digits));
    assert_eq!(s.store.student_count(), 1);

    let mut twice = common::student(Track::Adult, "Dubbel", "2000", None);
    twice.national_number = Some(digits.clone());
    let err = s
        .store
        .register_student(s.school, &twice, at(6, 3, 10, 0))
        .unwrap_err();
    assert_eq!(err.field(), Some("national_number"));
    assert_eq!(s.store.student_count(), 1);
}
