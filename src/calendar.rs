//! The season calendar (*timing schooljaar*): rounds, the school blackout and the dual window.
//!
//! Every boundary is a moment in Europe/Brussels time, kept as a UTC instant, so that noon is
//! 10:00 UTC in summer and 11:00 UTC in winter without any special case. Windows are
//! half-open, `[start, end)`. Invariant: a [`Calendar`] that exists has passed
//! [`Calendar::validate`]: every window starts before it ends, the rounds start in order,
//! and the release moment is not before the blackout ends.
//!
//! Between two rounds, the rule of the round that started last stays in force, so the
//! [`Phase`] at a moment is the last round that started (`closed` before round 1, `open`
//! once round 3 has ended).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use serde::{Deserialize, Serialize};

use crate::codes::code_enum;
use crate::error::{Error, Result};

/// A moment as the store keeps it: microseconds since the Unix epoch, UTC.
pub(crate) type Micros = i64;

/// The store's representation of a moment.
pub(crate) fn micros(t: DateTime<Utc>) -> Micros {
    t.timestamp_micros()
}

/// The moment of a stored microsecond count.
pub(crate) fn from_micros(m: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(m).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The UTC instant of a wall-clock time in Brussels.
///
/// A time that does not exist (the hour skipped in spring) is an error; a time that exists
/// twice (the hour repeated in autumn) is read as the first of the two.
///
/// ```
/// use stagematch_core::brussels;
/// let summer = brussels(2025, 6, 30, 12, 0).unwrap();
/// assert_eq!(summer.to_rfc3339(), "2025-06-30T10:00:00+00:00");
/// let winter = brussels(2025, 12, 2, 12, 0).unwrap();
/// assert_eq!(winter.to_rfc3339(), "2025-12-02T11:00:00+00:00");
/// assert!(brussels(2025, 3, 30, 2, 30).is_err());
/// ```
pub fn brussels(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Result<DateTime<Utc>> {
    let text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}");
    let naive = NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(hour, minute, 0))
        .ok_or_else(|| Error::invalid("at", &text, "is not a real date and time"))?;

    from_brussels_naive(naive, &text)
}

/// The UTC instant of a naive Brussels wall-clock time; `text` is shown in errors.
pub fn from_brussels_naive(naive: NaiveDateTime, text: &str) -> Result<DateTime<Utc>> {
    match Brussels.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(Error::invalid(
            "at",
            text,
            "does not exist in Brussels (the clock skips that hour)",
        )),
    }
}

/// Parses a moment as the program and the CSV accept it: `YYYY-MM-DD HH:MM` in Brussels
/// time, or RFC 3339 / ISO 8601 with an offset.
///
/// ```
/// use stagematch_core::parse_moment;
/// let a = parse_moment("2025-09-19 12:00").unwrap();
/// let b = parse_moment("2025-09-19T12:00:00+02:00").unwrap();
/// assert_eq!(a, b);
/// assert!(parse_moment("19/09/2025").is_err());
/// ```
pub fn parse_moment(s: &str) -> Result<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(t) {
        return Ok(with_offset.with_timezone(&Utc));
    }

    // ISO 8601 with an offset but without seconds, or with `Z` for UTC.
    let zulu = t
        .strip_suffix('Z')
        .or_else(|| t.strip_suffix('z'))
        .map(|b| format!("{b}+00:00"));
    let with_offset = zulu.as_deref().unwrap_or(t);
    for format in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%d %H:%M:%S%:z",
    ] {
        if let Ok(parsed) = DateTime::parse_from_str(with_offset, format) {
            return Ok(parsed.with_timezone(&Utc));
        }
    }

    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, format) {
            return from_brussels_naive(naive, s);
        }
    }

    Err(Error::invalid(
        "at",
        s,
        "must be YYYY-MM-DD HH:MM (Brussels time) or ISO 8601 with an offset",
    ))
}

/// A half-open window of time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// The first moment inside the window.
    pub start: DateTime<Utc>,
    /// The first moment after the window.
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window between two Brussels moments.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Window {
        Window { start, end }
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    fn check(&self, field: &str) -> Result<()> {
        if self.start < self.end {
            return Ok(());
        }

        Err(Error::invalid(
            field,
            &format!("{} → {}", self.start, self.end),
            "a window must start before it ends",
        ))
    }
}

code_enum!(
    /// The phase of the season at a moment: the round whose rule is in force.
    ///
    /// ```
    /// use stagematch_core::{brussels, Calendar, Phase};
    /// let cal = Calendar::default();
    /// assert_eq!(cal.phase(brussels(2025, 9, 1, 9, 0).unwrap()), Phase::Round1);
    /// assert_eq!(Phase::Round3.code(), "round3");
    /// ```
    Phase, "phase", "phase" {
        /// Before round 1: no student of the placement tracks is visible.
        Closed = "closed",
        /// Round 1 (and the gap after it): preferred students of the service's province.
        Round1 = "round1" ["ronde 1"],
        /// Round 2: preferred students of every province.
        Round2 = "round2" ["ronde 2"],
        /// Round 3: every unplaced student.
        Round3 = "round3" ["ronde 3"],
        /// After round 3: the tool stays open with the rule of round 3.
        Open = "open",
    }
);

/// The season calendar of one store. [`Calendar::default`] is the school year 2025-2026 of
/// the manual.
///
/// ```
/// use stagematch_core::{brussels, Calendar};
/// let cal = Calendar::default();
/// let during_blackout = brussels(2025, 7, 10, 9, 0).unwrap();
/// assert_eq!(cal.visible_from(during_blackout), cal.release);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    /// Services invite dual students and record the outcome (*duaal leren*).
    pub dual: Window,
    /// Round 1 (*1ste ronde*): students with a preferred service in its province.
    pub round1: Window,
    /// Schools must not register students; registrations become visible at `release`.
    pub blackout: Window,
    /// When registrations made during the blackout become visible.
    pub release: DateTime<Utc>,
    /// Round 2 (*2de ronde*): students with a preferred service, every province.
    pub round2: Window,
    /// Round 3 (*3de ronde*): every unplaced student.
    pub round3: Window,
    /// The date by which services aim to have placed their students (*streefdatum*).
    pub placement_target: DateTime<Utc>,
}

impl Default for Calendar {
    /// The school year 2025-2026, from the manual.
    fn default() -> Self {
        // Invariant: these are fixed, existing Brussels moments (checked by the unit tests).
        let at = |y, m, d, h| brussels(y, m, d, h, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let round1 = Window::new(at(2025, 6, 30, 12), at(2025, 8, 15, 12));

        Calendar {
            dual: Window::new(at(2025, 6, 16, 0), at(2025, 12, 2, 0)),
            round1,
            blackout: round1,
            release: at(2025, 9, 19, 12),
            round2: Window::new(at(2025, 9, 5, 12), at(2025, 9, 19, 12)),
            round3: Window::new(at(2025, 9, 19, 12), at(2025, 9, 30, 12)),
            placement_target: at(2025, 10, 7, 12),
        }
    }
}

impl Calendar {
    /// Checks the calendar's own rules; a calendar is only stored after this passed.
    pub fn validate(&self) -> Result<()> {
        use chrono::Datelike;

        let moments = [
            ("dual", self.dual.start),
            ("dual", self.dual.end),
            ("round1", self.round1.start),
            ("round1", self.round1.end),
            ("blackout", self.blackout.start),
            ("blackout", self.blackout.end),
            ("release", self.release),
            ("round2", self.round2.start),
            ("round2", self.round2.end),
            ("round3", self.round3.start),
            ("round3", self.round3.end),
            ("placement_target", self.placement_target),
        ];
        for (field, t) in moments {
            if !(2000..2200).contains(&t.year()) {
                return Err(Error::invalid(
                    field,
                    &t.to_rfc3339(),
                    "a season's moments must lie in the years 2000 to 2199",
                ));
            }
        }

        self.dual.check("dual")?;
        self.round1.check("round1")?;
        self.blackout.check("blackout")?;
        self.round2.check("round2")?;
        self.round3.check("round3")?;

        if self.round2.start <= self.round1.start {
            return Err(Error::invalid(
                "round2",
                &self.round2.start.to_rfc3339(),
                "round 2 must start after round 1",
            ));
        }
        if self.round3.start <= self.round2.start {
            return Err(Error::invalid(
                "round3",
                &self.round3.start.to_rfc3339(),
                "round 3 must start after round 2",
            ));
        }
        if self.release < self.blackout.end {
            return Err(Error::invalid(
                "release",
                &self.release.to_rfc3339(),
                "the release must not come before the blackout ends",
            ));
        }

        Ok(())
    }

    /// The phase (the rule in force) at `t`.
    pub fn phase(&self, t: DateTime<Utc>) -> Phase {
        if t < self.round1.start {
            Phase::Closed
        } else if t < self.round2.start {
            Phase::Round1
        } else if t < self.round3.start {
            Phase::Round2
        } else if t < self.round3.end {
            Phase::Round3
        } else {
            Phase::Open
        }
    }

    /// The window of time in which `phase` is the rule in force (`closed` starts at the
    /// beginning of time, `open` never ends).
    pub fn phase_window(&self, phase: Phase) -> (DateTime<Utc>, DateTime<Utc>) {
        match phase {
            Phase::Closed => (DateTime::<Utc>::MIN_UTC, self.round1.start),
            Phase::Round1 => (self.round1.start, self.round2.start),
            Phase::Round2 => (self.round2.start, self.round3.start),
            Phase::Round3 => (self.round3.start, self.round3.end),
            Phase::Open => (self.round3.end, DateTime::<Utc>::MAX_UTC),
        }
    }

    /// Whether a registration at `registered` falls in the school blackout.
    pub fn in_blackout(&self, registered: DateTime<Utc>) -> bool {
        self.blackout.contains(registered)
    }

    /// The moment from which a student registered at `registered` can be seen: the
    /// registration itself, or the release moment for a blackout registration.
    pub fn visible_from(&self, registered: DateTime<Utc>) -> DateTime<Utc> {
        if self.in_blackout(registered) {
            self.release
        } else {
            registered
        }
    }

    /// Whether dual students can be seen at `t` (from the start of the dual window on; after
    /// it ends the tool stays open, like after round 3).
    pub fn dual_open(&self, t: DateTime<Utc>) -> bool {
        t >= self.dual.start
    }

    /// The same calendar with every moment cut to whole microseconds, the precision the
    /// store keeps; stores normalise a calendar this way before checking and saving it.
    pub fn normalized(self) -> Calendar {
        self.to_record().to_calendar()
    }

    /// The calendar in the store's representation.
    pub(crate) fn to_record(self) -> CalendarRecord {
        let w = |w: Window| (micros(w.start), micros(w.end));
        CalendarRecord {
            dual: w(self.dual),
            round1: w(self.round1),
            blackout: w(self.blackout),
            release: micros(self.release),
            round2: w(self.round2),
            round3: w(self.round3),
            placement_target: micros(self.placement_target),
        }
    }

    /// The calendar in the query engine's representation.
    pub(crate) fn to_micros(self) -> CalendarMicros {
        let r = self.to_record();
        CalendarMicros {
            dual_start: r.dual.0,
            round1_start: r.round1.0,
            round2_start: r.round2.0,
            round3_start: r.round3.0,
            round3_end: r.round3.1,
            blackout: r.blackout,
            release: r.release,
        }
    }
}

/// The keys of a calendar file, in the order [`Calendar`]'s `Display` writes them, with the
/// Dutch words also accepted, and whether each is a window (`start .. end`).
const FILE_KEYS: [(&str, &[&str], bool); 7] = [
    ("dual", &["duaal"], true),
    ("round1", &["ronde1"], true),
    ("blackout", &["blokkering"], true),
    ("release", &["vrijgave"], false),
    ("round2", &["ronde2"], true),
    ("round3", &["ronde3"], true),
    ("placement_target", &["streefdatum"], false),
];

impl Calendar {
    /// Reads a calendar file: one `key = value` line per window or moment, in any order, each
    /// key exactly once; blank lines and lines starting with `#` are skipped. A window is
    /// `start .. end`; a moment is `YYYY-MM-DD HH:MM` in Brussels time or ISO 8601 with an
    /// offset (as [`parse_moment`] reads it). The keys are `dual`, `round1`, `blackout`,
    /// `release`, `round2`, `round3` and `placement_target` (or the Dutch `duaal`, `ronde1`,
    /// `blokkering`, `vrijgave`, `ronde2`, `ronde3`, `streefdatum`). The calendar must pass
    /// [`Calendar::validate`]. Errors name the key (or `calendar` for a line without one) and
    /// the line. What [`Calendar`]'s `Display` writes reads back to the same calendar.
    ///
    /// ```
    /// use stagematch_core::Calendar;
    /// let text = Calendar::default().to_string();
    /// assert!(text.contains("round1 = 2025-06-30 12:00 .. 2025-08-15 12:00"));
    /// assert_eq!(Calendar::parse(&text)?, Calendar::default());
    ///
    /// let moved = text.replace("round3 = 2025-09-19 12:00", "round3 = 2025-09-01 12:00");
    /// let err = Calendar::parse(&moved).unwrap_err();
    /// assert_eq!(err.field(), Some("round3"));
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Calendar> {
        // A moment is kept as a window that ends where it starts.
        let mut found: [Option<Window>; 7] = [None; 7];

        // Lines end in `\n`, `\r\n` or a lone `\r` (an old Mac's file).
        let text = text.replace("\r\n", "\n");
        for (n, raw) in text.split(['\n', '\r']).enumerate() {
            let line = raw.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = n + 1;

            let Some((key, value)) = line.split_once('=') else {
                return Err(Error::invalid(
                    "calendar",
                    line,
                    format!("line {n}: must be `key = value`"),
                ));
            };
            let key = key.trim().to_lowercase();
            let Some(k) = FILE_KEYS
                .iter()
                .position(|(name, dutch, _)| *name == key || dutch.contains(&key.as_str()))
            else {
                return Err(Error::invalid(
                    "calendar",
                    &key,
                    format!(
                        "line {n}: is not a key of a calendar (dual, round1, blackout, \
                         release, round2, round3, placement_target)"
                    ),
                ));
            };
            let (name, _, is_window) = FILE_KEYS[k];
            if found[k].is_some() {
                return Err(Error::invalid(
                    name,
                    value.trim(),
                    format!("line {n}: is given twice"),
                ));
            }

            let at = |v: &str| {
                parse_moment(v).map_err(|e| {
                    let reason = match e {
                        Error::Validation { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    Error::invalid(name, v.trim(), format!("line {n}: {reason}"))
                })
            };
            let value = value.trim();
            found[k] = Some(if is_window {
                let Some((start, end)) = value.split_once("..") else {
                    return Err(Error::invalid(
                        name,
                        value,
                        format!("line {n}: a window must be `start .. end`"),
                    ));
                };
                Window::new(at(start)?, at(end)?)
            } else {
                let t = at(value)?;
                Window::new(t, t)
            });
        }

        let mut get = |k: usize| {
            found[k].take().ok_or_else(|| {
                Error::invalid(FILE_KEYS[k].0, "", "is missing from the calendar file")
            })
        };
        let calendar = Calendar {
            dual: get(0)?,
            round1: get(1)?,
            blackout: get(2)?,
            release: get(3)?.start,
            round2: get(4)?,
            round3: get(5)?,
            placement_target: get(6)?.start,
        }
        .normalized();
        calendar.validate()?;
        Ok(calendar)
    }
}

/// A moment as a calendar file writes it: Brussels wall-clock time to the minute where that
/// says it exactly and unambiguously, ISO 8601 with the offset otherwise.
fn file_moment(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&Brussels);
    let short = local.format("%Y-%m-%d %H:%M").to_string();
    if parse_moment(&short).is_ok_and(|back| back == t) {
        short
    } else if parse_moment(&local.to_rfc3339()).is_ok_and(|back| back == t) {
        local.to_rfc3339()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

impl std::fmt::Display for Calendar {
    /// The calendar file [`Calendar::parse`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "# stagematch season calendar: moments in Brussels time; windows are start .. end,"
        )?;
        writeln!(f, "# the start inside, the end outside.")?;
        let window = |w: Window| format!("{} .. {}", file_moment(w.start), file_moment(w.end));
        let values = [
            window(self.dual),
            window(self.round1),
            window(self.blackout),
            file_moment(self.release),
            window(self.round2),
            window(self.round3),
            file_moment(self.placement_target),
        ];
        for ((name, _, _), value) in FILE_KEYS.iter().zip(values) {
            writeln!(f, "{name} = {value}")?;
        }
        Ok(())
    }
}

/// The calendar as the store records it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct CalendarRecord {
    dual: (i64, i64),
    round1: (i64, i64),
    blackout: (i64, i64),
    release: i64,
    round2: (i64, i64),
    round3: (i64, i64),
    placement_target: i64,
}

impl CalendarRecord {
    pub(crate) fn to_calendar(self) -> Calendar {
        let w = |(s, e)| Window::new(from_micros(s), from_micros(e));
        Calendar {
            dual: w(self.dual),
            round1: w(self.round1),
            blackout: w(self.blackout),
            release: from_micros(self.release),
            round2: w(self.round2),
            round3: w(self.round3),
            placement_target: from_micros(self.placement_target),
        }
    }
}

/// The calendar's boundaries as microseconds, for the hot loops of the query engine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CalendarMicros {
    pub dual_start: Micros,
    pub round1_start: Micros,
    pub round2_start: Micros,
    pub round3_start: Micros,
    pub round3_end: Micros,
    pub blackout: (Micros, Micros),
    pub release: Micros,
}

impl CalendarMicros {
    pub(crate) fn phase(&self, t: Micros) -> Phase {
        if t < self.round1_start {
            Phase::Closed
        } else if t < self.round2_start {
            Phase::Round1
        } else if t < self.round3_start {
            Phase::Round2
        } else if t < self.round3_end {
            Phase::Round3
        } else {
            Phase::Open
        }
    }

    pub(crate) fn visible_from(&self, registered: Micros) -> Micros {
        if self.blackout.0 <= registered && registered < self.blackout.1 {
            self.release
        } else {
            registered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        brussels(y, m, d, h, mi).unwrap()
    }

    #[test]
    fn default_is_the_manuals_season_and_valid() {
        let cal = Calendar::default();
        cal.validate().unwrap();
        assert_eq!(cal.round1.start.to_rfc3339(), "2025-06-30T10:00:00+00:00");
        assert_eq!(cal.release.to_rfc3339(), "2025-09-19T10:00:00+00:00");
        assert_eq!(cal.dual.end.to_rfc3339(), "2025-12-01T23:00:00+00:00");
        assert_eq!(
            cal.placement_target.to_rfc3339(),
            "2025-10-07T10:00:00+00:00"
        );
    }

    #[test]
    fn calendar_files_read_back_and_take_dutch_keys_in_any_order() {
        let cal = Calendar::default();
        assert_eq!(Calendar::parse(&cal.to_string()).unwrap(), cal);

        let mac = cal.to_string().replace('\n', "\r");
        assert_eq!(Calendar::parse(&mac).unwrap(), cal);
        let windows = cal.to_string().replace('\n', "\r\n");
        assert_eq!(Calendar::parse(&windows).unwrap(), cal);

        let dutch = "\u{feff}# seizoen 2025-2026\n\n\
                     streefdatum = 2025-10-07 12:00\n\
                     RONDE3 = 2025-09-19 12:00 .. 2025-09-30 12:00\n\
                     ronde2 = 2025-09-05T12:00:00+02:00 .. 2025-09-19 12:00\n\
                     vrijgave = 2025-09-19 12:00\n\
                     blokkering = 2025-06-30 12:00 .. 2025-08-15 12:00\n\
                     ronde1 = 2025-06-30 12:00 .. 2025-08-15 12:00\n\
                     duaal = 2025-06-16 00:00 .. 2025-12-02 00:00\n";
        assert_eq!(Calendar::parse(dutch).unwrap(), cal);

        // A moment that a wall-clock time cannot name (the second 02:30 of an autumn night,
        // a fraction of a second) is written with its offset and still reads back.
        let mut odd = cal;
        odd.placement_target = at(2025, 10, 26, 2, 30) + chrono::Duration::hours(1);
        odd.release = at(2025, 9, 19, 12, 0) + chrono::Duration::microseconds(7);
        let text = odd.to_string();
        assert!(
            text.contains("placement_target = 2025-10-26T02:30:00+01:00"),
            "{text}"
        );
        assert_eq!(Calendar::parse(&text).unwrap(), odd);
    }

    #[test]
    fn moments_outside_the_years_2000_to_2199_are_refused() {
        let text = Calendar::default()
            .to_string()
            .replace("dual = 2025-06-16 00:00", "dual = 0506-06-16 00:00z");
        let err = Calendar::parse(&text).unwrap_err();
        assert_eq!(err.field(), Some("dual"), "{err}");
        assert!(err.to_string().contains("2000 to 2199"), "{err}");

        let late = Calendar {
            placement_target: at(2200, 1, 1, 12, 0),
            ..Calendar::default()
        };
        assert_eq!(
            late.validate().unwrap_err().field(),
            Some("placement_target")
        );
    }

    #[test]
    fn calendar_files_with_mistakes_name_the_key_and_the_line() {
        let good = Calendar::default().to_string();
        let cases: [(String, &str, &str); 9] = [
            (
                good.replace("round2 = ", "ronde 2 = "),
                "calendar",
                "line 7",
            ),
            (good.replace("release = ", "release "), "calendar", "line 6"),
            (
                format!("{good}round1 = 2025-06-30 12:00 .. 2025-08-15 12:00\n"),
                "round1",
                "twice",
            ),
            (
                good.replace("placement_target = 2025-10-07 12:00\n", ""),
                "placement_target",
                "missing",
            ),
            (
                good.replace("2025-10-07 12:00", "7 oktober"),
                "placement_target",
                "line 9: must be",
            ),
            (
                good.replace("dual = 2025-06-16 00:00 .. ", "dual = 2025-06-16 00:00 "),
                "dual",
                "start .. end",
            ),
            (
                good.replace(
                    "round3 = 2025-09-19 12:00 .. 2025-09-30 12:00",
                    "round3 = 2025-09-30 12:00 .. 2025-09-19 12:00",
                ),
                "round3",
                "before it ends",
            ),
            (
                good.replace("release = 2025-09-19 12:00", "release = 2025-08-01 12:00"),
                "release",
                "blackout",
            ),
            (
                good.replace("2025-10-07 12:00", "2026-03-29 02:30"),
                "placement_target",
                "line 9: does not exist",
            ),
        ];
        for (text, field, says) in cases {
            let err = Calendar::parse(&text).unwrap_err();
            assert_eq!(err.field(), Some(field), "{err}");
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn phases_at_the_boundaries() {
        let cal = Calendar::default();
        let cases = [
            (at(2025, 6, 30, 11, 59), Phase::Closed),
            (at(2025, 6, 30, 12, 0), Phase::Round1),
            (at(2025, 8, 20, 12, 0), Phase::Round1),
            (at(2025, 9, 5, 12, 0), Phase::Round2),
            (at(2025, 9, 19, 11, 59), Phase::Round2),
            (at(2025, 9, 19, 12, 0), Phase::Round3),
            (at(2025, 9, 30, 12, 0), Phase::Open),
            (at(2026, 3, 1, 12, 0), Phase::Open),
        ];
        for (t, phase) in cases {
            assert_eq!(cal.phase(t), phase, "{t}");
            assert_eq!(cal.to_micros().phase(micros(t)), phase, "{t}");
        }
    }

    #[test]
    fn blackout_is_half_open() {
        let cal = Calendar::default();
        assert!(cal.in_blackout(at(2025, 6, 30, 12, 0)));
        assert!(!cal.in_blackout(at(2025, 8, 15, 12, 0)));
        assert!(!cal.in_blackout(at(2025, 6, 30, 11, 59)));
        let late = at(2025, 9, 1, 9, 0);
        assert_eq!(cal.visible_from(late), late);
    }

    #[test]
    fn noon_across_daylight_saving() {
        assert_eq!(
            at(2025, 10, 26, 12, 0).to_rfc3339(),
            "2025-10-26T11:00:00+00:00"
        );
        assert_eq!(
            at(2025, 10, 25, 12, 0).to_rfc3339(),
            "2025-10-25T10:00:00+00:00"
        );
        // 02:30 on 26 October 2025 happens twice; the first is summer time.
        assert_eq!(
            at(2025, 10, 26, 2, 30).to_rfc3339(),
            "2025-10-26T00:30:00+00:00"
        );
        assert_eq!(
            brussels(2026, 3, 29, 2, 30).unwrap_err().field(),
            Some("at")
        );
    }

    #[test]
    fn bad_calendars_are_refused() {
        let mut cal = Calendar::default();
        cal.round2.end = cal.round2.start;
        assert_eq!(cal.validate().unwrap_err().field(), Some("round2"));

        let mut cal = Calendar::default();
        cal.release = cal.blackout.start;
        assert_eq!(cal.validate().unwrap_err().field(), Some("release"));

        let mut cal = Calendar::default();
        cal.round2.start = cal.round1.start;
        assert_eq!(cal.validate().unwrap_err().field(), Some("round2"));

        let mut cal = Calendar::default();
        cal.round3.start = cal.round1.start;
        cal.round3.end = cal.round2.end;
        assert_eq!(cal.validate().unwrap_err().field(), Some("round3"));
    }

    #[test]
    fn record_round_trip() {
        let cal = Calendar::default();
        assert_eq!(cal.to_record().to_calendar(), cal);
    }

    #[test]
    fn moments() {
        let noon = at(2025, 6, 30, 12, 0);
        for text in [
            "2025-06-30 12:00",
            "2025-06-30T12:00",
            "2025-06-30T10:00:00Z",
            "2025-06-30T12:00+02:00",
            "2025-06-30 10:00Z",
        ] {
            assert_eq!(parse_moment(text).unwrap(), noon, "{text}");
        }
        for bad in ["tomorrow", "2025-06-30T12:00+25:00", "30/06/2025 12:00", ""] {
            assert_eq!(parse_moment(bad).unwrap_err().field(), Some("at"), "{bad}");
        }
    }
}
