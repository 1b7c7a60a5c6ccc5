//! The season of the manual, walked through the public API: rounds, blackout, dual
//! interviews, exactly-once accepts and personal data.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Season, at, day, season, season_in, student};
use stagematch_core::{
    Decision, Error, Period, Phase, Province, Query, Status, Store, StudentId, Tab, Track,
};

fn open_ids(
    s: &Season,
    svc: stagematch_core::ServiceId,
    t: chrono::DateTime<chrono::Utc>,
) -> Vec<StudentId> {
    let q = Query {
        limit: 1000,
        sort: stagematch_core::Sort::Name,
        ..Query::default()
    };
    s.store
        .students(svc, &q, t)
        .unwrap()
        .rows
        .into_iter()
        .map(|c| c.id)
        .collect()
}

struct Cast {
    own: StudentId,
    far: StudentId,
    nopref: StudentId,
    other: StudentId,
}

/// A: prefers Antwerp, lives in Antwerp. B: prefers Antwerp, lives in Limburg. C: no
/// preference, Antwerp. D: prefers Limburg, lives in Antwerp. All registered in June.
fn cast(s: &Season) -> Cast {
    let june = at(6, 2, 10, 0);
    let reg = |last, pc, pref| s.register(Track::Secondary, last, pc, pref, june);
    Cast {
        own: reg("Aerts", "2000", Some(s.antwerp)),
        far: reg("Bosmans", "3500", Some(s.antwerp)),
        nopref: reg("Claes", "2018", None),
        other: reg("Dierckx", "2100", Some(s.limburg)),
    }
}

#[test]
fn before_round_one_no_placement_student_is_visible() {
    let s = season();
    cast(&s);
    assert!(open_ids(&s, s.antwerp, at(6, 30, 11, 59)).is_empty());
    assert_eq!(s.store.phase(at(6, 30, 11, 59)), Phase::Closed);
}

#[test]
fn round_one_shows_preferred_students_of_the_own_province() {
    let s = season();
    let c = cast(&s);
    assert_eq!(open_ids(&s, s.antwerp, at(6, 30, 12, 0)), vec![c.own]);
    assert!(open_ids(&s, s.limburg, at(7, 15, 9, 0)).is_empty());
    // Between rounds 1 and 2 the rule of round 1 stays in force.
    assert_eq!(open_ids(&s, s.antwerp, at(8, 30, 9, 0)), vec![c.own]);
}

#[test]
fn round_two_adds_other_provinces() {
    let s = season();
    let c = cast(&s);
    assert_eq!(open_ids(&s, s.antwerp, at(9, 5, 12, 0)), vec![c.own, c.far]);
    assert_eq!(open_ids(&s, s.limburg, at(9, 5, 12, 0)), vec![c.other]);
}

#[test]
fn round_three_shows_everyone() {
    let s = season();
    let c = cast(&s);
    let everyone = vec![c.own, c.far, c.nopref, c.other];
    assert_eq!(open_ids(&s, s.antwerp, at(9, 19, 12, 0)), everyone);
    assert_eq!(open_ids(&s, s.limburg, at(9, 19, 12, 0)), everyone);
    // After the last round the tool stays open with the same rule.
    assert_eq!(open_ids(&s, s.limburg, at(11, 20, 12, 0)), everyone);
}

#[test]
fn blackout_registrations_appear_at_the_release_moment() {
    let s = season();
    let late = s.register(
        Track::Secondary,
        "Laat",
        "2000",
        Some(s.antwerp),
        at(7, 10, 9, 0),
    );

    assert!(open_ids(&s, s.antwerp, at(8, 1, 9, 0)).is_empty());
    assert!(open_ids(&s, s.antwerp, at(9, 6, 9, 0)).is_empty());
    assert!(open_ids(&s, s.antwerp, at(9, 19, 11, 59)).is_empty());
    assert_eq!(open_ids(&s, s.antwerp, at(9, 19, 12, 0)), vec![late]);

    // A registration after the blackout is visible at once.
    let after = s.register(
        Track::Secondary,
        "Na",
        "2000",
        Some(s.antwerp),
        at(8, 15, 12, 0),
    );
    assert_eq!(open_ids(&s, s.antwerp, at(8, 15, 12, 0)), vec![after]);
}

#[test]
fn a_second_accept_fails_and_the_student_leaves_other_tabs() {
    let s = season();
    let c = cast(&s);
    let t = at(9, 22, 10, 0);

    s.store
        .decide(s.antwerp, c.nopref, &Decision::accept(s.antwerp_contact), t)
        .unwrap();
    let err = s
        .store
        .decide(s.limburg, c.nopref, &Decision::accept(s.limburg_contact), t)
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyPlaced { student, service } if student == c.nopref && service == s.antwerp)
    );

    // Any decision of another service on a placed student is told it is placed.
    let err = s
        .store
        .decide(s.limburg, c.nopref, &Decision::new(Status::NotAccepted), t)
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyPlaced { .. }));

    // Accepting is final for the service that accepted.
    let err = s
        .store
        .decide(s.antwerp, c.nopref, &Decision::new(Status::Undecided), t)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            from: Status::Accepted,
            ..
        }
    ));

    assert!(!open_ids(&s, s.antwerp, t).contains(&c.nopref));
    assert!(!open_ids(&s, s.limburg, t).contains(&c.nopref));
    let accepted = Query {
        tab: Tab::Accepted,
        ..Query::default()
    };
    let ids: Vec<_> = s
        .store
        .students(s.antwerp, &accepted, t)
        .unwrap()
        .rows
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![c.nopref]);
    assert_eq!(s.store.students(s.limburg, &accepted, t).unwrap().total, 0);
    assert!(matches!(
        s.store.student(s.limburg, c.nopref, t).unwrap_err(),
        Error::NotVisible { .. }
    ));

    // As of a moment before the accept, the student was still open to both.
    assert!(open_ids(&s, s.limburg, at(9, 21, 10, 0)).contains(&c.nopref));
}

#[test]
fn a_service_may_only_decide_on_visible_students() {
    let s = season();
    let c = cast(&s);
    let before = s.store.history(None).unwrap().len();

    let round1 = at(7, 1, 9, 0);
    let err = s
        .store
        .decide(
            s.antwerp,
            c.nopref,
            &Decision::new(Status::NotAccepted),
            round1,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotVisible { .. }));
    let err = s
        .store
        .decide(
            s.limburg,
            c.own,
            &Decision::accept(s.limburg_contact),
            round1,
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotVisible { .. }));

    assert_eq!(s.store.history(None).unwrap().len(), before);
    assert_eq!(s.store.placement(c.own).unwrap(), None);
}

#[test]
fn accept_needs_an_own_contact_and_own_periods() {
    let s = season();
    let c = cast(&s);
    let t = at(9, 22, 10, 0);

    let mut no_contact = Decision::new(Status::Accepted);
    let err = s
        .store
        .decide(s.antwerp, c.own, &no_contact, t)
        .unwrap_err();
    assert_eq!(err.field(), Some("contact"));

    no_contact.contact = Some(s.limburg_contact);
    let err = s
        .store
        .decide(s.antwerp, c.own, &no_contact, t)
        .unwrap_err();
    assert_eq!(err.field(), Some("contact"));

    let stray = Period::new(day(11, 3), day(11, 7)).unwrap();
    let err = s
        .store
        .decide(
            s.antwerp,
            c.own,
            &Decision::accept(s.antwerp_contact).with_periods(vec![stray]),
            t,
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("periods"));
    assert_eq!(
        s.store.status(s.antwerp, c.own, t).unwrap(),
        Status::Undecided
    );

    let october = Period::new(day(10, 6), day(10, 31)).unwrap();
    let accept = Decision::accept(s.antwerp_contact)
        .with_periods(vec![october])
        .with_notes("welkom");
    s.store.decide(s.antwerp, c.own, &accept, t).unwrap();
    let placement = s.store.placement(c.own).unwrap().unwrap();
    assert_eq!(placement.periods, vec![october]);
    assert_eq!(placement.contact, s.antwerp_contact);
    assert_eq!(placement.notes.as_deref(), Some("welkom"));

    // Without periods, an accept takes all of them.
    s.store
        .decide(s.antwerp, c.far, &Decision::accept(s.antwerp_contact), t)
        .unwrap();
    assert_eq!(s.store.placement(c.far).unwrap().unwrap().periods.len(), 2);
}

#[test]
fn not_accepted_is_reversible_and_other_services_may_still_accept() {
    let s = season();
    let c = cast(&s);
    let t = at(9, 22, 10, 0);
    s.store
        .decide(s.antwerp, c.other, &Decision::new(Status::NotAccepted), t)
        .unwrap();
    s.store
        .decide(s.antwerp, c.other, &Decision::new(Status::Undecided), t)
        .unwrap();
    s.store
        .decide(s.antwerp, c.other, &Decision::new(Status::NotAccepted), t)
        .unwrap();
    s.store
        .decide(s.limburg, c.other, &Decision::new(Status::NotAccepted), t)
        .unwrap();
    s.store
        .decide(s.limburg, c.other, &Decision::accept(s.limburg_contact), t)
        .unwrap();

    let counts = s.store.status_counts().unwrap();
    let count = |svc, status| {
        counts
            .iter()
            .find(|r| r.student == c.other && r.service == svc && r.status == status)
            .map(|r| r.count)
    };
    assert_eq!(count(s.antwerp, Status::NotAccepted), Some(2));
    assert_eq!(count(s.antwerp, Status::Undecided), Some(1));
    assert_eq!(count(s.limburg, Status::Accepted), Some(1));
    assert_eq!(count(s.limburg, Status::Undecided), None);

    let history = s.store.history(Some(c.other)).unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].actor, s.antwerp.to_string());
    assert_eq!(history[4].from, Status::NotAccepted);
    assert_eq!(history[4].at(), t);
}

#[test]
fn dual_needs_an_invitation_before_accept() {
    let s = season();
    let dual = s.register(Track::Dual, "Duaal", "3600", None, at(6, 1, 9, 0));

    // Dual students are visible to every service from the dual window on, before round 1.
    assert!(open_ids(&s, s.antwerp, at(6, 15, 23, 59)).is_empty());
    assert_eq!(open_ids(&s, s.antwerp, at(6, 16, 0, 0)), vec![dual]);
    assert_eq!(open_ids(&s, s.limburg, at(6, 16, 0, 0)), vec![dual]);

    let t = at(6, 20, 10, 0);
    let err = s
        .store
        .decide(s.antwerp, dual, &Decision::accept(s.antwerp_contact), t)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidTransition {
            track: Track::Dual,
            from: Status::Undecided,
            ..
        }
    ));

    s.store
        .decide(s.antwerp, dual, &Decision::new(Status::NotInvited), t)
        .unwrap();
    s.store
        .decide(s.antwerp, dual, &Decision::new(Status::Invited), t)
        .unwrap();
    s.store
        .decide(s.limburg, dual, &Decision::new(Status::Invited), t)
        .unwrap();
    s.store
        .decide(s.limburg, dual, &Decision::new(Status::NoShow), t)
        .unwrap();
    s.store
        .decide(s.limburg, dual, &Decision::new(Status::NotAccepted), t)
        .unwrap();
    s.store
        .decide(
            s.antwerp,
            dual,
            &Decision::accept(s.antwerp_contact).with_notes("ok"),
            at(6, 25, 9, 0),
        )
        .unwrap();
    assert_eq!(
        s.store.status(s.antwerp, dual, None).unwrap(),
        Status::Accepted
    );
    assert!(matches!(
        s.store
            .decide(
                s.limburg,
                dual,
                &Decision::new(Status::NoShow),
                at(6, 26, 9, 0)
            )
            .unwrap_err(),
        Error::AlreadyPlaced { .. }
    ));
}

#[test]
fn personal_data_appears_only_after_invite_or_accept() {
    let s = season();
    let c = cast(&s);
    let dual = s.register(Track::Dual, "Duaal", "3600", None, at(6, 1, 9, 0));
    let t = at(9, 22, 10, 0);

    let hidden = |card: &stagematch_core::StudentCard| {
        card.national_number.is_none()
            && card.email.is_none()
            && card.phone.is_none()
            && card
                .supervisor
                .as_ref()
                .is_some_and(|s| s.email.is_none() && s.phone.is_none())
    };

    for svc in [s.antwerp, s.limburg] {
        let page = s.store.students(svc, &Query::default(), t).unwrap();
        assert!(page.rows.iter().all(hidden));
    }

    s.store
        .decide(s.antwerp, dual, &Decision::new(Status::Invited), t)
        .unwrap();
    let card = s.store.student(s.antwerp, dual, t).unwrap();
    let record = s.store.student_record(dual).unwrap();
    assert!(record.data.national_number.is_some());
    assert_eq!(card.national_number, record.data.national_number);
    assert_eq!(card.email.as_deref(), Some("noor@leerling.be"));
    assert_eq!(
        card.supervisor.as_ref().unwrap().phone.as_deref(),
        Some("03 123 45 67")
    );
    assert!(hidden(&s.store.student(s.limburg, dual, t).unwrap()));
    // As of a moment before the invitation, the data was not visible.
    assert!(hidden(
        &s.store.student(s.antwerp, dual, at(9, 21, 10, 0)).unwrap()
    ));

    // An accepting service sees it too; a service that declined does not.
    s.store
        .decide(s.limburg, c.own, &Decision::new(Status::NotAccepted), t)
        .unwrap();
    assert!(hidden(&s.store.student(s.limburg, c.own, t).unwrap()));
    s.store
        .decide(s.antwerp, c.own, &Decision::accept(s.antwerp_contact), t)
        .unwrap();
    let accepted = Query {
        tab: Tab::Accepted,
        ..Query::default()
    };
    let page = s.store.students(s.antwerp, &accepted, t).unwrap();
    assert_eq!(page.rows[0].phone.as_deref(), Some("0470 12 34 56"));
    assert_eq!(
        page.rows[0].placement.as_ref().unwrap().contact,
        s.antwerp_contact
    );

    // Everything else is on the card for any service that sees the student.
    let card = s.store.student(s.limburg, c.nopref, t).unwrap();
    assert_eq!(
        card.remarks.as_deref(),
        Some("Spreekt Frans en Nederlands.")
    );
    assert_eq!(
        card.supervisor.unwrap().name.as_deref(),
        Some("Mevr. Claes")
    );
    assert_eq!(card.school_name, "Sint-Jozef Zorgschool");
    assert_eq!(card.province, Province::Antwerp);
}

#[test]
fn a_file_store_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("season.redb");
    let t = at(9, 22, 10, 0);

    let (c, antwerp, limburg) = {
        let s = season_in(Store::open(&path).unwrap());
        let c = cast(&s);
        s.store
            .decide(s.antwerp, c.own, &Decision::accept(s.antwerp_contact), t)
            .unwrap();
        s.store
            .decide(s.limburg, c.far, &Decision::new(Status::NotAccepted), t)
            .unwrap();
        (c, s.antwerp, s.limburg)
    };

    let store = Store::open(&path).unwrap();
    assert_eq!(store.student_count(), 4);
    assert_eq!(store.services().len(), 2);
    assert_eq!(store.status(antwerp, c.own, t).unwrap(), Status::Accepted);
    assert_eq!(
        store.status(limburg, c.far, t).unwrap(),
        Status::NotAccepted
    );
    assert!(matches!(
        store
            .decide(limburg, c.own, &Decision::new(Status::NotAccepted), t)
            .unwrap_err(),
        Error::AlreadyPlaced { .. }
    ));
    assert_eq!(store.history(None).unwrap().len(), 2);
    let accepted = Query {
        tab: Tab::Accepted,
        ..Query::default()
    };
    assert_eq!(store.students(antwerp, &accepted, t).unwrap().total, 1);
    assert_eq!(store.find_service("thuiszorg limburg").unwrap().id, limburg);
}

#[test]
fn bad_references_are_not_found_and_store_nothing() {
    let s = season();
    let c = cast(&s);
    let ghost_school = "sch-99".parse().unwrap();
    let err = s
        .store
        .register_student(
            ghost_school,
            &student(Track::Secondary, "X", "2000", None),
            at(6, 1, 9, 0),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { what: "school", .. }));

    let ghost_service = "svc-9".parse().unwrap();
    let err = s
        .store
        .register_student(
            s.school,
            &student(Track::Secondary, "X", "2000", Some(ghost_service)),
            at(6, 1, 9, 0),
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("preferred_service"));

    let err = s
        .store
        .students(ghost_service, &Query::default(), None)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            what: "service",
            ..
        }
    ));
    let ghost_student = "stu-77".parse().unwrap();
    let err = s
        .store
        .decide(
            s.antwerp,
            ghost_student,
            &Decision::new(Status::NotAccepted),
            None,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotFound {
            what: "student",
            ..
        }
    ));
    assert_eq!(s.store.student_count(), 4);
    let _ = c;
}

#[test]
fn a_batch_is_stored_whole_or_not_at_all() {
    let s = season();
    let mut batch = vec![
        student(Track::Secondary, "Een", "2000", None),
        student(Track::Adult, "Twee", "9000", None),
        student(Track::Dual, "Drie", "8000", None),
    ];
    batch[2].postcode = "10000".into();
    let err = s
        .store
        .register_students(s.school, &batch, at(6, 1, 9, 0))
        .unwrap_err();
    assert_eq!(err.field(), Some("postcode"));
    assert!(err.to_string().contains("student 3 of the batch"), "{err}");
    assert_eq!(s.store.student_count(), 0);

    batch[2].postcode = "8000".into();
    let ids = s
        .store
        .register_students(s.school, &batch, at(6, 1, 9, 0))
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        s.store.student_record(ids[2]).unwrap().data.province(),
        Province::WestFlanders
    );
}

#[test]
fn directory_names_are_unique() {
    let s = season();
    let err = s
        .store
        .add_service("familiezorg antwerpen", Province::Limburg)
        .unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let err = s.store.add_school("SINT-JOZEF ZORGSCHOOL").unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let err = s
        .store
        .add_contact(
            s.antwerp,
            &stagematch_core::NewContact::new("els wouters", "03 111 22 33", "x@y.be"),
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("name"));
    // The same contact name in another service is fine.
    s.store
        .add_contact(
            s.limburg,
            &stagematch_core::NewContact::new("Els Wouters", "03 111 22 33", "x@y.be"),
        )
        .unwrap();
    assert_eq!(s.store.contacts(s.limburg).unwrap().len(), 2);
}

#[test]
fn a_past_moment_never_shows_personal_data_the_service_lost() {
    let s = season();
    let dual = s.register(Track::Dual, "Duaal", "2000", None, at(6, 1, 9, 0));
    s.store
        .decide(
            s.antwerp,
            dual,
            &Decision::new(Status::Invited),
            at(6, 20, 9, 0),
        )
        .unwrap();
    let invited = s.store.student(s.antwerp, dual, at(6, 21, 9, 0)).unwrap();
    assert!(invited.national_number.is_some());

    s.store
        .decide(
            s.antwerp,
            dual,
            &Decision::new(Status::NoShow),
            at(6, 25, 9, 0),
        )
        .unwrap();
    let back_then = s.store.student(s.antwerp, dual, at(6, 21, 9, 0)).unwrap();
    assert_eq!(back_then.status, Status::Invited);
    assert_eq!(
        (back_then.national_number, back_then.email, back_then.phone),
        (None, None, None)
    );
}

#[test]
fn decisions_about_a_student_come_in_the_order_of_their_moments() {
    let s = season();
    let c = cast(&s);
    let late = at(9, 28, 10, 0);
    s.store
        .decide(
            s.limburg,
            c.nopref,
            &Decision::new(Status::NotAccepted),
            late,
        )
        .unwrap();

    // Another service cannot slip an accept in before a decision already recorded.
    let err = s
        .store
        .decide(
            s.antwerp,
            c.nopref,
            &Decision::accept(s.antwerp_contact),
            at(9, 22, 10, 0),
        )
        .unwrap_err();
    assert_eq!(err.field(), Some("at"));
    assert_eq!(s.store.placement(c.nopref).unwrap(), None);
    s.store
        .decide(
            s.antwerp,
            c.nopref,
            &Decision::accept(s.antwerp_contact),
            late,
        )
        .unwrap();
}

#[test]
fn notes_are_checked_after_the_student_and_kept_with_the_placement() {
    let s = season();
    let c = cast(&s);
    let t = at(9, 22, 10, 0);
    let ghost = "stu-999".parse().unwrap();
    let bad_notes = Decision::accept(s.antwerp_contact).with_notes("a\u{0}b");
    assert!(matches!(
        s.store.decide(s.antwerp, ghost, &bad_notes, t).unwrap_err(),
        Error::NotFound {
            what: "student",
            ..
        }
    ));
    assert_eq!(
        s.store
            .decide(s.antwerp, c.own, &bad_notes, t)
            .unwrap_err()
            .field(),
        Some("notes")
    );
    assert!(s.store.history(None).unwrap().is_empty());
}
