//! Typed ids for the things a store holds.
//!
//! An id is a small number handed out by the store, dense from 1, and valid for the life of
//! the store (nothing is ever renumbered). Its text form carries a prefix that names the kind
//! (`svc-3`, `sch-1`, `con-7`, `stu-1042`), so that an id pasted in the wrong place is refused
//! instead of silently meaning something else.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        pub struct $name(pub(crate) u32);

        impl $name {
            /// The number behind the id (1 for the first one created).
            pub fn get(self) -> u32 {
                self.0
            }

            /// The id with this number, if the number is a possible id (not 0).
            pub fn new(n: u32) -> Option<Self> {
                (n != 0).then_some(Self(n))
            }

            /// The prefix of the text form.
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                let digits = s.trim().strip_prefix($prefix).ok_or_else(|| {
                    Error::invalid($field, s, concat!("an id must look like ", $prefix, "12"))
                })?;

                match digits.parse::<u32>() {
                    Ok(n) if n > 0 && !digits.starts_with('+') => Ok(Self(n)),
                    _ => Err(Error::invalid(
                        $field,
                        s,
                        concat!("an id must look like ", $prefix, "12"),
                    )),
                }
            }
        }
    };
}

id_type!(
    /// A home-care service (*dienst*).
    ///
    /// ```
    /// use stagematch_core::ServiceId;
    /// let id: ServiceId = "svc-3".parse().unwrap();
    /// assert_eq!(id.to_string(), "svc-3");
    /// assert!("sch-3".parse::<ServiceId>().is_err());
    /// ```
    ServiceId,
    "svc-",
    "service"
);
id_type!(
    /// A school (*school*, *CVO*).
    SchoolId,
    "sch-",
    "school"
);
id_type!(
    /// A contact person of a service (*contactpersoon stageplaats*).
    ContactId,
    "con-",
    "contact"
);
id_type!(
    /// A student (*leerling*, *cursist*).
    StudentId,
    "stu-",
    "student"
);

impl StudentId {
    /// The position of this student in dense per-student arrays.
    pub(crate) fn index(self) -> usize {
        // Id 0 (only reachable through deserialisation) wraps to an index no store holds,
        // so it is reported as not found instead of panicking.
        (self.0 as usize).wrapping_sub(1)
    }

    /// The student at a dense array position.
    pub(crate) fn from_index(index: usize) -> Self {
        // Invariant: the store never holds more than u32::MAX - 1 students (checked on insert).
        Self(index as u32 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let id = StudentId(1042);
        assert_eq!(id.to_string().parse::<StudentId>().unwrap(), id);
    }

    #[test]
    fn wrong_prefix_zero_and_junk_are_refused() {
        for bad in [
            "svc-0", "sch-1", "svc-", "svc--1", "svc-+1", "svc-1x", "12", "",
        ] {
            let err = bad.parse::<ServiceId>().unwrap_err();
            assert_eq!(err.field(), Some("service"), "{bad}");
        }
    }
}
