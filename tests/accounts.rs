//! Logins, tokens, sessions, the outbox and what each role may see and do.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Duration;
use common::{at, season, student};
use stagematch_core::csv::ExportOptions;
use stagematch_core::{
    Decision, Error, MessageKind, NewContact, Query, Role, Status, Store, Tab, Track,
};

const PASSWORD: &str = "een lang genoeg paswoord";

/// A store with a service login and a school login, both active, the clock in round 3.
fn with_logins() -> (common::Season, String, String) {
    let s = season();
    s.store.set_clock(Some(at(9, 22, 10, 0)));
    let service = s
        .store
        .create_login("els@familiezorg.be", Role::Service(s.antwerp))
        .unwrap();
    s.store.activate(&service, PASSWORD).unwrap();
    let school = s
        .store
        .create_login("sec@school.be", Role::School(s.school))
        .unwrap();
    s.store.activate(&school, PASSWORD).unwrap();
    s.store.take_outbox().unwrap();
    (s, "els@familiezorg.be".into(), "sec@school.be".into())
}

fn is_auth(r: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(r, Err(Error::Auth { .. }))
}

#[test]
fn an_invitation_activates_once_and_its_message_carries_the_token() {
    let s = season();
    s.store.set_clock(Some(at(6, 1, 9, 0)));
    let token = s
        .store
        .create_login("Els@Familiezorg.be", Role::Service(s.antwerp))
        .unwrap();

    let outbox = s.store.take_outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].kind, MessageKind::Invitation);
    assert_eq!(outbox[0].to, "els@familiezorg.be");
    assert!(outbox[0].body.contains(&token), "{}", outbox[0].body);
    assert!(outbox[0].body.contains("Familiezorg Antwerpen"));
    assert!(s.store.take_outbox().unwrap().is_empty(), "taken once");

    // A bad password leaves the token usable.
    let short = s.store.activate(&token, "kort");
    assert_eq!(short.unwrap_err().field(), Some("password"));
    assert!(is_auth(&s.store.sign_in("els@familiezorg.be", "kort")));

    let login = s.store.activate(&token, PASSWORD).unwrap();
    assert!(login.active);
    assert!(is_auth(&s.store.activate(&token, PASSWORD)), "single use");
    assert!(
        s.store
            .create_login("ELS@familiezorg.be", Role::Coordinator)
            .unwrap_err()
            .field()
            == Some("email")
    );

    let session = s.store.sign_in("els@familiezorg.be", PASSWORD).unwrap();
    assert_eq!(session.role(), Role::Service(s.antwerp));
    assert_eq!(session.token().len(), 64);
}

#[test]
fn invitations_and_resets_expire() {
    let s = season();
    let start = at(6, 1, 9, 0);
    s.store.set_clock(Some(start));
    let token = s
        .store
        .create_login("a@dienst.be", Role::Service(s.antwerp))
        .unwrap();
    s.store.set_clock(Some(start + Duration::days(7)));
    let expired = s.store.activate(&token, PASSWORD).unwrap_err();
    assert!(expired.to_string().contains("expired"), "{expired}");

    let again = s.store.invite_again("a@dienst.be").unwrap();
    assert!(is_auth(&s.store.activate(&token, PASSWORD)), "replaced");
    s.store.activate(&again, PASSWORD).unwrap();

    let t = s.store.now();
    s.store.request_password_reset("a@dienst.be").unwrap();
    let message = s.store.take_outbox().unwrap().pop().unwrap();
    assert_eq!(message.kind, MessageKind::PasswordReset);
    let reset = message
        .body
        .split_whitespace()
        .find(|w| w.len() == 64)
        .unwrap()
        .to_owned();
    s.store.set_clock(Some(t + Duration::minutes(31)));
    assert!(is_auth(
        &s.store.reset_password(&reset, "nieuw en lang paswoord")
    ));
}

#[test]
fn unknown_addresses_get_the_same_answers() {
    let (s, service, _) = with_logins();

    let wrong = s.store.sign_in(&service, "niet het paswoord").unwrap_err();
    let unknown = s.store.sign_in("niemand@nergens.be", PASSWORD).unwrap_err();
    assert_eq!(wrong.to_string(), unknown.to_string());

    // A reset for an unknown address says and stores nothing more.
    s.store
        .request_password_reset("niemand@nergens.be")
        .unwrap();
    s.store.request_password_reset("geen adres").unwrap();
    assert!(s.store.take_outbox().unwrap().is_empty());
    s.store.request_password_reset(&service).unwrap();
    assert_eq!(s.store.take_outbox().unwrap().len(), 1);
}

#[test]
fn a_reset_ends_every_session_and_sets_the_new_password() {
    let (s, service, _) = with_logins();
    let session = s.store.sign_in(&service, PASSWORD).unwrap();

    s.store.request_password_reset(&service).unwrap();
    let body = s.store.take_outbox().unwrap().pop().unwrap().body;
    let token = body.split_whitespace().find(|w| w.len() == 64).unwrap();
    s.store
        .reset_password(token, "een nieuw paswoord hier")
        .unwrap();

    assert!(is_auth(&session.students(&Query::default(), None)));
    assert!(is_auth(&s.store.sign_in(&service, PASSWORD)));
    s.store
        .sign_in(&service, "een nieuw paswoord hier")
        .unwrap();
    assert!(is_auth(
        &s.store.reset_password(token, "nog een ander paswoord")
    ));
}

#[test]
fn one_session_per_login_and_idle_sessions_end() {
    let (s, service, _) = with_logins();
    let first = s.store.sign_in(&service, PASSWORD).unwrap();
    let second = s.store.sign_in(&service, PASSWORD).unwrap();
    assert!(is_auth(&first.students(&Query::default(), None)));
    assert!(second.students(&Query::default(), None).is_ok());
    assert!(is_auth(&s.store.session(first.token())));

    // Used every 20 minutes it lives on; 31 minutes without use end it.
    let t = s.store.now();
    for k in 1..=3 {
        s.store.set_clock(Some(t + Duration::minutes(20 * k)));
        assert!(s.store.session(second.token()).is_ok(), "after {k} uses");
    }
    s.store.set_clock(Some(t + Duration::minutes(60 + 31)));
    assert!(is_auth(&s.store.session(second.token())));

    let third = s.store.sign_in(&service, PASSWORD).unwrap();
    let token = third.token().to_owned();
    third.sign_out().unwrap();
    assert!(is_auth(&s.store.session(&token)));
}

#[test]
fn repeated_failures_slow_down_sign_ins_for_known_and_unknown_addresses() {
    let (s, service, _) = with_logins();
    let t = s.store.now();
    for address in [service.as_str(), "niemand@nergens.be"] {
        for _ in 0..5 {
            let err = s.store.sign_in(address, "fout fout fout").unwrap_err();
            assert!(err.to_string().contains("wrong"), "{err}");
        }
        let err = s.store.sign_in(address, PASSWORD).unwrap_err();
        assert!(err.to_string().contains("try again in 1 s"), "{err}");
    }

    s.store.set_clock(Some(t + Duration::seconds(2)));
    let session = s.store.sign_in(&service, PASSWORD).unwrap();
    assert!(session.students(&Query::default(), None).is_ok());
}

#[test]
fn every_role_does_only_its_own_work() {
    let (s, service, school) = with_logins();
    let noor = s.register(Track::Secondary, "Peeters", "2000", None, at(6, 2, 10, 0));
    let token = s
        .store
        .create_login("vivo@vivo.be", Role::Coordinator)
        .unwrap();
    s.store.activate(&token, PASSWORD).unwrap();

    let svc = s.store.sign_in(&service, PASSWORD).unwrap();
    let sch = s.store.sign_in(&school, PASSWORD).unwrap();
    let vivo = s.store.sign_in("vivo@vivo.be", PASSWORD).unwrap();

    // The service: its own tab, decisions and contacts; nothing of a school or coordinator.
    assert_eq!(svc.students(&Query::default(), None).unwrap().total, 1);
    let contact = svc
        .add_contact(&NewContact::new("Els", "03 123 45 67", "els@fz.be"))
        .unwrap();
    assert_eq!(svc.contacts().unwrap().len(), 2);
    svc.decide(noor, &Decision::accept(contact)).unwrap();
    let entry = s.store.history(Some(noor)).unwrap().pop().unwrap();
    assert_eq!(entry.actor, service);
    assert_eq!(entry.at(), at(9, 22, 10, 0));
    assert!(matches!(
        svc.decide(noor, &Decision::accept(s.limburg_contact)),
        Err(Error::Validation { .. } | Error::InvalidTransition { .. })
    ));
    assert!(matches!(svc.coordinator(), Err(Error::Forbidden { .. })));
    assert!(matches!(
        svc.register_student(&student(Track::Adult, "X", "2000", None)),
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        svc.create_login("x@y.be", Role::Coordinator),
        Err(Error::Forbidden { .. })
    ));
    let future = svc
        .students(&Query::default(), at(10, 1, 9, 0))
        .unwrap_err();
    assert_eq!(future.field(), Some("at"));

    // The school: registers and reads its own students, sees no tab.
    let late = sch
        .register_student(&student(Track::Adult, "Laat", "2000", None))
        .unwrap();
    assert_eq!(
        s.store.student_record(late).unwrap().registered_at(),
        at(9, 22, 10, 0)
    );
    assert_eq!(sch.own_students().unwrap().len(), 2);
    assert!(matches!(
        sch.students(&Query::default(), None),
        Err(Error::Forbidden { .. })
    ));
    assert!(matches!(
        sch.decide(noor, &Decision::new(Status::Invited)),
        Err(Error::Forbidden { .. })
    ));

    // The coordinator: everything, through the store.
    let store = vivo.coordinator().unwrap();
    assert_eq!(store.student_count(), 2);
    assert!(matches!(
        vivo.students(&Query::default(), None),
        Err(Error::Forbidden { .. })
    ));
    vivo.create_login("tweede@familiezorg.be", Role::Service(s.antwerp))
        .unwrap();
    assert_eq!(s.store.logins().len(), 4);
}

#[test]
fn personal_data_reaches_only_those_allowed_in_every_view_and_export() {
    let (s, service, school) = with_logins();
    let other_school = s.store.add_school("Andere School").unwrap();
    let invited = s.register(
        Track::Secondary,
        "Uitgenodigd",
        "2000",
        None,
        at(6, 2, 10, 0),
    );
    let open = s.register(Track::Secondary, "Open", "2000", None, at(6, 2, 10, 0));
    let elsewhere = s
        .store
        .register_student(
            other_school,
            &student(Track::Secondary, "Elders", "2000", None),
            at(6, 2, 10, 0),
        )
        .unwrap();
    s.store
        .decide(
            s.antwerp,
            invited,
            &Decision::new(Status::NotAccepted),
            at(9, 20, 9, 0),
        )
        .ok();
    let dual = s.register(Track::Dual, "Duaal", "2000", None, at(6, 2, 10, 0));
    s.store
        .decide(
            s.antwerp,
            dual,
            &Decision::new(Status::Invited),
            at(9, 21, 9, 0),
        )
        .unwrap();

    // The personal data of the common student (every one has the same).
    let secrets = [
        "85.07.30-033.28",
        "850730",
        "noor@leerling.be",
        "0470 12 34 56",
        "claes@school.be",
        "03 123 45 67",
    ];
    let leaks = |text: &str| secrets.iter().filter(|p| text.contains(*p)).count();

    // The service: only the invited dual student's personal data, in cards and exports.
    let svc = s.store.sign_in(&service, PASSWORD).unwrap();
    for tab in [Tab::Open, Tab::Accepted] {
        let page = svc
            .students(
                &Query {
                    tab,
                    ..Query::default()
                },
                None,
            )
            .unwrap();
        for card in page.rows {
            let text = format!("{card:?}");
            if card.id == dual {
                assert!(leaks(&text) >= 4, "{text}");
            } else {
                assert_eq!(leaks(&text), 0, "{text}");
            }
        }
    }
    for id in [open, elsewhere] {
        assert_eq!(leaks(&format!("{:?}", svc.student(id, None).unwrap())), 0);
    }
    assert!(leaks(&format!("{:?}", svc.student(dual, None).unwrap())) >= 4);
    let mut csv = Vec::new();
    svc.export_tab(&Query::default(), None, &ExportOptions::default(), &mut csv)
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    for line in csv.lines().skip(1) {
        if line.contains("Duaal") {
            assert!(leaks(line) >= 4, "{line}");
        } else {
            assert_eq!(leaks(line), 0, "{line}");
        }
    }

    // The other service, which invited nobody, sees none at all.
    let token = s
        .store
        .create_login("an@thuiszorg.be", Role::Service(s.limburg))
        .unwrap();
    s.store.activate(&token, PASSWORD).unwrap();
    let limburg = s.store.sign_in("an@thuiszorg.be", PASSWORD).unwrap();
    let page = limburg
        .students(
            &Query {
                limit: 100,
                ..Query::default()
            },
            None,
        )
        .unwrap();
    assert!(page.total >= 3);
    assert_eq!(leaks(&format!("{:?}", page.rows)), 0);

    // The school sees its own students in full, and not the other school's.
    let sch = s.store.sign_in(&school, PASSWORD).unwrap();
    let own = sch.own_students().unwrap();
    assert!(own.iter().all(|st| st.school == s.school));
    assert!(own.iter().all(|st| st.id != elsewhere));
    assert!(leaks(&format!("{own:?}")) >= 4);
}

#[test]
fn two_sign_ins_at_once_leave_one_live_session() {
    let (s, service, _) = with_logins();
    let store = Arc::new(s.store);
    let barrier = Arc::new(Barrier::new(2));
    let tokens: Vec<String> = (0..2)
        .map(|_| {
            let (store, barrier, service) = (store.clone(), barrier.clone(), service.clone());
            thread::spawn(move || {
                barrier.wait();
                store
                    .sign_in(&service, PASSWORD)
                    .unwrap()
                    .token()
                    .to_owned()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();

    let live = tokens.iter().filter(|t| store.session(t).is_ok()).count();
    assert_eq!(live, 1);
}

#[test]
fn one_token_used_twice_at_once_works_once() {
    let s = season();
    let token = s
        .store
        .create_login("a@dienst.be", Role::Service(s.antwerp))
        .unwrap();
    let store = Arc::new(s.store);
    let barrier = Arc::new(Barrier::new(4));
    let results: Vec<_> = (0..4)
        .map(|k| {
            let (store, barrier, token) = (store.clone(), barrier.clone(), token.clone());
            thread::spawn(move || {
                barrier.wait();
                store.activate(&token, &format!("paswoord nummer {k}"))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();

    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().filter(|r| r.is_err()).all(is_auth));
}

#[test]
fn logins_sessions_and_the_outbox_survive_a_reopen_and_no_secret_is_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logins.redb");
    let session_token;
    let pending;
    {
        let store = Store::open(&path).unwrap();
        let svc = store
            .add_service("Familiezorg", stagematch_core::Province::Antwerp)
            .unwrap();
        let token = store.create_login("els@fz.be", Role::Service(svc)).unwrap();
        store.activate(&token, PASSWORD).unwrap();
        session_token = store
            .sign_in("els@fz.be", PASSWORD)
            .unwrap()
            .token()
            .to_owned();
        store.take_outbox().unwrap();
        pending = store.create_login("jan@fz.be", Role::Service(svc)).unwrap();
    }

    let bytes = std::fs::read(&path).unwrap();
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains(PASSWORD));
    assert!(!contains(&session_token));
    assert!(contains("$argon2id$v=19$m=19456,t=2,p=1$"));

    let store = Store::open(&path).unwrap();
    assert!(store.session(&session_token).is_ok());
    let outbox = store.take_outbox().unwrap();
    assert_eq!(outbox.len(), 1, "the untaken invitation is still there");
    assert!(outbox[0].body.contains(&pending));
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(
        store.take_outbox().unwrap().is_empty(),
        "and taken only once"
    );
    assert_eq!(store.logins().len(), 2);
    store.remove_login("els@fz.be").unwrap();
    assert!(is_auth(&store.session(&session_token)));
}

#[test]
fn round_mailings_go_out_once_and_reminders_count_open_requests() {
    let (s, _, _) = with_logins();
    let _pending = s
        .store
        .create_login("nog.niet@actief.be", Role::Service(s.limburg))
        .unwrap();
    s.store.take_outbox().unwrap();
    s.register(Track::Secondary, "Een", "2000", None, at(6, 2, 10, 0));
    s.register(Track::Secondary, "Twee", "2000", None, at(6, 2, 10, 0));

    // The first call mails what happened in the day before: round 2's close and round 3's
    // start, both at noon on 19 September, to each active service and school login.
    let n = s.store.queue_mailings(at(9, 19, 18, 0)).unwrap();
    assert_eq!(n, 4);
    let mails = s.store.take_outbox().unwrap();
    let kinds: Vec<_> = mails.iter().map(|m| (m.kind, m.to.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (MessageKind::RoundClose, "els@familiezorg.be"),
            (MessageKind::RoundClose, "sec@school.be"),
            (MessageKind::RoundStart, "els@familiezorg.be"),
            (MessageKind::RoundStart, "sec@school.be"),
        ]
    );
    assert!(mails[0].subject.contains("Ronde 2") && mails[3].subject.contains("Ronde 3"));
    assert!(
        mails[3].body.contains("19/09/2025 om 12:00"),
        "{}",
        mails[3].body
    );
    assert_eq!(s.store.queue_mailings(at(9, 19, 19, 0)).unwrap(), 0);
    assert_eq!(s.store.queue_mailings(at(10, 1, 9, 0)).unwrap(), 2);
    assert!(
        s.store
            .take_outbox()
            .unwrap()
            .iter()
            .all(|m| m.kind == MessageKind::RoundClose)
    );

    assert_eq!(s.store.queue_reminders(at(9, 22, 10, 0)).unwrap(), 1);
    let reminder = s.store.take_outbox().unwrap().pop().unwrap();
    assert_eq!(reminder.kind, MessageKind::Reminder);
    assert_eq!(reminder.to, "els@familiezorg.be");
    assert!(
        reminder.subject.contains("2 aanvragen"),
        "{}",
        reminder.subject
    );
    assert_eq!(
        s.store.queue_reminders(at(10, 5, 10, 0)).unwrap(),
        0,
        "not after round 3"
    );
}

#[test]
fn failed_sign_ins_sent_all_at_once_are_all_counted() {
    let (s, service, _) = with_logins();
    let store = Arc::new(s.store);
    let barrier = Arc::new(Barrier::new(10));
    let answers: Vec<String> = (0..10)
        .map(|_| {
            let (store, barrier, service) = (store.clone(), barrier.clone(), service.clone());
            thread::spawn(move || {
                barrier.wait();
                store
                    .sign_in(&service, "fout fout fout")
                    .unwrap_err()
                    .to_string()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();

    let wrong = answers.iter().filter(|a| a.contains("wrong")).count();
    assert!(wrong <= 5, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|a| a.contains("try again")).count(),
        10 - wrong
    );
    let err = store.sign_in(&service, PASSWORD).unwrap_err();
    assert!(err.to_string().contains("try again"), "{err}");
}
