//! The bad-input catalogue through the program: every case of `tests/bad_inputs.json` as a
//! school's file given to `stagematch import`, and the program's own arguments. Each must
//! exit with status 1 and one message naming the field and the line, and leave the store
//! as it was: `stagematch check` gives the same digest before and after.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn stagematch(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stagematch"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = stagematch(args, "");
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

fn digest(db: &str) -> String {
    let out = ok(&["check", db]);
    assert!(out.contains(": whole"), "{out}");
    out.lines()
        .find_map(|l| l.strip_prefix("digest "))
        .unwrap()
        .to_owned()
}

fn catalogue() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bad_inputs.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A store with a service, its contact, a school and the student who has the number the
/// catalogue registers twice.
fn store(dir: &Path, cat: &Value) -> String {
    let db = dir.join("s.redb").to_str().unwrap().to_owned();
    ok(&["init", &db]);
    ok(&["add-service", &db, "Familiehulp Gent", "--province", "VOV"]);
    ok(&[
        "add-contact",
        &db,
        "--service",
        "Familiehulp Gent",
        "--name",
        "An",
        "--phone",
        "09 222 33 44",
        "--email",
        "an@fh.be",
    ]);
    ok(&["add-school", &db, "Sint-Lucas Gent"]);
    let mut first = cat["base"].as_object().unwrap().clone();
    first.insert("national_number".into(), cat["registered_before"].clone());
    let file = dir.join("first.csv");
    std::fs::write(&file, csv_file(&first)).unwrap();
    let out = ok(&[
        "import",
        &db,
        "--school",
        "Sint-Lucas Gent",
        file.to_str().unwrap(),
        "--at",
        "2025-06-02 10:00",
    ]);
    assert_eq!(out.trim(), "imported 1 students");
    db
}

fn csv_file(row: &serde_json::Map<String, Value>) -> String {
    let quote = |v: &str| {
        if v.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let header: Vec<&str> = row.keys().map(String::as_str).collect();
    let cells: Vec<String> = row.values().map(|v| quote(v.as_str().unwrap())).collect();
    format!("{}\n{}\n", header.join(";"), cells.join(";"))
}

fn encoded(case: &Value) -> Vec<u8> {
    let text = case["file"].as_str().unwrap();
    if case["latin1"].as_bool() == Some(true) {
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect()
    } else if case["utf16"].as_bool() == Some(true) {
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    } else {
        text.as_bytes().to_vec()
    }
}

/// Imports `bytes` and checks the refusal: status 1, the line (and column) named, the store
/// as it was.
fn refused_import(db: &str, dir: &Path, bytes: &[u8], line: u64, column: Option<&str>, what: &str) {
    let file = dir.join("leerlingen.csv");
    std::fs::write(&file, bytes).unwrap();
    let before = digest(db);
    let (code, out, err) = stagematch(
        &[
            "import",
            db,
            "--school",
            "Sint-Lucas Gent",
            file.to_str().unwrap(),
            "--at",
            "2025-06-03 10:00",
        ],
        "",
    );
    assert_eq!(code, 1, "{what}: {out}{err}");
    assert!(out.is_empty(), "{what}: {out}");
    let place = match column {
        Some(c) if !c.is_empty() => format!("line {line}, column {c}"),
        _ => format!("line {line}"),
    };
    assert!(err.contains(&place), "{what}: wanted {place:?} in {err}");
    assert!(err.starts_with("stagematch: "), "{what}: {err}");
    assert_eq!(digest(db), before, "{what}");
}

#[test]
fn every_bad_cell_and_file_is_refused_by_the_import_command() {
    let cat = catalogue();
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path(), &cat);

    let fields = cat["fields"].as_array().unwrap();
    for case in fields {
        let column = case["column"].as_str().unwrap();
        let mut row = cat["base"].as_object().unwrap().clone();
        assert!(row.contains_key(column));
        row.insert(column.into(), case["cell"].clone());
        let what = case["case"].as_str().unwrap();
        refused_import(
            &db,
            dir.path(),
            csv_file(&row).as_bytes(),
            2,
            Some(column),
            what,
        );
    }
    let files = cat["files"].as_array().unwrap();
    for case in files {
        let what = case["case"].as_str().unwrap();
        let line = case["line"].as_u64().unwrap();
        let column = case["column"].as_str();
        refused_import(&db, dir.path(), &encoded(case), line, column, what);
    }
    assert!(fields.len() + files.len() >= 50);
}

#[test]
fn every_bad_argument_is_refused_with_one_line_and_changes_nothing() {
    let cat = catalogue();
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path(), &cat);
    let db = db.as_str();
    let missing = dir.path().join("nergens.csv");
    let missing = missing.to_str().unwrap();
    let bad_calendar = dir.path().join("kalender.txt");
    std::fs::write(
        &bad_calendar,
        "round1 = 2025-06-30 12:00 .. 2025-08-15 12:00\n",
    )
    .unwrap();
    let bad_calendar = bad_calendar.to_str().unwrap();

    // (arguments, standard input, what the one line must say)
    let out_in_nowhere = dir.path().join("nergens").join("tab.csv");
    let out_in_nowhere = out_in_nowhere.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["add-service", db, "Nieuw", "--province", "Atlantis"],
            "",
            "province: ",
        ),
        (
            vec!["add-service", db, " ", "--province", "VAN"],
            "",
            "name: ",
        ),
        (
            vec!["add-service", db, "familiehulp gent", "--province", "VAN"],
            "",
            "name: ",
        ),
        (vec!["add-school", db, ""], "", "name: "),
        (
            vec![
                "add-contact",
                db,
                "--service",
                "Familiehulp Gent",
                "--name",
                "Jo",
                "--phone",
                "09 222 33 44",
                "--email",
                "jo.fh.be",
            ],
            "",
            "email: ",
        ),
        (
            vec![
                "add-contact",
                db,
                "--service",
                "Nergens",
                "--name",
                "Jo",
                "--phone",
                "09 222 33 44",
                "--email",
                "jo@fh.be",
            ],
            "",
            "service Nergens does not exist",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-99",
                "not_accepted",
                "--at",
                "2025-09-22 10:00",
            ],
            "",
            "student stu-99 does not exist",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-1",
                "misschien",
                "--at",
                "2025-09-22 10:00",
            ],
            "",
            "status: ",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-1",
                "accepted",
                "--at",
                "2025-09-22 10:00",
            ],
            "",
            "contact: ",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-1",
                "accepted",
                "--contact",
                "Nobody",
                "--at",
                "2025-09-22 10:00",
            ],
            "",
            "Nobody",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-1",
                "not_accepted",
                "--at",
                "2025-06-01 10:00",
            ],
            "",
            "not visible",
        ),
        (
            vec![
                "decide",
                db,
                "--service",
                "Familiehulp Gent",
                "stu-1",
                "invited",
                "--at",
                "2025-09-22 10:00",
            ],
            "",
            "invited",
        ),
        (
            vec!["students", db, "--service", "Nergens"],
            "",
            "service Nergens does not exist",
        ),
        (
            vec![
                "students",
                db,
                "--service",
                "Familiehulp Gent",
                "--sort",
                "age",
            ],
            "",
            "sort: ",
        ),
        (
            vec![
                "students",
                db,
                "--service",
                "Familiehulp Gent",
                "--postcode",
                "9O",
            ],
            "",
            "postcode: ",
        ),
        (vec!["phase", db, "--at", "2026-03-29 02:30"], "", "at: "),
        (
            vec!["import", db, "--school", "Nergens", missing],
            "",
            "school Nergens does not exist",
        ),
        (
            vec!["import", db, "--school", "Sint-Lucas Gent", missing],
            "",
            "nergens.csv",
        ),
        (
            vec!["calendar", db, "--set", bad_calendar],
            "",
            "is missing from the calendar file",
        ),
        (
            vec!["add-login", db, "els@fh.be", "--role", "baas"],
            "",
            "role: ",
        ),
        (
            vec!["add-login", db, "els.fh.be", "--role", "coordinator"],
            "",
            "email: ",
        ),
        (
            vec!["activate", db, "verzonnen-code"],
            "een lang wachtwoord\n",
            "code is not valid",
        ),
        (
            vec![
                "export",
                db,
                "--service",
                "Familiehulp Gent",
                out_in_nowhere,
            ],
            "",
            "nergens/tab.csv",
        ),
    ];
    assert!(cases.len() >= 20);
    for (args, stdin, says) in cases {
        let before = digest(db);
        let (code, out, err) = stagematch(&args, stdin);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("stagematch: "), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: wanted {says:?} in {err}");
        assert_eq!(digest(db), before, "{args:?}");
    }
}
