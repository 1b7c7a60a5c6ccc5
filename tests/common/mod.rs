//! Helpers shared by the integration tests: moments, and students with sensible defaults.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, Utc};
use stagematch_core::{
    NewContact, NewStudent, Period, Province, SchoolId, ServiceId, Store, Supervisor, Track,
    Transport, brussels,
};

/// A Brussels moment in 2025.
pub fn at(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    brussels(2025, month, day, hour, minute).unwrap()
}

pub fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, month, d).unwrap()
}

/// A national register number no other call returned (born 30 July 1985 or a little
/// later), so that students of one store never share one.
pub fn unique_national_number() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);

    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let born =
        NaiveDate::from_ymd_opt(1985, 7, 30).unwrap() + chrono::Duration::days((n / 997).into());
    stagematch_core::synth::national_number(born, n % 997 + 1)
}

/// A valid student living at `postcode`, with a preferred service if given.
pub fn student(track: Track, last: &str, postcode: &str, pref: Option<ServiceId>) -> NewStudent {
    NewStudent {
        track,
        first_name: "Noor".into(),
        last_name: last.into(),
        street: "Kerkstraat 1".into(),
        postcode: postcode.into(),
        city: "Ergens".into(),
        transport: vec![Transport::Bike, Transport::PublicTransport],
        periods: vec![
            Period::new(day(10, 6), day(10, 31)).unwrap(),
            Period::new(day(12, 1), day(12, 19)).unwrap(),
        ],
        hours_per_week: 16.0,
        total_hours: 120.0,
        form: "blok".into(),
        preferred_service: pref,
        national_number: Some(unique_national_number()),
        email: Some("noor@leerling.be".into()),
        phone: Some("0470 12 34 56".into()),
        supervisor: Some(Supervisor {
            name: Some("Mevr. Claes".into()),
            email: Some("claes@school.be".into()),
            phone: Some("03 123 45 67".into()),
        }),
        remarks: Some("Spreekt Frans en Nederlands.".into()),
        ..NewStudent::default()
    }
}

/// A season with two services in Antwerp and Limburg, each with a contact person, and a
/// school.
pub struct Season {
    pub store: Store,
    pub antwerp: ServiceId,
    pub limburg: ServiceId,
    pub antwerp_contact: stagematch_core::ContactId,
    pub limburg_contact: stagematch_core::ContactId,
    pub school: SchoolId,
}

impl Season {
    /// Registers a student of `track` at `postcode` (see [`student`]) at a moment.
    pub fn register(
        &self,
        track: Track,
        last: &str,
        postcode: &str,
        pref: Option<ServiceId>,
        when: DateTime<Utc>,
    ) -> stagematch_core::StudentId {
        self.store
            .register_student(self.school, &student(track, last, postcode, pref), when)
            .unwrap()
    }
}

pub fn season() -> Season {
    season_in(Store::memory().unwrap())
}

pub fn season_in(store: Store) -> Season {
    let antwerp = store
        .add_service("Familiezorg Antwerpen", Province::Antwerp)
        .unwrap();
    let limburg = store
        .add_service("Thuiszorg Limburg", Province::Limburg)
        .unwrap();
    let antwerp_contact = store
        .add_contact(
            antwerp,
            &NewContact::new("Els Wouters", "03 111 22 33", "els@fz.be"),
        )
        .unwrap();
    let limburg_contact = store
        .add_contact(
            limburg,
            &NewContact::new("Jef Vos", "011 22 33 44", "jef@tl.be"),
        )
        .unwrap();
    let school = store.add_school("Sint-Jozef Zorgschool").unwrap();
    Season {
        store,
        antwerp,
        limburg,
        antwerp_contact,
        limburg_contact,
        school,
    }
}
