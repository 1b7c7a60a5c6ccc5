//! # stagematch-core
//!
//! The engine of stagematch: placement matching for Flemish home-care services
//! (*stagematching gezinszorg*). A coordinator runs a season in timed rounds; schools register
//! students; services browse the students visible to them, invite and accept them; every
//! student ends up placed exactly once.
//!
//! The crate keeps a season in one [`Store`], an embedded redb file (or redb's in-memory
//! backend), and answers a service's tabs from compact in-memory columns scanned in parallel.
//!
//! | module | concept |
//! |---|---|
//! | [`calendar`] | the season's rounds, blackout and dual window, in Brussels time |
//! | [`student`] | students and the validation of everything on their card |
//! | [`directory`] | services, schools and contact persons |
//! | [`decision`] | the placement and interview machines, and the audit log |
//! | [`visibility`] | who sees which student when |
//! | [`query`] | the tabs: filters, sort orders, paging, over the query columns |
//! | [`csv`] | student CSV files: header mapping, separators, periods, row errors |
//! | [`stats`] | round statistics as of any moment |
//! | [`store`] | the redb store, the only module that touches the file |
//! | [`personal`] | national register numbers sealed at rest, and their keyed digests |
//! | [`account`] | logins, sessions, invitations, password resets and the outbox |
//! | [`synth`] | seeded synthetic cohorts for examples, benchmarks and the demo |
//!
//! ```
//! use chrono::NaiveDate;
//! use stagematch_core::*;
//!
//! let store = Store::memory()?;
//! let gent = store.add_service("Familiehulp Gent", Province::EastFlanders)?;
//! let mentor = store.add_contact(gent, &NewContact::new("An", "09 222 33 44", "an@fh.be"))?;
//! let school = store.add_school("Sint-Lucas Gent")?;
//!
//! let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
//! let student = NewStudent {
//!     track: Track::Secondary,
//!     first_name: "Lotte".into(), last_name: "De Smet".into(),
//!     street: "Veldstraat 5".into(), postcode: "9000".into(), city: "Gent".into(),
//!     transport: vec![Transport::Bike], form: "blok".into(),
//!     periods: vec![Period::new(d(10, 6), d(10, 31))?],
//!     hours_per_week: 18.0, total_hours: 72.0,
//!     preferred_service: Some(gent),
//!     ..NewStudent::default()
//! };
//! let lotte = store.register_student(school, &student, brussels(2025, 6, 2, 10, 0)?)?;
//!
//! // Round 1: Lotte chose Gent as preferred service and lives in its province.
//! let round1 = brussels(2025, 7, 1, 9, 0)?;
//! let page = store.students(gent, &Query::default(), round1)?;
//! assert_eq!(page.total, 1);
//! assert_eq!(page.rows[0].national_number, None);
//!
//! store.decide(gent, lotte, &Decision::accept(mentor), round1)?;
//! let accepted = Query { tab: Tab::Accepted, ..Query::default() };
//! assert_eq!(store.students(gent, &accepted, round1)?.total, 1);
//! # Ok::<(), Error>(())
//! ```
#![deny(missing_docs)]

pub mod account;
mod codes;
mod error;
mod ids;
mod text;

pub mod calendar;
pub mod csv;
pub mod decision;
pub mod directory;
pub mod personal;
pub mod query;
pub mod stats;
pub mod store;
pub mod student;
pub mod synth;
pub mod visibility;

pub use account::{Login, Message, MessageKind, Role};
pub use calendar::{Calendar, Phase, Window, brussels, parse_moment};
pub use decision::{AuditEntry, Decision, Placement, Status, StatusCount, check_transition};
pub use directory::{Contact, NewContact, School, Service};
pub use error::{Error, Result, RowError};
pub use ids::{ContactId, SchoolId, ServiceId, StudentId};
pub use personal::Key;
pub use query::{MAX_LIMIT, Query, Sort};
/// The storage engine, re-exported for hosts that give a store a backend of their own
/// ([`Store::with_backend`]).
pub use redb;
pub use stats::RoundStat;
pub use store::{FORMAT_VERSION, Page, Session, Store, StudentCard};
pub use student::{
    NationalNumber, NewStudent, Period, Postcode, Province, Student, StudentData, Supervisor,
    Track, Transport, TransportSet, Weekday,
};
pub use text::fold;
pub use visibility::{StudentFacts, Tab};
