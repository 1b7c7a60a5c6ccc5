//! Students (*leerlingen*, *cursisten*) and everything on their card.
//!
//! A [`NewStudent`] is what a school hands in; [`NewStudent::validate`] turns it into a
//! [`Student`] or names the first field that breaks a rule of `DOMAIN.md`. Invariant: every
//! `Student` in a store has passed that validation: names without control characters, a
//! real postcode whose province agrees, at least one period, periods ordered and not
//! overlapping, positive hours with at most 60 a week, plausible emails and phones, and a
//! national register number with the right check digits.

mod address;
mod national_number;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use address::{Postcode, Province};
pub use national_number::NationalNumber;

use crate::codes::code_enum;
use crate::error::{Error, Result};
use crate::ids::{SchoolId, ServiceId, StudentId};
use crate::text::{check_email, check_phone, check_required, check_text, keep};

code_enum!(
    /// The three tracks (*opleidingstypes*). `dual` follows the interview machine, the
    /// other two the placement machine.
    ///
    /// ```
    /// use stagematch_core::Track;
    /// assert_eq!("duaal".parse::<Track>().unwrap(), Track::Dual);
    /// assert_eq!(Track::Adult.code(), "adult");
    /// ```
    Track, "track", "track" {
        /// Secondary education (*secundair onderwijs*).
        Secondary = "secondary" ["secundair", "secundair onderwijs", "secondaire"],
        /// Adult education (*cursisten CVO's*).
        Adult = "adult" ["cvo", "volwassenenonderwijs"],
        /// Work-based learning (*duaal leren*).
        Dual = "dual" ["duaal", "duaal leren"],
    }
);

impl Default for Track {
    /// `secondary`, the most common track.
    fn default() -> Self {
        Track::Secondary
    }
}

impl Track {
    /// Whether the track follows the interview machine (only `dual`).
    pub fn is_dual(self) -> bool {
        self == Track::Dual
    }
}

code_enum!(
    /// A means of transport (*vervoer*) a student can use.
    Transport, "transport", "means of transport" {
        /// Car (*auto*).
        Car = "car" ["auto", "voiture"],
        /// Moped (*bromfiets*).
        Moped = "moped" ["bromfiets", "brommer", "cyclomoteur"],
        /// Electric bike (*elektrische fiets*).
        EBike = "e_bike" ["elektrische fiets", "e fiets", "velo electrique"],
        /// Bike (*fiets*).
        Bike = "bike" ["fiets", "velo"],
        /// Public transport (*openbaar vervoer*).
        PublicTransport = "public_transport" ["openbaar vervoer", "transport en commun"],
    }
);

impl Transport {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of means of transport, as a bit set (one byte in the query columns).
///
/// ```
/// use stagematch_core::{Transport, TransportSet};
/// let set: TransportSet = [Transport::Bike, Transport::Car].into_iter().collect();
/// assert!(set.contains(Transport::Car));
/// assert!(set.intersects(TransportSet::of(Transport::Bike)));
/// assert_eq!(set.to_vec(), vec![Transport::Car, Transport::Bike]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TransportSet(u8);

impl TransportSet {
    /// The set with one member.
    pub fn of(t: Transport) -> Self {
        TransportSet(t.bit())
    }

    /// Whether `t` is in the set.
    pub fn contains(self, t: Transport) -> bool {
        self.0 & t.bit() != 0
    }

    /// Whether the two sets share a member.
    pub fn intersects(self, other: TransportSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members in code order.
    pub fn to_vec(self) -> Vec<Transport> {
        Transport::ALL
            .iter()
            .copied()
            .filter(|t| self.contains(*t))
            .collect()
    }

    /// The raw bits (for the query columns).
    pub(crate) fn bits(self) -> u8 {
        self.0
    }
}

impl FromIterator<Transport> for TransportSet {
    fn from_iter<I: IntoIterator<Item = Transport>>(iter: I) -> Self {
        TransportSet(iter.into_iter().fold(0, |acc, t| acc | t.bit()))
    }
}

code_enum!(
    /// A day of the week, for dual students' working days (*dagen*).
    Weekday, "days", "weekday" {
        /// Monday (*maandag*).
        Monday = "monday" ["maandag", "lundi", "ma"],
        /// Tuesday (*dinsdag*).
        Tuesday = "tuesday" ["dinsdag", "mardi", "di"],
        /// Wednesday (*woensdag*).
        Wednesday = "wednesday" ["woensdag", "mercredi", "wo"],
        /// Thursday (*donderdag*).
        Thursday = "thursday" ["donderdag", "jeudi", "do"],
        /// Friday (*vrijdag*).
        Friday = "friday" ["vrijdag", "vendredi", "vr"],
        /// Saturday (*zaterdag*).
        Saturday = "saturday" ["zaterdag", "samedi", "za"],
        /// Sunday (*zondag*).
        Sunday = "sunday" ["zondag", "dimanche", "zo"],
    }
);

/// A placement period (*stageperiode*): the days from `start` to `end`, both included.
///
/// ```
/// use chrono::NaiveDate;
/// use stagematch_core::Period;
/// let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
/// let p = Period::new(d(10, 6), d(10, 31)).unwrap();
/// assert!(p.overlaps(&Period::new(d(10, 31), d(11, 7)).unwrap()));
/// assert!(Period::new(d(10, 31), d(10, 6)).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "(i32, i32)", try_from = "(i32, i32)")]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

impl Period {
    /// A period from `start` to `end` (both included); `start` must not be after `end`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period> {
        if start > end {
            return Err(Error::invalid(
                "periods",
                &format!("{start}/{end}"),
                "a period must not end before it starts",
            ));
        }

        Ok(Period { start, end })
    }

    /// The period between two days, whichever comes first.
    pub(crate) fn ordered(a: NaiveDate, b: NaiveDate) -> Period {
        Period {
            start: a.min(b),
            end: a.max(b),
        }
    }

    /// The first day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last day (included).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Whether the two periods share a day.
    pub fn overlaps(&self, other: &Period) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether `other` lies entirely within this period.
    pub fn contains(&self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start, self.end)
    }
}

impl From<Period> for (i32, i32) {
    fn from(p: Period) -> Self {
        (p.start.num_days_from_ce(), p.end.num_days_from_ce())
    }
}

impl TryFrom<(i32, i32)> for Period {
    type Error = Error;

    fn try_from((s, e): (i32, i32)) -> Result<Period> {
        let day = |n| {
            NaiveDate::from_num_days_from_ce_opt(n)
                .ok_or_else(|| Error::Corrupt(format!("day number {n} out of range")))
        };
        Period::new(day(s)?, day(e)?)
    }
}

use chrono::Datelike;

/// Checks a student's periods: at least one, each ordered, none overlapping. Returns them
/// sorted by start.
pub fn check_periods(field: &str, periods: &[Period]) -> Result<Vec<Period>> {
    if periods.is_empty() {
        return Err(Error::invalid(field, "", "at least one period is needed"));
    }

    let mut sorted = periods.to_vec();
    sorted.sort();
    for pair in sorted.windows(2) {
        if pair[0].overlaps(&pair[1]) {
            return Err(Error::invalid(
                field,
                &format!("{} and {}", pair[0], pair[1]),
                "periods of one student must not overlap",
            ));
        }
    }

    Ok(sorted)
}

/// The school's supervisor of a student (*stage-/werkplekbegeleider*).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Supervisor {
    /// Name.
    pub name: Option<String>,
    /// Email address (personal data).
    pub email: Option<String>,
    /// Phone number (personal data).
    pub phone: Option<String>,
}

/// A student as a school hands it in, before validation.
///
/// Required: `first_name`, `last_name`, `street`, `postcode`, `city`, `form`, at least one
/// period, positive hours. Everything optional is `None` or empty when not known.
///
/// ```
/// use chrono::NaiveDate;
/// use stagematch_core::{NewStudent, Period, Track, Transport};
///
/// let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
/// let student = NewStudent {
///     track: Track::Secondary,
///     first_name: "Amélie".into(),
///     last_name: "Peeters".into(),
///     street: "Kerkstraat 1".into(),
///     postcode: "9500".into(),
///     city: "Geraardsbergen".into(),
///     transport: vec![Transport::Bike],
///     periods: vec![Period::new(d(10, 6), d(10, 31)).unwrap()],
///     hours_per_week: 16.0,
///     total_hours: 64.0,
///     form: "blok".into(),
///     ..NewStudent::default()
/// };
/// assert!(student.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewStudent {
    /// The track.
    pub track: Track,
    /// First name (*voornaam*).
    pub first_name: String,
    /// Last name (*achternaam*).
    pub last_name: String,
    /// Street and number (*straat*).
    pub street: String,
    /// Postcode, four digits.
    pub postcode: String,
    /// City (*gemeente*).
    pub city: String,
    /// Province; when given, it must agree with the postcode.
    pub province: Option<Province>,
    /// Means of transport (*vervoer*).
    pub transport: Vec<Transport>,
    /// Placement periods (*periodes*), at least one, not overlapping.
    pub periods: Vec<Period>,
    /// Hours per week (*uren per week*), more than 0 and at most 60.
    pub hours_per_week: f64,
    /// Total hours to realise (*totaal aantal uren*), more than 0.
    pub total_hours: f64,
    /// Form of the placement (*vorm*: alternerend, blok, ...).
    pub form: String,
    /// Working days, for dual students (*dagen*).
    pub days: Vec<Weekday>,
    /// The preferred service (*voorkeursdienst*).
    pub preferred_service: Option<ServiceId>,
    /// National register number (*rijksregisternummer*), personal data.
    pub national_number: Option<String>,
    /// The student's email, personal data.
    pub email: Option<String>,
    /// The student's phone, personal data.
    pub phone: Option<String>,
    /// The school's supervisor.
    pub supervisor: Option<Supervisor>,
    /// Remarks (*opmerkingen*).
    pub remarks: Option<String>,
}

/// The longest name, street or city accepted, in characters.
pub const MAX_NAME: usize = 100;
/// The longest remark accepted, in characters.
pub const MAX_REMARKS: usize = 2000;

/// The validated content of a student, before the store gives it an id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentData {
    /// The track.
    pub track: Track,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Street and number.
    pub street: String,
    /// Postcode.
    pub postcode: Postcode,
    /// City.
    pub city: String,
    /// Means of transport.
    pub transport: TransportSet,
    /// Periods, sorted, not overlapping.
    pub periods: Vec<Period>,
    /// Hours per week.
    pub hours_per_week: f64,
    /// Total hours.
    pub total_hours: f64,
    /// Form of the placement.
    pub form: String,
    /// Working days.
    pub days: Vec<Weekday>,
    /// Preferred service.
    pub preferred_service: Option<ServiceId>,
    /// National register number.
    pub national_number: Option<NationalNumber>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Supervisor.
    pub supervisor: Option<Supervisor>,
    /// Remarks.
    pub remarks: Option<String>,
}

impl StudentData {
    /// The province, from the postcode.
    pub fn province(&self) -> Province {
        self.postcode.province()
    }
}

impl NewStudent {
    /// Checks every rule of `DOMAIN.md` that needs nothing but the student itself, in the
    /// order of the fields, and returns the validated data or the first broken rule.
    /// References (school, preferred service) are checked by the store.
    pub fn validate(&self) -> Result<StudentData> {
        self.clone().into_data()
    }

    /// [`NewStudent::validate`], taking the student: its texts move into the result.
    pub fn into_data(self) -> Result<StudentData> {
        let required = |field: &'static str, value: String| {
            keep(value, |v| check_required(field, v, MAX_NAME).map(Some))
                .map(Option::unwrap_or_default)
        };
        let first_name = required("first_name", self.first_name)?;
        let last_name = required("last_name", self.last_name)?;
        let street = required("street", self.street)?;

        let postcode: Postcode = self.postcode.parse()?;
        postcode.check_province(self.province)?;
        let city = required("city", self.city)?;

        let periods = check_periods("periods", &self.periods)?;
        check_hours("hours_per_week", self.hours_per_week, Some(60.0))?;
        check_hours("total_hours", self.total_hours, Some(100_000.0))?;
        let form = required("form", self.form)?;

        let mut days = self.days;
        days.sort();
        days.dedup();

        let national_number = match self.national_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(n.parse::<NationalNumber>()?),
        };
        let email_v = optional("email", self.email, check_email)?;
        let phone_v = optional("phone", self.phone, check_phone)?;
        let supervisor = self.supervisor.map(check_supervisor).transpose()?.flatten();
        let remarks = match self.remarks {
            Some(r) => keep(r, |v| check_text("remarks", v, MAX_REMARKS, true))?,
            None => None,
        };

        Ok(StudentData {
            track: self.track,
            first_name,
            last_name,
            street,
            postcode,
            city,
            transport: self.transport.iter().copied().collect(),
            periods,
            hours_per_week: self.hours_per_week,
            total_hours: self.total_hours,
            form,
            days,
            preferred_service: self.preferred_service,
            national_number,
            email: email_v,
            phone: phone_v,
            supervisor,
            remarks,
        })
    }
}

/// An optional email or phone: absent when empty, else checked by `check`.
fn optional(
    field: &str,
    value: Option<String>,
    check: for<'b> fn(&str, &'b str) -> Result<&'b str>,
) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => keep(v, |v| match v.trim() {
            "" => Ok(None),
            _ => check(field, v).map(Some),
        }),
    }
}

fn check_hours(field: &str, value: f64, max: Option<f64>) -> Result<()> {
    if !value.is_finite() || value <= 0.0 {
        return Err(Error::invalid(
            field,
            &value.to_string(),
            "must be a number above 0",
        ));
    }

    match max {
        Some(m) if value > m => Err(Error::invalid(
            field,
            &value.to_string(),
            format!("must be at most {m}"),
        )),
        _ => Ok(()),
    }
}

fn check_supervisor(s: Supervisor) -> Result<Option<Supervisor>> {
    let name = match s.name {
        Some(n) => keep(n, |v| check_text("supervisor_name", v, MAX_NAME, false))?,
        None => None,
    };
    let checked = Supervisor {
        name,
        email: optional("supervisor_email", s.email, check_email)?,
        phone: optional("supervisor_phone", s.phone, check_phone)?,
    };

    Ok((checked != Supervisor::default()).then_some(checked))
}

/// A registered student: its id, school, registration moment and validated data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Student {
    /// The id the store gave it.
    pub id: StudentId,
    /// The school that registered it.
    pub school: SchoolId,
    /// When the school registered it, in microseconds since the Unix epoch (UTC).
    pub registered_micros: i64,
    /// Everything else.
    pub data: StudentData,
}

/// A stored [`Student`] read without copying its texts: the same encoding, with every string
/// borrowed from the bytes the store read as bytes (the encoding of a string and of bytes is
/// the same; the texts were checked to be UTF-8 when the student was stored, so they are not
/// checked again). Exports render a million of these. `P` and `D` are what the periods and
/// the days are read as: built ([`StudentRef`]), or read past ([`StudentColumnsRef`]).
#[derive(Debug, Deserialize)]
pub(crate) struct StudentRef<'a, P = Vec<Period>, D = Vec<Weekday>> {
    pub id: StudentId,
    pub school: SchoolId,
    pub registered_micros: i64,
    #[serde(borrow)]
    pub data: StudentDataRef<'a, P, D>,
}

/// [`StudentData`] with borrowed texts; the fields in the same order, as the encoding needs.
#[derive(Debug, Deserialize)]
pub(crate) struct StudentDataRef<'a, P = Vec<Period>, D = Vec<Weekday>> {
    pub track: Track,
    pub first_name: &'a [u8],
    pub last_name: &'a [u8],
    pub street: &'a [u8],
    pub postcode: Postcode,
    pub city: &'a [u8],
    pub transport: TransportSet,
    pub periods: P,
    pub hours_per_week: f64,
    pub total_hours: f64,
    pub form: &'a [u8],
    pub days: D,
    pub preferred_service: Option<ServiceId>,
    /// The digits, checked when the student was stored.
    pub national_number: Option<&'a [u8]>,
    pub email: Option<&'a [u8]>,
    pub phone: Option<&'a [u8]>,
    #[serde(borrow)]
    pub supervisor: Option<SupervisorRef<'a>>,
    pub remarks: Option<&'a [u8]>,
}

/// What the query columns need of a stored [`Student`], read in one pass over its encoding:
/// the periods and days passed over without building them. Opening a store reads a million
/// of these.
pub(crate) type StudentColumnsRef<'a> = StudentRef<'a, Skipped<(i32, i32)>, Skipped<Weekday>>;

/// A sequence of `T` read and dropped: the reader moves past it, nothing is kept.
#[derive(Debug)]
pub(crate) struct Skipped<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Skipped<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Pass<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Pass<T> {
            type Value = Skipped<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                while seq.next_element::<T>()?.is_some() {}
                Ok(Skipped(std::marker::PhantomData))
            }
        }

        d.deserialize_seq(Pass(std::marker::PhantomData))
    }
}

/// [`Supervisor`] with borrowed texts.
#[derive(Debug, Deserialize)]
pub(crate) struct SupervisorRef<'a> {
    pub name: Option<&'a [u8]>,
    pub email: Option<&'a [u8]>,
    pub phone: Option<&'a [u8]>,
}

impl Student {
    /// When the school registered the student.
    pub fn registered_at(&self) -> DateTime<Utc> {
        crate::calendar::from_micros(self.registered_micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_read_sees_what_was_stored() {
        let mut rng = crate::synth::Rng::new(11);
        let service = [(ServiceId(3), Province::Antwerp)];
        for k in 0..200 {
            let data = crate::synth::student(&mut rng, &service)
                .into_data()
                .unwrap();
            let student = Student {
                id: StudentId(k + 1),
                school: SchoolId(2),
                registered_micros: 1_750_000_000_000_000 + i64::from(k),
                data,
            };
            let bytes = postcard::to_allocvec(&student).unwrap();
            let r: StudentRef<'_> = postcard::from_bytes(&bytes).unwrap();
            let d = &student.data;
            assert_eq!(
                (r.id, r.school, r.registered_micros),
                (student.id, student.school, student.registered_micros)
            );
            assert_eq!(
                (
                    r.data.first_name,
                    r.data.last_name,
                    r.data.street,
                    r.data.city,
                    r.data.form
                ),
                (
                    d.first_name.as_bytes(),
                    d.last_name.as_bytes(),
                    d.street.as_bytes(),
                    d.city.as_bytes(),
                    d.form.as_bytes()
                )
            );
            assert_eq!(
                (r.data.track, r.data.postcode, r.data.transport),
                (d.track, d.postcode, d.transport)
            );
            assert_eq!((&r.data.periods, &r.data.days), (&d.periods, &d.days));
            assert_eq!(
                (r.data.hours_per_week, r.data.total_hours),
                (d.hours_per_week, d.total_hours)
            );
            assert_eq!(r.data.preferred_service, d.preferred_service);
            fn b(v: Option<&str>) -> Option<&[u8]> {
                v.map(str::as_bytes)
            }
            assert_eq!(
                r.data.national_number,
                b(d.national_number.as_ref().map(|n| n.digits()))
            );
            assert_eq!(
                (r.data.email, r.data.phone, r.data.remarks),
                (
                    b(d.email.as_deref()),
                    b(d.phone.as_deref()),
                    b(d.remarks.as_deref())
                )
            );
            let sup = r
                .data
                .supervisor
                .as_ref()
                .map(|s| (s.name, s.email, s.phone));
            let want = d.supervisor.as_ref().map(|s| {
                (
                    b(s.name.as_deref()),
                    b(s.email.as_deref()),
                    b(s.phone.as_deref()),
                )
            });
            assert_eq!(sup, want);
        }
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    pub(crate) fn valid() -> NewStudent {
        NewStudent {
            track: Track::Secondary,
            first_name: "Amélie".into(),
            last_name: "Peeters".into(),
            street: "Kerkstraat 1".into(),
            postcode: "9500".into(),
            city: "Geraardsbergen".into(),
            transport: vec![Transport::Bike],
            periods: vec![Period::new(d(10, 6), d(10, 31)).unwrap()],
            hours_per_week: 16.0,
            total_hours: 64.0,
            form: "blok".into(),
            ..NewStudent::default()
        }
    }

    #[test]
    fn codes_and_aliases() {
        assert_eq!(
            "Elektrische fiets".parse::<Transport>().unwrap(),
            Transport::EBike
        );
        assert_eq!("e-bike".parse::<Transport>().unwrap(), Transport::EBike);
        assert_eq!(
            "openbaar vervoer".parse::<Transport>().unwrap(),
            Transport::PublicTransport
        );
        assert_eq!("CVO".parse::<Track>().unwrap(), Track::Adult);
        assert_eq!("Maandag".parse::<Weekday>().unwrap(), Weekday::Monday);
        let err = "hovercraft".parse::<Transport>().unwrap_err();
        assert_eq!(err.field(), Some("transport"));
        assert!(err.to_string().contains("public_transport"));
    }

    #[test]
    fn a_valid_student_passes() {
        let data = valid().validate().unwrap();
        assert_eq!(data.province(), Province::EastFlanders);
        assert!(data.transport.contains(Transport::Bike));
    }

    #[test]
    fn each_rule_names_its_field() {
        type Break = fn(&mut NewStudent);
        let cases: Vec<(&str, Break)> = vec![
            ("first_name", |s| s.first_name = " ".into()),
            ("last_name", |s| s.last_name = "a\u{0}b".into()),
            ("street", |s| s.street = "x".repeat(MAX_NAME + 1)),
            ("postcode", |s| s.postcode = "0999".into()),
            ("province", |s| s.province = Some(Province::Antwerp)),
            ("city", |s| s.city = String::new()),
            ("periods", |s| s.periods.clear()),
            ("periods", |s| {
                s.periods.push(Period::new(d(10, 31), d(11, 5)).unwrap());
            }),
            ("hours_per_week", |s| s.hours_per_week = 61.0),
            ("hours_per_week", |s| s.hours_per_week = 0.0),
            ("hours_per_week", |s| s.hours_per_week = f64::NAN),
            ("total_hours", |s| s.total_hours = -1.0),
            ("form", |s| s.form = String::new()),
            ("national_number", |s| {
                s.national_number = Some("85073003329".into())
            }),
            ("email", |s| s.email = Some("not-an-email".into())),
            ("phone", |s| s.phone = Some("call me".into())),
            ("supervisor_email", |s| {
                s.supervisor = Some(Supervisor {
                    email: Some("x@".into()),
                    ..Default::default()
                })
            }),
            ("remarks", |s| s.remarks = Some("a\u{1b}[31m".into())),
        ];
        for (field, break_it) in cases {
            let mut s = valid();
            break_it(&mut s);
            assert_eq!(s.validate().unwrap_err().field(), Some(field));
        }
    }

    #[test]
    fn empty_optionals_are_absent() {
        let mut s = valid();
        s.email = Some("  ".into());
        s.supervisor = Some(Supervisor::default());
        s.national_number = Some(String::new());
        let data = s.validate().unwrap();
        assert_eq!(
            (data.email, data.supervisor, data.national_number),
            (None, None, None)
        );
    }

    #[test]
    fn periods_are_sorted() {
        let mut s = valid();
        s.periods
            .insert(0, Period::new(d(12, 1), d(12, 19)).unwrap());
        let data = s.validate().unwrap();
        assert_eq!(data.periods[0].start(), d(10, 6));
    }
}
