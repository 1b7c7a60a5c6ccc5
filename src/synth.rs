//! Synthetic cohorts for the example, the benchmarks and the demo: seeded and reproducible.
//!
//! Invariant: the same seed and size give the same services, schools and students, byte for
//! byte, on every machine (a fixed SplitMix64 generator, no global state). Every generated
//! student passes [`NewStudent::validate`], and the students of one generator have distinct
//! national register numbers (a store refuses a number registered twice).

use chrono::{Duration, NaiveDate};

use crate::ids::ServiceId;
use crate::student::{NewStudent, Period, Province, Supervisor, Track, Transport, Weekday};

/// A small deterministic random generator (SplitMix64).
///
/// ```
/// use stagematch_core::synth::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.below(1000), b.below(1000));
/// ```
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    /// National register number serials handed out per birth date, so that the students
    /// of one generator never share a number.
    serials: std::collections::HashMap<NaiveDate, u32>,
}

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            serials: std::collections::HashMap::new(),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A birth date near `born` and a serial (1 to 997) this generator has not given out:
    /// a date whose serials are used up moves to the next day.
    fn unused_serial(&mut self, born: NaiveDate) -> (NaiveDate, u32) {
        let mut day = born;
        loop {
            let used = self.serials.entry(day).or_insert(0);
            if *used < 997 {
                *used += 1;
                return (day, *used);
            }
            day += Duration::days(1);
        }
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Amélie", "Lotte", "Noor", "Emma", "Louise", "Élodie", "Ayşe", "Fatima", "Zoë", "Chloé", "Jan",
    "Lucas", "Mohamed", "Émile", "Thibault", "Yusuf", "Senne", "Arne", "Inès", "Maëlle", "Hanne",
    "Febe", "Jitse", "Wout", "Nora", "Sara", "Lina", "Rania", "Kobe", "Jérôme",
];
const LAST: &[&str] = &[
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Van Damme",
    "Dubois",
    "Lefèvre",
    "Lambert",
    "Dupont",
    "Çelik",
    "Öztürk",
    "El Amrani",
    "Vermeulen",
    "De Clercq",
    "Van den Broeck",
    "Desmet",
    "Michiels",
    "Hermans",
    "Dumont",
    "François",
    "Leclercq",
    "Bogaert",
    "Verstraete",
    "D'Hondt",
];
/// (postcode, city) pairs across Flanders and Brussels.
const PLACES: &[(u16, &str)] = &[
    (1000, "Brussel"),
    (1030, "Schaarbeek"),
    (1070, "Anderlecht"),
    (1080, "Molenbeek"),
    (1500, "Halle"),
    (1800, "Vilvoorde"),
    (3000, "Leuven"),
    (3300, "Tienen"),
    (2000, "Antwerpen"),
    (2018, "Antwerpen"),
    (2100, "Deurne"),
    (2300, "Turnhout"),
    (2800, "Mechelen"),
    (2900, "Schoten"),
    (3500, "Hasselt"),
    (3600, "Genk"),
    (3700, "Tongeren"),
    (3900, "Pelt"),
    (8000, "Brugge"),
    (8400, "Oostende"),
    (8500, "Kortrijk"),
    (8800, "Roeselare"),
    (9000, "Gent"),
    (9100, "Sint-Niklaas"),
    (9200, "Dendermonde"),
    (9300, "Aalst"),
    (9500, "Geraardsbergen"),
    (9700, "Oudenaarde"),
];
const STREETS: &[&str] = &[
    "Kerkstraat",
    "Stationsstraat",
    "Schoolstraat",
    "Molenstraat",
    "Dorpsstraat",
    "Nieuwstraat",
    "Rue de la Loi",
    "Kapelstraat",
    "Veldstraat",
    "Beekstraat",
];
const FORMS: &[&str] = &["blok", "alternerend", "lint"];

/// The service names and provinces of a synthetic season: a few services per Flemish
/// province and in Brussels.
pub fn services(n: usize) -> Vec<(String, Province)> {
    let regions = [
        ("Antwerpen", Province::Antwerp),
        ("Limburg", Province::Limburg),
        ("Oost-Vlaanderen", Province::EastFlanders),
        ("West-Vlaanderen", Province::WestFlanders),
        ("Vlaams-Brabant", Province::FlemishBrabant),
        ("Brussel", Province::Brussels),
    ];
    let kinds = [
        "Familiehulp",
        "Familiezorg",
        "Thuiszorg",
        "Gezinszorg",
        "Landelijke Thuiszorg",
    ];

    (0..n)
        .map(|k| {
            let (region, province) = regions[k % regions.len()];
            let kind = kinds[(k / regions.len()) % kinds.len()];
            let round = k / (regions.len() * kinds.len());
            let name = if round == 0 {
                format!("{kind} {region}")
            } else {
                format!("{kind} {region} {}", round + 1)
            };
            (name, province)
        })
        .collect()
}

/// The names of `n` schools.
pub fn schools(n: usize) -> Vec<String> {
    let kinds = [
        "Sint-Jozefsinstituut",
        "Technisch Instituut",
        "CVO",
        "Zorgschool",
        "Atheneum",
    ];
    let towns = [
        "Gent",
        "Antwerpen",
        "Hasselt",
        "Brugge",
        "Leuven",
        "Brussel",
        "Mechelen",
    ];
    (0..n)
        .map(|k| {
            let base = format!(
                "{} {}",
                kinds[k % kinds.len()],
                towns[(k / kinds.len()) % towns.len()]
            );
            let round = k / (kinds.len() * towns.len());
            if round == 0 {
                base
            } else {
                format!("{base} {}", round + 1)
            }
        })
        .collect()
}

/// A valid national register number for someone born on `born`, with serial `serial`.
pub fn national_number(born: NaiveDate, serial: u32) -> String {
    use chrono::Datelike;

    let nine = format!(
        "{:02}{:02}{:02}{:03}",
        born.year() % 100,
        born.month(),
        born.day(),
        serial % 1000
    );
    let base: u64 = nine.parse().unwrap_or(0);
    let n = if born.year() >= 2000 {
        2_000_000_000 + base
    } else {
        base
    };
    format!("{nine}{:02}", 97 - n % 97)
}

/// One synthetic student. `services` are the ids and provinces a preferred service is picked
/// from (the one in the student's province, most of the time).
pub fn student(rng: &mut Rng, services: &[(ServiceId, Province)]) -> NewStudent {
    let track = match rng.below(100) {
        0..=59 => Track::Secondary,
        60..=84 => Track::Adult,
        _ => Track::Dual,
    };
    let (postcode, city) = *rng.pick(PLACES);
    let province = crate::student::Postcode::new(postcode)
        .map(|p| p.province())
        .ok();

    let transport = match rng.below(10) {
        0..=2 => vec![Transport::PublicTransport],
        3..=4 => vec![Transport::Bike, Transport::PublicTransport],
        5 => vec![Transport::EBike],
        6 => vec![Transport::Moped],
        7..=8 => vec![Transport::Car],
        _ => vec![Transport::Car, Transport::Bike],
    };

    let start = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap_or_default()
        + Duration::days(rng.below(60) as i64);
    let mut periods = vec![Period::ordered(
        start,
        start + Duration::days(13 + rng.below(30) as i64),
    )];
    if rng.chance(30) {
        let later = periods[0].end() + Duration::days(30 + rng.below(60) as i64);
        periods.push(Period::ordered(later, later + Duration::days(13)));
    }

    let preferred_service = if !services.is_empty() && rng.chance(45) {
        let near: Vec<_> = services
            .iter()
            .filter(|(_, p)| Some(*p) == province)
            .collect();
        if !near.is_empty() && rng.chance(80) {
            Some(rng.pick(&near).0)
        } else {
            Some(rng.pick(services).0)
        }
    } else {
        None
    };

    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    let born = NaiveDate::from_ymd_opt(1975 + rng.below(32) as i32, 1, 1).unwrap_or_default()
        + Duration::days(rng.below(365) as i64);
    let login = crate::text::fold(first).replace(|c: char| !c.is_ascii_alphanumeric(), "");

    NewStudent {
        track,
        first_name: first.into(),
        last_name: last.into(),
        street: format!("{} {}", rng.pick(STREETS), 1 + rng.below(180)),
        postcode: postcode.to_string(),
        city: city.into(),
        province: None,
        transport,
        periods,
        hours_per_week: [8.0, 12.0, 16.0, 19.0, 24.0, 32.0][rng.below(6) as usize],
        total_hours: [60.0, 80.0, 120.0, 160.0, 240.0][rng.below(5) as usize],
        form: (*rng.pick(FORMS)).into(),
        days: if track == Track::Dual {
            vec![Weekday::Monday, Weekday::Tuesday, Weekday::Thursday]
        } else {
            Vec::new()
        },
        preferred_service,
        national_number: Some({
            let (day, serial) = rng.unused_serial(born);
            national_number(day, serial)
        }),
        email: Some(format!("{login}.{}@leerling.be", rng.below(100_000))),
        phone: Some(format!(
            "04{:02} {:02} {:02} {:02}",
            70 + rng.below(30),
            rng.below(100),
            rng.below(100),
            rng.below(100)
        )),
        supervisor: Some(Supervisor {
            name: Some(format!("{} {}", rng.pick(FIRST), rng.pick(LAST))),
            email: Some("stage@school.be".into()),
            phone: Some("09 123 45 67".into()),
        }),
        remarks: rng.chance(10).then(|| "Heeft een rijbewijs B.".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_students_are_valid_and_reproducible() {
        let services = [
            (ServiceId(1), Province::Antwerp),
            (ServiceId(2), Province::EastFlanders),
        ];
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..2000 {
            let s = student(&mut a, &services);
            assert_eq!(s, student(&mut b, &services));
            s.validate().unwrap();
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = services(100).into_iter().map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 100);
        let mut s = schools(200);
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 200);
    }

    #[test]
    fn one_generator_never_repeats_a_national_number() {
        let mut rng = Rng::new(3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200_000 {
            let n = student(&mut rng, &[]).national_number.unwrap();
            assert!(seen.insert(n.clone()), "{n} twice");
        }
    }

    #[test]
    fn national_numbers_validate() {
        for (y, m, d) in [(1990, 5, 17), (2004, 2, 29), (1999, 12, 31)] {
            let born = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let n: crate::NationalNumber = national_number(born, 33).parse().unwrap();
            assert_eq!(n.birth_year(), y);
        }
    }
}

/// The season of the benchmarks, the `synthetic_store` example and the Python timing
/// scripts, as [`cohort`] builds it.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The 30 services and their provinces.
    pub services: Vec<(ServiceId, Province)>,
    /// One contact person per service, in the same order.
    pub contacts: Vec<crate::ids::ContactId>,
    /// The 60 schools.
    pub schools: Vec<crate::ids::SchoolId>,
    /// The moment the benchmarks look at the tabs: 25 September 2025, in round 3.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The students accepted at `at`: every 50th student of a placement track, each by
    /// the service of its number modulo 30.
    pub accepted: usize,
}

/// Fills an empty store with a seeded season of `n` students: 30 services (one contact
/// each), 60 schools, registrations spread from 15 May over 130 days (some inside the
/// blackout), 10 000 at a time by one school, and 2 % of the students accepted in round 3.
///
/// ```
/// use stagematch_core::{Store, synth};
/// let store = Store::memory()?;
/// let season = synth::cohort(&store, 500, 2025)?;
/// assert_eq!(store.student_count(), 500);
/// assert!(season.accepted > 0);
/// # Ok::<(), stagematch_core::Error>(())
/// ```
pub fn cohort(store: &crate::Store, n: usize, seed: u64) -> crate::Result<Cohort> {
    use crate::{Decision, NewContact, StudentId, brussels};

    let mut services = Vec::new();
    let mut contacts = Vec::new();
    for (name, province) in self::services(30) {
        let id = store.add_service(&name, province)?;
        let mentor = NewContact::new("Mentor", "09 123 45 67", "mentor@dienst.be");
        contacts.push(store.add_contact(id, &mentor)?);
        services.push((id, province));
    }
    let schools = self::schools(60)
        .iter()
        .map(|name| store.add_school(name))
        .collect::<crate::Result<Vec<_>>>()?;

    let mut rng = Rng::new(seed);
    let start = brussels(2025, 5, 15, 9, 0)?;
    let mut done = 0;
    while done < n {
        let k = 10_000.min(n - done);
        let students: Vec<_> = (0..k).map(|_| student(&mut rng, &services)).collect();
        let at = start + Duration::minutes((done as i64 * 131) % (130 * 24 * 60));
        let school = schools[rng.below(schools.len() as u64) as usize];
        store.register_students(school, &students, at)?;
        done += k;
    }

    let at = brussels(2025, 9, 25, 10, 0)?;
    let mut batches: Vec<Vec<(StudentId, Decision)>> = vec![Vec::new(); services.len()];
    for i in (0..n).step_by(50) {
        let Some(id) = StudentId::new(i as u32 + 1) else {
            continue;
        };
        if store.student_record(id)?.data.track.is_dual() {
            continue;
        }
        let k = i % services.len();
        batches[k].push((id, Decision::accept(contacts[k])));
    }
    let mut accepted = 0;
    for (k, batch) in batches.iter().enumerate() {
        let results = store.decide_many(services[k].0, batch, at)?;
        accepted += results.iter().filter(|r| r.is_ok()).count();
    }

    Ok(Cohort {
        services,
        contacts,
        schools,
        at,
        accepted,
    })
}
