//! What the benchmarks compare stagematch with: SQLite (bundled, through rusqlite) doing the
//! same work the way a Rust developer would write it, on the same generated cohort.
//!
//! The normal build and CI do not depend on this crate's engines; only `cargo bench -p
//! stagematch-bench` (and its smoke run under `cargo test`) builds SQLite.

pub mod machine;
pub mod tab;

use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, params};
use stagematch_core::csv::{ExportOptions, student_rows, write_student_file};
use stagematch_core::synth::{self, Rng};
use stagematch_core::{Province, ServiceId, Store, StudentData};

/// The number of services of a benchmark cohort; preferred services are among them.
pub const SERVICES: usize = 30;

/// `n` seeded synthetic students (Flemish and Brussels addresses, accents, dual students).
pub fn students(n: usize) -> Vec<StudentData> {
    let services: Vec<(ServiceId, Province)> = synth::services(SERVICES)
        .into_iter()
        .enumerate()
        .filter_map(|(i, (_, p))| Some((ServiceId::new(u32::try_from(i + 1).ok()?)?, p)))
        .collect();
    let mut rng = Rng::new(2025);
    (0..n)
        .map(|_| {
            synth::student(&mut rng, &services)
                .into_data()
                .expect("synthetic students are valid")
        })
        .collect()
}

/// The school file of `students`, as a school would hand it in (`;`, BOM, DD/MM/YYYY).
pub fn school_file(students: &[StudentData]) -> Vec<u8> {
    let mut out = Vec::new();
    write_student_file(students, &ExportOptions::default(), &mut out).expect("in memory");
    out
}

/// A new store file at `path` with the cohort's services and one school.
pub fn empty_store(path: &Path) -> (Store, stagematch_core::SchoolId) {
    let store = Store::open(path).expect("store");
    for (name, province) in synth::services(SERVICES) {
        store.add_service(&name, province).expect("service");
    }
    let school = store.add_school("Benchmarkschool").expect("school");
    (store, school)
}

/// The SQLite table a Rust developer would make for the students: one column per field,
/// lists as text, durable commits (WAL, `synchronous = FULL`).
pub fn sqlite(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("sqlite");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         CREATE TABLE students (
             id INTEGER PRIMARY KEY, school INTEGER NOT NULL, registered INTEGER NOT NULL,
             first_name TEXT NOT NULL, last_name TEXT NOT NULL, track TEXT NOT NULL,
             street TEXT NOT NULL, postcode INTEGER NOT NULL, city TEXT NOT NULL,
             transport TEXT NOT NULL, periods TEXT NOT NULL, hours_per_week REAL NOT NULL,
             total_hours REAL NOT NULL, form TEXT NOT NULL, days TEXT NOT NULL,
             preferred_service INTEGER, national_number TEXT, email TEXT, phone TEXT,
             supervisor_name TEXT, supervisor_email TEXT, supervisor_phone TEXT, remarks TEXT
         );",
    )
    .expect("schema");
    conn
}

/// What the rules of DOMAIN.md ask of SQLite's table for a validated import: a national
/// register number may be registered once (a unique index; the number stays in clear, which
/// is less work than stagematch's keyed digest and sealing).
pub fn sqlite_rules(conn: &Connection) {
    conn.execute_batch("CREATE UNIQUE INDEX students_by_number ON students (national_number);")
        .expect("index");
}

const INSERT: &str = "INSERT INTO students VALUES \
    (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
     ?20, ?21, ?22, ?23)";

fn joined<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// Imports `file` into SQLite with stagematch's own CSV reader and validation, one prepared
/// statement, one transaction: every row or none. Returns the rows stored.
pub fn sqlite_import_validated(conn: &mut Connection, file: &[u8]) -> usize {
    let resolve = |name: &str| {
        name.parse::<ServiceId>()
            .ok()
            .filter(|s| s.get() as usize <= SERVICES)
    };
    let tx = conn.transaction().expect("transaction");
    let mut count = 0;
    {
        let mut insert = tx.prepare_cached(INSERT).expect("prepare");
        for (_, row) in student_rows(file, resolve).expect("header") {
            let d = row.expect("valid row");
            count += 1;
            let sup = d.supervisor.clone().unwrap_or_default();
            insert
                .execute(params![
                    count as i64,
                    1,
                    1_747_724_400_000_000i64,
                    d.first_name,
                    d.last_name,
                    d.track.code(),
                    d.street,
                    d.postcode.get(),
                    d.city,
                    joined(d.transport.to_vec()),
                    joined(d.periods.iter()),
                    d.hours_per_week,
                    d.total_hours,
                    d.form,
                    joined(d.days.iter()),
                    d.preferred_service.map(|s| s.get()),
                    d.national_number.as_ref().map(|n| n.digits().to_owned()),
                    d.email,
                    d.phone,
                    sup.name,
                    sup.email,
                    sup.phone,
                    d.remarks,
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    count
}

/// Imports `file` into SQLite as text, checking nothing but the number of fields: the least
/// SQLite can do with the file, a floor rather than a fair rival.
pub fn sqlite_import_unchecked(conn: &mut Connection, file: &[u8]) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(file.strip_prefix("\u{feff}".as_bytes()).unwrap_or(file));
    let tx = conn.transaction().expect("transaction");
    let mut count = 0;
    {
        let mut insert = tx.prepare_cached(INSERT).expect("prepare");
        let mut record = csv::StringRecord::new();
        while reader.read_record(&mut record).expect("csv") {
            count += 1;
            let f = |i: usize| record.get(i).unwrap_or("");
            insert
                .execute(params![
                    count as i64,
                    1,
                    1_747_724_400_000_000i64,
                    f(0),
                    f(1),
                    f(2),
                    f(3),
                    f(4),
                    f(5),
                    f(6),
                    f(7),
                    f(8),
                    f(9),
                    f(10),
                    f(11),
                    f(12),
                    f(13),
                    f(14),
                    f(15),
                    f(16),
                    f(17),
                    f(18),
                    f(19),
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    count
}

/// Writes the students of SQLite's table sorted by name (last, first, id) as a `;` CSV file
/// with a BOM, the way a Rust developer would export a tab; the index on the name makes the
/// sort a walk. Returns the rows written.
pub fn sqlite_export_by_name(conn: &Connection, out: impl Write) -> usize {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes()).expect("write");
    let mut csv = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    let mut select = conn
        .prepare_cached(
            "SELECT first_name, last_name, track, street, postcode, city, transport, periods,
                    hours_per_week, total_hours, form, days, preferred_service, national_number,
                    email, phone, supervisor_name, supervisor_email, supervisor_phone, remarks,
                    id, school, registered
             FROM students ORDER BY last_name, first_name, id",
        )
        .expect("prepare");
    let mut rows = select.query([]).expect("query");
    let mut count = 0;
    let mut cell = String::new();
    while let Some(row) = rows.next().expect("row") {
        for i in 0..23 {
            cell.clear();
            match row.get_ref(i).expect("column") {
                rusqlite::types::ValueRef::Null => {}
                rusqlite::types::ValueRef::Integer(n) => cell.push_str(&n.to_string()),
                rusqlite::types::ValueRef::Real(x) => {
                    cell.push_str(&x.to_string().replace('.', ","));
                }
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    cell.push_str(std::str::from_utf8(t).unwrap_or(""));
                }
            }
            csv.write_field(&cell).expect("write");
        }
        csv.write_record(None::<&[u8]>).expect("write");
        count += 1;
    }
    csv.flush().expect("flush");
    count
}

/// The index SQLite needs to export by name without sorting.
pub fn sqlite_name_index(conn: &Connection) {
    conn.execute_batch("CREATE INDEX students_by_name ON students (last_name, first_name, id);")
        .expect("index");
}
