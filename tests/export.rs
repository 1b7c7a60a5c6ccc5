//! Exports: a service's tab for Excel, and the coordinator's export that imports back.
#![allow(clippy::unwrap_used)]

mod common;

use common::{at, season, student};
use stagematch_core::csv::ExportOptions;
use stagematch_core::{Decision, Query, Sort, Status, Store, Tab, Track};

#[test]
fn a_tab_for_excel_masks_what_the_service_may_not_see() {
    let s = season();
    let a = s.register(Track::Secondary, "Aerts", "2000", None, at(6, 2, 10, 0));
    let b = s.register(Track::Adult, "Bosmans", "9000", None, at(6, 2, 10, 0));
    let t = at(9, 22, 10, 0);
    s.store
        .decide(
            s.antwerp,
            a,
            &Decision::accept(s.antwerp_contact).with_notes("ok"),
            t,
        )
        .unwrap();

    let mut out = Vec::new();
    let q = Query {
        tab: Tab::Accepted,
        ..Query::default()
    };
    let n = s
        .store
        .export_tab(s.antwerp, &q, t, &ExportOptions::default(), &mut out)
        .unwrap();
    assert_eq!(n, 1);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("first_name;last_name;track;"));
    assert!(
        lines[1].contains(";06/10/2025-31/10/2025|01/12/2025-19/12/2025;16;120;"),
        "{}",
        lines[1]
    );
    let number = s
        .store
        .student_record(a)
        .unwrap()
        .data
        .national_number
        .unwrap();
    assert!(number.formatted().starts_with("85.07."));
    assert!(lines[1].contains(&number.formatted()) && lines[1].contains(";accepted;con-1;"));

    // The other service's open tab holds b without personal data, sorted by name.
    let mut out = Vec::new();
    let q = Query {
        sort: Sort::Name,
        ..Query::default()
    };
    s.store
        .export_tab(
            s.limburg,
            &q,
            t,
            &ExportOptions {
                delimiter: b',',
                bom: false,
            },
            &mut out,
        )
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("Noor,Bosmans,adult,"), "{}", lines[1]);
    assert!(!text.contains("85.07.") && !text.contains("noor@leerling.be"));
    assert_eq!(s.store.status(s.limburg, b, t).unwrap(), Status::Undecided);
}

#[test]
fn the_coordinators_export_imports_back_to_the_same_students() {
    let s = season();
    let mut batch = vec![
        student(Track::Secondary, "Aerts", "2000", Some(s.antwerp)),
        student(Track::Dual, "D'Hondt", "9000", None),
        student(Track::Adult, "Lefèvre; \"Jr\"", "3500", Some(s.limburg)),
    ];
    batch[2].hours_per_week = 19.5;
    batch[2].remarks = Some("Twee regels,\nmet komma".into());
    batch[1].days = vec![
        stagematch_core::Weekday::Monday,
        stagematch_core::Weekday::Friday,
    ];
    s.store
        .register_students(s.school, &batch, at(6, 2, 10, 0))
        .unwrap();

    let mut out = Vec::new();
    assert_eq!(
        s.store
            .export_students(&ExportOptions::default(), &mut out)
            .unwrap(),
        3
    );

    let copy = common::season_in(Store::memory().unwrap());
    copy.store
        .import_students(out.as_slice(), copy.school, at(6, 2, 10, 0))
        .unwrap();
    let before: Vec<_> = s
        .store
        .all_students()
        .unwrap()
        .into_iter()
        .map(|x| x.data)
        .collect();
    let after: Vec<_> = copy
        .store
        .all_students()
        .unwrap()
        .into_iter()
        .map(|x| x.data)
        .collect();
    assert_eq!(before, after);
}

/// A text that Excel would run as a formula reaches a service's tab with a leading `'`
/// (Excel shows the text, not a result); the coordinator's export, which imports back,
/// keeps every field as it was registered.
#[test]
fn formulas_in_a_tab_are_written_as_text() {
    let s = season();
    let mut new = student(Track::Secondary, "=HYPERLINK(\"http://x\")", "2000", None);
    new.first_name = "@Noor".into();
    new.phone = Some("+32 470 12 34 56".into());
    new.remarks = Some("-1 vrije dag".into());
    let id = s
        .store
        .register_student(s.school, &new, at(6, 2, 10, 0))
        .unwrap();
    let t = at(9, 22, 10, 0);
    s.store
        .decide(s.antwerp, id, &Decision::accept(s.antwerp_contact), t)
        .unwrap();

    let q = Query {
        tab: Tab::Accepted,
        ..Query::default()
    };
    let mut tab = Vec::new();
    s.store
        .export_tab(s.antwerp, &q, t, &ExportOptions::default(), &mut tab)
        .unwrap();
    let tab = String::from_utf8(tab).unwrap();
    let row = tab.lines().nth(1).unwrap();
    assert!(
        row.starts_with("'@Noor;\"'=HYPERLINK(\"\"http://x\"\")\";"),
        "{row}"
    );
    assert!(
        row.contains(";'+32 470 12 34 56;") && row.contains(";'-1 vrije dag;"),
        "{row}"
    );

    let mut all = Vec::new();
    s.store
        .export_students(&ExportOptions::default(), &mut all)
        .unwrap();
    let all = String::from_utf8(all).unwrap();
    let row = all.lines().nth(1).unwrap();
    assert!(
        row.starts_with("@Noor;\"=HYPERLINK(\"\"http://x\"\")\";"),
        "{row}"
    );

    // Imported back, the coordinator's export gives the same student.
    let again = Store::memory().unwrap();
    let school = again.add_school("Sint-Jozef Zorgschool").unwrap();
    again.import_students(all.as_bytes(), school, t).unwrap();
    let back = again.all_students().unwrap().remove(0);
    assert_eq!(back.data.last_name, new.last_name);
    assert_eq!(back.data.remarks, new.remarks);
}
