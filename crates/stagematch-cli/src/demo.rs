//! `stagematch demo`: a synthetic season played from the first registrations to past the
//! placement target, printed round by round, with an optional HTML report.
//!
//! The cohort comes from [`stagematch_core::synth`] (seeded, so the same `--seed` gives the
//! same season). Registrations run from mid-May to late September, a few of them inside the
//! summer blackout. At each step every service looks at its open tab and decides the way a
//! real service would: it prefers students of its own province who have their own transport,
//! invites dual students before it accepts them, declines some, and in round 3 services race
//! for the same students (the losers are told the student is already placed).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use stagematch_core::synth::{self, Rng};
use stagematch_core::{
    ContactId, Decision, Error, MAX_LIMIT, NewContact, Phase, Province, Query, RoundStat,
    ServiceId, Status, Store, Track, Transport, brussels,
};

/// What the demo did, for the summary and the report.
pub struct Outcome {
    pub students: usize,
    pub placed: usize,
    pub races_lost: usize,
    pub stats: Vec<RoundStat>,
}

struct Svc {
    id: ServiceId,
    province: Province,
    contact: ContactId,
    /// How many students it can still take.
    capacity: usize,
}

fn at(y: i32, m: u32, d: u32, h: u32) -> Result<DateTime<Utc>, Error> {
    brussels(y, m, d, h, 0)
}

/// Plays the season into `store`; prints a line per step.
pub fn play(store: &Store, students: usize, seed: u64) -> Result<Outcome, Error> {
    let mut rng = Rng::new(seed);
    let service_count = (students / 400).clamp(6, 120);
    let school_count = (students / 250).clamp(4, 400);

    let mut services = Vec::new();
    for (name, province) in synth::services(service_count) {
        let id = store.add_service(&name, province)?;
        let mentor = NewContact::new("Stagementor", "09 123 45 67", "stage@dienst.be");
        let contact = store.add_contact(id, &mentor)?;
        // Together the services can take about a quarter more students than there are.
        let capacity = students * 5 / (service_count * 4) + 1;
        services.push(Svc {
            id,
            province,
            contact,
            capacity,
        });
    }
    let schools = synth::schools(school_count)
        .iter()
        .map(|n| store.add_school(n))
        .collect::<Result<Vec<_>, _>>()?;
    let prefs: Vec<(ServiceId, Province)> = services.iter().map(|s| (s.id, s.province)).collect();

    // Registrations: 130 days from 15 May, thinned out during the blackout.
    let first_day = at(2025, 5, 15, 9)?;
    let days = 130;
    let cal = store.calendar();
    let mut weights: Vec<u64> = (0..days)
        .map(|d| {
            let day = first_day + Duration::days(d);
            if cal.in_blackout(day) { 1 } else { 12 }
        })
        .collect();
    let total_weight: u64 = weights.iter().sum();
    let steps = [
        ("dual window", at(2025, 6, 20, 10)?),
        ("round 1, week 1", at(2025, 7, 2, 10)?),
        ("round 1, week 4", at(2025, 7, 24, 10)?),
        ("round 2, week 1", at(2025, 9, 8, 10)?),
        ("round 2, week 2", at(2025, 9, 15, 10)?),
        ("round 3, day 1", at(2025, 9, 19, 13)?),
        ("round 3, week 1", at(2025, 9, 24, 10)?),
        ("round 3, last day", at(2025, 9, 30, 9)?),
        ("placement target", at(2025, 10, 7, 11)?),
        ("November", at(2025, 11, 10, 10)?),
    ];

    // One bar for the whole season (registration days, then steps), on standard error and
    // only on a terminal; the summary lines go to standard output around it.
    let bar = indicatif::ProgressBar::new(days as u64 + steps.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{msg:<24} {bar:40} {pos}/{len} ({elapsed})")
            .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?,
    );
    bar.set_message("registering students");

    let mut remaining = students;
    for (d, w) in weights.iter_mut().enumerate() {
        let share = if d + 1 == days as usize {
            remaining
        } else {
            (students as u64 * *w / total_weight) as usize
        }
        .min(remaining);
        if share == 0 {
            continue;
        }
        let batch: Vec<_> = (0..share)
            .map(|_| synth::student(&mut rng, &prefs))
            .collect();
        let school = schools[rng.below(schools.len() as u64) as usize];
        let when = first_day + Duration::days(d as i64) + Duration::minutes(rng.below(480) as i64);
        store.register_students(school, &batch, when)?;
        remaining -= share;
        bar.set_position(d as u64 + 1);
    }
    bar.set_position(days as u64);
    bar.set_message("playing the season");
    bar.suspend(|| {
        println!(
            "registered {} students from {} schools for {} services",
            students,
            schools.len(),
            services.len()
        )
    });

    let mut races_lost = 0;
    for (step, (label, t)) in steps.into_iter().enumerate() {
        let phase = store.phase(t);
        // Every service decides at the same time, each on its own thread, so that in round
        // 3 they really race for the same students.
        let outcomes: Vec<Result<(usize, usize, usize, usize), Error>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = services
                    .iter_mut()
                    .enumerate()
                    .map(|(k, svc)| {
                        let mut rng = Rng::new(seed ^ ((step as u64) << 32) ^ k as u64);
                        scope.spawn(move || decide_as_a_service(store, svc, t, phase, &mut rng))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or(Err(Error::Corrupt("a service thread panicked".into())))
                    })
                    .collect()
            });
        let (mut accepted, mut invited, mut declined) = (0, 0, 0);
        for outcome in outcomes {
            let outcome = outcome?;
            accepted += outcome.0;
            invited += outcome.1;
            declined += outcome.2;
            races_lost += outcome.3;
        }
        let open: usize = services
            .iter()
            .map(|s| {
                store
                    .students(
                        s.id,
                        &Query {
                            limit: 0,
                            ..Query::default()
                        },
                        t,
                    )
                    .map(|p| p.total)
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .max()
            .unwrap_or(0);
        bar.suspend(|| {
            println!(
                "{:<18} {:<7} accepted {:>6}, invited {:>5}, declined {:>5}; largest open tab \
                 {:>7}",
                label,
                phase.code(),
                accepted,
                invited,
                declined,
                open
            )
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let end = at(2025, 11, 11, 10)?;
    let stats = store.round_stats(end);
    let placed = stats.iter().map(|r| r.accepted as usize).sum();
    Ok(Outcome {
        students,
        placed,
        races_lost,
        stats,
    })
}

/// One service at one moment; returns (accepted, invited, declined, races lost).
fn decide_as_a_service(
    store: &Store,
    svc: &mut Svc,
    t: DateTime<Utc>,
    phase: Phase,
    rng: &mut Rng,
) -> Result<(usize, usize, usize, usize), Error> {
    let mut counts = (0, 0, 0, 0);
    if svc.capacity == 0 {
        return Ok(counts);
    }

    // A service that loses races looks again (up to three times a step) for what it still
    // wants this step, as a real one would after being told "already placed".
    let quota = (svc.capacity / 3).max(5).min(svc.capacity);
    for _ in 0..3 {
        let before = counts;
        let wanted = quota.saturating_sub(counts.0).min(svc.capacity);
        if wanted == 0 {
            break;
        }
        one_pass(store, svc, t, phase, rng, wanted, &mut counts)?;
        if counts.3 == before.3 {
            break;
        }
    }
    Ok(counts)
}

/// One look at the open tab and one batch of decisions.
fn one_pass(
    store: &Store,
    svc: &mut Svc,
    t: DateTime<Utc>,
    phase: Phase,
    rng: &mut Rng,
    quota: usize,
    counts: &mut (usize, usize, usize, usize),
) -> Result<(), Error> {
    // Near students first: own province, with their own transport; then anyone in round 3.
    let own_transport = vec![
        Transport::Car,
        Transport::Moped,
        Transport::EBike,
        Transport::Bike,
    ];
    let limit = (quota * 2).min(MAX_LIMIT);
    let near = Query {
        provinces: vec![svc.province],
        transport: own_transport,
        limit,
        ..Query::default()
    };
    let anyone = Query {
        limit,
        ..Query::default()
    };
    let mut rows = store.students(svc.id, &near, t)?.rows;
    if rows.len() < quota * 2 && matches!(phase, Phase::Round3 | Phase::Open) {
        let seen: std::collections::HashSet<_> = rows.iter().map(|c| c.id).collect();
        let more = store.students(svc.id, &anyone, t)?.rows;
        rows.extend(more.into_iter().filter(|c| !seen.contains(&c.id)));
    }

    // The service's choices for this moment, sent as one batch: one durable transaction.
    let mut batch = Vec::new();
    let mut accepts = 0;
    for card in rows.iter().take(quota * 2) {
        if accepts == svc.capacity {
            break;
        }
        let decision = match (card.track, card.status) {
            (Track::Dual, Status::Undecided) if rng.chance(70) => Decision::new(Status::Invited),
            (Track::Dual, Status::Invited) if rng.chance(80) => Decision::accept(svc.contact),
            (Track::Dual, Status::Invited) => Decision::new(Status::NoShow),
            (Track::Dual, _) => continue,
            (_, Status::Undecided) if rng.chance(8) => Decision::new(Status::NotAccepted),
            (_, Status::NotAccepted) => continue,
            _ => Decision::accept(svc.contact),
        };
        if decision.status == Status::Accepted {
            accepts += 1;
        }
        batch.push((card.id, decision));
    }

    let results = store.decide_many(svc.id, &batch, t)?;
    for ((_, decision), result) in batch.iter().zip(results) {
        match result {
            Ok(()) => match decision.status {
                Status::Accepted => {
                    counts.0 += 1;
                    svc.capacity -= 1;
                }
                Status::Invited => counts.1 += 1,
                _ => counts.2 += 1,
            },
            Err(Error::AlreadyPlaced { .. }) => counts.3 += 1,
            Err(Error::InvalidTransition { .. } | Error::NotVisible { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// Writes a self-contained HTML page with SVG bar charts of the round statistics.
pub fn report(path: &Path, outcome: &Outcome, db: &Path) -> Result<(), Error> {
    let mut by_phase: BTreeMap<usize, (String, u64, u64)> = BTreeMap::new();
    let mut by_province: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut by_track: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in &outcome.stats {
        let phase = by_phase
            .entry(r.phase as usize)
            .or_insert_with(|| (r.phase.code().to_owned(), 0, 0));
        phase.2 += u64::from(r.accepted);
        let open = u64::from(r.open);
        phase.1 = phase.1.max(open);
        by_province
            .entry(r.province.code().to_owned())
            .or_default()
            .1 += u64::from(r.accepted);
        by_track.entry(r.track.code().to_owned()).or_default().1 += u64::from(r.accepted);
    }

    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>stagematch demo</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}\
         .bar{{fill:#2a7ab0}}.alt{{fill:#e0a030}}text{{font-size:12px}}</style></head><body>\
         <h1>stagematch: a synthetic season</h1>\
         <p>{} students, {} placed ({:.1} %), {} accepts lost in races. Store: <code>{}</code>.</p>",
        outcome.students,
        outcome.placed,
        100.0 * outcome.placed as f64 / outcome.students.max(1) as f64,
        outcome.races_lost,
        escape(&db.display().to_string())
    );
    let phases: Vec<(String, u64, u64)> = by_phase.into_values().collect();
    html.push_str("<h2>Per round: largest open tab and students placed</h2>");
    html.push_str(&bars(&phases));
    let provinces: Vec<(String, u64, u64)> = by_province
        .into_iter()
        .map(|(k, v)| (k, v.0, v.1))
        .collect();
    html.push_str("<h2>Placed students per province</h2>");
    html.push_str(&bars(&provinces));
    let tracks: Vec<(String, u64, u64)> =
        by_track.into_iter().map(|(k, v)| (k, v.0, v.1)).collect();
    html.push_str("<h2>Placed students per track</h2>");
    html.push_str(&bars(&tracks));
    html.push_str("</body></html>\n");
    std::fs::write(path, html)?;
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG chart with two bars per label (the first only where it is not zero).
fn bars(rows: &[(String, u64, u64)]) -> String {
    let max = rows.iter().map(|r| r.1.max(r.2)).max().unwrap_or(1).max(1);
    let (width, row_h) = (640.0, 26.0);
    let height = rows.len() as f64 * row_h + 10.0;
    let mut svg =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">");
    for (i, (label, a, b)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 5.0;
        let scale = |v: u64| (width - 220.0) * v as f64 / max as f64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\">{}</text>",
            y + 15.0,
            escape(label)
        );
        if *a > 0 {
            let _ = write!(
                svg,
                "<rect class=\"alt\" x=\"90\" y=\"{y}\" width=\"{:.1}\" height=\"10\"/>",
                scale(*a)
            );
        }
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"90\" y=\"{}\" width=\"{:.1}\" height=\"10\"/>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>",
            y + 11.0,
            scale(*b),
            95.0 + scale(*b),
            y + 20.0,
            b
        );
    }
    svg.push_str("</svg>");
    svg
}
