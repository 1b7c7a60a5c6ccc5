//! The services, schools and contact persons of a season.
//!
//! Invariant: names are unique within their kind (services among services, schools among
//! schools, contact persons within one service), compared ignoring case and accents, so the
//! program and the CSV import can refer to them by name without ambiguity.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{ContactId, SchoolId, ServiceId};
use crate::student::{MAX_NAME, Province};
use crate::text::{email, phone, required_text};

/// A home-care service (*dienst gezinszorg*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Its id.
    pub id: ServiceId,
    /// Its name, unique among services.
    pub name: String,
    /// The province it works in; round 1 shows it the preferred students of this province.
    pub province: Province,
}

/// A school (*school*, *CVO*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct School {
    /// Its id.
    pub id: SchoolId,
    /// Its name, unique among schools.
    pub name: String,
}

/// A contact person of a service (*contactpersoon stageplaats*, *stagementor*), assigned to
/// the students the service accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// The service it belongs to.
    pub service: ServiceId,
    /// Name, unique within the service.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
}

/// A contact person to add; name, phone and email are all required.
///
/// ```
/// use stagematch_core::NewContact;
/// let c = NewContact::new("Tine Peeters", "02/250 37 77", "tine@dienst.be");
/// assert!(c.validate().is_ok());
/// assert!(NewContact::new("Tine", "", "tine@dienst.be").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewContact {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
}

impl NewContact {
    /// A contact person with these details.
    pub fn new(
        name: impl Into<String>,
        phone: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        NewContact {
            name: name.into(),
            phone: phone.into(),
            email: email.into(),
        }
    }

    /// Checks the three fields; returns them trimmed.
    pub fn validate(&self) -> Result<NewContact> {
        Ok(NewContact {
            name: required_text("name", &self.name, MAX_NAME)?,
            phone: phone("phone", &self.phone)?,
            email: email("email", &self.email)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_fields_are_all_required_and_checked() {
        let ok = NewContact::new("  Tine Peeters ", "02/250 37 77", "tine@dienst.be");
        assert_eq!(ok.validate().unwrap().name, "Tine Peeters");

        let cases = [
            (
                "name",
                NewContact::new("", "02/250 37 77", "tine@dienst.be"),
            ),
            (
                "name",
                NewContact::new("Ti\u{7}ne", "02/250 37 77", "tine@dienst.be"),
            ),
            ("phone", NewContact::new("Tine", "", "tine@dienst.be")),
            ("phone", NewContact::new("Tine", "bel me", "tine@dienst.be")),
            ("email", NewContact::new("Tine", "02/250 37 77", "")),
            (
                "email",
                NewContact::new("Tine", "02/250 37 77", "tine.dienst.be"),
            ),
        ];
        for (field, contact) in cases {
            assert_eq!(
                contact.validate().unwrap_err().field(),
                Some(field),
                "{contact:?}"
            );
        }
    }
}
