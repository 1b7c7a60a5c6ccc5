//! The decision machines: what a service may decide about a student, and the audit log.
//!
//! Each (service, student) pair has a [`Status`], `undecided` until the service decides.
//! The allowed changes depend on the student's track.
//!
//! Placement machine (`secondary`, `adult`):
//!
//! | from | to |
//! |---|---|
//! | `undecided` | `not_accepted`, `accepted` |
//! | `not_accepted` | `undecided`, `accepted` |
//! | `accepted` | nothing: it is final |
//!
//! Interview machine (`dual`, *duaal leren*):
//!
//! | from | to |
//! |---|---|
//! | `undecided` | `not_invited`, `invited` |
//! | `not_invited` | `undecided`, `invited` |
//! | `invited` | `accepted`, `not_accepted`, `no_show` |
//! | `not_accepted` | `no_show` (a correction) |
//! | `no_show` | `not_accepted` (a correction) |
//! | `accepted` | nothing: it is final |
//!
//! Invariants kept here and in the store: a change to the same status is refused; every
//! accepted decision names a contact person of the deciding service and a non-empty subset
//! of the student's periods; at most one service ever accepts a student (the store checks
//! and commits under one writer lock, see `store`); every change is one [`AuditEntry`].

use serde::{Deserialize, Serialize};

use crate::calendar::{Micros, from_micros};
use crate::codes::code_enum;
use crate::error::{Error, Result};
use crate::ids::{ContactId, ServiceId, StudentId};
use crate::student::{Period, Track};

code_enum!(
    /// The status of one service for one student (*status*).
    ///
    /// ```
    /// use stagematch_core::Status;
    /// assert_eq!("niet aanvaard".parse::<Status>().unwrap(), Status::NotAccepted);
    /// assert_eq!(Status::NoShow.code(), "no_show");
    /// ```
    Status, "status", "status" {
        /// Nothing decided yet (*onbeslist*).
        Undecided = "undecided" ["onbeslist"],
        /// Not taken (*niet aanvaard*).
        NotAccepted = "not_accepted" ["niet aanvaard"],
        /// Taken: the student is placed with this service (*aanvaard*).
        Accepted = "accepted" ["aanvaard"],
        /// Dual: not invited for an interview (*niet uitgenodigd*).
        NotInvited = "not_invited" ["niet uitgenodigd"],
        /// Dual: invited for an interview (*uitgenodigd*).
        Invited = "invited" ["uitgenodigd"],
        /// Dual: did not turn up or stopped the programme (*niet opgedaagd*).
        NoShow = "no_show" ["niet opgedaagd"],
    }
);

impl Status {
    /// Whether a service with this status may see the student's personal data.
    pub fn sees_personal_data(self) -> bool {
        matches!(self, Status::Invited | Status::Accepted)
    }
}

/// Checks one change of the machine of `track`.
///
/// ```
/// use stagematch_core::{check_transition, Status, Track};
/// assert!(check_transition(Track::Dual, Status::Invited, Status::Accepted).is_ok());
/// assert!(check_transition(Track::Dual, Status::Undecided, Status::Accepted).is_err());
/// assert!(check_transition(Track::Adult, Status::Accepted, Status::Undecided).is_err());
/// ```
pub fn check_transition(track: Track, from: Status, to: Status) -> Result<()> {
    use Status::*;

    let allowed = match track {
        Track::Secondary | Track::Adult => matches!(
            (from, to),
            (Undecided, NotAccepted)
                | (NotAccepted, Undecided)
                | (Undecided, Accepted)
                | (NotAccepted, Accepted)
        ),
        Track::Dual => matches!(
            (from, to),
            (Undecided, NotInvited)
                | (NotInvited, Undecided)
                | (Undecided, Invited)
                | (NotInvited, Invited)
                | (Invited, Accepted)
                | (Invited, NotAccepted)
                | (Invited, NoShow)
                | (NotAccepted, NoShow)
                | (NoShow, NotAccepted)
        ),
    };

    if allowed {
        Ok(())
    } else {
        Err(Error::InvalidTransition { track, from, to })
    }
}

/// A decision a service wants to record.
///
/// ```
/// use stagematch_core::{ContactId, Decision, Status};
/// let contact: ContactId = "con-1".parse().unwrap();
/// let accept = Decision::accept(contact).with_notes("start on Monday");
/// assert_eq!(accept.status, Status::Accepted);
/// let no = Decision::new(Status::NotAccepted);
/// assert!(no.contact.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The new status.
    pub status: Status,
    /// The contact person assigned to the student (required for `accepted`, refused
    /// otherwise).
    pub contact: Option<ContactId>,
    /// The periods in which the service takes the student; `None` means all of them. Only
    /// for `accepted`.
    pub periods: Option<Vec<Period>>,
    /// Notes or a remark (*opmerking*), for any decision.
    pub notes: Option<String>,
}

impl Decision {
    /// A decision without contact, periods or notes.
    pub fn new(status: Status) -> Decision {
        Decision {
            status,
            contact: None,
            periods: None,
            notes: None,
        }
    }

    /// An accept with the contact person who will guide the student, for all its periods.
    pub fn accept(contact: ContactId) -> Decision {
        Decision {
            contact: Some(contact),
            ..Decision::new(Status::Accepted)
        }
    }

    /// The same decision, for only these periods of the student.
    pub fn with_periods(mut self, periods: Vec<Period>) -> Decision {
        self.periods = Some(periods);
        self
    }

    /// The same decision, with notes.
    pub fn with_notes(mut self, notes: impl Into<String>) -> Decision {
        self.notes = Some(notes.into());
        self
    }
}

/// Picks the periods of an accept: all of the student's when `chosen` is `None`; otherwise a
/// non-empty selection of the student's own periods without repeats.
pub(crate) fn accepted_periods(
    student: &[Period],
    chosen: Option<&[Period]>,
) -> Result<Vec<Period>> {
    let Some(chosen) = chosen else {
        return Ok(student.to_vec());
    };

    if chosen.is_empty() {
        return Err(Error::invalid(
            "periods",
            "",
            "an accept needs at least one of the student's periods",
        ));
    }

    let mut picked = chosen.to_vec();
    picked.sort();
    picked.dedup();
    if let Some(stray) = picked.iter().find(|p| !student.contains(p)) {
        return Err(Error::invalid(
            "periods",
            &stray.to_string(),
            "is not one of the student's periods",
        ));
    }

    Ok(picked)
}

/// One recorded change of status: who, what, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The position in the log, from 1.
    pub seq: u64,
    /// When the change was made, in microseconds since the Unix epoch.
    pub at_micros: Micros,
    /// Who made it: the login, or the service id for the trusted API.
    pub actor: String,
    /// The deciding service.
    pub service: ServiceId,
    /// The student.
    pub student: StudentId,
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
    /// The contact person, for an accept.
    pub contact: Option<ContactId>,
    /// The periods, for an accept.
    pub periods: Vec<Period>,
    /// Notes.
    pub notes: Option<String>,
}

impl AuditEntry {
    /// When the change was made.
    pub fn at(&self) -> chrono::DateTime<chrono::Utc> {
        from_micros(self.at_micros)
    }
}

/// How often a service chose a status for a student (the coordinator's status counts).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusCount {
    /// The student.
    pub student: StudentId,
    /// The service.
    pub service: ServiceId,
    /// The status chosen.
    pub status: Status,
    /// How many times.
    pub count: u32,
}

/// The placement of an accepted student: where, with whom, for which periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The service that accepted.
    pub service: ServiceId,
    /// The contact person assigned.
    pub contact: ContactId,
    /// The periods in which the service takes the student.
    pub periods: Vec<Period>,
    /// Notes or remark.
    pub notes: Option<String>,
    /// When it was accepted, in microseconds since the Unix epoch.
    pub at_micros: Micros,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn placement_machine_table() {
        for from in Status::ALL {
            for to in Status::ALL {
                let ok = check_transition(Track::Secondary, *from, *to).is_ok();
                let expected = matches!(
                    (from, to),
                    (Undecided, NotAccepted)
                        | (NotAccepted, Undecided)
                        | (Undecided | NotAccepted, Accepted)
                );
                assert_eq!(ok, expected, "{from} -> {to}");
                assert_eq!(ok, check_transition(Track::Adult, *from, *to).is_ok());
            }
        }
    }

    #[test]
    fn interview_machine_refuses_accept_without_invite() {
        for from in [Undecided, NotInvited, NotAccepted, NoShow, Accepted] {
            let err = check_transition(Track::Dual, from, Accepted).unwrap_err();
            assert!(matches!(err, Error::InvalidTransition { .. }));
        }
        assert!(check_transition(Track::Dual, NoShow, NotAccepted).is_ok());
        assert!(check_transition(Track::Dual, Accepted, NoShow).is_err());
    }

    #[test]
    fn periods_of_an_accept() {
        let d = |m, day| chrono::NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        let a = Period::new(d(10, 1), d(10, 10)).unwrap();
        let b = Period::new(d(11, 1), d(11, 10)).unwrap();
        let c = Period::new(d(12, 1), d(12, 10)).unwrap();
        assert_eq!(accepted_periods(&[a, b], None).unwrap(), vec![a, b]);
        assert_eq!(accepted_periods(&[a, b], Some(&[b, b])).unwrap(), vec![b]);
        assert_eq!(
            accepted_periods(&[a, b], Some(&[c])).unwrap_err().field(),
            Some("periods")
        );
        assert_eq!(
            accepted_periods(&[a, b], Some(&[])).unwrap_err().field(),
            Some("periods")
        );
    }
}
