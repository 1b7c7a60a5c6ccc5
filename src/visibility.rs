//! Who sees which student, when (*zichtbaarheid*).
//!
//! This module is the one definition of the visibility rule of `DOMAIN.md`; the query
//! engine, the decision checks and the statistics all call [`Rule::admits_open`]. For a
//! service S at a moment t, an unplaced student is in S's open tab when it is past its
//! visibility moment (its registration, or the release moment for a blackout
//! registration) and the phase in force admits it:
//!
//! - `closed` (before round 1): no placement-track student;
//! - `round1`: its preferred service is S and it lives in S's province;
//! - `round2`: its preferred service is S (any province);
//! - `round3` and `open`: every one;
//! - dual students, from the start of the dual window: every one, whatever the phase.
//!
//! A student accepted (as of t) is in the accepted tab of the service that accepted it, and
//! in no tab of any other service.

use chrono::{DateTime, Utc};

use crate::calendar::{Calendar, CalendarMicros, Micros, Phase, micros};
use crate::codes::code_enum;
use crate::ids::ServiceId;
use crate::student::Province;

code_enum!(
    /// A service's tab (*tabblad*): the open students, or the ones it accepted.
    Tab, "tab", "tab" {
        /// Visible students nobody has accepted yet.
        Open = "open" ["open aanvragen"],
        /// Students this service accepted (*aanvaard*).
        Accepted = "accepted" ["aanvaard"],
    }
);

/// The visibility rule for one service at one moment, with everything precomputed that the
/// scan of a million students should not recompute.
///
/// The phase is flattened into three flags (`all`, `none`, `own_province`) so that
/// [`Rule::admits_open`] is a handful of comparisons without a branch, which is what lets the
/// query engine's hot loop run without mispredictions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub t: Micros,
    pub service: u32,
    pub province: u8,
    pub release: Micros,
    dual_open: bool,
    /// Round 3 and after: every placement-track student.
    all: bool,
    /// Before round 1: no placement-track student.
    none: bool,
    /// Round 1: the preferred service's own province only.
    own_province: bool,
}

impl Rule {
    pub(crate) fn new(
        cal: &CalendarMicros,
        service: ServiceId,
        province: Province,
        t: Micros,
    ) -> Self {
        let phase = cal.phase(t);
        Rule {
            t,
            service: service.get(),
            province: province as u8,
            release: cal.release,
            dual_open: t >= cal.dual_start,
            all: matches!(phase, Phase::Round3 | Phase::Open),
            none: phase == Phase::Closed,
            own_province: phase == Phase::Round1,
        }
    }

    /// Whether an unplaced student with these properties is in the open tab.
    ///
    /// `visible_from` is the student's visibility moment, `preferred` the number of its
    /// preferred service (0 for none), `province` its province index. Written with `&` and
    /// `|` on booleans on purpose: every term is evaluated, none is branched on.
    #[inline(always)]
    pub(crate) fn admits_open(
        &self,
        visible_from: Micros,
        dual: bool,
        preferred: u32,
        province: u8,
    ) -> bool {
        let preferred_here =
            (preferred == self.service) & (!self.own_province | (province == self.province));
        let placement = self.all | (!self.none & preferred_here);

        (visible_from <= self.t) & ((dual & self.dual_open) | (!dual & placement))
    }
}

/// The properties of a student that visibility depends on, for callers outside the hot loop.
///
/// ```
/// use stagematch_core::{brussels, Calendar, Province, ServiceId, StudentFacts, Track};
/// let cal = Calendar::default();
/// let svc = ServiceId::new(1).unwrap();
/// let student = StudentFacts {
///     registered_at: brussels(2025, 6, 1, 9, 0).unwrap(),
///     track: Track::Secondary,
///     province: Province::Antwerp,
///     preferred_service: Some(svc),
///     accepted_by: None,
/// };
/// let round1 = brussels(2025, 7, 1, 9, 0).unwrap();
/// assert!(student.visible_open(&cal, svc, Province::Antwerp, round1));
/// assert!(!student.visible_open(&cal, svc, Province::Limburg, round1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudentFacts {
    /// When the school registered the student.
    pub registered_at: DateTime<Utc>,
    /// Its track.
    pub track: crate::student::Track,
    /// The province it lives in.
    pub province: Province,
    /// Its preferred service, if any.
    pub preferred_service: Option<ServiceId>,
    /// The service that accepted it and when, if any (as of the moment asked about).
    pub accepted_by: Option<ServiceId>,
}

impl StudentFacts {
    /// Whether the student is in the open tab of `service` (of `service_province`) at `t`.
    pub fn visible_open(
        &self,
        cal: &Calendar,
        service: ServiceId,
        service_province: Province,
        t: DateTime<Utc>,
    ) -> bool {
        if self.accepted_by.is_some() {
            return false;
        }

        let cm = cal.to_micros();
        let rule = Rule::new(&cm, service, service_province, micros(t));
        rule.admits_open(
            micros(cal.visible_from(self.registered_at)),
            self.track.is_dual(),
            self.preferred_service.map_or(0, ServiceId::get),
            self.province as u8,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::brussels;
    use crate::student::Track;

    fn svc(n: u32) -> ServiceId {
        ServiceId::new(n).unwrap()
    }

    fn facts(track: Track, province: Province, pref: Option<u32>) -> StudentFacts {
        StudentFacts {
            registered_at: brussels(2025, 6, 1, 9, 0).unwrap(),
            track,
            province,
            preferred_service: pref.map(svc),
            accepted_by: None,
        }
    }

    #[test]
    fn the_rounds() {
        let cal = Calendar::default();
        let at = |m, d| brussels(2025, m, d, 13, 0).unwrap();
        let own = facts(Track::Secondary, Province::Antwerp, Some(1));
        let far = facts(Track::Secondary, Province::Limburg, Some(1));
        let other = facts(Track::Adult, Province::Antwerp, Some(2));
        let none = facts(Track::Secondary, Province::Antwerp, None);
        let see = |f: &StudentFacts, t| f.visible_open(&cal, svc(1), Province::Antwerp, t);

        // Before round 1 nothing of the placement tracks.
        assert!(!see(&own, at(6, 20)));
        // Round 1 and the gap after it: preferred and same province.
        for t in [at(7, 1), at(8, 20)] {
            assert!(see(&own, t));
            assert!(!see(&far, t));
            assert!(!see(&other, t));
            assert!(!see(&none, t));
        }
        // Round 2: preferred, any province.
        assert!(see(&far, at(9, 6)));
        assert!(!see(&none, at(9, 6)));
        // Round 3 and after: everyone.
        for t in [at(9, 20), at(11, 1)] {
            assert!(see(&other, t) && see(&none, t) && see(&far, t));
        }
    }

    #[test]
    fn dual_from_its_window() {
        let cal = Calendar::default();
        let dual = facts(Track::Dual, Province::Limburg, None);
        let see = |t| dual.visible_open(&cal, svc(1), Province::Antwerp, t);
        assert!(!see(brussels(2025, 6, 15, 23, 59).unwrap()));
        assert!(see(brussels(2025, 6, 16, 0, 0).unwrap()));
        assert!(see(brussels(2026, 1, 5, 0, 0).unwrap()));
    }

    #[test]
    fn blackout_waits_for_release_and_accepted_is_hidden() {
        let cal = Calendar::default();
        let mut late = facts(Track::Secondary, Province::Antwerp, None);
        late.registered_at = brussels(2025, 7, 2, 9, 0).unwrap();
        let see = |f: &StudentFacts, t| f.visible_open(&cal, svc(1), Province::Antwerp, t);
        assert!(!see(&late, brussels(2025, 9, 19, 11, 59).unwrap()));
        assert!(see(&late, brussels(2025, 9, 19, 12, 0).unwrap()));
        late.accepted_by = Some(svc(2));
        assert!(!see(&late, brussels(2025, 9, 20, 12, 0).unwrap()));
    }
}
