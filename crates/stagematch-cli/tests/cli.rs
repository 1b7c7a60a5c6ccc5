//! The program's exit codes and messages.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn stagematch(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stagematch"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn init_then_phase() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.redb");
    let db = db.to_str().unwrap();
    let (code, out, _) = stagematch(&["init", db]);
    assert_eq!(code, 0);
    assert!(out.contains("created"));
    assert_eq!(
        stagematch(&["phase", db, "--at", "2025-09-19 12:00"])
            .1
            .trim(),
        "round3"
    );
    assert_eq!(
        stagematch(&["phase", db, "--at", "2025-09-19 11:59"])
            .1
            .trim(),
        "round2"
    );
    assert_eq!(
        stagematch(&["phase", db, "--at", "2025-06-30T10:00:00Z"])
            .1
            .trim(),
        "round1"
    );
}

#[test]
fn wrong_arguments_print_one_clear_line_and_fail() {
    let (code, _, err) = stagematch(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("stagematch: unknown command"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.redb");
    let db = db.to_str().unwrap();
    stagematch(&["init", db]);
    let (code, _, err) = stagematch(&["phase", db, "--at", "tomorrow"]);
    assert_eq!(code, 1);
    assert!(err.contains("at: must be YYYY-MM-DD HH:MM"), "{err}");

    let (code, _, err) = stagematch(&["phase", "/nonexistent/x.redb"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}
