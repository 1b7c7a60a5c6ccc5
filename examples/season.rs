//! A small placement season, played from the first registrations to past the placement
//! target on a real redb file, printing what each service saw and decided.
//!
//! Run: `cargo run --example season [PATH]` (default `season-example.redb` in the working
//! directory; an existing file there is replaced).

use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};
use stagematch_core::synth::{self, Rng};
use stagematch_core::{
    ContactId, Decision, Error, NewContact, Phase, Query, Result, ServiceId, Status, Store,
    StudentCard, Tab, Track, brussels,
};

struct Svc {
    id: ServiceId,
    name: String,
    contact: ContactId,
}

fn main() -> Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "season-example.redb".into());
    if std::path::Path::new(&path).exists() {
        std::fs::remove_file(&path)?;
    }
    let store = Arc::new(Store::open(&path)?);

    // The coordinator sets up three services and two schools.
    let services: Vec<Svc> = synth::services(3)
        .into_iter()
        .map(|(name, province)| {
            let id = store.add_service(&name, province)?;
            let contact = store.add_contact(
                id,
                &NewContact::new("Mentor", "09 123 45 67", "mentor@dienst.be"),
            )?;
            Ok(Svc { id, name, contact })
        })
        .collect::<Result<_>>()?;
    let schools: Vec<_> = synth::schools(2)
        .iter()
        .map(|n| store.add_school(n))
        .collect::<Result<_>>()?;

    // Schools register 24 students in June, and 4 more during the summer blackout.
    let mut rng = Rng::new(7);
    let pick: Vec<_> = services
        .iter()
        .map(|s| (s.id, store.service(s.id).map(|x| x.province)))
        .collect();
    let prefs: Vec<_> = pick
        .into_iter()
        .filter_map(|(id, p)| p.ok().map(|p| (id, p)))
        .collect();
    let june: Vec<_> = (0..24).map(|_| synth::student(&mut rng, &prefs)).collect();
    let july: Vec<_> = (0..4).map(|_| synth::student(&mut rng, &prefs)).collect();
    store.register_students(schools[0], &june[..12], brussels(2025, 6, 2, 10, 0)?)?;
    store.register_students(schools[1], &june[12..], brussels(2025, 6, 9, 14, 30)?)?;
    store.register_students(schools[0], &july, brussels(2025, 7, 14, 11, 0)?)?;
    println!(
        "stagematch season example: {} students, store at {path}\n",
        store.student_count()
    );

    let moments = [
        ("dual window", brussels(2025, 6, 20, 10, 0)?),
        ("round 1", brussels(2025, 7, 1, 10, 0)?),
        ("round 2", brussels(2025, 9, 8, 10, 0)?),
        ("round 3", brussels(2025, 9, 22, 10, 0)?),
        ("after the placement target", brussels(2025, 10, 8, 10, 0)?),
    ];
    for (label, t) in moments {
        println!("== {label} ({}, phase {}) ==", local(t), store.phase(t));
        for svc in &services {
            play(&store, svc, t)?;
        }
        if store.phase(t) == Phase::Round3 {
            race(&store, &services, t)?;
        }
        println!();
    }

    println!("== round statistics as of {} ==", local(moments[4].1));
    for row in store
        .round_stats(moments[4].1)
        .iter()
        .filter(|r| r.accepted > 0)
    {
        let name = &services[row.service.get() as usize - 1].name;
        println!(
            "  {:<7} {:<3} {:<9} {:<28} accepted {:>2}, median {:>5.1} days after registration",
            row.phase.code(),
            row.province.code(),
            row.track.code(),
            name,
            row.accepted,
            row.median_days_to_accept.unwrap_or(0.0)
        );
    }
    println!("\nThe store was written to {path}.");
    Ok(())
}

/// A moment as a Brussels wall-clock time.
fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Brussels)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn label(c: &StudentCard) -> String {
    format!(
        "{} {} ({} {}, {})",
        c.first_name, c.last_name, c.postcode, c.province, c.track
    )
}

/// One service at one moment: look at the open tab, decide on a few students.
fn play(store: &Store, svc: &Svc, t: DateTime<Utc>) -> Result<()> {
    let page = store.students(
        svc.id,
        &Query {
            limit: 5,
            ..Query::default()
        },
        t,
    )?;
    let accepted = store.students(
        svc.id,
        &Query {
            tab: Tab::Accepted,
            ..Query::default()
        },
        t,
    )?;
    println!(
        "  {} sees {} open, has {} accepted",
        svc.name, page.total, accepted.total
    );

    for card in page.rows.iter().take(2) {
        let decision = match (card.track, card.status) {
            (Track::Dual, Status::Undecided) => Decision::new(Status::Invited),
            (Track::Dual, Status::Invited) => Decision::accept(svc.contact),
            (Track::Dual, _) => continue,
            _ if card.transport.is_empty() => Decision::new(Status::NotAccepted),
            _ => Decision::accept(svc.contact),
        };
        match store.decide(svc.id, card.id, &decision, t) {
            Ok(()) => {
                let card = store.student(svc.id, card.id, t)?;
                let phone = card.phone.as_deref().unwrap_or("hidden");
                println!(
                    "    {} {} (phone now {phone})",
                    verb(decision.status),
                    label(&card)
                );
            }
            Err(e) => println!("    could not decide on {}: {e}", label(card)),
        }
    }
    Ok(())
}

fn verb(s: Status) -> &'static str {
    match s {
        Status::Invited => "invites",
        Status::Accepted => "accepts",
        _ => "declines",
    }
}

/// Round 3: two services try to accept the same student at the same instant.
fn race(store: &Arc<Store>, services: &[Svc], t: DateTime<Utc>) -> Result<()> {
    let page = store.students(
        services[0].id,
        &Query {
            limit: 1,
            ..Query::default()
        },
        t,
    )?;
    let Some(target) = page.rows.first() else {
        return Ok(());
    };

    println!(
        "  race: {} and {} both accept {}",
        services[0].name,
        services[1].name,
        label(target)
    );
    let handles: Vec<_> = services[..2]
        .iter()
        .map(|s| {
            let (store, id, contact, sid) = (store.clone(), s.id, s.contact, target.id);
            thread::spawn(move || store.decide(id, sid, &Decision::accept(contact), t))
        })
        .collect();
    for (svc, h) in services.iter().zip(handles) {
        match h
            .join()
            .unwrap_or(Err(Error::Corrupt("thread panicked".into())))
        {
            Ok(()) => println!("    {} wins", svc.name),
            Err(e) => println!("    {}: {e}", svc.name),
        }
    }
    Ok(())
}
