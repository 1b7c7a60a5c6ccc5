//! The query engine: a service's tabs, filtered, sorted and paged, over compact columns.
//!
//! The store keeps, next to redb, one [`Columns`] value: what the visibility rule, the
//! filters and the sort orders need of every student, as parallel arrays indexed by the
//! student's dense id. It is built when the store opens and updated under the store's write
//! lock on every commit, so a reader sees either all of a decision or none of it.
//!
//! Cost per student: 8 bytes registration moment, 8 bytes acceptance moment, 4 each for
//! the preferred service, the school, the accepting service and the name offset, 2 for the
//! postcode, 2 for the length of the last name, 1 each for flags, province and transport,
//! and the folded first and last names (about 14 bytes for Flemish names): about 57 bytes.
//! [`Columns::bytes_per_student`] reports the exact figure of a store.
//!
//! A query is one parallel scan (rayon, in chunks of 16 384 students) that applies the
//! [visibility rule](crate::visibility) and the filters and collects the matching indices;
//! the total is their count. Only the requested page is then ordered: a linear selection
//! moves the first `offset + limit` matches to the front, a second one isolates the page,
//! and only the page itself is sorted. Cards are read from redb for the page's rows only.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use memchr::memmem;
use rayon::prelude::*;

use crate::calendar::{CalendarMicros, Micros};
use crate::error::{Error, Result};
use crate::student::{Province, Student, Track, Transport, TransportSet};
use crate::text::fold;
use crate::visibility::{Rule, Tab};

/// The sort orders of a tab.
///
/// ```
/// use stagematch_core::Sort;
/// assert_eq!("-registered".parse::<Sort>().unwrap(), Sort::RegisteredDesc);
/// assert_eq!(Sort::NameDesc.code(), "-name");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    /// Province, postcode, last name, first name (`default`).
    #[default]
    Default,
    /// Last name, then first name, A to Z, ignoring case and accents (`name`).
    Name,
    /// The same, Z to A (`-name`).
    NameDesc,
    /// Postcode, then name (`postcode`).
    Postcode,
    /// Newest registration first, to spot late registrations (`-registered`).
    RegisteredDesc,
}

impl Sort {
    /// Every order.
    pub const ALL: [Sort; 5] = [
        Sort::Default,
        Sort::Name,
        Sort::NameDesc,
        Sort::Postcode,
        Sort::RegisteredDesc,
    ];

    /// The code the API speaks.
    pub fn code(self) -> &'static str {
        match self {
            Sort::Default => "default",
            Sort::Name => "name",
            Sort::NameDesc => "-name",
            Sort::Postcode => "postcode",
            Sort::RegisteredDesc => "-registered",
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Sort {
    type Err = Error;

    fn from_str(s: &str) -> Result<Sort> {
        let key = s.trim().to_ascii_lowercase();
        Sort::ALL
            .into_iter()
            .find(|o| o.code() == key)
            .ok_or_else(|| {
                Error::invalid(
                    "sort",
                    s,
                    "is not a sort order (default, name, -name, postcode, -registered)",
                )
            })
    }
}

/// What a service asks of a tab: filters, order and page. Every filter is optional and they
/// combine with "and"; a list filter matches any of its members.
///
/// ```
/// use stagematch_core::{Province, Query, Sort, Transport};
/// let q = Query {
///     name: Some("peet".into()),
///     provinces: vec![Province::Antwerp, Province::EastFlanders],
///     postcode: Some("95".into()),
///     transport: vec![Transport::Bike],
///     sort: Sort::Name,
///     ..Query::default()
/// };
/// assert_eq!(q.limit, 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Which tab.
    pub tab: Tab,
    /// A substring of the first or the last name, ignoring case and accents.
    pub name: Option<String>,
    /// Provinces the student lives in (empty: any).
    pub provinces: Vec<Province>,
    /// A substring of the school's name, ignoring case and accents.
    pub school: Option<String>,
    /// A postcode (`9500`) or a prefix of one (`95`).
    pub postcode: Option<String>,
    /// Means of transport, any of which the student must have (empty: any).
    pub transport: Vec<Transport>,
    /// One track.
    pub track: Option<Track>,
    /// The order.
    pub sort: Sort,
    /// How many matches to skip.
    pub offset: usize,
    /// How many rows to return at most (at most [`MAX_LIMIT`]).
    pub limit: usize,
}

/// The largest page a query returns.
pub const MAX_LIMIT: usize = 10_000;

impl Default for Query {
    fn default() -> Self {
        Query {
            tab: Tab::Open,
            name: None,
            provinces: Vec::new(),
            school: None,
            postcode: None,
            transport: Vec::new(),
            track: None,
            sort: Sort::Default,
            offset: 0,
            limit: 50,
        }
    }
}

/// A query turned into what the scan compares: bit masks, ranges and folded text.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    provinces: u16,
    transport: u8,
    postcode: Option<(u16, u16)>,
    track: Option<u8>,
    /// For each school number, whether it matches the school filter (`None`: no filter).
    schools: Option<Vec<bool>>,
    name: Option<String>,
}

impl Filter {
    /// Checks and compiles `q`; `school_names` lists every school's name by number (from 1).
    pub(crate) fn compile(q: &Query, school_names: &[String]) -> Result<Filter> {
        if q.limit > MAX_LIMIT {
            return Err(Error::invalid(
                "limit",
                &q.limit.to_string(),
                format!("must be at most {MAX_LIMIT}"),
            ));
        }

        let postcode = match q.postcode.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(postcode_range(p)?),
        };

        let name = match q.name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) if n.chars().count() > 100 || n.chars().any(char::is_control) => {
                return Err(Error::invalid(
                    "name",
                    n,
                    "must be at most 100 characters without control characters",
                ));
            }
            Some(n) => Some(fold(n)),
        };

        let schools = match q.school.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let needle = fold(s);
                let mut hit = vec![false; school_names.len() + 1];
                for (i, name) in school_names.iter().enumerate() {
                    hit[i + 1] = fold(name).contains(&needle);
                }
                Some(hit)
            }
        };

        Ok(Filter {
            provinces: q.provinces.iter().fold(0, |m, p| m | (1u16 << (*p as u8))),
            transport: q.transport.iter().copied().collect::<TransportSet>().bits(),
            postcode,
            track: q.track.map(|t| t as u8),
            schools,
            name,
        })
    }
}

/// The range of postcodes an exact postcode or a prefix of one to four digits stands for.
fn postcode_range(p: &str) -> Result<(u16, u16)> {
    if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) || p.starts_with('0') {
        return Err(Error::invalid(
            "postcode",
            p,
            "must be a postcode or its first digits (1 to 4 digits, not starting with 0)",
        ));
    }

    let scale = 10u16.pow(4 - p.len() as u32);
    let head: u16 = p
        .parse()
        .map_err(|_| Error::invalid("postcode", p, "must be digits"))?;
    Ok((head * scale, head * scale + (scale - 1)))
}

const DUAL: u8 = 1;
const BLACKOUT: u8 = 2;
const TRACK_SHIFT: u8 = 2;
const CHUNK: usize = 1 << 14;

/// The query columns of every student, indexed by dense student id.
#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    registered: Vec<Micros>,
    accepted_at: Vec<Micros>,
    preferred: Vec<u32>,
    school: Vec<u32>,
    accepted_by: Vec<u32>,
    name_start: Vec<u32>,
    postcode: Vec<u16>,
    last_len: Vec<u16>,
    flags: Vec<u8>,
    province: Vec<u8>,
    transport: Vec<u8>,
    names: Vec<u8>,
}

impl Columns {
    /// The number of students.
    pub(crate) fn len(&self) -> usize {
        self.registered.len()
    }

    /// Appends a newly registered student (its id must be the next dense id).
    pub(crate) fn push(&mut self, s: &Student, cal: &CalendarMicros) {
        let blackout = cal.visible_from(s.registered_micros) != s.registered_micros;
        let flags = u8::from(s.data.track.is_dual())
            | if blackout { BLACKOUT } else { 0 }
            | ((s.data.track as u8) << TRACK_SHIFT);

        let last = fold(&s.data.last_name);
        let first = fold(&s.data.first_name);
        // Invariant: names are at most 100 characters, so a folded one fits in u16 bytes.
        let last_len = last.len().min(u16::MAX as usize) as u16;

        self.name_start.push(self.names.len() as u32);
        self.names
            .extend_from_slice(&last.as_bytes()[..last_len as usize]);
        self.names.extend_from_slice(first.as_bytes());

        self.registered.push(s.registered_micros);
        self.accepted_at.push(Micros::MAX);
        self.preferred
            .push(s.data.preferred_service.map_or(0, |p| p.get()));
        self.school.push(s.school.get());
        self.accepted_by.push(0);
        self.postcode.push(s.data.postcode.get());
        self.last_len.push(last_len);
        self.flags.push(flags);
        self.province.push(s.data.province() as u8);
        self.transport.push(s.data.transport.bits());
    }

    /// Records that `service` accepted the student at index `i` at moment `at`.
    pub(crate) fn set_accepted(&mut self, i: usize, service: u32, at: Micros) {
        self.accepted_by[i] = service;
        self.accepted_at[i] = at;
    }

    /// Recomputes the blackout flags after the calendar changed.
    pub(crate) fn recompute_blackout(&mut self, cal: &CalendarMicros) {
        for (flag, reg) in self.flags.iter_mut().zip(&self.registered) {
            let blackout = cal.visible_from(*reg) != *reg;
            *flag = (*flag & !BLACKOUT) | if blackout { BLACKOUT } else { 0 };
        }
    }

    /// Bytes of memory the columns hold per student (capacity not counted).
    pub(crate) fn bytes_per_student(&self) -> f64 {
        let fixed = 8 + 8 + 4 + 4 + 4 + 4 + 2 + 2 + 1 + 1 + 1;
        let n = self.len().max(1) as f64;
        fixed as f64 + self.names.len() as f64 / n
    }

    fn last_name(&self, i: usize) -> &[u8] {
        let start = self.name_start[i] as usize;
        &self.names[start..start + self.last_len[i] as usize]
    }

    fn first_name(&self, i: usize) -> &[u8] {
        let start = self.name_start[i] as usize + self.last_len[i] as usize;
        let end = self
            .name_start
            .get(i + 1)
            .map_or(self.names.len(), |e| *e as usize);
        &self.names[start..end]
    }

    /// The moment from which student `i` can be seen.
    #[inline]
    fn visible_from(&self, i: usize, release: Micros) -> Micros {
        if self.flags[i] & BLACKOUT != 0 {
            release
        } else {
            self.registered[i]
        }
    }

    /// Whether student `i` is placed as of `t`, and with whom.
    #[inline]
    pub(crate) fn accepted_as_of(&self, i: usize, t: Micros) -> Option<u32> {
        let by = self.accepted_by[i];
        (by != 0 && self.accepted_at[i] <= t).then_some(by)
    }

    /// When student `i` was accepted (`Micros::MAX` if it was not).
    pub(crate) fn accepted_at(&self, i: usize) -> Micros {
        self.accepted_at[i]
    }

    /// The accepting service of student `i`, whatever the moment.
    pub(crate) fn accepted_by(&self, i: usize) -> Option<u32> {
        let by = self.accepted_by[i];
        (by != 0).then_some(by)
    }

    /// The facts the statistics group by: track index, province index, preferred service,
    /// registration moment and visibility moment.
    pub(crate) fn facts(&self, i: usize, release: Micros) -> (u8, u8, u32, Micros, Micros) {
        (
            self.flags[i] >> TRACK_SHIFT,
            self.province[i],
            self.preferred[i],
            self.registered[i],
            self.visible_from(i, release),
        )
    }

    /// Whether student `i` is in `tab` of the rule's service.
    #[inline]
    pub(crate) fn in_tab(&self, i: usize, rule: &Rule, tab: Tab) -> bool {
        let placed = self.accepted_as_of(i, rule.t);
        match tab {
            Tab::Accepted => placed == Some(rule.service),
            Tab::Open => {
                placed.is_none()
                    && rule.admits_open(
                        self.visible_from(i, rule.release),
                        self.flags[i] & DUAL != 0,
                        self.preferred[i],
                        self.province[i],
                    )
            }
        }
    }

    #[inline]
    fn passes(&self, i: usize, f: &Filter, finder: Option<&memmem::Finder<'_>>) -> bool {
        if f.provinces != 0 && f.provinces & (1 << self.province[i]) == 0 {
            return false;
        }
        if f.transport != 0 && f.transport & self.transport[i] == 0 {
            return false;
        }
        if let Some((lo, hi)) = f.postcode
            && !(lo..=hi).contains(&self.postcode[i])
        {
            return false;
        }
        if let Some(track) = f.track
            && self.flags[i] >> TRACK_SHIFT != track
        {
            return false;
        }
        if let Some(schools) = &f.schools
            && !schools
                .get(self.school[i] as usize)
                .copied()
                .unwrap_or(false)
        {
            return false;
        }
        if let Some(finder) = finder {
            let start = self.name_start[i] as usize;
            let end = self
                .name_start
                .get(i + 1)
                .map_or(self.names.len(), |e| *e as usize);
            let split = start + self.last_len[i] as usize;
            let (last, first) = (&self.names[start..split], &self.names[split..end]);
            if finder.find(last).is_none() && finder.find(first).is_none() {
                return false;
            }
        }
        true
    }

    /// The indices of every student in the tab that passes the filter, in index order.
    pub(crate) fn scan(&self, rule: &Rule, tab: Tab, f: &Filter) -> Vec<u32> {
        let n = self.len();
        let finder = f.name.as_deref().map(|n| memmem::Finder::new(n.as_bytes()));
        let finder = finder.as_ref();

        let parts: Vec<Vec<u32>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut hits = Vec::new();
                for i in c * CHUNK..n.min((c + 1) * CHUNK) {
                    if self.in_tab(i, rule, tab) && self.passes(i, f, finder) {
                        hits.push(i as u32);
                    }
                }
                hits
            })
            .collect();

        parts.concat()
    }

    /// Compares two students in `sort` order; ties fall back to the id, so the order is total.
    fn compare(&self, sort: Sort, a: usize, b: usize) -> Ordering {
        let by_name = || {
            self.last_name(a)
                .cmp(self.last_name(b))
                .then_with(|| self.first_name(a).cmp(self.first_name(b)))
        };

        match sort {
            Sort::Default => self.province[a]
                .cmp(&self.province[b])
                .then(self.postcode[a].cmp(&self.postcode[b]))
                .then_with(by_name)
                .then(a.cmp(&b)),
            Sort::Name => by_name().then(a.cmp(&b)),
            Sort::NameDesc => by_name().reverse().then(a.cmp(&b)),
            Sort::Postcode => self.postcode[a]
                .cmp(&self.postcode[b])
                .then_with(by_name)
                .then(a.cmp(&b)),
            Sort::RegisteredDesc => self.registered[b].cmp(&self.registered[a]).then(b.cmp(&a)),
        }
    }

    /// Orders `hits` just enough to return the page `[offset, offset + limit)` in `sort` order.
    pub(crate) fn page(
        &self,
        mut hits: Vec<u32>,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> Vec<u32> {
        if offset >= hits.len() || limit == 0 {
            return Vec::new();
        }

        let end = hits.len().min(offset.saturating_add(limit));
        let cmp = |a: &u32, b: &u32| self.compare(sort, *a as usize, *b as usize);

        if end < hits.len() {
            hits.select_nth_unstable_by(end, cmp);
            hits.truncate(end);
        }
        if offset > 0 {
            hits.select_nth_unstable_by(offset, cmp);
        }

        let mut page = hits.split_off(offset);
        page.sort_unstable_by(cmp);
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcode_prefixes() {
        assert_eq!(postcode_range("9500").unwrap(), (9500, 9500));
        assert_eq!(postcode_range("95").unwrap(), (9500, 9599));
        assert_eq!(postcode_range("9").unwrap(), (9000, 9999));
        for bad in ["", "95000", "0", "9a", "-9"] {
            assert_eq!(
                postcode_range(bad).unwrap_err().field(),
                Some("postcode"),
                "{bad}"
            );
        }
    }

    #[test]
    fn sort_codes() {
        for s in Sort::ALL {
            assert_eq!(s.code().parse::<Sort>().unwrap(), s);
        }
        assert_eq!("size".parse::<Sort>().unwrap_err().field(), Some("sort"));
    }

    #[test]
    fn filter_checks_its_inputs() {
        let q = Query {
            limit: MAX_LIMIT + 1,
            ..Query::default()
        };
        assert_eq!(Filter::compile(&q, &[]).unwrap_err().field(), Some("limit"));
        let q = Query {
            name: Some("a\u{0}".into()),
            ..Query::default()
        };
        assert_eq!(Filter::compile(&q, &[]).unwrap_err().field(), Some("name"));
    }
}
