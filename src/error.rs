//! The one error type of the crate.
//!
//! Every failure a caller can meet is a variant of [`Error`]. Variants carry data (the field,
//! the value, the rule) so that a program can match on them, and their messages are sentences
//! a placement coordinator can read. An operation that returns an error has changed nothing:
//! every write is one redb transaction that is only committed after all checks passed.

use crate::decision::Status;
use crate::ids::{ServiceId, StudentId};
use crate::student::Track;

/// The result type of every fallible operation of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in stagematch.
///
/// ```
/// use stagematch_core::{Error, Postcode};
///
/// let err = "0999".parse::<Postcode>().unwrap_err();
/// assert!(matches!(err, Error::Validation { ref field, .. } if field == "postcode"));
/// assert!(err.to_string().contains("postcode"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input value breaks a rule. Nothing was stored.
    #[error("{field}: {reason} (got {value:?})")]
    Validation {
        /// The name of the field, as the API and the CSV headers spell it.
        field: String,
        /// The offending value, shortened to at most 60 characters.
        value: String,
        /// The rule it breaks, as a readable phrase.
        reason: String,
    },

    /// A referenced service, school, contact person or student does not exist.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// What kind of thing was looked up (`service`, `school`, `contact`, `student`).
        what: &'static str,
        /// The id or name that was looked up.
        id: String,
    },

    /// The student is not visible to the service at that moment, so it may not decide on it.
    #[error("student {student} is not visible to service {service} at that moment")]
    NotVisible {
        /// The student.
        student: StudentId,
        /// The service that tried to see or decide.
        service: ServiceId,
    },

    /// The decision machine of the student's track does not allow this change.
    #[error("a {track} student cannot go from {from} to {to}")]
    InvalidTransition {
        /// The track whose machine applies.
        track: Track,
        /// The current status of this service for the student.
        from: Status,
        /// The requested status.
        to: Status,
    },

    /// Another service (or this one) has already accepted the student.
    #[error("student {student} is already placed with service {service}")]
    AlreadyPlaced {
        /// The student.
        student: StudentId,
        /// The service that accepted it.
        service: ServiceId,
    },

    /// The store file was written in a format this version cannot read.
    #[error(
        "the store has format version {found}, this program reads version {supported}; \
         refusing to open it rather than misread it"
    )]
    UnsupportedFormat {
        /// The version recorded in the file.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },

    /// A file could not be opened, read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// The embedded database reported a failure; the transaction was rolled back.
    #[error("storage failure: {0}")]
    Storage(Box<redb::Error>),

    /// A record in the store could not be decoded: the file is damaged.
    #[error("the store is damaged: {0}")]
    Corrupt(String),

    /// A sign-in, token or session was refused (*aanmelden mislukt*). The reason never says
    /// whether an email address has a login.
    #[error("{reason}")]
    Auth {
        /// Why, as a sentence for the person signing in.
        reason: String,
    },

    /// The session's role may not do this (a service acting for another service, a school
    /// reading another school's students, anyone but the coordinator managing logins).
    #[error("not allowed: {reason}")]
    Forbidden {
        /// What was refused.
        reason: String,
    },

    /// The store holds sealed personal data and was opened without its key.
    #[error("this store holds national register numbers sealed with a key; open it with that key")]
    KeyRequired,

    /// The key given is not the store's key.
    #[error("this is not the key of this store (its personal data was sealed with another)")]
    WrongKey,

    /// A CSV import was refused because of bad rows; nothing was stored.
    #[error("{}", import_message(.errors))]
    ImportFailed {
        /// Every bad row (the first problem of each), in file order.
        errors: Vec<RowError>,
    },
}

/// One bad row of a CSV import: where, which column, what value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: u64,
    /// The column's header as the file spells it (or the field name).
    pub column: String,
    /// The offending value, shortened to at most 60 characters.
    pub value: String,
    /// The rule it breaks.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {} (got {:?})",
            self.line, self.column, self.reason, self.value
        )
    }
}

fn import_message(errors: &[RowError]) -> String {
    match errors.first() {
        Some(first) if errors.len() == 1 => format!("the import was refused: {first}"),
        Some(first) => format!(
            "the import was refused: {} bad rows, the first at {first}",
            errors.len()
        ),
        None => "the import was refused".to_owned(),
    }
}

impl Error {
    /// Builds a [`Error::Validation`], shortening a long value so messages stay readable.
    pub(crate) fn invalid(field: &str, value: &str, reason: impl Into<String>) -> Self {
        let mut shown: String = value.chars().take(60).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }

        Error::Validation {
            field: field.to_owned(),
            value: shown,
            reason: reason.into(),
        }
    }

    /// An [`Error::Auth`] with this reason.
    pub(crate) fn auth(reason: impl Into<String>) -> Self {
        Error::Auth {
            reason: reason.into(),
        }
    }

    /// An [`Error::Forbidden`] with this reason.
    pub(crate) fn forbidden(reason: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: reason.into(),
        }
    }

    /// The field a validation error names, if this is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<redb::Error> for Error {
    fn from(err: redb::Error) -> Self {
        match err {
            redb::Error::Io(io) => Error::Io(io),
            other => Error::Storage(Box::new(other)),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {
        $(impl From<$t> for Error {
            fn from(err: $t) -> Self {
                Error::from(redb::Error::from(err))
            }
        })*
    };
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<postcard::Error> for Error {
    fn from(err: postcard::Error) -> Self {
        Error::Corrupt(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_in_messages() {
        let err = Error::invalid("remarks", &"x".repeat(500), "is too long");
        let Error::Validation { value, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(value.chars().count(), 61);
        assert!(err.to_string().starts_with("remarks: is too long"));
    }

    #[test]
    fn messages_name_what_went_wrong() {
        let placed = Error::AlreadyPlaced {
            student: StudentId(4),
            service: ServiceId(2),
        };
        assert_eq!(
            placed.to_string(),
            "student stu-4 is already placed with service svc-2"
        );
        let bad = Error::InvalidTransition {
            track: Track::Dual,
            from: Status::Undecided,
            to: Status::Accepted,
        };
        assert_eq!(
            bad.to_string(),
            "a dual student cannot go from undecided to accepted"
        );
        assert_eq!(placed.field(), None);
    }
}
