//! The query engine: a service's tabs, filtered, sorted and paged, over compact columns.
//!
//! The store keeps, next to redb, one [`Columns`] value: what the visibility rule, the
//! filters and the sort orders need of every student, as parallel arrays indexed by the
//! student's dense id. It is built when the store opens and updated under the store's write
//! lock on every commit, so a reader sees either all of a decision or none of it.
//!
//! Cost per student: 8 bytes each for the registration moment, the acceptance moment and
//! the packed name sort key, 4 for the name offset, 2 each for the preferred service, the
//! school, the accepting service, the postcode and the length of the last name, 1 each for
//! flags, province and transport, the folded first and last names themselves (about 14
//! bytes for Flemish names), and 4 for the postcode index: about 57 bytes.
//! [`Columns::bytes_per_student`] reports the exact figure of a store.
//!
//! A query is one parallel scan (rayon, in chunks of 16 384 students). Each chunk checks the
//! one- and two-byte filters first, then the [visibility rule](crate::visibility), then the
//! name; it counts the matches (the total) and keeps, by a pruned buffer of 64-bit sort
//! keys, only the matches that can still reach the page. The exact comparison (full folded
//! names, then the id) runs only on those candidates, and only the page itself is sorted.
//! A postcode filter that leaves fewer than one student in 32 visits only those students
//! (the postcode index) instead of scanning all. An export sorts every match, by rank on
//! all cores first. Cards are read from redb for the page's rows only.

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
/// Students checked per pass of the hot loop, with the selection kept on the stack.
const BLOCK: usize = 1024;

/// The most services and schools a store holds: their numbers are `u16` in the columns.
pub(crate) const MAX_PARTIES: usize = u16::MAX as usize;

/// The query columns of every student, indexed by dense student id.
#[derive(Debug, Default, Clone)]
pub(crate) struct Columns {
    registered: Vec<Micros>,
    accepted_at: Vec<Micros>,
    /// The folded names packed into a sort key prefix (see [`name_key`]).
    name_key: Vec<u64>,
    name_start: Vec<u32>,
    preferred: Vec<u16>,
    school: Vec<u16>,
    accepted_by: Vec<u16>,
    postcode: Vec<u16>,
    last_len: Vec<u16>,
    flags: Vec<u8>,
    province: Vec<u8>,
    transport: Vec<u8>,
    names: Vec<u8>,
    /// The students of each postcode (indexed by the postcode), in index order: a query
    /// with a postcode filter that leaves few students visits only them. Kept only by the
    /// store's own columns ([`Columns::indexed`]); the columns of a batch being built, which
    /// are appended to those, keep none.
    by_postcode: Vec<Vec<u32>>,
    indexed: bool,
}

/// Appends [`fold`] of `name` to `out`.
fn push_folded(out: &mut Vec<u8>, name: &str) {
    if name.is_ascii() {
        out.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        out.extend_from_slice(fold(name).as_bytes());
    }
}

/// What the columns need of one student, borrowed from a record or from its stored bytes.
pub(crate) struct ColumnFacts<'a> {
    pub last_name: &'a str,
    pub first_name: &'a str,
    pub registered: Micros,
    pub track: Track,
    /// The preferred service's number, 0 for none.
    pub preferred: u32,
    pub school: u32,
    pub postcode: crate::student::Postcode,
    pub transport: TransportSet,
}

/// The code of each byte in a [`name_key`], and whether that code stands for one byte only.
///
/// The bytes that occur in folded names get a code of their own: the separator 0, space,
/// apostrophe, hyphen, dot, the digits and `a` to `z`. Every run of other bytes in between
/// (and every byte of 128 and above, the parts of non-ASCII letters) shares one code. Codes
/// never decrease as bytes grow, so the table preserves byte order up to ties.
const NAME_CODES: ([u8; 256], [bool; 64]) = {
    let mut codes = [0u8; 256];
    let mut single = [false; 64];
    let mut code = 0u8;
    let mut b = 0usize;
    let mut in_run = false;
    while b < 256 {
        let own = b == 0
            || b == b' ' as usize
            || b == b'\'' as usize
            || b == b'-' as usize
            || b == b'.' as usize
            || (b >= b'0' as usize && b <= b'9' as usize)
            || (b >= b'a' as usize && b <= b'z' as usize);
        if own {
            if b > 0 {
                code += 1;
            }
            single[code as usize] = true;
            in_run = false;
        } else if !in_run {
            code += 1;
            in_run = true;
        }
        codes[b] = code;
        b += 1;
    }
    (codes, single)
};

/// Packs the start of `last`, a separator and `first` into ten six-bit codes, top-aligned:
/// an order-preserving prefix of the name order (last name, then first name), so that most
/// comparisons of a name sort are one integer comparison.
///
/// Monotone: if `(last_a, first_a) < (last_b, first_b)` then `key_a <= key_b`. The bytes
/// `last ‖ 0 ‖ first` compare like the pair (names hold no 0 byte), the codes never decrease
/// as bytes grow, and packing stops after a code shared by several bytes, so that two names
/// that tie on such a code tie on the whole key and are decided by comparing the names.
fn name_key(last: impl AsRef<[u8]>, first: impl AsRef<[u8]>) -> u64 {
    let (last, first) = (last.as_ref(), first.as_ref());
    let (codes, single) = NAME_CODES;
    let mut key = 0u64;
    let bytes = last
        .iter()
        .copied()
        .chain(std::iter::once(0))
        .chain(first.iter().copied());

    for (i, b) in bytes.take(10).enumerate() {
        let code = codes[b as usize];
        key |= u64::from(code) << (58 - 6 * i);
        if !single[code as usize] {
            break;
        }
    }
    key
}

/// Where a student stands in a sort order, as far as integers tell: the 64-bit key prefix,
/// then a tie-break that is the reversed index for `-registered` (whose order is exactly
/// moment, then id) and 0 otherwise (ties then go to [`Columns::compare`]).
type Rank = (u64, u32);

/// The largest rank, standing for "no bound".
const NO_BOUND: Rank = (u64::MAX, u32::MAX);

/// A matching student: its rank and its index.
type Candidate = (Rank, u32);

impl Columns {
    /// Columns that keep the postcode index: the store's own.
    pub(crate) fn indexed() -> Columns {
        Columns {
            indexed: true,
            ..Columns::default()
        }
    }

    /// The number of students.
    pub(crate) fn len(&self) -> usize {
        self.registered.len()
    }

    /// Appends a newly registered student (its id must be the next dense id; the store keeps
    /// service and school numbers below [`MAX_PARTIES`]).
    pub(crate) fn push(&mut self, s: &Student, cal: &CalendarMicros) {
        self.push_facts(
            &ColumnFacts {
                last_name: &s.data.last_name,
                first_name: &s.data.first_name,
                registered: s.registered_micros,
                track: s.data.track,
                preferred: s.data.preferred_service.map_or(0, |p| p.get()),
                school: s.school.get(),
                postcode: s.data.postcode,
                transport: s.data.transport,
            },
            cal,
        );
    }

    /// Appends a student from what the columns need of it.
    pub(crate) fn push_facts(&mut self, s: &ColumnFacts<'_>, cal: &CalendarMicros) {
        let blackout = cal.visible_from(s.registered) != s.registered;
        let flags = u8::from(s.track.is_dual())
            | if blackout { BLACKOUT } else { 0 }
            | ((s.track as u8) << TRACK_SHIFT);

        // The folded names go straight into the arena (ASCII ones without an allocation).
        let start = self.names.len();
        push_folded(&mut self.names, s.last_name);
        // Invariant: names are at most 100 characters, so a folded one fits in u16 bytes.
        let last_len = (self.names.len() - start).min(u16::MAX as usize) as u16;
        self.names.truncate(start + last_len as usize);
        push_folded(&mut self.names, s.first_name);
        let split = start + last_len as usize;
        let key = name_key(&self.names[start..split], &self.names[split..]);

        if self.indexed {
            let index = self.registered.len() as u32;
            self.postcode_bucket(s.postcode.get()).push(index);
        }
        self.name_start.push(start as u32);
        self.registered.push(s.registered);
        self.accepted_at.push(Micros::MAX);
        self.name_key.push(key);
        self.preferred.push(s.preferred as u16);
        self.school.push(s.school as u16);
        self.accepted_by.push(0);
        self.postcode.push(s.postcode.get());
        self.last_len.push(last_len);
        self.flags.push(flags);
        self.province.push(s.postcode.province() as u8);
        self.transport.push(s.transport.bits());
    }

    /// Appends the students of `other` (whose ids continue this one's).
    pub(crate) fn append(&mut self, mut other: Columns) {
        if self.indexed {
            let first = self.len() as u32;
            for (k, postcode) in other.postcode.iter().enumerate() {
                self.postcode_bucket(*postcode).push(first + k as u32);
            }
        }
        let base = self.names.len() as u32;
        self.name_start
            .extend(other.name_start.iter().map(|s| s + base));
        self.names.append(&mut other.names);
        self.registered.append(&mut other.registered);
        self.accepted_at.append(&mut other.accepted_at);
        self.name_key.append(&mut other.name_key);
        self.preferred.append(&mut other.preferred);
        self.school.append(&mut other.school);
        self.accepted_by.append(&mut other.accepted_by);
        self.postcode.append(&mut other.postcode);
        self.last_len.append(&mut other.last_len);
        self.flags.append(&mut other.flags);
        self.province.append(&mut other.province);
        self.transport.append(&mut other.transport);
    }

    /// The students of `postcode`, made room for on first use.
    fn postcode_bucket(&mut self, postcode: u16) -> &mut Vec<u32> {
        if self.by_postcode.is_empty() {
            self.by_postcode = vec![Vec::new(); POSTCODES];
        }
        let at = usize::from(postcode).min(POSTCODES - 1);
        &mut self.by_postcode[at]
    }

    /// The students whose postcode lies in `lo..=hi`, and how many there are, if a query
    /// should visit them instead of scanning everyone (fewer than one in
    /// [`POSTCODE_VISIT_RATIO`]).
    fn postcode_visit(&self, lo: u16, hi: u16) -> Option<Vec<&[u32]>> {
        let (lo, hi) = (usize::from(lo), usize::from(hi).min(POSTCODES - 1));
        let buckets = self.by_postcode.get(lo..=hi)?;
        let count: usize = buckets.iter().map(Vec::len).sum();
        (count * POSTCODE_VISIT_RATIO < self.len()).then(|| {
            buckets
                .iter()
                .map(Vec::as_slice)
                .filter(|b| !b.is_empty())
                .collect()
        })
    }

    /// Records that `service` accepted the student at index `i` at moment `at`.
    pub(crate) fn set_accepted(&mut self, i: usize, service: u32, at: Micros) {
        self.accepted_by[i] = service as u16;
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
        // The postcode index holds one index (4 bytes) a student.
        let index = if self.indexed { 4 } else { 0 };
        let fixed = 8 + 8 + 8 + 4 + 2 + 2 + 2 + 2 + 2 + 1 + 1 + 1 + index;
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
        (by != 0 && self.accepted_at[i] <= t).then_some(by as u32)
    }

    /// When student `i` was accepted (`Micros::MAX` if it was not).
    pub(crate) fn accepted_at(&self, i: usize) -> Micros {
        self.accepted_at[i]
    }

    /// The accepting service of student `i`, whatever the moment.
    pub(crate) fn accepted_by(&self, i: usize) -> Option<u32> {
        let by = self.accepted_by[i];
        (by != 0).then_some(by as u32)
    }

    /// The facts the statistics group by: track index, province index, preferred service,
    /// registration moment and visibility moment.
    pub(crate) fn facts(&self, i: usize, release: Micros) -> (u8, u8, u32, Micros, Micros) {
        (
            self.flags[i] >> TRACK_SHIFT,
            self.province[i],
            self.preferred[i] as u32,
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
                        self.preferred[i] as u32,
                        self.province[i],
                    )
            }
        }
    }

    /// The name filter, checked last since it reads the name arena.
    #[inline]
    fn passes_name(&self, i: usize, finder: &memmem::Finder<'_>) -> bool {
        let start = self.name_start[i] as usize;
        let end = self
            .name_start
            .get(i + 1)
            .map_or(self.names.len(), |e| *e as usize);
        let split = start + self.last_len[i] as usize;
        finder.find(&self.names[start..split]).is_some()
            || finder.find(&self.names[split..end]).is_some()
    }

    /// A 64-bit prefix of student `i`'s position in `sort` order: if the key of `a` is less
    /// than the key of `b`, `a` comes first; equal keys are decided by [`Columns::compare`].
    #[inline]
    fn rank(&self, sort: Sort, i: usize) -> Rank {
        let tie = if sort == Sort::RegisteredDesc {
            u32::MAX - i as u32
        } else {
            0
        };
        (self.sort_key(sort, i), tie)
    }

    /// The 64-bit key prefix of [`Columns::rank`].
    #[inline]
    fn sort_key(&self, sort: Sort, i: usize) -> u64 {
        let name = self.name_key[i];
        match sort {
            Sort::Default => {
                (u64::from(self.province[i]) << 60)
                    | (u64::from(self.postcode[i]) << 46)
                    | (name >> 18)
            }
            Sort::Name => name,
            Sort::NameDesc => !name,
            Sort::Postcode => (u64::from(self.postcode[i]) << 50) | (name >> 14),
            Sort::RegisteredDesc => !((self.registered[i] as u64) ^ (1 << 63)),
        }
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

    /// Writes to the front of `out` the index of every student of `lo..hi` (at most
    /// [`BLOCK`] of them) that is in the tab and passes the one- and two-byte filters, and
    /// returns how many. The hot loop of the engine: the columns are sliced to the block
    /// first so that the loop runs without bounds checks, and the output lives on the stack
    /// so that a query allocates nothing per student.
    fn select_block(&self, lo: usize, hi: usize, q: &Scan<'_>, out: &mut [u32; BLOCK]) -> usize {
        let len = hi - lo;
        let province = &self.province[lo..hi];
        let transport = &self.transport[lo..len + lo];
        let postcode = &self.postcode[lo..len + lo];
        let flags = &self.flags[lo..len + lo];
        let school = &self.school[lo..len + lo];
        let preferred = &self.preferred[lo..len + lo];
        let accepted_by = &self.accepted_by[lo..len + lo];
        let accepted_at = &self.accepted_at[lo..len + lo];
        let registered = &self.registered[lo..len + lo];

        let f = q.filter;
        let rule = q.rule;
        let provinces = if f.provinces == 0 {
            u16::MAX
        } else {
            f.provinces
        };
        let any_transport = f.transport == 0;
        let (pc_lo, pc_hi) = f.postcode.unwrap_or((0, u16::MAX));
        let track = f.track.unwrap_or(u8::MAX);
        let schools = f.schools.as_deref();
        let me = rule.service as u16;
        let open = q.tab == Tab::Open;

        // Branch-free: every check is computed and combined, and the index is written
        // unconditionally but only kept (by advancing `n`) when all checks pass, so that
        // unpredictable filter outcomes cost no mispredicted branches.
        let buf = &mut out[..len];
        let mut n = 0;
        for j in 0..len {
            let p = province[j];
            let fl = flags[j];
            let pc = postcode[j];
            let mut keep = (provinces >> p) & 1 == 1;
            keep &= any_transport | (f.transport & transport[j] != 0);
            keep &= (pc >= pc_lo) & (pc <= pc_hi);
            keep &= (track == u8::MAX) | (fl >> TRACK_SHIFT == track);
            if let Some(hit) = schools {
                keep &= hit.get(school[j] as usize).copied().unwrap_or(false);
            }

            let by = accepted_by[j];
            let placed = by != 0 && accepted_at[j] <= rule.t;
            keep &= if open {
                let visible_from = if fl & BLACKOUT != 0 {
                    rule.release
                } else {
                    registered[j]
                };
                !placed & rule.admits_open(visible_from, fl & DUAL != 0, preferred[j] as u32, p)
            } else {
                placed & (by == me)
            };

            buf[n] = (lo + j) as u32;
            n += usize::from(keep);
        }
        n
    }

    /// Marks, in a bit set over the students `lo..hi`, those whose folded first or last name
    /// contains the query's name. Searches the chunk's part of the name arena in one sweep of
    /// `memchr::memmem` and maps each hit back to its student, which is far cheaper than one
    /// search per student.
    fn name_hits(&self, lo: usize, hi: usize, finder: &memmem::Finder<'_>) -> Vec<u64> {
        let mut bits = vec![0u64; (hi - lo).div_ceil(64)];
        let arena_lo = self.name_start[lo] as usize;
        let arena_hi = self
            .name_start
            .get(hi)
            .map_or(self.names.len(), |e| *e as usize);
        let needle = finder.needle().len();

        // Matches may overlap: a match straddling two names is rejected, and the search
        // resumes one byte further, so that an overlapping real match is still found.
        let arena = &self.names[..arena_hi];
        let mut row = lo;
        let mut from = arena_lo;
        while let Some(found) = finder.find(&arena[from..]) {
            let pos = from + found;
            while row + 1 < hi && self.name_start[row + 1] as usize <= pos {
                row += 1;
            }

            let start = self.name_start[row] as usize;
            let split = start + self.last_len[row] as usize;
            let end = self
                .name_start
                .get(row + 1)
                .map_or(self.names.len(), |e| *e as usize);
            let in_last = pos + needle <= split;
            let in_first = pos >= split && pos + needle <= end;
            if in_last || in_first {
                let j = row - lo;
                bits[j / 64] |= 1 << (j % 64);
                from = end;
            } else {
                from = pos + 1;
            }
            if from >= arena_hi {
                break;
            }
        }
        bits
    }

    /// Scans the students `lo..hi`: counts those in the tab that pass the filter, and keeps
    /// the candidates that can still reach the page.
    ///
    /// With [`Bound::TopK`], a candidate is every match whose rank is at most the `k`-th
    /// smallest rank of the range; the returned bound is that
    /// rank ([`NO_BOUND`] if fewer than `k` matched). With [`Bound::Fixed`], a candidate is every
    /// match whose key is at most the given bound.
    fn scan_chunk(&self, lo: usize, hi: usize, q: &Scan<'_>, mode: Bound) -> ChunkResult {
        let mut top = ChunkTop::new(q.k, mode);
        let mut block = [0u32; BLOCK];

        let Some(finder) = q.finder else {
            for start in (lo..hi).step_by(BLOCK) {
                let n = self.select_block(start, hi.min(start + BLOCK), q, &mut block);
                top.take(self, q.sort, &block[..n]);
            }
            return top.finish();
        };

        // With a name filter, the other filters run first. Where they leave few students (a
        // postcode, a province and a transport), each one's names are searched on its own;
        // otherwise one sweep over the chunk's names is cheaper than many short searches.
        let mut selected = Vec::new();
        for start in (lo..hi).step_by(BLOCK) {
            let n = self.select_block(start, hi.min(start + BLOCK), q, &mut block);
            selected.extend_from_slice(&block[..n]);
        }
        if selected.len() * NAME_SWEEP_RATIO < hi - lo {
            selected.retain(|&i| self.passes_name(i as usize, finder));
        } else {
            let bits = self.name_hits(lo, hi, finder);
            selected.retain(|&i| {
                let j = i as usize - lo;
                bits[j / 64] & (1 << (j % 64)) != 0
            });
        }
        for part in selected.chunks(BLOCK) {
            top.take(self, q.sort, part);
        }
        top.finish()
    }

    /// [`Columns::scan_chunk`] over the given students only (those of a postcode range):
    /// each is checked against every filter, then its names.
    fn visit_chunk(&self, students: &[u32], q: &Scan<'_>, mode: Bound) -> ChunkResult {
        let mut top = ChunkTop::new(q.k, mode);
        let mut block = [0u32; BLOCK];
        let mut kept = Vec::with_capacity(BLOCK);
        for part in students.chunks(BLOCK) {
            kept.clear();
            for &i in part {
                let i = i as usize;
                let passes = self.select_block(i, i + 1, q, &mut block) == 1
                    && q.finder.is_none_or(|f| self.passes_name(i, f));
                if passes {
                    kept.push(i as u32);
                }
            }
            top.take(self, q.sort, &kept);
        }
        top.finish()
    }

    /// For a deep page, guesses a sort key bound from a sample of about 4 096 students, high
    /// enough that (very likely) at least `k` matches lie under it and low enough that few
    /// more do. `None` when the cohort is small or the page is near the front, where the
    /// pruning of [`Bound::TopK`] is cheaper.
    fn sample_bound(&self, q: &Scan<'_>) -> Option<Rank> {
        const SAMPLES: usize = 4096;
        let n = self.len();
        if q.k < 1024 || n < 16 * SAMPLES {
            return None;
        }

        let stride = n / SAMPLES;
        let mut block = [0u32; BLOCK];
        let mut keys: Vec<Rank> = (0..SAMPLES)
            .map(|s| s * stride)
            .filter(|&i| self.select_block(i, i + 1, q, &mut block) == 1)
            .filter(|&i| q.finder.is_none_or(|f| self.passes_name(i, f)))
            .map(|i| self.rank(q.sort, i))
            .collect();

        // The k-th match is expected near sample rank k / stride; aim well above it.
        let expected = q.k as f64 / stride as f64;
        let rank = (expected * 1.5 + 4.0 * expected.sqrt() + 8.0).ceil() as usize;
        if rank >= keys.len() {
            return None;
        }
        keys.select_nth_unstable(rank);
        Some(keys[rank])
    }

    /// Runs a query: the number of students in the tab that pass the filter, and the indices
    /// of the page `[offset, offset + limit)` in `sort` order.
    ///
    /// Each rayon task scans a chunk and keeps only the candidates that can still reach the
    /// page (see [`Columns::scan_chunk`]); the smallest key bound over the chunks bounds the
    /// page, and only the candidates under it are compared exactly. A deep page first guesses
    /// its bound from a sample and falls back to [`Bound::TopK`] if the guess was too low.
    pub(crate) fn query(
        &self,
        rule: &Rule,
        tab: Tab,
        filter: &Filter,
        sort: Sort,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<u32>) {
        let finder = filter
            .name
            .as_deref()
            .map(|n| memmem::Finder::new(n.as_bytes()));
        let k = if limit == 0 {
            0
        } else {
            offset.saturating_add(limit)
        };
        let scan = Scan {
            rule,
            tab,
            filter,
            finder: finder.as_ref(),
            sort,
            k,
        };

        let guess = self.sample_bound(&scan);
        self.query_with_guess(&scan, guess, offset, limit)
    }

    /// [`Columns::query`] with the bound guess given (tests force a wrong one).
    fn query_with_guess(
        &self,
        scan: &Scan<'_>,
        guess: Option<Rank>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<u32>) {
        let (k, sort) = (scan.k, scan.sort);
        let (total, mut hits) = match guess {
            Some(bound) => match self.scan_all(scan, Bound::Fixed(bound)) {
                (total, hits) if hits.len() >= k.min(total) => (total, hits),
                _ => self.scan_all(scan, Bound::TopK),
            },
            None => self.scan_all(scan, Bound::TopK),
        };

        if offset >= hits.len() || limit == 0 {
            return (total, Vec::new());
        }

        // First by integer rank alone: candidates ranked after the page's last rank cannot
        // be on it, and those ranked before the page's first rank all precede it, so only
        // the page and the ties at its two ends are left for the exact comparison.
        let mut end = hits.len().min(k);
        let mut start = offset;
        if end < hits.len() {
            let last = kth_rank(&mut hits, end);
            hits.retain(|c| c.0 <= last);
        }
        if start > 0 {
            let first = kth_rank(&mut hits, start + 1);
            let before = hits.iter().filter(|c| c.0 < first).count();
            hits.retain(|c| c.0 >= first);
            start -= before;
            end -= before;
        }

        let cmp = |a: &Candidate, b: &Candidate| {
            a.0.cmp(&b.0)
                .then_with(|| self.compare(sort, a.1 as usize, b.1 as usize))
        };
        if end < hits.len() {
            hits.select_nth_unstable_by(end, cmp);
            hits.truncate(end);
        }
        if start > 0 {
            hits.select_nth_unstable_by(start, cmp);
        }

        let mut page = hits.split_off(start);
        self.sort_candidates(&mut page, sort);
        (total, page.into_iter().map(|c| c.1).collect())
    }

    /// Sorts candidates in `sort` order. A small page is sorted with the exact comparison; a
    /// large one (an export) first by rank and index on both cores, and then each run of
    /// equal ranks by the names (see [`Columns::sort_run`]).
    fn sort_candidates(&self, page: &mut [Candidate], sort: Sort) {
        if page.len() < PARALLEL_SORT {
            page.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| self.compare(sort, a.1 as usize, b.1 as usize))
            });
            return;
        }

        page.par_sort_unstable();
        page.par_chunk_by_mut(|a, b| a.0 == b.0)
            .filter(|run| run.len() > 1)
            .for_each(|run| self.sort_run(run, sort));
    }

    /// Sorts students of one rank. Their rank holds their province and postcode where the
    /// order has them (and `-registered` ranks are unique), so what is left is the name
    /// order (reversed for `-name`), then the index. The names share a prefix (the part the
    /// rank packs, often more); the eight bytes after it, as an integer, order most of the
    /// run, and only students equal on those too are compared in full.
    fn sort_run(&self, run: &mut [Candidate], sort: Sort) {
        // The bytes `last ‖ 0 ‖ first` of a student, which order like the pair; 0 past the end.
        let byte = |(last, first): (&[u8], &[u8]), j: usize| -> u8 {
            match j.cmp(&last.len()) {
                Ordering::Less => last[j],
                Ordering::Equal => 0,
                Ordering::Greater => first.get(j - last.len() - 1).copied().unwrap_or(0),
            }
        };
        let names = |c: &Candidate| (self.last_name(c.1 as usize), self.first_name(c.1 as usize));
        let length = |(last, first): (&[u8], &[u8])| last.len() + 1 + first.len();

        let shared = shared_name_bytes(sort, run[0].0.0);

        // Students whose names end within the eight bytes are ordered by them in full: of
        // two such with equal bytes, the names are equal and the index decides.
        let mut keyed: Vec<(u64, bool, Candidate)> = run
            .iter()
            .map(|&c| {
                let n = names(&c);
                let next = (shared..shared + 8).fold(0u64, |k, j| (k << 8) | u64::from(byte(n, j)));
                let whole = length(n) <= shared + 8;
                (if sort == Sort::NameDesc { !next } else { next }, whole, c)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                if a.1 && b.1 {
                    a.2.1.cmp(&b.2.1)
                } else {
                    self.compare(sort, a.2.1 as usize, b.2.1 as usize)
                }
            })
        });
        for (slot, (_, _, c)) in run.iter_mut().zip(keyed) {
            *slot = c;
        }
    }

    /// Scans every chunk in parallel; returns the total and the candidates under the
    /// smallest bound.
    fn scan_all(&self, scan: &Scan<'_>, mode: Bound) -> (usize, Vec<Candidate>) {
        let n = self.len();
        let visit = scan
            .filter
            .postcode
            .and_then(|(lo, hi)| self.postcode_visit(lo, hi));
        let parts: Vec<ChunkResult> = match visit {
            Some(buckets) => buckets
                .into_par_iter()
                .flat_map_iter(|b| b.chunks(VISIT_CHUNK))
                .map(|students| self.visit_chunk(students, scan, mode))
                .collect(),
            None => (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| self.scan_chunk(c * CHUNK, n.min((c + 1) * CHUNK), scan, mode))
                .collect(),
        };

        let total = parts.iter().map(|p| p.0).sum();
        let bound = parts.iter().map(|p| p.1).min().unwrap_or(NO_BOUND);
        let hits = parts
            .into_iter()
            .flat_map(|p| p.2)
            .filter(|c| c.0 <= bound)
            .collect();
        (total, hits)
    }
}

/// How many leading bytes of `last ‖ 0 ‖ first` every student with this sort key has in
/// common: the name codes the key holds in full, up to the first code that stands for
/// several bytes (codes before it stand for one byte each, so equal codes are equal bytes).
fn shared_name_bytes(sort: Sort, key: u64) -> usize {
    let (name, whole_codes) = match sort {
        Sort::Name => (key, 10),
        Sort::NameDesc => (!key, 10),
        Sort::Postcode => (key << 14, 8),
        Sort::Default => (key << 18, 7),
        Sort::RegisteredDesc => return 0,
    };
    let single = NAME_CODES.1;
    (0..whole_codes)
        .take_while(|j| single[((name >> (58 - 6 * j)) & 63) as usize])
        .count()
}

/// How many visited students one rayon task takes.
const VISIT_CHUNK: usize = 4096;

/// One past the largest postcode.
const POSTCODES: usize = 10_000;

/// Below one student in this many, a postcode filter visits its postcodes' students rather
/// than scanning everyone: visiting a student costs about what scanning 20 to 30 does (a few
/// cache misses), measured on the benchmark cohort.
const POSTCODE_VISIT_RATIO: usize = 32;

/// Below one selected student in this many of a chunk, a name filter searches each selected
/// student's names rather than sweeping all names of the chunk.
const NAME_SWEEP_RATIO: usize = 8;

/// What a chunk keeps of its matches: their count, and the candidates that can still reach
/// the page.
///
/// With `Bound::TopK` the bound starts open and tightens each time the candidates reach
/// `prune_at`: the k-th smallest rank among them becomes the bound and the rest are dropped.
/// Linear in the matches whatever their order (a heap would pay log k for every match of an
/// order that arrives sorted the wrong way round).
struct ChunkTop {
    k: usize,
    count: usize,
    candidates: Vec<Candidate>,
    bound: Rank,
    fixed: bool,
    prune_at: usize,
}

impl ChunkTop {
    fn new(k: usize, mode: Bound) -> ChunkTop {
        let (bound, fixed) = match mode {
            Bound::Fixed(b) => (b, true),
            Bound::TopK => (NO_BOUND, false),
        };
        ChunkTop {
            k,
            count: 0,
            candidates: Vec::new(),
            bound,
            fixed,
            prune_at: k.saturating_mul(2).max(k.saturating_add(BLOCK)),
        }
    }

    /// Takes the matches `part` (at most a block of them).
    #[inline]
    fn take(&mut self, cols: &Columns, sort: Sort, part: &[u32]) {
        self.count += part.len();
        if self.k == 0 {
            return;
        }
        for &i in part {
            let rank = cols.rank(sort, i as usize);
            if rank <= self.bound {
                self.candidates.push((rank, i));
            }
        }

        if !self.fixed && self.candidates.len() >= self.prune_at {
            self.bound = kth_rank(&mut self.candidates, self.k);
            let bound = self.bound;
            self.candidates.retain(|c| c.0 <= bound);
            if self.candidates.len() >= self.prune_at {
                // Many ties at the bound: give the buffer room rather than prune again.
                self.prune_at = self.prune_at.saturating_mul(2);
            }
        }
    }

    fn finish(mut self) -> ChunkResult {
        if !self.fixed {
            self.bound = if self.k > 0 && self.candidates.len() >= self.k {
                kth_rank(&mut self.candidates, self.k)
            } else {
                NO_BOUND
            };
        }
        let bound = self.bound;
        self.candidates.retain(|c| c.0 <= bound);
        (self.count, self.bound, self.candidates)
    }
}

/// From how many candidates [`Columns::sort_candidates`] sorts by rank on every core first.
const PARALLEL_SORT: usize = 1 << 14;

/// How a chunk decides which matches to keep as candidates.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// Keep the `k` smallest keys of the chunk (and their ties).
    TopK,
    /// Keep every key up to this one.
    Fixed(Rank),
}

/// What one chunk returns: its match count, its key bound and its candidates.
type ChunkResult = (usize, Rank, Vec<Candidate>);

/// The `k`-th smallest rank among `candidates` (which must hold at least `k` > 0 of them);
/// reorders them.
fn kth_rank(candidates: &mut [Candidate], k: usize) -> Rank {
    let (_, kth, _) = candidates.select_nth_unstable_by_key(k - 1, |c| c.0);
    kth.0
}

/// One query's inputs, shared by the chunk scans.
struct Scan<'a> {
    rule: &'a Rule,
    tab: Tab,
    filter: &'a Filter,
    finder: Option<&'a memmem::Finder<'a>>,
    sort: Sort,
    /// How many of the first matches the page needs: `offset + limit`.
    k: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_keep_the_name_order() {
        let names = [
            ("", "a"),
            ("ab", "z"),
            ("ab", "zz"),
            ("abc", ""),
            ("d'hondt", "an"),
            ("de smet", "jan"),
            ("desmet", "an"),
            ("el amrani", "ines"),
            ("peeters", "noor"),
            ("peeters", "noortje"),
            ("peetersen", "a"),
            ("van damme", "zoe"),
            ("zz", "a"),
            ("ærø", "a"),
            ("øberg", "a"),
        ];
        assert!(name_key("d'z", "") <= name_key("d-a", ""));
        assert!(name_key("бойко", "") <= name_key("яр", ""));
        for w in names.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert!((a.0, a.1) < (b.0, b.1), "test data out of order");
            assert!(name_key(a.0, a.1) <= name_key(b.0, b.1), "{a:?} {b:?}");
        }
        assert!(name_key("maes", "noor") < name_key("maes", "nora"));
    }

    /// Columns holding students with these (last, first) names, in order.
    fn columns_of(names: &[(&str, &str)]) -> Columns {
        use crate::ids::{SchoolId, StudentId};
        let cm = crate::calendar::Calendar::default().to_micros();
        let mut rng = crate::synth::Rng::new(1);
        let mut cols = Columns::default();
        for (i, (last, first)) in names.iter().enumerate() {
            let mut new = crate::synth::student(&mut rng, &[]);
            new.last_name = (*last).into();
            new.first_name = (*first).into();
            let data = new.validate().unwrap();
            let s = Student {
                id: StudentId::from_index(i),
                school: SchoolId(1),
                registered_micros: 0,
                data,
            };
            cols.push(&s, &cm);
        }
        cols
    }

    #[test]
    fn name_search_finds_matches_that_overlap_a_rejected_straddle() {
        // The arena reads "de wilde|eefje|x|marie|eeckhout|an|peeters|ee".
        let cols = columns_of(&[
            ("De Wilde", "Eefje"),
            ("X", "Marie"),
            ("Eeckhout", "An"),
            ("Peeters", "Ee"),
        ]);
        let finder = memmem::Finder::new(b"ee");
        let bits = cols.name_hits(0, cols.len(), &finder);
        let hits: Vec<usize> = (0..cols.len())
            .filter(|j| bits[0] & (1 << j) != 0)
            .collect();
        assert_eq!(hits, vec![0, 2, 3]);
        for j in 0..cols.len() {
            assert_eq!(cols.passes_name(j, &finder), hits.contains(&j), "{j}");
        }
    }

    proptest::proptest! {
        #[test]
        fn name_keys_are_monotone(
            a in ("[a-z0-9' .æøяб-]{0,12}", "[a-z0-9' .æøяб-]{0,12}"),
            b in ("[a-z0-9' .æøяб-]{0,12}", "[a-z0-9' .æøяб-]{0,12}"),
        ) {
            let order = (a.0.as_bytes(), a.1.as_bytes()).cmp(&(b.0.as_bytes(), b.1.as_bytes()));
            let (ka, kb) = (name_key(&a.0, &a.1), name_key(&b.0, &b.1));
            match order {
                Ordering::Less => proptest::prop_assert!(ka <= kb, "{a:?} {b:?}"),
                Ordering::Greater => proptest::prop_assert!(ka >= kb, "{a:?} {b:?}"),
                Ordering::Equal => proptest::prop_assert_eq!(ka, kb),
            }
        }
    }

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

    /// Three chunks of synthetic students, many sharing names and registration moments, so
    /// that chunk bounds and key ties are exercised; every order and page against a plain
    /// filter and full sort.
    #[test]
    fn chunked_top_k_equals_a_full_sort() {
        use crate::calendar::{Calendar, micros};
        use crate::ids::{SchoolId, ServiceId, StudentId};
        use crate::synth::{Rng, student};

        let cal = Calendar::default();
        let cm = cal.to_micros();
        let services = [
            (ServiceId(1), Province::Antwerp),
            (ServiceId(2), Province::Limburg),
        ];
        let mut rng = Rng::new(3);
        let mut cols = Columns::default();
        let base = micros(crate::calendar::brussels(2025, 6, 1, 9, 0).unwrap());
        for i in 0..(4 * CHUNK + 1234) {
            let data = student(&mut rng, &services).validate().unwrap();
            let registered = base + (i as i64 / 1000) * 60_000_000;
            let s = Student {
                id: StudentId::from_index(i),
                school: SchoolId(1),
                registered_micros: registered,
                data,
            };
            cols.push(&s, &cm);
            if i % 7 == 0 {
                cols.set_accepted(i, 1 + (i % 2) as u32, base);
            }
        }

        let t = micros(crate::calendar::brussels(2025, 9, 25, 9, 0).unwrap());
        let rule = Rule::new(&cm, ServiceId(1), Province::Antwerp, t);
        let queries = [
            Query::default(),
            Query {
                provinces: vec![Province::EastFlanders],
                ..Query::default()
            },
            Query {
                name: Some("ee".into()),
                ..Query::default()
            },
            Query {
                tab: Tab::Accepted,
                ..Query::default()
            },
        ];
        for q in queries {
            let f = Filter::compile(&q, &["School".to_owned()]).unwrap();
            let contains = |hay: &[u8], needle: &str| {
                hay.windows(needle.len()).any(|w| w == needle.as_bytes())
            };
            let all: Vec<usize> = (0..cols.len())
                .filter(|i| cols.in_tab(*i, &rule, q.tab))
                .filter(|i| {
                    q.provinces.is_empty()
                        || q.provinces.iter().any(|p| *p as u8 == cols.province[*i])
                })
                .filter(|i| {
                    q.name.as_deref().is_none_or(|n| {
                        contains(cols.last_name(*i), n) || contains(cols.first_name(*i), n)
                    })
                })
                .collect();
            for sort in Sort::ALL {
                let mut sorted = all.clone();
                sorted.sort_by(|a, b| cols.compare(sort, *a, *b));
                for (offset, limit) in [
                    (0, 50),
                    (0, 1),
                    (999, 37),
                    (2_000, 50),
                    (20_000, 50),
                    (0, 0),
                    (0, usize::MAX),
                    (3, usize::MAX),
                ] {
                    let (total, page) = cols.query(&rule, q.tab, &f, sort, offset, limit);
                    let want: Vec<u32> = sorted
                        .iter()
                        .skip(offset)
                        .take(limit)
                        .map(|i| *i as u32)
                        .collect();
                    assert_eq!(total, all.len());
                    assert_eq!(page, want, "{sort} {offset} {limit} {q:?}");

                    // A bound guessed too low falls back to the top-k scan and stays exact.
                    let k = if limit == 0 {
                        0
                    } else {
                        offset.saturating_add(limit)
                    };
                    let finder = f.name.as_deref().map(|n| memmem::Finder::new(n.as_bytes()));
                    let scan = Scan {
                        rule: &rule,
                        tab: q.tab,
                        filter: &f,
                        finder: finder.as_ref(),
                        sort,
                        k,
                    };
                    let forced = cols.query_with_guess(&scan, Some((0, 0)), offset, limit);
                    assert_eq!(forced, (all.len(), want));
                }
            }
        }
    }

    /// An export's sort (every student, sorted by rank on both cores, then runs of equal
    /// ranks by their names) against the exact comparison, on names built to tie: long shared
    /// prefixes, accents before and after the key's end, names that differ only far in,
    /// identical names, one-letter first names.
    #[test]
    fn large_sorts_order_runs_of_equal_ranks_by_name() {
        let stems = [
            "Vandenbroucke",
            "Vandenbroeck",
            "Van den Broeck",
            "Vandenbroucke-Ëlsen",
            "Peeters",
            "Peetersen",
            "De Smedt",
            "Desmedt",
            "Dubois",
            "Dubois-Lefèvre",
            "Ångström",
            "Øberg",
            "Vanderstraetenmaes",
        ];
        let firsts = [
            "A",
            "An",
            "Anna",
            "Annabel",
            "Annabella",
            "Annabelle",
            "Anaïs",
            "Zoë",
            "Marie-Louise",
            "Marie-Lou",
            "Marie-Louise-Joséphine",
            "Marie-Louise-Josefien",
            "Jean-Baptiste",
            "Jean-Baptiste Émile",
        ];
        let mut rng = crate::synth::Rng::new(11);
        let names: Vec<(String, String)> = (0..PARALLEL_SORT + 3_000)
            .map(|_| {
                let stem = stems[rng.below(stems.len() as u64) as usize];
                let first = firsts[rng.below(firsts.len() as u64) as usize];
                (stem.to_owned(), first.to_owned())
            })
            .collect();
        let refs: Vec<(&str, &str)> = names
            .iter()
            .map(|(l, f)| (l.as_str(), f.as_str()))
            .collect();
        let cols = columns_of(&refs);

        for sort in Sort::ALL {
            let mut page: Vec<Candidate> = (0..cols.len())
                .map(|i| (cols.rank(sort, i), i as u32))
                .collect();
            let mut want = page.clone();
            want.sort_by(|a, b| cols.compare(sort, a.1 as usize, b.1 as usize));

            cols.sort_candidates(&mut page, sort);
            let got: Vec<u32> = page.iter().map(|c| c.1).collect();
            let want: Vec<u32> = want.iter().map(|c| c.1).collect();
            assert_eq!(got, want, "{sort}");
        }
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
