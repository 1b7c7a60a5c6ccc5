//! Round statistics (*rondestatistieken*): per phase, province, track and service, how many
//! students were open, invited and accepted, and how long placement took.
//!
//! Invariant: statistics as of a moment `t` are computed only from what was true at `t`:
//! registrations visible by then and decisions recorded before it. For each phase that has
//! started by `t`, counts are taken at the last moment of the phase (or at `t` if the phase
//! is still running):
//!
//! - `open`: students in the service's open tab at that moment;
//! - `invited`: students whose status with the service was `invited` at that moment;
//! - `accepted`: students the service accepted during the phase;
//! - `mean_days_to_accept` and `median_days_to_accept`: from registration to acceptance, over
//!   the students accepted during the phase.
//!
//! Province and track are the student's. Rows whose counts are all zero are left out.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::calendar::{Calendar, CalendarMicros, Micros, Phase, micros};
use crate::decision::Status;
use crate::directory::Service;
use crate::ids::ServiceId;
use crate::query::Columns;
use crate::student::{Province, Track};

/// One row of the round statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundStat {
    /// The phase (`closed` holds what happened before round 1, such as dual interviews).
    pub phase: Phase,
    /// The students' province.
    pub province: Province,
    /// The students' track.
    pub track: Track,
    /// The service.
    pub service: ServiceId,
    /// Students in the service's open tab at the end of the phase (or at the moment asked).
    pub open: u32,
    /// Students the service had invited (status `invited`) at that moment.
    pub invited: u32,
    /// Students the service accepted during the phase.
    pub accepted: u32,
    /// Mean days from registration to acceptance, over those accepted during the phase.
    pub mean_days_to_accept: Option<f64>,
    /// Median days from registration to acceptance.
    pub median_days_to_accept: Option<f64>,
}

const CELLS: usize = 11 * 3;

fn cell(province: u8, track: u8) -> usize {
    province as usize * 3 + track as usize
}

/// Per-phase open counts: for every service number (0 = "every service"), one count per
/// (province, track) cell.
fn open_counts(
    cols: &Columns,
    cal: &CalendarMicros,
    phase: Phase,
    services: &[Service],
    m: Micros,
) -> Vec<u32> {
    let nsvc = services.len() + 1;
    let own_province: Vec<u8> = std::iter::once(u8::MAX)
        .chain(services.iter().map(|s| s.province as u8))
        .collect();

    (0..cols.len())
        .into_par_iter()
        .with_min_len(1 << 14)
        .fold(
            || vec![0u32; nsvc * CELLS],
            |mut acc, i| {
                if cols.accepted_as_of(i, m).is_some() {
                    return acc;
                }

                let (track, province, preferred, _, visible_from) = cols.facts(i, cal.release);
                if visible_from > m {
                    return acc;
                }

                let c = cell(province, track);
                let pref = preferred as usize;
                if track == Track::Dual as u8 {
                    if m >= cal.dual_start {
                        acc[c] += 1;
                    }
                    return acc;
                }

                match phase {
                    Phase::Closed => {}
                    Phase::Round1 => {
                        if pref != 0 && pref < nsvc && own_province[pref] == province {
                            acc[pref * CELLS + c] += 1;
                        }
                    }
                    Phase::Round2 => {
                        if pref != 0 && pref < nsvc {
                            acc[pref * CELLS + c] += 1;
                        }
                    }
                    Phase::Round3 | Phase::Open => acc[c] += 1,
                }
                acc
            },
        )
        .reduce(
            || vec![0u32; nsvc * CELLS],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
}

/// The status a history (sorted by moment) gives as of `t`.
pub(crate) fn status_as_of(history: &[(Micros, Status)], t: Micros) -> Status {
    history
        .iter()
        .rev()
        .find(|(at, _)| *at <= t)
        .map_or(Status::Undecided, |(_, s)| *s)
}

/// Computes the round statistics as of `t`.
pub(crate) fn round_stats(
    cols: &Columns,
    calendar: &Calendar,
    services: &[Service],
    pairs: &HashMap<(u32, u32), Vec<(Micros, Status)>>,
    t: Micros,
) -> Vec<RoundStat> {
    let cal = calendar.to_micros();
    let mut rows = Vec::new();

    for phase in Phase::ALL.iter().copied() {
        let (start, end) = calendar.phase_window(phase);
        let (start, end) = (micros(start), micros(end));
        if start > t {
            break;
        }

        let m = t.min(end.saturating_sub(1));
        let open = open_counts(cols, &cal, phase, services, m);

        let mut invited: HashMap<(u32, usize), u32> = HashMap::new();
        for ((svc, stu), history) in pairs {
            if status_as_of(history, m) == Status::Invited {
                let (track, province, ..) = cols.facts(*stu as usize - 1, cal.release);
                *invited.entry((*svc, cell(province, track))).or_default() += 1;
            }
        }

        let mut accepted: HashMap<(u32, usize), Vec<f64>> = HashMap::new();
        for i in 0..cols.len() {
            if let Some(svc) = cols.accepted_as_of(i, m) {
                let at = cols.accepted_at(i);
                if at >= start {
                    let (track, province, _, registered, _) = cols.facts(i, cal.release);
                    let days = at.saturating_sub(registered) as f64 / 86_400e6;
                    accepted
                        .entry((svc, cell(province, track)))
                        .or_default()
                        .push(days);
                }
            }
        }

        for svc in services {
            let s = svc.id.get() as usize;
            for c in 0..CELLS {
                let open_n = open[c] + open[s * CELLS + c];
                let inv = invited.get(&(svc.id.get(), c)).copied().unwrap_or(0);
                let mut days = accepted.remove(&(svc.id.get(), c)).unwrap_or_default();
                if open_n == 0 && inv == 0 && days.is_empty() {
                    continue;
                }

                days.sort_by(f64::total_cmp);
                let n = days.len();
                let mean = (n > 0).then(|| days.iter().sum::<f64>() / n as f64);
                let median = (n > 0).then(|| {
                    if n % 2 == 1 {
                        days[n / 2]
                    } else {
                        (days[n / 2 - 1] + days[n / 2]) / 2.0
                    }
                });

                rows.push(RoundStat {
                    phase,
                    // Invariant: c < 33, so c / 3 < 11 is a province index and c % 3 a track.
                    province: Province::from_index((c / 3) as u8).unwrap_or(Province::Brussels),
                    track: Track::ALL[c % 3],
                    service: svc.id,
                    open: open_n,
                    invited: inv,
                    accepted: n as u32,
                    mean_days_to_accept: mean,
                    median_days_to_accept: median,
                });
            }
        }
    }

    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lookup() {
        let h = [(10, Status::Invited), (20, Status::Accepted)];
        assert_eq!(status_as_of(&h, 5), Status::Undecided);
        assert_eq!(status_as_of(&h, 10), Status::Invited);
        assert_eq!(status_as_of(&h, 19), Status::Invited);
        assert_eq!(status_as_of(&h, 25), Status::Accepted);
    }

    #[test]
    fn cells_are_dense() {
        assert_eq!(cell(10, 2), CELLS - 1);
        assert_eq!(Track::ALL.len(), 3);
        assert_eq!(Province::ALL.len(), 11);
    }
}
