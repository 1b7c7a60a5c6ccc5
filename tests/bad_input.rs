//! The bad-input catalogue through the Rust API: every case of `tests/bad_inputs.json` (one
//! bad cell of a student, registered and imported; whole bad files, imported), and the
//! operations of the Rust API that take other input (services, contacts, decisions,
//! calendars, moments, logins). Each must fail with a typed error that names the field (or
//! the thing not found), and the store's digest must be the same after it as before.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use stagematch_core::{
    Calendar, ContactId, Decision, Error, NewContact, NewStudent, Period, Province, Role, SchoolId,
    ServiceId, Status, Store, StudentId, Supervisor, Track, Transport, Weekday, brussels,
    parse_moment,
};

#[derive(Deserialize)]
struct Catalogue {
    base: BTreeMap<String, String>,
    registered_before: String,
    fields: Vec<FieldCase>,
    files: Vec<FileCase>,
}

#[derive(Deserialize)]
struct FieldCase {
    case: String,
    column: String,
    cell: String,
}

#[derive(Deserialize)]
struct FileCase {
    case: String,
    file: String,
    line: u64,
    column: Option<String>,
    #[serde(default)]
    latin1: bool,
    #[serde(default)]
    utf16: bool,
}

fn catalogue() -> Catalogue {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad_inputs.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A season's store: a service with a contact, a school, and one student registered (the
/// owner of `registered_before`).
struct Setup {
    store: Store,
    service: ServiceId,
    contact: ContactId,
    school: SchoolId,
    student: StudentId,
}

fn setup(cat: &Catalogue) -> Setup {
    let store = Store::memory().unwrap();
    let service = store
        .add_service("Familiehulp Gent", Province::EastFlanders)
        .unwrap();
    let contact = store
        .add_contact(service, &NewContact::new("An", "09 222 33 44", "an@fh.be"))
        .unwrap();
    let school = store.add_school("Sint-Lucas Gent").unwrap();
    let mut row = cat.base.clone();
    row.insert("national_number".into(), cat.registered_before.clone());
    let first = student(&store, &row).unwrap().unwrap();
    let student = store
        .register_student(school, &first, brussels(2025, 6, 2, 10, 0).unwrap())
        .unwrap();
    Setup {
        store,
        service,
        contact,
        school,
        student,
    }
}

/// One CSV row of `row`'s columns (`;`, quoted where needed), under its header.
fn csv_file(row: &BTreeMap<String, String>) -> String {
    let quote = |v: &str| {
        if v.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let header: Vec<&str> = row.keys().map(String::as_str).collect();
    let cells: Vec<String> = row.values().map(|v| quote(v)).collect();
    format!("{}\n{}\n", header.join(";"), cells.join(";"))
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%d/%m/%Y").ok()
}

/// The student of `row` as a Rust developer builds it: typed values parsed with their
/// `FromStr` (which may refuse already). `None` where Rust's types cannot even hold the
/// cell (a date of 31 February, hours written as a word): only the CSV import sees those.
fn student(store: &Store, row: &BTreeMap<String, String>) -> Option<Result<NewStudent, Error>> {
    let cell = |c: &str| row[c].clone();
    let optional = |c: &str| Some(row[c].clone()).filter(|v| !v.is_empty());
    let list = |c: &str| -> Vec<String> {
        row[c]
            .split('|')
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
            .collect()
    };

    let mut periods = Vec::new();
    for span in list("periods") {
        let (start, end) = span.split_once('-')?;
        match Period::new(date(start)?, date(end)?) {
            Ok(p) => periods.push(p),
            Err(e) => return Some(Err(e)),
        }
    }
    let hours_per_week: f64 = cell("hours_per_week").parse().ok()?;
    let total_hours: f64 = cell("total_hours").parse().ok()?;

    let typed = || -> Result<NewStudent, Error> {
        let transport = list("transport")
            .iter()
            .map(|t| t.parse::<Transport>())
            .collect::<Result<Vec<_>, _>>()?;
        let days = list("days")
            .iter()
            .map(|d| d.parse::<Weekday>())
            .collect::<Result<Vec<_>, _>>()?;
        let preferred_service = match optional("preferred_service") {
            None => None,
            Some(name) => match name.strip_prefix("svc-").and_then(|n| n.parse().ok()) {
                Some(n) => ServiceId::new(n),
                None => Some(store.find_service(&name)?.id),
            },
        };
        Ok(NewStudent {
            track: cell("track").parse()?,
            first_name: cell("first_name"),
            last_name: cell("last_name"),
            street: cell("street"),
            postcode: cell("postcode"),
            city: cell("city"),
            province: None,
            transport,
            periods: periods.clone(),
            hours_per_week,
            total_hours,
            form: cell("form"),
            days,
            preferred_service,
            national_number: optional("national_number"),
            email: optional("email"),
            phone: optional("phone"),
            supervisor: Some(Supervisor {
                name: optional("supervisor_name"),
                email: optional("supervisor_email"),
                phone: optional("supervisor_phone"),
            }),
            remarks: optional("remarks"),
        })
    };
    Some(typed())
}

/// Whether `err` names `field`: a validation error of that field, or a reference to a
/// service that does not exist for the preferred service.
fn names(err: &Error, field: &str) -> bool {
    match err {
        Error::Validation { field: f, .. } => f == field,
        Error::NotFound { what, .. } => field == "preferred_service" && *what == "service",
        _ => false,
    }
}

fn encoded(case: &FileCase) -> Vec<u8> {
    if case.latin1 {
        case.file
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect()
    } else if case.utf16 {
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(case.file.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    } else {
        case.file.clone().into_bytes()
    }
}

#[test]
fn every_bad_cell_is_refused_by_registration_and_by_import_and_changes_nothing() {
    let cat = catalogue();
    assert!(cat.fields.len() + cat.files.len() >= 50);
    let s = setup(&cat);
    let at = brussels(2025, 6, 3, 10, 0).unwrap();
    let mut through_register = 0;

    for case in &cat.fields {
        let mut row = cat.base.clone();
        assert!(
            row.contains_key(&case.column),
            "{}: no column {}",
            case.case,
            case.column
        );
        row.insert(case.column.clone(), case.cell.clone());
        let before = s.store.digest().unwrap();

        // Registered one by one, as a host would from a form.
        match student(&s.store, &row) {
            None => {}
            Some(Err(e)) => {
                through_register += 1;
                assert!(names(&e, &case.column), "{}: {e:?}", case.case);
            }
            Some(Ok(new)) => {
                through_register += 1;
                let e = s
                    .store
                    .register_student(s.school, &new, at)
                    .expect_err(&case.case);
                assert!(names(&e, &case.column), "{}: {e:?}", case.case);
                let batch = s.store.register_students(s.school, &[new], at).unwrap_err();
                assert!(names(&batch, &case.column), "{}: {batch:?}", case.case);
            }
        }
        assert_eq!(s.store.digest().unwrap(), before, "{}", case.case);

        // Imported from a school's file.
        let file = csv_file(&row);
        match s.store.import_students(file.as_bytes(), s.school, at) {
            Err(Error::ImportFailed { errors }) => {
                assert_eq!(errors.len(), 1, "{}: {errors:?}", case.case);
                assert_eq!(errors[0].line, 2, "{}", case.case);
                assert_eq!(errors[0].column, case.column, "{}: {errors:?}", case.case);
                assert!(!errors[0].reason.is_empty());
            }
            other => panic!("{}: {other:?}", case.case),
        }
        assert_eq!(s.store.digest().unwrap(), before, "{}", case.case);
    }
    assert!(
        through_register >= 35,
        "only {through_register} cases reached the Rust types"
    );
    assert_eq!(s.store.student_count(), 1);
}

#[test]
fn every_bad_file_is_refused_whole_with_its_line() {
    let cat = catalogue();
    let s = setup(&cat);
    let at = brussels(2025, 6, 3, 10, 0).unwrap();

    for case in &cat.files {
        let before = s.store.digest().unwrap();
        match s
            .store
            .import_students(encoded(case).as_slice(), s.school, at)
        {
            Err(Error::ImportFailed { errors }) => {
                assert!(!errors.is_empty(), "{}", case.case);
                assert_eq!(errors[0].line, case.line, "{}: {errors:?}", case.case);
                if let Some(column) = &case.column {
                    assert_eq!(&errors[0].column, column, "{}: {errors:?}", case.case);
                }
            }
            other => panic!("{}: {other:?}", case.case),
        }
        assert_eq!(s.store.digest().unwrap(), before, "{}", case.case);
    }
}

/// A call of the catalogue, and what its error must be.
type Call<'a> = Box<dyn Fn() -> Result<(), Error> + 'a>;
type Check = Box<dyn Fn(&Error) -> bool>;

/// The other inputs of the Rust API: each call, what the error must name, and the check.
#[test]
fn every_other_bad_call_names_its_field_and_changes_nothing() {
    let cat = catalogue();
    let s = setup(&cat);
    let store = &s.store;
    let round3 = brussels(2025, 9, 22, 10, 0).unwrap();
    let other = store
        .add_service("Thuiszorg Limburg", Province::Limburg)
        .unwrap();
    let other_contact = store
        .add_contact(other, &NewContact::new("Jef", "011 22 33 44", "jef@tl.be"))
        .unwrap();
    let placed = {
        let mut row = cat.base.clone();
        row.insert("national_number".into(), String::new());
        let new = student(store, &row).unwrap().unwrap();
        let id = store.register_student(s.school, &new, brussels(2025, 6, 2, 11, 0).unwrap());
        let id = id.unwrap();
        store
            .decide(other, id, &Decision::accept(other_contact), round3)
            .unwrap();
        id
    };
    let dual_window_closed = brussels(2025, 6, 1, 10, 0).unwrap();
    let no_such_student = StudentId::new(999).unwrap();
    let no_such_service = ServiceId::new(99).unwrap();
    let late = Calendar {
        release: brussels(2025, 8, 1, 12, 0).unwrap(),
        ..Calendar::default()
    };

    let validation = |field: &'static str| move |e: &Error| e.field() == Some(field);
    let cases: Vec<(&str, Call<'_>, Check)> = vec![
        (
            "a service without a name",
            Box::new(|| store.add_service("  ", Province::Antwerp).map(drop)),
            Box::new(validation("name")),
        ),
        (
            "a second service of the same name",
            Box::new(|| {
                store
                    .add_service("familiehulp gent", Province::Antwerp)
                    .map(drop)
            }),
            Box::new(validation("name")),
        ),
        (
            "a province that does not exist",
            Box::new(|| "Atlantis".parse::<Province>().map(drop)),
            Box::new(validation("province")),
        ),
        (
            "a school without a name",
            Box::new(|| store.add_school("").map(drop)),
            Box::new(validation("name")),
        ),
        (
            "a contact with an email without @",
            Box::new(|| {
                let c = NewContact::new("An", "09 222 33 44", "an.fh.be");
                store.add_contact(s.service, &c).map(drop)
            }),
            Box::new(validation("email")),
        ),
        (
            "a contact without a phone",
            Box::new(|| {
                let c = NewContact::new("An", "", "an@fh.be");
                store.add_contact(s.service, &c).map(drop)
            }),
            Box::new(validation("phone")),
        ),
        (
            "a contact for a service that does not exist",
            Box::new(|| {
                let c = NewContact::new("An", "09 222 33 44", "an@fh.be");
                store.add_contact(no_such_service, &c).map(drop)
            }),
            Box::new(|e: &Error| {
                matches!(
                    e,
                    Error::NotFound {
                        what: "service",
                        ..
                    }
                )
            }),
        ),
        (
            "a decision about a student that does not exist",
            Box::new(|| {
                store.decide(
                    s.service,
                    no_such_student,
                    &Decision::new(Status::NotAccepted),
                    round3,
                )
            }),
            Box::new(|e: &Error| {
                matches!(
                    e,
                    Error::NotFound {
                        what: "student",
                        ..
                    }
                )
            }),
        ),
        (
            "a decision before the student is visible",
            Box::new(|| {
                store.decide(
                    s.service,
                    s.student,
                    &Decision::new(Status::NotAccepted),
                    dual_window_closed,
                )
            }),
            Box::new(|e: &Error| matches!(e, Error::NotVisible { .. })),
        ),
        (
            "an acceptance without a contact person",
            Box::new(|| {
                store.decide(
                    s.service,
                    s.student,
                    &Decision::new(Status::Accepted),
                    round3,
                )
            }),
            Box::new(validation("contact")),
        ),
        (
            "an acceptance with another service's contact person",
            Box::new(|| {
                store.decide(
                    s.service,
                    s.student,
                    &Decision::accept(other_contact),
                    round3,
                )
            }),
            Box::new(validation("contact")),
        ),
        (
            "an interview status for a placement student",
            Box::new(|| {
                store.decide(
                    s.service,
                    s.student,
                    &Decision::new(Status::Invited),
                    round3,
                )
            }),
            Box::new(|e: &Error| matches!(e, Error::InvalidTransition { .. })),
        ),
        (
            "an acceptance of a student placed with another service",
            Box::new(|| store.decide(s.service, placed, &Decision::accept(s.contact), round3)),
            Box::new(|e: &Error| matches!(e, Error::AlreadyPlaced { .. })),
        ),
        (
            "an accepted student turned down by its own service",
            Box::new(|| store.decide(other, placed, &Decision::new(Status::NotAccepted), round3)),
            Box::new(|e: &Error| matches!(e, Error::InvalidTransition { .. })),
        ),
        (
            "accepted periods the student does not have",
            Box::new(|| {
                let mut d = Decision::accept(s.contact);
                let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
                d.periods = Some(vec![Period::new(day(3, 1), day(3, 20)).unwrap()]);
                store.decide(s.service, s.student, &d, round3)
            }),
            Box::new(validation("periods")),
        ),
        (
            "a calendar whose release comes before the blackout ends",
            Box::new(|| store.set_calendar(late)),
            Box::new(validation("release")),
        ),
        (
            "a moment in words",
            Box::new(|| parse_moment("morgen om tien").map(drop)),
            Box::new(validation("at")),
        ),
        (
            "a moment the clock skips (spring forward)",
            Box::new(|| parse_moment("2026-03-29 02:30").map(drop)),
            Box::new(validation("at")),
        ),
        (
            "a login with an email without @",
            Box::new(|| {
                store
                    .create_login("els.familiehulp.be", Role::Coordinator)
                    .map(drop)
            }),
            Box::new(validation("email")),
        ),
        (
            "a login for a service that does not exist",
            Box::new(|| {
                store
                    .create_login("els@fh.be", Role::Service(no_such_service))
                    .map(drop)
            }),
            Box::new(|e: &Error| {
                matches!(
                    e,
                    Error::NotFound {
                        what: "service",
                        ..
                    }
                )
            }),
        ),
        (
            "an invitation code nobody was given",
            Box::new(|| {
                store
                    .activate("not-a-code", "een lang wachtwoord")
                    .map(drop)
            }),
            Box::new(|e: &Error| matches!(e, Error::Auth { .. })),
        ),
        (
            "a status that does not exist",
            Box::new(|| "misschien".parse::<Status>().map(drop)),
            Box::new(validation("status")),
        ),
        (
            "a track that does not exist",
            Box::new(|| "circus".parse::<Track>().map(drop)),
            Box::new(validation("track")),
        ),
    ];

    assert!(cases.len() >= 20);
    for (what, call, check) in &cases {
        let before = store.digest().unwrap();
        let err = call().expect_err(what);
        assert!(check(&err), "{what}: {err:?}");
        assert!(!err.to_string().is_empty());
        assert_eq!(store.digest().unwrap(), before, "{what}");
    }
}
