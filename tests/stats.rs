//! Round statistics as of a moment: open, invited and accepted counts per phase, province,
//! track and service, and only what was recorded before the moment.
#![allow(clippy::unwrap_used)]

mod common;

use common::{at, season};
use stagematch_core::{Decision, Phase, Province, RoundStat, ServiceId, Status, Track};

fn row(
    rows: &[RoundStat],
    phase: Phase,
    province: Province,
    track: Track,
    svc: ServiceId,
) -> Option<&RoundStat> {
    rows.iter().find(|r| {
        r.phase == phase && r.province == province && r.track == track && r.service == svc
    })
}

#[test]
fn counts_per_round_province_track_and_service() {
    let s = season();
    let june = at(6, 2, 10, 0);
    let reg = |track, pc, pref, when| s.register(track, "X", pc, pref, when);
    let a1 = reg(Track::Secondary, "2000", Some(s.antwerp), june);
    let _a2 = reg(Track::Secondary, "2000", Some(s.antwerp), june);
    let far = reg(Track::Adult, "3500", Some(s.antwerp), june);
    let _free = reg(Track::Secondary, "3500", None, june);
    let dual = reg(Track::Dual, "3500", None, june);
    let _late = reg(Track::Secondary, "2000", Some(s.antwerp), at(7, 5, 10, 0));

    s.store
        .decide(
            s.limburg,
            dual,
            &Decision::new(Status::Invited),
            at(6, 20, 10, 0),
        )
        .unwrap();
    s.store
        .decide(
            s.antwerp,
            a1,
            &Decision::accept(s.antwerp_contact),
            at(7, 2, 10, 0),
        )
        .unwrap();
    s.store
        .decide(
            s.antwerp,
            far,
            &Decision::accept(s.antwerp_contact),
            at(9, 10, 10, 0),
        )
        .unwrap();

    let rows = s.store.round_stats(at(9, 12, 10, 0));
    // Phases that have not started are absent.
    assert!(
        rows.iter()
            .all(|r| matches!(r.phase, Phase::Closed | Phase::Round1 | Phase::Round2))
    );

    // Closed: the dual student is open to both services, invited by Limburg.
    let closed = row(
        &rows,
        Phase::Closed,
        Province::Limburg,
        Track::Dual,
        s.limburg,
    )
    .unwrap();
    assert_eq!((closed.open, closed.invited, closed.accepted), (1, 1, 0));

    // Round 1 ends with a2 open to Antwerp (a1 accepted in it; late waits for the release).
    let r1 = row(
        &rows,
        Phase::Round1,
        Province::Antwerp,
        Track::Secondary,
        s.antwerp,
    )
    .unwrap();
    assert_eq!((r1.open, r1.accepted), (1, 1));
    let days = r1.mean_days_to_accept.unwrap();
    assert!((days - 30.0).abs() < 0.01, "{days}");
    assert_eq!(r1.median_days_to_accept, Some(days));
    assert!(
        row(
            &rows,
            Phase::Round1,
            Province::Limburg,
            Track::Adult,
            s.antwerp
        )
        .is_none()
    );

    // Round 2, as of 12 September: far was accepted on the 10th.
    let r2 = row(
        &rows,
        Phase::Round2,
        Province::Limburg,
        Track::Adult,
        s.antwerp,
    )
    .unwrap();
    assert_eq!((r2.open, r2.accepted), (0, 1));
    let r2a = row(
        &rows,
        Phase::Round2,
        Province::Antwerp,
        Track::Secondary,
        s.antwerp,
    )
    .unwrap();
    assert_eq!((r2a.open, r2a.accepted), (1, 0));

    // As of a moment before the round 2 accept, it is not counted and far is still open.
    let before = s.store.round_stats(at(9, 8, 10, 0));
    let r2 = row(
        &before,
        Phase::Round2,
        Province::Limburg,
        Track::Adult,
        s.antwerp,
    )
    .unwrap();
    assert_eq!((r2.open, r2.accepted), (1, 0));

    // Round 3 and after: everyone unplaced, including the blackout registration.
    let later = s.store.round_stats(at(10, 20, 10, 0));
    let r3 = row(
        &later,
        Phase::Round3,
        Province::Antwerp,
        Track::Secondary,
        s.limburg,
    )
    .unwrap();
    assert_eq!(r3.open, 2); // a2 and late
    let open = row(
        &later,
        Phase::Open,
        Province::Limburg,
        Track::Secondary,
        s.antwerp,
    )
    .unwrap();
    assert_eq!(open.open, 1); // free
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
    let s = season();
    let registered = [
        at(9, 1, 10, 0),
        at(9, 11, 10, 0),
        at(9, 13, 10, 0),
        at(9, 14, 10, 0),
    ];
    let ids: Vec<_> = registered
        .iter()
        .map(|r| s.register(Track::Adult, "X", "9000", None, *r))
        .collect();
    let t = at(9, 21, 10, 0);
    for id in &ids {
        s.store
            .decide(s.antwerp, *id, &Decision::accept(s.antwerp_contact), t)
            .unwrap();
    }
    let extra = s.register(Track::Adult, "Y", "9000", None, at(9, 2, 10, 0));
    s.store
        .decide(s.limburg, extra, &Decision::accept(s.limburg_contact), t)
        .unwrap();

    let rows = s.store.round_stats(at(9, 25, 10, 0));
    let r = row(
        &rows,
        Phase::Round3,
        Province::EastFlanders,
        Track::Adult,
        s.antwerp,
    )
    .unwrap();
    // 20, 10, 8 and 7 days: median (8 + 10) / 2, mean 11.25.
    assert_eq!(r.accepted, 4);
    assert!(
        (r.median_days_to_accept.unwrap() - 9.0).abs() < 1e-9,
        "{r:?}"
    );
    assert!(
        (r.mean_days_to_accept.unwrap() - 11.25).abs() < 1e-9,
        "{r:?}"
    );
    let other = row(
        &rows,
        Phase::Round3,
        Province::EastFlanders,
        Track::Adult,
        s.limburg,
    )
    .unwrap();
    assert_eq!(other.accepted, 1);
    assert!(
        (other.median_days_to_accept.unwrap() - 19.0).abs() < 1e-9,
        "{other:?}"
    );
}
