//! The program end to end: every command, its exit codes and its messages.
#![allow(clippy::unwrap_used)]

use std::path::Path;
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

fn ok(args: &[&str]) -> String {
    let (code, out, err) = stagematch(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

const CSV: &str = "voornaam;achternaam;type;straat;postcode;gemeente;vervoer;periodes;\
                   uren_per_week;totaal_uren;vorm;voorkeursdienst\n\
                   Lotte;De Smet;secundair;Veldstraat 5;2000;Antwerpen;fiets;\
                   06/10/2025-31/10/2025;18;72;blok;Familiezorg\n\
                   Jan;Peeters;cvo;Markt 1;3500;Hasselt;auto;2025-10-06/2025-10-31;19,5;80;blok;\n";

fn season(dir: &Path) -> String {
    let db = dir.join("s.redb");
    let db = db.to_str().unwrap().to_owned();
    assert!(ok(&["init", &db]).contains("created"));
    assert_eq!(
        ok(&["add-service", &db, "Familiezorg", "--province", "Antwerpen"]).trim(),
        "svc-1"
    );
    assert_eq!(
        ok(&["add-service", &db, "Thuiszorg", "--province", "VLI"]).trim(),
        "svc-2"
    );
    ok(&["add-school", &db, "Sint-Jozef"]);
    ok(&[
        "add-contact",
        &db,
        "--service",
        "familiezorg",
        "--name",
        "Els",
        "--phone",
        "03 111 22 33",
        "--email",
        "e@f.be",
    ]);
    ok(&[
        "add-contact",
        &db,
        "--service",
        "Thuiszorg",
        "--name",
        "Jef",
        "--phone",
        "011 22 33 44",
        "--email",
        "j@t.be",
    ]);
    let csv = dir.join("leerlingen.csv");
    std::fs::write(&csv, CSV).unwrap();
    let out = ok(&[
        "import",
        &db,
        "--school",
        "Sint-Jozef",
        csv.to_str().unwrap(),
        "--at",
        "2025-06-02 10:00",
    ]);
    assert_eq!(out.trim(), "imported 2 students");
    db
}

#[test]
fn a_season_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = season(dir.path());

    assert_eq!(
        ok(&["phase", &db, "--at", "2025-09-19 12:00"]).trim(),
        "round3"
    );
    let round1 = ok(&[
        "students",
        &db,
        "--service",
        "Familiezorg",
        "--at",
        "2025-07-01 10:00",
    ]);
    assert_eq!(round1.lines().count(), 1);
    assert!(
        round1.starts_with("stu-1\tDe Smet, Lotte\t2000 Antwerpen (VAN)\tsecondary\tundecided")
    );

    let round3 = ok(&[
        "students",
        &db,
        "--service",
        "svc-2",
        "--at",
        "2025-09-22 10:00",
        "--sort",
        "-name",
    ]);
    let ids: Vec<&str> = round3
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(ids, ["stu-2", "stu-1"]);

    let out = ok(&[
        "decide",
        &db,
        "--service",
        "Thuiszorg",
        "stu-1",
        "aanvaard",
        "--contact",
        "jef",
        "--at",
        "2025-09-22 10:05",
    ]);
    assert_eq!(out.trim(), "stu-1: accepted");
    let (code, _, err) = stagematch(&[
        "decide",
        &db,
        "--service",
        "Familiezorg",
        "stu-1",
        "accepted",
        "--contact",
        "Els",
        "--at",
        "2025-09-22 10:06",
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "stagematch: student stu-1 is already placed with service svc-2"
    );

    let out_csv = dir.path().join("accepted.csv");
    let out = ok(&[
        "export",
        &db,
        "--service",
        "Thuiszorg",
        out_csv.to_str().unwrap(),
        "--tab",
        "accepted",
        "--at",
        "2025-09-23 10:00",
    ]);
    assert!(out.contains("wrote 1 students"));
    let text = std::fs::read_to_string(&out_csv).unwrap();
    assert!(text.starts_with('\u{feff}') && text.contains(";accepted;con-2;"));

    let (stats_csv, counts_csv) = (dir.path().join("stats.csv"), dir.path().join("counts.csv"));
    let out = ok(&[
        "stats",
        &db,
        "--at",
        "2025-10-08 12:00",
        "--csv",
        stats_csv.to_str().unwrap(),
        "--counts",
        counts_csv.to_str().unwrap(),
    ]);
    assert!(out.contains("wrote the status counts"), "{out}");
    let counts = std::fs::read_to_string(&counts_csv).unwrap();
    assert_eq!(
        counts
            .trim_start_matches('\u{feff}')
            .lines()
            .collect::<Vec<_>>(),
        ["student;service;status;count", "stu-1;svc-2;accepted;1"]
    );
    let rows = std::fs::read_to_string(&stats_csv).unwrap();
    assert!(
        rows.lines()
            .any(|l| l.starts_with("round3;VAN;secondary;svc-2;")),
        "{rows}"
    );

    // The coordinator's export reads back into a new store as the same students.
    let all_csv = dir.path().join("all.csv");
    let out = ok(&["export", &db, "--all", all_csv.to_str().unwrap()]);
    assert!(out.contains("wrote 2 students"), "{out}");
    let all = std::fs::read_to_string(&all_csv).unwrap();
    assert!(
        all.contains(";stu-1;") && all.contains(";svc-2;con-2;"),
        "{all}"
    );
    let copy = dir.path().join("copy.redb").to_str().unwrap().to_owned();
    ok(&["init", &copy]);
    ok(&["add-service", &copy, "Familiezorg", "--province", "VAN"]);
    ok(&["add-service", &copy, "Thuiszorg", "--province", "VAN"]);
    ok(&["add-school", &copy, "Sint-Jozef"]);
    let out = ok(&[
        "import",
        &copy,
        "--school",
        "sch-1",
        all_csv.to_str().unwrap(),
    ]);
    assert!(out.contains("imported 2 students"), "{out}");
    let (code, _, err) = stagematch(&["export", &db, "--all", "--service", "svc-1", "x.csv"]);
    assert_eq!(code, 2, "{err}");

    let stats = ok(&["stats", &db, "--at", "2025-10-08 12:00"]);
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("round3\tVAN\tsecondary\tThuiszorg\t") && l.contains("\t1\t")),
        "{stats}"
    );
}

#[test]
fn wrong_arguments_and_refusals_exit_non_zero_and_change_nothing() {
    let (code, _, err) = stagematch(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("unrecognized subcommand"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let db = season(dir.path());
    let (code, _, err) = stagematch(&["phase", &db, "--at", "tomorrow"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("stagematch: at: must be YYYY-MM-DD HH:MM"),
        "{err}"
    );

    let (code, _, err) = stagematch(&["phase", "/nonexistent/x.redb"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");

    let (code, _, err) = stagematch(&["add-service", &db, "X", "--province", "Atlantis"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("stagematch: province: is not a Belgian province"),
        "{err}"
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, CSV.replace(";2000;", ";0999;")).unwrap();
    let (code, _, err) = stagematch(&[
        "import",
        &db,
        "--school",
        "Sint-Jozef",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2, column postcode"), "{err}");
    let all = ok(&[
        "students",
        &db,
        "--service",
        "svc-1",
        "--at",
        "2025-09-22 10:00",
    ]);
    assert_eq!(all.lines().count(), 2);

    let (code, _, err) = stagematch(&["init", &db]);
    assert_eq!(code, 1);
    assert!(err.contains("exists already"), "{err}");
    let (_, help, _) = stagematch(&["--help"]);
    for command in [
        "init",
        "add-service",
        "import",
        "students",
        "decide",
        "export",
        "stats",
    ] {
        assert!(help.contains(command), "{command}");
    }
}

#[test]
fn the_demo_plays_a_small_season_and_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.redb");
    let html = dir.path().join("demo.html");
    let args = [
        "demo",
        "--students",
        "400",
        "--seed",
        "7",
        "--db",
        db.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ];
    let out = ok(&args);
    assert!(out.contains("registered 400 students"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("round 3, day 1") && l.contains("round3")),
        "{out}"
    );
    assert!(out.contains(&format!("the store was written to {}", db.display())));
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains("<svg") && report.contains("400 students"));

    // The same seed gives the same cohort and the same choices until services race (who
    // wins a race depends on the threads); an existing --db is refused.
    let again = dir.path().join("again.redb");
    let out2 = ok(&[
        "demo",
        "--students",
        "400",
        "--seed",
        "7",
        "--db",
        again.to_str().unwrap(),
    ]);
    let first_lines = |o: &str| o.lines().take(2).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(first_lines(&out), first_lines(&out2));
    let placed = |o: &str| {
        o.lines()
            .find(|l| l.starts_with("placed"))
            .unwrap()
            .to_owned()
    };
    assert!(placed(&out2).contains("of 400 students"));
    let (code, _, err) = stagematch(&["demo", "--students", "400", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("exists already"), "{err}");
    let (code, _, _) = stagematch(&["demo", "--students", "0"]);
    assert_eq!(code, 2);
}

#[test]
fn logins_invitations_and_the_outbox_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = season(dir.path());

    let out = ok(&[
        "add-login",
        &db,
        "els@fz.be",
        "--role",
        "service",
        "--service",
        "Familiezorg",
    ]);
    let token = out
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap()
        .to_owned();
    let (code, _, err) = stagematch(&["add-login", &db, "x@y.be", "--role", "janitor"]);
    assert_eq!(code, 1);
    assert!(err.contains("role"), "{err}");
    let (code, _, err) = stagematch(&["add-login", &db, "x@y.be", "--role", "service"]);
    assert_eq!(code, 1, "{err}");

    // The password comes from standard input, not from the arguments.
    let activate = |token: &str, password: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_stagematch"))
            .args(["activate", &db, token])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, text) = activate(&token, "kort");
    assert_eq!(code, 1);
    assert!(text.contains("password"), "{text}");
    let (code, text) = activate(&token, "een lang genoeg paswoord");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("els@fz.be is active (service svc-1)"),
        "{text}"
    );
    let (code, text) = activate(&token, "een lang genoeg paswoord");
    assert_eq!(code, 1);
    assert!(text.contains("not valid"), "{text}");

    assert_eq!(
        ok(&["logins", &db]).trim(),
        "els@fz.be\tservice svc-1\tactive"
    );
    let out = ok(&["mailings", &db, "--at", "2025-09-19 13:00"]);
    assert!(out.contains("2 round mailings and 1 reminders"), "{out}");
    let outbox = ok(&["outbox", &db]);
    assert!(
        outbox.contains("kind: invitation") && outbox.contains(&token),
        "{outbox}"
    );
    assert!(
        outbox.contains("kind: round_start") && outbox.contains("Ronde 3"),
        "{outbox}"
    );
    assert!(outbox.contains("kind: reminder"), "{outbox}");
    assert_eq!(ok(&["outbox", &db]).trim(), "", "taken once");
}

#[test]
fn a_key_file_seals_national_numbers_and_every_command_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sealed.redb").to_str().unwrap().to_owned();
    let key = dir.path().join("season.key").to_str().unwrap().to_owned();

    let (code, out, err) = stagematch(&["init", &db, "--key-file", &key]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sealed with the key"), "{out}");
    assert!(err.contains("wrote a new key"), "{err}");
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (code, _, err) = stagematch(&["add-school", &db, "School"]);
    assert_eq!(code, 1);
    assert!(err.contains("sealed with a key"), "{err}");
    let csv = dir.path().join("l.csv");
    std::fs::write(
        &csv,
        "voornaam;achternaam;type;straat;postcode;gemeente;vervoer;periodes;uren_per_week;\
         totaal_uren;vorm;rijksregisternummer\n\
         Lotte;De Smet;secundair;Veldstraat 5;2000;Antwerpen;fiets;06/10/2025-31/10/2025;18;\
         72;blok;85.07.30-033.28\n",
    )
    .unwrap();
    ok(&["add-school", &db, "School", "--key-file", &key]);
    ok(&[
        "import",
        &db,
        "--school",
        "School",
        csv.to_str().unwrap(),
        "--key-file",
        &key,
    ]);
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(11).any(|w| w == b"85073003328"));

    let other = dir.path().join("other.key");
    std::fs::write(&other, "ab".repeat(32)).unwrap();
    let (code, _, err) = stagematch(&["phase", &db, "--key-file", other.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not the key"), "{err}");
}

#[test]
fn a_season_on_its_own_calendar_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("next.redb");
    let db = db.to_str().unwrap();

    // The next school year: every moment a year on.
    let next = |y: &str| y.replace("2025-", "2026-");
    let default_text = {
        let scratch = dir.path().join("scratch.redb");
        ok(&["init", scratch.to_str().unwrap()]);
        ok(&["calendar", scratch.to_str().unwrap()])
    };
    assert!(default_text.contains("round1 = 2025-06-30 12:00 .. 2025-08-15 12:00"));
    let file = dir.path().join("2026-2027.txt");
    std::fs::write(&file, next(&default_text)).unwrap();

    // A bad file creates nothing: neither the store nor its key.
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        next(&default_text).replace("round3 = 2026-09-19", "round3 = 2026-08-01"),
    )
    .unwrap();
    let key = dir.path().join("next.key");
    let (code, _, err) = stagematch(&[
        "init",
        db,
        "--calendar",
        bad.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.starts_with("stagematch: round3: "), "{err}");
    assert!(!Path::new(db).exists() && !key.exists());

    ok(&["init", db, "--calendar", file.to_str().unwrap()]);
    assert_eq!(ok(&["calendar", db]), next(&default_text));
    assert_eq!(
        ok(&["phase", db, "--at", "2025-09-22 10:00"]).trim(),
        "closed"
    );
    assert_eq!(
        ok(&["phase", db, "--at", "2026-09-22 10:00"]).trim(),
        "round3"
    );

    // Moving round 3 by a day, and a refused change that leaves the calendar as it was.
    let moved = dir.path().join("moved.txt");
    std::fs::write(
        &moved,
        next(&default_text).replace(
            "round3 = 2026-09-19 12:00 .. 2026-09-30 12:00",
            "round3 = 2026-09-19 12:00 .. 2026-10-01 12:00",
        ),
    )
    .unwrap();
    assert!(ok(&["calendar", db, "--set", moved.to_str().unwrap()]).contains("is now"));
    assert_eq!(
        ok(&["phase", db, "--at", "2026-09-30 18:00"]).trim(),
        "round3"
    );
    let (code, _, err) = stagematch(&["calendar", db, "--set", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        ok(&["phase", db, "--at", "2026-09-30 18:00"]).trim(),
        "round3"
    );
    let missing = dir.path().join("missing.txt");
    let (code, _, err) = stagematch(&["calendar", db, "--set", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("the file") && err.contains("missing.txt"),
        "{err}"
    );
}

#[test]
fn check_reads_a_store_as_it_is_and_changes_nothing_in_it() {
    use stagematch_core::Store;
    let dir = tempfile::tempdir().unwrap();

    // A store sealed with a key: checked without it, its data unchanged.
    let db = dir.path().join("sealed.redb");
    let key = dir.path().join("sealed.key");
    let (db, key) = (db.to_str().unwrap(), key.to_str().unwrap());
    ok(&["init", db, "--key-file", key]);
    ok(&[
        "add-service",
        db,
        "Familiezorg",
        "--province",
        "VAN",
        "--key-file",
        key,
    ]);
    let before = Store::digest_file(db).unwrap();
    let out = ok(&["check", db]);
    assert!(out.contains(": whole") && out.contains("digest "), "{out}");
    assert_eq!(Store::digest_file(db).unwrap(), before);

    // A store without a key, checked with one: the key is not adopted.
    let plain = dir.path().join("plain.redb");
    let plain = plain.to_str().unwrap();
    ok(&["init", plain]);
    let before = Store::digest_file(plain).unwrap();
    ok(&["check", plain, "--key-file", key]);
    assert_eq!(Store::digest_file(plain).unwrap(), before);
    ok(&["phase", plain]);

    // A store of format 1: checked as it is, not brought forward.
    let old = dir.path().join("format-1.redb");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/format-1-season.redb"
    );
    std::fs::copy(fixture, &old).unwrap();
    let before = Store::digest_file(&old).unwrap();
    let out = ok(&["check", old.to_str().unwrap()]);
    assert_eq!(Store::digest_file(&old).unwrap(), before);
    let hex: String = before.iter().map(|b| format!("{b:02x}")).collect();
    assert!(out.contains(&hex), "{out}");
}
