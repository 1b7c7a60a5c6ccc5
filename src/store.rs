//! The store: one redb database, and the only module that touches it.
//!
//! Layout: a `meta` table with the format version and the calendar; one table per kind
//! (services, schools, contacts, students) keyed by dense id; the audit log of decisions
//! keyed by sequence number; the placements of accepted students keyed by student. Values
//! are postcard-encoded records. Beside redb, the store keeps in memory what queries need
//! (the directory, the [query columns](crate::query), and the status history of every
//! (service, student) pair), rebuilt from the file on open.
//!
//! Invariants:
//!
//! - Every write is one redb transaction, committed durably (`Durability::Immediate`) before
//!   the call returns; all checks run before the transaction commits, so a failed call
//!   leaves the file and the memory exactly as they were.
//! - Writers are serialised by one mutex held from the first check to the memory update, and
//!   the memory is updated under the write half of an `RwLock` after the commit. A reader
//!   therefore sees a decision entirely or not at all, and never sees one that is not
//!   durable.
//! - Accept is exactly-once: the check that nobody accepted the student and the commit of
//!   the accept happen under the writer mutex, so of two services racing, the second sees
//!   the first's accept and gets [`Error::AlreadyPlaced`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod session;

pub use session::Session;

use crate::account;
use crate::calendar::{
    Calendar, CalendarMicros, CalendarRecord, Micros, Phase, from_micros, micros,
};
use crate::decision::{
    AuditEntry, Decision, Placement, Status, StatusCount, accepted_periods, check_transition,
};
use crate::directory::{Contact, NewContact, School, Service};
use crate::error::{Error, Result};
use crate::ids::{ContactId, SchoolId, ServiceId, StudentId};
use crate::query::{Columns, Filter, MAX_PARTIES, Query};
use crate::stats::{RoundStat, round_stats, status_as_of};
use crate::student::{
    MAX_NAME, NationalNumber, NewStudent, Period, Postcode, Province, Student, StudentRef,
    Supervisor, Track, Transport, Weekday,
};
use crate::text::{fold, optional_text, required_text};
use crate::visibility::{Rule, Tab};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const SERVICES: TableDefinition<u32, &[u8]> = TableDefinition::new("services");
const SCHOOLS: TableDefinition<u32, &[u8]> = TableDefinition::new("schools");
const CONTACTS: TableDefinition<u32, &[u8]> = TableDefinition::new("contacts");
const STUDENTS: TableDefinition<u32, &[u8]> = TableDefinition::new("students");
const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
const PLACEMENTS: TableDefinition<u32, &[u8]> = TableDefinition::new("placements");
const LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("logins");
const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tokens");
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

const FORMAT_KEY: &str = "format_version";
const CALENDAR_KEY: &str = "calendar";
/// The check value of the store's key (absent in a store without a key).
const KEY_CHECK_KEY: &str = "key_check";
/// The random salt of national number digests in a store without a key.
const DIGEST_SALT_KEY: &str = "digest_salt";

/// What the store keeps in memory beside the file.
struct State {
    calendar: Calendar,
    cal: CalendarMicros,
    services: Vec<Service>,
    schools: Vec<School>,
    contacts: Vec<Contact>,
    columns: Columns,
    /// Status changes per (service, student) number, in the order they were made.
    pairs: HashMap<(u32, u32), Vec<(Micros, Status)>>,
    /// The moment of the latest decision about each student (by student number).
    last_decision: HashMap<u32, Micros>,
    audit_len: u64,
    /// Logins by email address (lower case).
    logins: HashMap<String, account::LoginRecord>,
    /// Outstanding invitation and reset tokens, by digest.
    tokens: HashMap<[u8; 32], account::TokenRecord>,
    /// The login of each current session, by the digest of its token.
    sessions: HashMap<[u8; 32], String>,
    /// The key of the next message of the outbox.
    outbox_next: u64,
    /// The student number of each national register number, by its digest's first 8 bytes.
    digests: Digests,
}

/// A student picked by a query: its id, this service's status, and whether the service may
/// see its personal data.
type Picked = (StudentId, Status, bool);

/// A page of a tab: the matches before paging, and the rows of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// How many students matched the query before paging.
    pub total: usize,
    /// The students of the requested page, in order.
    pub rows: Vec<StudentCard>,
}

/// A student as one service sees it at one moment.
///
/// `national_number`, `email`, `phone` and the supervisor's email and phone are `None`
/// unless this service's status for the student is `invited` or `accepted`.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentCard {
    /// Id.
    pub id: StudentId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// The registering school.
    pub school: SchoolId,
    /// The school's name.
    pub school_name: String,
    /// Street and number.
    pub street: String,
    /// Postcode.
    pub postcode: Postcode,
    /// City.
    pub city: String,
    /// Province (from the postcode).
    pub province: Province,
    /// Means of transport.
    pub transport: Vec<Transport>,
    /// Track.
    pub track: Track,
    /// This service's status for the student, as of the moment asked about.
    pub status: Status,
    /// When the school registered the student.
    pub registered_at: DateTime<Utc>,
    /// Form of the placement.
    pub form: String,
    /// Hours per week.
    pub hours_per_week: f64,
    /// Total hours.
    pub total_hours: f64,
    /// Periods.
    pub periods: Vec<Period>,
    /// Working days (dual).
    pub days: Vec<Weekday>,
    /// Preferred service.
    pub preferred_service: Option<ServiceId>,
    /// Remarks.
    pub remarks: Option<String>,
    /// The supervisor; email and phone only where personal data is allowed.
    pub supervisor: Option<Supervisor>,
    /// National register number (personal data).
    pub national_number: Option<NationalNumber>,
    /// Email (personal data).
    pub email: Option<String>,
    /// Phone (personal data).
    pub phone: Option<String>,
    /// The placement, when this service accepted the student.
    pub placement: Option<Placement>,
}

/// A placement season on an embedded redb store. `Store` is `Send + Sync`: share it across
/// threads with an `Arc`.
///
/// ```
/// use stagematch_core::{brussels, Province, Query, Store};
///
/// let store = Store::memory()?;
/// let svc = store.add_service("Familiehulp Gent", Province::EastFlanders)?;
/// let page = store.students(svc, &Query::default(), brussels(2025, 9, 20, 9, 0)?)?;
/// assert_eq!(page.total, 0);
/// # Ok::<(), stagematch_core::Error>(())
/// ```
pub struct Store {
    db: Database,
    writer: Mutex<()>,
    state: RwLock<State>,
    /// A fixed "now" for sessions and tokens (tests, replays); `None` is the system clock.
    clock: RwLock<Option<DateTime<Utc>>>,
    /// Failed sign-ins per email address (known or not): how many, and the latest.
    failures: Mutex<HashMap<String, (u32, Micros)>>,
    /// The latest use of each session not yet written to the file, per login.
    seen: Mutex<HashMap<String, Micros>>,
    /// Held (shared) by a session operation from its session check to its end, and
    /// (exclusively) by whatever ends sessions, so that no operation runs on a session that
    /// ended after it was checked. Always taken before the writer lock.
    gate: RwLock<()>,
    /// Seals, opens and digests national register numbers.
    vault: crate::personal::Vault,
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| Error::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    Ok(postcard::from_bytes(bytes)?)
}

/// A decision checked and ready to be written.
struct Planned {
    entry: AuditEntry,
    placement: Option<Placement>,
}

/// What a batch of decisions changed before the decision being checked: the batch's service's
/// latest status per student.
#[derive(Default)]
struct Overlay {
    status: HashMap<u32, Status>,
}

/// Rows an import converts at a time: large enough to keep two threads busy, small enough
/// that a batch in flight stays a few megabytes.
const IMPORT_BATCH: usize = 8192;

/// Students converted from one batch of CSV rows, ready for the file and the query columns.
#[derive(Default)]
struct ConvertedBatch {
    /// The index of the batch's first student.
    first: usize,
    /// The students' encoded records, one after the other.
    bytes: Vec<u8>,
    /// Where each record ends in `bytes`.
    ends: Vec<usize>,
    columns: Columns,
    /// The batch's bad rows; once there is one, nothing more is encoded.
    errors: Vec<crate::error::RowError>,
    /// The national register numbers: student number, line, digest.
    numbers: Vec<(u32, u64, [u8; 32])>,
}

impl ConvertedBatch {
    fn append(&mut self, mut other: ConvertedBatch) {
        let base = self.bytes.len();
        self.bytes.append(&mut other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
        self.columns.append(other.columns);
        self.errors.append(&mut other.errors);
        self.numbers.append(&mut other.numbers);
    }
}

/// Validates and encodes one batch of rows on rayon's threads, in chunks, keeping row order.
fn convert_batch<F: Fn(&str) -> Option<ServiceId> + Sync>(
    converter: &crate::csv::RowConverter<F>,
    rows: &[crate::csv::RawRow],
    first: usize,
    school: SchoolId,
    at: Micros,
    cal: &CalendarMicros,
    vault: &crate::personal::Vault,
) -> ConvertedBatch {
    use rayon::prelude::*;

    const CHUNK: usize = 512;
    let parts: Vec<ConvertedBatch> = rows
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut part = ConvertedBatch {
                first: first + c * CHUNK,
                ..ConvertedBatch::default()
            };
            for (k, (line, raw)) in chunk.iter().enumerate() {
                let data = match raw {
                    Ok(record) => converter.convert(*line, record),
                    Err(e) => Err(e.clone()),
                };
                let mut data = match data {
                    Ok(data) if part.errors.is_empty() => data,
                    Ok(_) => continue,
                    Err(e) => {
                        part.errors.push(e);
                        continue;
                    }
                };

                let id = StudentId::from_index(part.first + k);
                let mut number_trailer = None;
                if let Some(n) = data.national_number.take() {
                    match stored_number(vault, id.0, n.digits()) {
                        Ok(stored) => {
                            // A trailer starts with its 32-byte digest (`stored_number`).
                            let digest = digest_of(&stored).unwrap_or_default();
                            part.numbers.push((id.0, *line, digest));
                            number_trailer = Some(stored);
                        }
                        Err(e) => {
                            part.errors.push(crate::error::RowError {
                                line: *line,
                                column: "national_number".into(),
                                value: String::new(),
                                reason: e.to_string(),
                            });
                            continue;
                        }
                    }
                }
                let student = Student {
                    id,
                    school,
                    registered_micros: at,
                    data,
                };
                match postcard::to_extend(&student, std::mem::take(&mut part.bytes)) {
                    Ok(mut bytes) => {
                        if let Some(stored) = &number_trailer {
                            bytes.extend_from_slice(stored);
                        }
                        part.bytes = bytes;
                    }
                    Err(e) => {
                        part.errors.push(crate::error::RowError {
                            line: *line,
                            column: String::new(),
                            value: String::new(),
                            reason: format!("cannot be stored: {e}"),
                        });
                        continue;
                    }
                }
                part.ends.push(part.bytes.len());
                part.columns.push(&student, cal);
            }
            part
        })
        .collect();

    let mut whole = ConvertedBatch {
        first,
        ..ConvertedBatch::default()
    };
    for part in parts {
        whole.append(part);
    }
    whole
}

/// The cards of `picked` as `service` sees them, read in `txn`.
fn cards_in(
    txn: &redb::ReadTransaction,
    vault: &crate::personal::Vault,
    service: ServiceId,
    picked: &[Picked],
    school_names: &[String],
) -> Result<Vec<StudentCard>> {
    let students = txn.open_table(STUDENTS)?;
    let placements = txn.open_table(PLACEMENTS)?;

    let mut cards = Vec::with_capacity(picked.len());
    for &(id, status, personal) in picked {
        let value = students.get(id.0)?.ok_or_else(|| Error::NotFound {
            what: "student",
            id: id.to_string(),
        })?;
        let mut s: Student = decode(value.value())?;
        if personal {
            s.data.national_number = number_of(vault, id.0, value.value())?;
        }

        let placement = if status == Status::Accepted {
            placements
                .get(id.0)?
                .map(|v| decode::<Placement>(v.value()))
                .transpose()?
                .filter(|p| p.service == service)
        } else {
            None
        };

        let d = s.data;
        let supervisor = d.supervisor.map(|sup| Supervisor {
            name: sup.name,
            email: sup.email.filter(|_| personal),
            phone: sup.phone.filter(|_| personal),
        });
        cards.push(StudentCard {
            id,
            first_name: d.first_name,
            last_name: d.last_name,
            school: s.school,
            school_name: school_names
                .get(s.school.index_usize())
                .cloned()
                .unwrap_or_default(),
            street: d.street,
            province: d.postcode.province(),
            postcode: d.postcode,
            city: d.city,
            transport: d.transport.to_vec(),
            track: d.track,
            status,
            registered_at: from_micros(s.registered_micros),
            form: d.form,
            hours_per_week: d.hours_per_week,
            total_hours: d.total_hours,
            periods: d.periods,
            days: d.days,
            preferred_service: d.preferred_service,
            remarks: d.remarks,
            supervisor,
            national_number: d.national_number.filter(|_| personal),
            email: d.email.filter(|_| personal),
            phone: d.phone.filter(|_| personal),
            placement,
        });
    }
    Ok(cards)
}

/// The digest of [`Store::digest`], over the tables of `db`.
fn digest_database(db: &Database) -> Result<[u8; 32]> {
    use sha2::Digest;

    let txn = db.begin_read()?;
    let mut hash = sha2::Sha256::new();
    digest_table(&txn, META, &mut hash)?;
    digest_table(&txn, SERVICES, &mut hash)?;
    digest_table(&txn, SCHOOLS, &mut hash)?;
    digest_table(&txn, CONTACTS, &mut hash)?;
    digest_table(&txn, STUDENTS, &mut hash)?;
    digest_table(&txn, AUDIT, &mut hash)?;
    digest_table(&txn, PLACEMENTS, &mut hash)?;
    digest_table(&txn, LOGINS, &mut hash)?;
    digest_table(&txn, TOKENS, &mut hash)?;
    digest_table(&txn, OUTBOX, &mut hash)?;
    Ok(hash.finalize().into())
}

/// Feeds one table to a digest: its name, its length, and every key and value with their
/// lengths, in key order; a table that does not exist yet counts as empty.
fn digest_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    def: TableDefinition<K, V>,
    hash: &mut sha2::Sha256,
) -> Result<()> {
    use redb::TableHandle;
    use sha2::Digest;

    let mut feed = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    feed(def.name().as_bytes());
    let table = match txn.open_table(def) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => {
            feed(&0u64.to_le_bytes());
            return Ok(());
        }
        Err(e) => return Err(redb::Error::from(e).into()),
    };
    feed(&table.len()?.to_le_bytes());
    for item in table.iter()? {
        let (key, value) = item?;
        feed(K::as_bytes(&key.value()).as_ref());
        feed(V::as_bytes(&value.value()).as_ref());
    }
    Ok(())
}

/// National register numbers in memory: the first 8 bytes of each one's keyed digest, and
/// the student who has it. The keys are HMAC outputs (or salted digests), as evenly spread
/// as any hash of them would be, so they are their own hash.
type Digests = HashMap<u64, u32, std::hash::BuildHasherDefault<PrefixHasher>>;

/// The hasher of [`Digests`]: the key as it is.
#[derive(Default)]
struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Reads every student into the query columns, and the digest prefixes of their national
/// register numbers. A pipeline like the import's: this thread copies the next batch of
/// records out of the file while rayon's threads decode the last one (borrowing the texts,
/// not copying them) into columns of their own, which are then appended in id order.
fn load_students(
    table: &redb::ReadOnlyTable<u32, &'static [u8]>,
    cal: &CalendarMicros,
) -> Result<(Columns, Digests)> {
    const BATCH: usize = 1 << 15;

    let mut columns = Columns::indexed();
    let mut digests = Digests::with_capacity_and_hasher(
        usize::try_from(table.len()?).unwrap_or(0),
        Default::default(),
    );
    let mut records = table.iter()?;
    let mut fill = |batch: &mut RecordBatch| -> Result<bool> {
        batch.bytes.clear();
        batch.ends.clear();
        for item in records.by_ref().take(BATCH) {
            let (_, value) = item?;
            batch.bytes.extend_from_slice(value.value());
            batch.ends.push(batch.bytes.len());
        }
        Ok(!batch.ends.is_empty())
    };

    let mut batch = RecordBatch::default();
    let mut next = RecordBatch::default();
    let mut more = fill(&mut batch)?;
    while more {
        let first = columns.len();
        let mut decoded = None;
        let filled = rayon::in_place_scope(|scope| {
            let (batch, decoded) = (&batch, &mut decoded);
            scope.spawn(move |_| *decoded = Some(batch.decode(first, cal)));
            fill(&mut next)
        });
        let parts = decoded.ok_or_else(|| Error::Corrupt("a batch was not decoded".into()))??;
        for (part, numbers) in parts {
            columns.append(part);
            for (prefix, id) in numbers {
                digests.entry(prefix).or_insert(id);
            }
        }
        std::mem::swap(&mut batch, &mut next);
        more = filled?;
    }
    Ok((columns, digests))
}

/// Stored student records, one after the other, and where each ends.
#[derive(Default)]
struct RecordBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// What one chunk of a [`RecordBatch`] becomes: its columns, and the digest prefix and
/// student number of each national register number.
type DecodedChunk = (Columns, Vec<(u64, u32)>);

impl RecordBatch {
    /// Decodes the records, the first of which must be student index `first`, on rayon's
    /// threads, in chunks that keep the order.
    fn decode(&self, first: usize, cal: &CalendarMicros) -> Result<Vec<DecodedChunk>> {
        use rayon::prelude::*;

        const CHUNK: usize = 2048;
        let starts: Vec<usize> = (0..self.ends.len()).step_by(CHUNK).collect();
        starts
            .par_iter()
            .map(|&lo| {
                let hi = (lo + CHUNK).min(self.ends.len());
                let mut columns = Columns::default();
                let mut numbers = Vec::new();
                for k in lo..hi {
                    let begin = if k == 0 { 0 } else { self.ends[k - 1] };
                    let value = &self.bytes[begin..self.ends[k]];
                    let (s, rest) =
                        postcard::take_from_bytes::<crate::student::StudentColumnsRef<'_>>(value)?;
                    if s.id.index() != first + k {
                        return Err(Error::Corrupt(format!(
                            "student ids are not dense at {}",
                            s.id
                        )));
                    }
                    let text = |b| {
                        std::str::from_utf8(b)
                            .map_err(|_| Error::Corrupt(format!("{}: a name is not UTF-8", s.id)))
                    };
                    columns.push_facts(
                        &crate::query::ColumnFacts {
                            last_name: text(s.data.last_name)?,
                            first_name: text(s.data.first_name)?,
                            registered: s.registered_micros,
                            track: s.data.track,
                            preferred: s.data.preferred_service.map_or(0, |p| p.get()),
                            school: s.school.get(),
                            postcode: s.data.postcode,
                            transport: s.data.transport,
                        },
                        cal,
                    );
                    if !rest.is_empty() {
                        numbers.push((digest_prefix(&digest_of(rest)?), s.id.0));
                    }
                }
                Ok((columns, numbers))
            })
            .collect()
    }
}

/// How much wider than its number of students the id range of an export chunk may be for the
/// chunk to be read by one walk over the range rather than a lookup per student.
const DENSE_SPAN: usize = 8;

/// Renders `items` (in `key` order, the file's, for locality) on rayon's threads and writes the
/// rows to `out` in the items' own order, a window at a time so that memory stays bounded
/// (two windows of rendered rows, some 50 MB, at most). `render` writes one row per item of
/// its chunk into the writer, marking the end of each. This thread writes a window to `out`
/// while another renders the next one, so the copy into `out` costs no time of its own.
fn write_reordered<T: Copy + Send + Sync, W: std::io::Write>(
    delimiter: u8,
    items: &[T],
    key: impl Fn(&T) -> u32 + Sync,
    out: &mut W,
    render: impl Fn(&[T], &mut crate::csv::RowWriter) -> Result<()> + Sync,
) -> Result<()> {
    const WINDOW: usize = 1 << 17;

    let mut windows = items.chunks(WINDOW);
    let Some(first) = windows.next() else {
        return Ok(());
    };
    let mut ready = render_window(delimiter, first, &key, &render)?;
    for window in windows {
        let (next, written) = std::thread::scope(|scope| {
            let next = scope.spawn(|| render_window(delimiter, window, &key, &render));
            let written = ready.write_to(out);
            (next.join(), written)
        });
        written?;
        // A panic while rendering is a bug: it goes on here, where it would have happened.
        ready = next.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    }
    ready.write_to(out)?;
    Ok(())
}

/// One window of rendered rows: the rows in the file's order, and where each row of the
/// window's own order landed.
struct RenderedWindow {
    buffers: Vec<(Vec<u8>, Vec<usize>)>,
    /// Per row of the window, in its order: (buffer, start, end).
    place: Vec<(u32, usize, usize)>,
}

impl RenderedWindow {
    /// Writes the rows in the window's order.
    fn write_to<W: std::io::Write>(&self, out: &mut W) -> Result<()> {
        for &(c, start, end) in &self.place {
            out.write_all(&self.buffers[c as usize].0[start..end])?;
        }
        Ok(())
    }
}

/// Renders one window of [`write_reordered`]: sorted by `key`, in chunks on rayon's threads.
fn render_window<T: Copy + Send + Sync>(
    delimiter: u8,
    window: &[T],
    key: &(impl Fn(&T) -> u32 + Sync),
    render: &(impl Fn(&[T], &mut crate::csv::RowWriter) -> Result<()> + Sync),
) -> Result<RenderedWindow> {
    use rayon::prelude::*;

    const CHUNK: usize = 2048;
    let mut order: Vec<u32> = (0..window.len() as u32).collect();
    order.sort_unstable_by_key(|&k| key(&window[k as usize]));
    let sorted: Vec<T> = order.iter().map(|&k| window[k as usize]).collect();

    let rendered: Vec<Result<crate::csv::RowWriter>> = sorted
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut rows = crate::csv::RowWriter::for_tab(delimiter);
            render(chunk, &mut rows)?;
            Ok(rows)
        })
        .collect();
    let mut buffers = Vec::with_capacity(rendered.len());
    for r in rendered {
        buffers.push(r?.into_marked()?);
    }

    // Where each row of the window landed: sorted position k is chunk k / CHUNK.
    let mut place = vec![(0u32, 0usize, 0usize); window.len()];
    for (k, &pos) in order.iter().enumerate() {
        let ends = &buffers[k / CHUNK].1;
        let j = k % CHUNK;
        let start = if j == 0 { 0 } else { ends[j - 1] };
        place[pos as usize] = ((k / CHUNK) as u32, start, ends[j]);
    }
    Ok(RenderedWindow { buffers, place })
}

/// Renders `items` in chunks on rayon's threads and writes the chunks to `out` in order, a
/// window of chunks at a time so that memory stays a few megabytes whatever the export's size.
fn write_in_order<T: Sync, W: std::io::Write>(
    items: &[T],
    out: &mut W,
    render: impl Fn(&[T]) -> Result<Vec<u8>> + Sync,
) -> Result<()> {
    use rayon::prelude::*;

    const CHUNK: usize = 2048;
    let window = CHUNK * 4 * rayon::current_num_threads().max(1);
    for part in items.chunks(window) {
        let rendered: Vec<Result<Vec<u8>>> = part.par_chunks(CHUNK).map(&render).collect();
        for bytes in rendered {
            out.write_all(&bytes?)?;
        }
    }
    Ok(())
}

/// A student's value in the file is its record (postcard) and, if it has a national register
/// number, a trailer: the number's keyed digest (32 bytes), then the number sealed (or in
/// clear in a store without a key). The record never holds the number itself.
fn trailer(value: &[u8]) -> Result<&[u8]> {
    let (_, rest) = postcard::take_from_bytes::<StudentRef<'_>>(value)?;
    Ok(rest)
}

/// The national register number in a student's trailer.
fn number_in(
    vault: &crate::personal::Vault,
    id: u32,
    trailer: &[u8],
) -> Result<Option<NationalNumber>> {
    if trailer.is_empty() {
        return Ok(None);
    }

    let sealed = trailer.get(32..).unwrap_or_default();
    let digits = vault.open(id, sealed)?;
    digits
        .parse()
        .map(Some)
        .map_err(|_| Error::Corrupt(format!("the national register number of stu-{id}")))
}

/// The national register number of a student's value in the file.
fn number_of(
    vault: &crate::personal::Vault,
    id: u32,
    value: &[u8],
) -> Result<Option<NationalNumber>> {
    number_in(vault, id, trailer(value)?)
}

/// The trailer of a number: its keyed digest, then the number sealed (or in clear).
fn stored_number(vault: &crate::personal::Vault, id: u32, digits: &str) -> Result<Vec<u8>> {
    let mut out = vault.digest(digits).to_vec();
    out.extend(vault.seal(id, digits)?);
    Ok(out)
}

/// The digest at the start of a trailer.
fn digest_of(trailer: &[u8]) -> Result<[u8; 32]> {
    trailer
        .get(..32)
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| Error::Corrupt("a stored national register number is too short".into()))
}

/// The first 8 bytes of a digest: its key in memory.
fn digest_prefix(digest: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// The student number that has the number of `digest`, if any: looked up in memory by its
/// prefix and confirmed against the whole digest in the file.
fn holder_of(
    digests: &Digests,
    students: &impl ReadableTable<u32, &'static [u8]>,
    digest: &[u8; 32],
) -> Result<Option<u32>> {
    let Some(&id) = digests.get(&digest_prefix(digest)) else {
        return Ok(None);
    };
    let Some(value) = students.get(id)? else {
        return Ok(None);
    };
    let rest = trailer(value.value())?;
    Ok((!rest.is_empty() && digest_of(rest)? == *digest).then_some(id))
}

/// A table of the file, or `None` if the file predates it.
fn optional_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>> {
    match txn.open_table(def) {
        Ok(table) => Ok(Some(table)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A calendar given for a new store, normalized and validated.
fn checked(calendar: Option<Calendar>) -> Result<Option<Calendar>> {
    calendar
        .map(|c| {
            let c = c.normalized();
            c.validate().map(|()| c)
        })
        .transpose()
}

/// The moment a call refers to: the one given, or now.
fn moment(at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    at.unwrap_or_else(Utc::now)
}

impl Store {
    /// Opens the store at `path`, creating it with the default calendar if it is missing.
    ///
    /// A file written in another format version is refused with
    /// [`Error::UnsupportedFormat`]; a file that is not a store gives [`Error::Storage`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(path, None, None)
    }

    /// Opens the store at `path`, creating it with `calendar` if it is missing. An existing
    /// store with another calendar is refused; change it with [`Store::set_calendar`].
    pub fn open_with_calendar(path: impl AsRef<Path>, calendar: Calendar) -> Result<Store> {
        Store::open_with(path, Some(calendar), None)
    }

    /// Opens (or creates) the store at `path` with a calendar for a new store and the host's
    /// key for personal data. With a key, national register numbers are sealed in the file;
    /// a store that holds sealed numbers cannot be opened without its key
    /// ([`Error::KeyRequired`], [`Error::WrongKey`]). Giving a key to a store that had none
    /// seals the numbers it holds.
    ///
    /// ```
    /// use stagematch_core::{Key, Store};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("season.redb");
    /// let key = Key::generate()?;
    /// drop(Store::open_with(&path, None, Some(&key))?);
    /// assert!(Store::open(&path).is_err());
    /// assert!(Store::open_with(&path, None, Some(&key)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_with(
        path: impl AsRef<Path>,
        calendar: Option<Calendar>,
        key: Option<&crate::personal::Key>,
    ) -> Result<Store> {
        Store::init(Database::create(path)?, checked(calendar)?, key)
    }

    /// A store in memory only (redb's in-memory backend), with the default calendar.
    pub fn memory() -> Result<Store> {
        Store::memory_with(None, None)
    }

    /// A store in memory only, with `calendar`.
    pub fn memory_with_calendar(calendar: Calendar) -> Result<Store> {
        Store::memory_with(Some(calendar), None)
    }

    /// A store in memory only, with a calendar (the default if `None`) and a key.
    pub fn memory_with(
        calendar: Option<Calendar>,
        key: Option<&crate::personal::Key>,
    ) -> Result<Store> {
        let calendar = calendar.unwrap_or_default().normalized();
        calendar.validate()?;
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new())?;
        Store::init(db, Some(calendar), key)
    }

    /// A store on a storage backend of the host's (any [`redb::StorageBackend`]): a file
    /// system of its own, an encrypted volume, or a backend that injects faults in tests. It
    /// is opened like a file: created with `calendar` (the default if `None`) when the backend
    /// is empty, checked and brought forward otherwise.
    ///
    /// ```
    /// use stagematch_core::Store;
    /// let store = Store::with_backend(redb::backends::InMemoryBackend::new(), None, None)?;
    /// assert_eq!(store.student_count(), 0);
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn with_backend(
        backend: impl redb::StorageBackend,
        calendar: Option<Calendar>,
        key: Option<&crate::personal::Key>,
    ) -> Result<Store> {
        let db = Database::builder().create_with_backend(backend)?;
        Store::init(db, checked(calendar)?, key)
    }

    /// Checks the file of a store that no process has open: redb's own integrity check of
    /// every page and checksum. `Ok(true)` means the file was whole; `Ok(false)` that it was
    /// not and redb repaired it (as it also does when a store is opened after a crash); an
    /// error that it could not be repaired or is not a redb file.
    ///
    /// ```
    /// use stagematch_core::Store;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("season.redb");
    /// drop(Store::open(&path)?);
    /// assert!(Store::check_file(&path)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_file(path: impl AsRef<Path>) -> Result<bool> {
        let mut db = Database::open(path.as_ref())?;
        Ok(db.check_integrity()?)
    }

    /// A SHA-256 digest of everything the store holds, table by table, key by key: two stores
    /// with the same digest hold the same data, and an operation that was refused leaves the
    /// digest as it was. Sealed national register numbers enter as sealed. Failed sign-ins
    /// (counted in memory) and session uses not yet written do not enter it.
    ///
    /// ```
    /// use stagematch_core::{Province, Store};
    /// let store = Store::memory()?;
    /// let before = store.digest()?;
    /// assert!(store.add_service("", Province::Antwerp).is_err());
    /// assert_eq!(store.digest()?, before);
    /// store.add_service("Familiehulp", Province::Antwerp)?;
    /// assert_ne!(store.digest()?, before);
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn digest(&self) -> Result<[u8; 32]> {
        digest_database(&self.db)
    }

    /// [`Store::digest`] of a store file that no process has open, read as it is: no key is
    /// needed, and nothing is written (an older format is not brought forward, no key is
    /// adopted), so a check changes nothing. `stagematch check` prints it.
    ///
    /// ```
    /// use stagematch_core::{Province, Store};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("season.redb");
    /// let store = Store::open(&path)?;
    /// store.add_service("Familiehulp", Province::Antwerp)?;
    /// let digest = store.digest()?;
    /// drop(store);
    /// assert_eq!(Store::digest_file(&path)?, digest);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn digest_file(path: impl AsRef<Path>) -> Result<[u8; 32]> {
        digest_database(&Database::open(path.as_ref())?)
    }

    /// Whether national register numbers are sealed in this store (it was opened with a key).
    pub fn seals_personal_data(&self) -> bool {
        self.vault.seals()
    }

    fn init(
        db: Database,
        wanted: Option<Calendar>,
        key: Option<&crate::personal::Key>,
    ) -> Result<Store> {
        let (stored, version) = match Store::read_meta(&db)? {
            Some((cal, version)) => (Some(cal), version),
            None => (None, FORMAT_VERSION),
        };

        let calendar = match (stored, wanted) {
            (Some(cal), Some(w)) if cal != w => {
                return Err(Error::invalid(
                    "calendar",
                    "",
                    "differs from the calendar stored in this store; use set_calendar to change it",
                ));
            }
            (Some(cal), _) => cal,
            (None, w) => {
                let cal = w.unwrap_or_default();
                let txn = db.begin_write()?;
                {
                    let mut meta = txn.open_table(META)?;
                    meta.insert(FORMAT_KEY, FORMAT_VERSION.to_le_bytes().as_slice())?;
                    meta.insert(CALENDAR_KEY, encode(&cal.to_record())?.as_slice())?;
                    for def in [SERVICES, SCHOOLS, CONTACTS, STUDENTS, PLACEMENTS] {
                        txn.open_table(def)?;
                    }
                    txn.open_table(AUDIT)?;
                    txn.open_table(LOGINS)?;
                    txn.open_table(TOKENS)?;
                    txn.open_table(OUTBOX)?;
                }
                txn.commit()?;
                cal
            }
        };

        let vault = Store::prepare_personal(&db, key, version)?;
        let state = Store::load(&db, calendar)?;
        Ok(Store {
            vault,
            db,
            writer: Mutex::new(()),
            state: RwLock::new(state),
            clock: RwLock::new(None),
            failures: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            gate: RwLock::new(()),
        })
    }

    /// Reads the calendar and the format version; `None` for a new, empty file.
    fn read_meta(db: &Database) -> Result<Option<(Calendar, u32)>> {
        let txn = db.begin_read()?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                if txn.list_tables()?.next().is_some() {
                    return Err(Error::Corrupt(
                        "a redb file without stagematch metadata".into(),
                    ));
                }
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };

        let version = meta
            .get(FORMAT_KEY)?
            .ok_or_else(|| Error::Corrupt("the format version is missing".into()))?;
        let bytes: [u8; 4] = version
            .value()
            .try_into()
            .map_err(|_| Error::Corrupt("the format version is not 4 bytes".into()))?;
        let found = u32::from_le_bytes(bytes);
        // Version 1 kept national register numbers inside the student records; opening it
        // moves them out (see `prepare_personal`). Anything else is refused, never misread.
        if found != FORMAT_VERSION && found != 1 {
            return Err(Error::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            });
        }

        let cal = meta
            .get(CALENDAR_KEY)?
            .ok_or_else(|| Error::Corrupt("the calendar is missing".into()))?;
        let record: CalendarRecord = decode(cal.value())?;
        Ok(Some((record.to_calendar(), found)))
    }

    /// Checks the key against the store, and brings the personal data to the current format
    /// in one transaction: a version 1 store's numbers move out of the student records, a
    /// store given a key for the first time has its numbers sealed.
    fn prepare_personal(
        db: &Database,
        key: Option<&crate::personal::Key>,
        version: u32,
    ) -> Result<crate::personal::Vault> {
        let (check, salt) = {
            let txn = db.begin_read()?;
            let meta = txn.open_table(META)?;
            let bytes = |k: &str| -> Result<Option<[u8; 32]>> {
                match meta.get(k)? {
                    None => Ok(None),
                    Some(v) => v
                        .value()
                        .try_into()
                        .map(Some)
                        .map_err(|_| Error::Corrupt(format!("{k} is not 32 bytes"))),
                }
            };
            (bytes(KEY_CHECK_KEY)?, bytes(DIGEST_SALT_KEY)?)
        };

        match (check, key) {
            (Some(_), None) => return Err(Error::KeyRequired),
            (Some(c), Some(k)) if !crate::account::same_digest(&c, &k.check_value()) => {
                return Err(Error::WrongKey);
            }
            _ => {}
        }
        let adopting = check.is_none() && key.is_some();
        let salt = match salt {
            Some(s) => s,
            None => {
                let mut s = [0u8; 32];
                getrandom::fill(&mut s)
                    .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
                s
            }
        };
        let vault = crate::personal::Vault::new(key, salt);
        let keyless = crate::personal::Vault::new(None, salt);
        if !adopting && version == FORMAT_VERSION && !Store::lacks_salt(db)? {
            return Ok(vault);
        }

        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert(DIGEST_SALT_KEY, salt.as_slice())?;
            if let Some(k) = key {
                meta.insert(KEY_CHECK_KEY, k.check_value().as_slice())?;
            }
            meta.insert(FORMAT_KEY, FORMAT_VERSION.to_le_bytes().as_slice())?;

            let mut students = txn.open_table(STUDENTS)?;

            // Numbers kept in clear so far are sealed (and digested) under the new key.
            if adopting {
                let mut clear = Vec::new();
                for item in students.iter()? {
                    let (id, value) = item?;
                    let value = value.value();
                    let rest = trailer(value)?;
                    if let Some(number) = number_in(&keyless, id.value(), rest)? {
                        let record = value[..value.len() - rest.len()].to_vec();
                        clear.push((id.value(), record, number));
                    }
                }
                for (id, mut record, number) in clear {
                    record.extend(stored_number(&vault, id, number.digits())?);
                    students.insert(id, record.as_slice())?;
                }
            }

            // Version 1: numbers inside the student records move to their own table.
            if version == 1 {
                let mut moved = Vec::new();
                for item in students.iter()? {
                    let (_, value) = item?;
                    let student: Student = decode(value.value())?;
                    if student.data.national_number.is_some() {
                        moved.push(student);
                    }
                }
                for mut student in moved {
                    let Some(number) = student.data.national_number.take() else {
                        continue;
                    };
                    // A number the old format let two students share stays with both; new
                    // registrations of it are refused.
                    let id = student.id.0;
                    let mut value = encode(&student)?;
                    value.extend(stored_number(&vault, id, number.digits())?);
                    students.insert(id, value.as_slice())?;
                }
            }
        }
        txn.commit()?;
        Ok(vault)
    }

    /// Whether the store has no digest salt yet (a new or older file).
    fn lacks_salt(db: &Database) -> Result<bool> {
        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get(DIGEST_SALT_KEY)?.is_none())
    }

    /// Rebuilds the in-memory state from the file.
    fn load(db: &Database, calendar: Calendar) -> Result<State> {
        let txn = db.begin_read()?;
        let cal = calendar.to_micros();

        let services: Vec<Service> = read_all(&txn.open_table(SERVICES)?)?;
        let schools: Vec<School> = read_all(&txn.open_table(SCHOOLS)?)?;
        let contacts: Vec<Contact> = read_all(&txn.open_table(CONTACTS)?)?;

        let (mut columns, digests) = load_students(&txn.open_table(STUDENTS)?, &cal)?;

        for item in txn.open_table(PLACEMENTS)?.iter()? {
            let (key, value) = item?;
            let placement: Placement = decode(value.value())?;
            let i = StudentId(key.value()).index();
            if i >= columns.len() {
                return Err(Error::Corrupt(format!(
                    "a placement of unknown student {}",
                    i + 1
                )));
            }
            columns.set_accepted(i, placement.service.get(), placement.at_micros);
        }

        let mut pairs: HashMap<(u32, u32), Vec<(Micros, Status)>> = HashMap::new();
        let mut audit_len = 0;
        let mut last_decision: HashMap<u32, Micros> = HashMap::new();
        for item in txn.open_table(AUDIT)?.iter()? {
            let (_, value) = item?;
            let entry: AuditEntry = decode(value.value())?;
            pairs
                .entry((entry.service.get(), entry.student.get()))
                .or_default()
                .push((entry.at_micros, entry.to));
            let last = last_decision
                .entry(entry.student.get())
                .or_insert(entry.at_micros);
            *last = (*last).max(entry.at_micros);
            audit_len = entry.seq;
        }

        // Stores written before logins existed have none of their tables: they are empty.
        let mut logins = HashMap::new();
        let mut sessions = HashMap::new();
        if let Some(table) = optional_table(&txn, LOGINS)? {
            for item in table.iter()? {
                let (_, value) = item?;
                let login: account::LoginRecord = decode(value.value())?;
                if let Some(session) = &login.session {
                    sessions.insert(session.digest, login.email.clone());
                }
                logins.insert(login.email.clone(), login);
            }
        }
        let mut tokens = HashMap::new();
        if let Some(table) = optional_table(&txn, TOKENS)? {
            for item in table.iter()? {
                let (key, value) = item?;
                let digest: [u8; 32] = key
                    .value()
                    .try_into()
                    .map_err(|_| Error::Corrupt("a token digest is not 32 bytes".into()))?;
                tokens.insert(digest, decode(value.value())?);
            }
        }
        let mut outbox_next = 1;
        if let Some(table) = optional_table(&txn, OUTBOX)? {
            if let Some(last) = table.last()? {
                outbox_next = last.0.value() + 1;
            }
        }

        Ok(State {
            digests,
            calendar,
            cal,
            services,
            schools,
            contacts,
            columns,
            pairs,
            last_decision,
            audit_len,
            logins,
            tokens,
            sessions,
            outbox_next,
        })
    }

    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-updated: every update is a
        // sequence of pushes and assignments that cannot panic. So a poisoned lock is safe.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction and commits it durably; on error nothing is written.
    fn transact(&self, f: impl FnOnce(&WriteTransaction) -> Result<()>) -> Result<()> {
        let txn = self.db.begin_write()?;
        f(&txn)?;
        txn.commit()?;
        Ok(())
    }

    // ----- the calendar -------------------------------------------------------------------

    /// The store's season calendar.
    pub fn calendar(&self) -> Calendar {
        self.read_state().calendar
    }

    /// Replaces the season calendar (after [`Calendar::validate`]).
    pub fn set_calendar(&self, calendar: Calendar) -> Result<()> {
        let calendar = calendar.normalized();
        calendar.validate()?;
        let _writer = self.lock_writer();

        self.transact(|txn| {
            let mut meta = txn.open_table(META)?;
            meta.insert(CALENDAR_KEY, encode(&calendar.to_record())?.as_slice())?;
            Ok(())
        })?;

        let mut state = self.write_state();
        state.calendar = calendar;
        state.cal = calendar.to_micros();
        let cal = state.cal;
        state.columns.recompute_blackout(&cal);
        Ok(())
    }

    /// The phase of the season at `at` (now if `None`).
    pub fn phase(&self, at: impl Into<Option<DateTime<Utc>>>) -> Phase {
        self.read_state().calendar.phase(moment(at.into()))
    }

    // ----- the directory ------------------------------------------------------------------

    /// Adds a service with its province. Names are unique, ignoring case and accents.
    pub fn add_service(&self, name: &str, province: Province) -> Result<ServiceId> {
        let name = required_text("name", name, MAX_NAME)?;
        let _writer = self.lock_writer();

        let id = {
            let state = self.read_state();
            if state.services.iter().any(|s| fold(&s.name) == fold(&name)) {
                return Err(Error::invalid(
                    "name",
                    &name,
                    "a service with this name exists",
                ));
            }
            if state.services.len() >= MAX_PARTIES {
                return Err(Error::invalid(
                    "name",
                    &name,
                    "the store holds 65 535 services already",
                ));
            }
            ServiceId(state.services.len() as u32 + 1)
        };

        let service = Service { id, name, province };
        self.transact(|txn| {
            txn.open_table(SERVICES)?
                .insert(id.0, encode(&service)?.as_slice())?;
            Ok(())
        })?;

        self.write_state().services.push(service);
        Ok(id)
    }

    /// Adds a school. Names are unique, ignoring case and accents.
    pub fn add_school(&self, name: &str) -> Result<SchoolId> {
        let name = required_text("name", name, MAX_NAME)?;
        let _writer = self.lock_writer();

        let id = {
            let state = self.read_state();
            if state.schools.iter().any(|s| fold(&s.name) == fold(&name)) {
                return Err(Error::invalid(
                    "name",
                    &name,
                    "a school with this name exists",
                ));
            }
            if state.schools.len() >= MAX_PARTIES {
                return Err(Error::invalid(
                    "name",
                    &name,
                    "the store holds 65 535 schools already",
                ));
            }
            SchoolId(state.schools.len() as u32 + 1)
        };

        let school = School { id, name };
        self.transact(|txn| {
            txn.open_table(SCHOOLS)?
                .insert(id.0, encode(&school)?.as_slice())?;
            Ok(())
        })?;

        self.write_state().schools.push(school);
        Ok(id)
    }

    /// Adds a contact person to a service. Names are unique within the service.
    pub fn add_contact(&self, service: ServiceId, contact: &NewContact) -> Result<ContactId> {
        let checked = contact.validate()?;
        let _writer = self.lock_writer();

        let id = {
            let state = self.read_state();
            state.service(service)?;
            let taken = state
                .contacts
                .iter()
                .any(|c| c.service == service && fold(&c.name) == fold(&checked.name));
            if taken {
                return Err(Error::invalid(
                    "name",
                    &checked.name,
                    "this service already has a contact person with this name",
                ));
            }
            ContactId(state.contacts.len() as u32 + 1)
        };

        let record = Contact {
            id,
            service,
            name: checked.name,
            phone: checked.phone,
            email: checked.email,
        };
        self.transact(|txn| {
            txn.open_table(CONTACTS)?
                .insert(id.0, encode(&record)?.as_slice())?;
            Ok(())
        })?;

        self.write_state().contacts.push(record);
        Ok(id)
    }

    /// Every service, by id.
    pub fn services(&self) -> Vec<Service> {
        self.read_state().services.clone()
    }

    /// Every school, by id.
    pub fn schools(&self) -> Vec<School> {
        self.read_state().schools.clone()
    }

    /// The contact persons of a service.
    pub fn contacts(&self, service: ServiceId) -> Result<Vec<Contact>> {
        let state = self.read_state();
        state.service(service)?;
        Ok(state
            .contacts
            .iter()
            .filter(|c| c.service == service)
            .cloned()
            .collect())
    }

    /// One service.
    pub fn service(&self, id: ServiceId) -> Result<Service> {
        self.read_state().service(id).cloned()
    }

    /// The service with this name (ignoring case and accents), or with this id (`svc-3`).
    pub fn find_service(&self, name_or_id: &str) -> Result<Service> {
        let state = self.read_state();
        if let Ok(id) = name_or_id.parse::<ServiceId>() {
            return state.service(id).cloned();
        }

        let key = fold(name_or_id.trim());
        state
            .services
            .iter()
            .find(|s| fold(&s.name) == key)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: "service",
                id: name_or_id.to_owned(),
            })
    }

    /// The school with this name (ignoring case and accents), or with this id (`sch-2`).
    pub fn find_school(&self, name_or_id: &str) -> Result<School> {
        let state = self.read_state();
        if let Ok(id) = name_or_id.parse::<SchoolId>() {
            return state.school(id).cloned();
        }

        let key = fold(name_or_id.trim());
        state
            .schools
            .iter()
            .find(|s| fold(&s.name) == key)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: "school",
                id: name_or_id.to_owned(),
            })
    }

    // ----- students -----------------------------------------------------------------------

    /// Registers one student for `school` at `at` (now if `None`).
    ///
    /// A registration inside the school blackout is stored, but the student becomes visible
    /// only at the calendar's release moment.
    pub fn register_student(
        &self,
        school: SchoolId,
        student: &NewStudent,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<StudentId> {
        let ids = self.register_students(school, std::slice::from_ref(student), at)?;
        // Invariant: one student in, one id out.
        ids.into_iter()
            .next()
            .ok_or_else(|| Error::Corrupt("no id was assigned".into()))
    }

    /// Registers many students for `school` in one transaction: all of them or none.
    ///
    /// The first student that breaks a rule stops the call; its error names the field, and
    /// its reason says which student of the batch (counting from 1) it was.
    pub fn register_students(
        &self,
        school: SchoolId,
        students: &[NewStudent],
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Vec<StudentId>> {
        let at = micros(moment(at.into()));
        let mut data = Vec::with_capacity(students.len());
        for (k, s) in students.iter().enumerate() {
            let checked = s
                .validate()
                .map_err(|e| batch_error(e, k, students.len()))?;
            data.push(checked);
        }

        let _writer = self.lock_writer();
        let first = {
            let state = self.read_state();
            state.school(school)?;
            for (k, d) in data.iter().enumerate() {
                if let Some(p) = d.preferred_service {
                    state.service(p).map_err(|_| {
                        batch_error(
                            Error::invalid("preferred_service", &p.to_string(), "no such service"),
                            k,
                            data.len(),
                        )
                    })?;
                }
            }
            let n = state.columns.len();
            if n + data.len() >= u32::MAX as usize {
                return Err(Error::invalid("students", "", "the store is full"));
            }
            n
        };

        // National register numbers go to their own table (sealed with a key), never into
        // the record; each is checked against every number registered before.
        let mut numbers = Vec::new();
        let records: Vec<Student> = data
            .into_iter()
            .enumerate()
            .map(|(k, mut d)| {
                let id = StudentId::from_index(first + k);
                if let Some(n) = d.national_number.take() {
                    numbers.push((k, id.0, n));
                }
                Student {
                    id,
                    school,
                    registered_micros: at,
                    data: d,
                }
            })
            .collect();
        let mut sealed = Vec::with_capacity(numbers.len());
        for (k, id, n) in &numbers {
            sealed.push((*k, *id, stored_number(&self.vault, *id, n.digits())?));
        }

        let mut trailers: HashMap<u32, &[u8]> = HashMap::new();
        self.transact(|txn| {
            let mut table = txn.open_table(STUDENTS)?;
            let state = self.read_state();
            let mut in_batch: HashMap<[u8; 32], u32> = HashMap::new();
            for (k, id, stored) in &sealed {
                let digest = digest_of(stored)?;
                let holder = match in_batch.get(&digest) {
                    Some(other) => Some(*other),
                    None => holder_of(&state.digests, &table, &digest)?,
                };
                if let Some(other) = holder {
                    let err = Error::invalid(
                        "national_number",
                        "",
                        format!("is already registered, for stu-{other}"),
                    );
                    return Err(batch_error(err, *k, records.len()));
                }
                in_batch.insert(digest, *id);
                trailers.insert(*id, stored.as_slice());
            }
            drop(state);

            let mut buf = Vec::new();
            for s in &records {
                buf.clear();
                buf = postcard::to_extend(s, buf).map_err(|e| Error::Corrupt(e.to_string()))?;
                if let Some(stored) = trailers.get(&s.id.0) {
                    buf.extend_from_slice(stored);
                }
                table.insert(s.id.0, buf.as_slice())?;
            }
            Ok(())
        })?;

        let mut state = self.write_state();
        for (_, id, stored) in &sealed {
            let digest = digest_of(stored)?;
            state.digests.entry(digest_prefix(&digest)).or_insert(*id);
        }
        let cal = state.cal;
        for s in &records {
            state.columns.push(s, &cal);
        }
        Ok(records.iter().map(|s| s.id).collect())
    }

    /// Imports the students of a CSV file for `school` (the layout of [`crate::csv`]), all of
    /// them in one transaction or none: if any row is bad, nothing is stored and
    /// [`Error::ImportFailed`] lists every bad row (its first problem each). Rows are read and
    /// written one at a time, so a file of a million rows is never held in memory.
    pub fn import_students<R: std::io::Read>(
        &self,
        input: R,
        school: SchoolId,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Vec<StudentId>> {
        let at = micros(moment(at.into()));
        let _writer = self.lock_writer();

        let (first, cal, by_name, service_count) = {
            let state = self.read_state();
            state.school(school)?;
            let by_name: HashMap<String, ServiceId> = state
                .services
                .iter()
                .map(|s| (fold(&s.name), s.id))
                .collect();
            (
                state.columns.len(),
                state.cal,
                by_name,
                state.services.len(),
            )
        };
        let resolve = |name: &str| match name.parse::<ServiceId>() {
            Ok(id) => (id.0 as usize <= service_count).then_some(id),
            Err(_) => by_name.get(&fold(name)).copied(),
        };

        let rows = crate::csv::student_rows(input, resolve)?;
        let (mut raw, converter) = rows.into_parts();
        let txn = self.db.begin_write()?;
        let mut pending = Columns::default();
        let mut errors = Vec::new();

        // The line and student of each national register number of this file, by digest
        // prefix, to find it twice.
        let mut in_file: HashMap<u64, ([u8; 32], u64, u32)> = HashMap::new();

        // A pipeline: while rayon's threads convert batch k (validation, encoding, query
        // columns), this thread writes batch k - 1 into the transaction and reads batch k + 1.
        {
            let mut table = txn.open_table(STUDENTS)?;
            let mut batch = Vec::new();
            let mut next = Vec::new();
            let mut converted: Option<ConvertedBatch> = None;
            let mut more = raw.read_batch(IMPORT_BATCH, &mut batch);
            let mut next_index = first;

            while more || converted.is_some() {
                if next_index + batch.len() >= u32::MAX as usize {
                    return Err(Error::invalid("students", "", "the store is full"));
                }

                let mut fresh = None;
                let done = rayon::in_place_scope(|scope| -> Result<bool> {
                    if more {
                        let (batch, converter, fresh) = (&batch, &converter, &mut fresh);
                        let vault = &self.vault;
                        scope.spawn(move |_| {
                            *fresh = Some(convert_batch(
                                converter, batch, next_index, school, at, &cal, vault,
                            ))
                        });
                    }

                    if let Some(ready) = converted.take() {
                        errors.extend(ready.errors);
                        let state = self.read_state();
                        for (id, line, digest) in &ready.numbers {
                            let twice = in_file
                                .get(&digest_prefix(digest))
                                .filter(|(d, ..)| d == digest)
                                .map(|(_, first, _)| *first);
                            let duplicate = if let Some(first) = twice {
                                Some(format!("appears twice in this file (line {first} too)"))
                            } else {
                                holder_of(&state.digests, &table, digest)?
                                    .map(|other| format!("is already registered, for stu-{other}"))
                            };
                            if let Some(reason) = duplicate {
                                errors.push(crate::error::RowError {
                                    line: *line,
                                    column: "national_number".into(),
                                    value: String::new(),
                                    reason,
                                });
                                continue;
                            }
                            in_file.insert(digest_prefix(digest), (*digest, *line, *id));
                        }
                        drop(state);
                        if errors.is_empty() {
                            for (k, end) in ready.ends.iter().enumerate() {
                                let begin = if k == 0 { 0 } else { ready.ends[k - 1] };
                                let id = StudentId::from_index(ready.first + k);
                                table.insert(id.0, &ready.bytes[begin..*end])?;
                            }
                            pending.append(ready.columns);
                        }
                    }

                    Ok(more && raw.read_batch(IMPORT_BATCH, &mut next))
                })?;

                next_index += batch.len();
                converted = fresh;
                std::mem::swap(&mut batch, &mut next);
                more = done;
            }
        }

        if errors.is_empty() && pending.len() == 0 {
            // A header and nothing else is most likely the wrong file, or an empty template.
            errors.push(crate::error::RowError {
                line: 2,
                column: String::new(),
                value: String::new(),
                reason: "the file holds no students after its header".into(),
            });
        }
        if !errors.is_empty() {
            // Dropping the transaction uncommitted leaves the file as it was.
            return Err(Error::ImportFailed { errors });
        }
        txn.commit()?;

        let count = pending.len();
        let mut state = self.write_state();
        state.columns.append(pending);
        for (prefix, (_, _, id)) in in_file {
            state.digests.entry(prefix).or_insert(id);
        }
        drop(state);
        Ok((first..first + count).map(StudentId::from_index).collect())
    }

    /// The number of registered students.
    pub fn student_count(&self) -> usize {
        self.read_state().columns.len()
    }

    /// The full record of a student, personal data included: for the coordinator and for
    /// hosts that check access themselves. Services should use [`Store::student`].
    pub fn student_record(&self, id: StudentId) -> Result<Student> {
        if id.index() >= self.student_count() {
            return Err(Error::NotFound {
                what: "student",
                id: id.to_string(),
            });
        }

        self.read_student(id)
    }

    /// Reads a student's record from the file, taking no lock on the in-memory state.
    fn read_student(&self, id: StudentId) -> Result<Student> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STUDENTS)?;
        let value = table.get(id.0)?.ok_or_else(|| Error::NotFound {
            what: "student",
            id: id.to_string(),
        })?;
        let mut student: Student = decode(value.value())?;
        student.data.national_number = number_of(&self.vault, id.0, value.value())?;
        Ok(student)
    }

    /// The students `school` registered, in id order, with everything the school gave
    /// (personal data included): what a school may see of its own students.
    pub fn school_students(&self, school: SchoolId) -> Result<Vec<Student>> {
        self.read_state().school(school)?;

        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for item in txn.open_table(STUDENTS)?.iter()? {
            let (_, value) = item?;
            let peek: StudentRef<'_> = postcard::from_bytes(value.value())?;
            if peek.school == school {
                let mut student: Student = decode(value.value())?;
                student.data.national_number = number_of(&self.vault, student.id.0, value.value())?;
                out.push(student);
            }
        }
        Ok(out)
    }

    /// Every student's full record, personal data included, in id order: for the coordinator
    /// (exports) and for hosts that check access themselves. Reads one redb transaction.
    pub fn all_students(&self) -> Result<Vec<Student>> {
        let txn = self.db.begin_read()?;
        let mut all = Vec::new();
        for item in txn.open_table(STUDENTS)?.iter()? {
            let (_, value) = item?;
            let mut student: Student = decode(value.value())?;
            student.data.national_number = number_of(&self.vault, student.id.0, value.value())?;
            all.push(student);
        }
        Ok(all)
    }

    // ----- decisions ----------------------------------------------------------------------

    /// Records a decision of `service` about `student` at `at` (now if `None`).
    ///
    /// Fails with [`Error::NotVisible`] if the student is not visible to the service then,
    /// [`Error::AlreadyPlaced`] if another service accepted it, and
    /// [`Error::InvalidTransition`] if the track's machine does not allow the change.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use stagematch_core::*;
    ///
    /// let store = Store::memory()?;
    /// let svc = store.add_service("Familiezorg", Province::Antwerp)?;
    /// let contact = store.add_contact(svc, &NewContact::new("Els", "03 123 45 67", "els@fz.be"))?;
    /// let school = store.add_school("VTI Mechelen")?;
    /// let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    /// let student = NewStudent {
    ///     first_name: "Jan".into(), last_name: "Janssens".into(), street: "Markt 1".into(),
    ///     postcode: "2800".into(), city: "Mechelen".into(), form: "blok".into(),
    ///     periods: vec![Period::new(d(10, 1), d(10, 31))?],
    ///     hours_per_week: 20.0, total_hours: 80.0, ..NewStudent::default()
    /// };
    /// let sid = store.register_student(school, &student, brussels(2025, 9, 1, 9, 0)?)?;
    /// let round3 = brussels(2025, 9, 22, 10, 0)?;
    /// store.decide(svc, sid, &Decision::accept(contact), round3)?;
    /// assert_eq!(store.status(svc, sid, round3)?, Status::Accepted);
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn decide(
        &self,
        service: ServiceId,
        student: StudentId,
        decision: &Decision,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<()> {
        self.decide_as(
            &service.to_string(),
            service,
            student,
            decision,
            moment(at.into()),
        )
    }

    /// [`Store::decide`] with the actor recorded in the audit log (a login, for hosts that
    /// authenticate users themselves).
    pub fn decide_as(
        &self,
        actor: &str,
        service: ServiceId,
        student: StudentId,
        decision: &Decision,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let _writer = self.lock_writer();

        let planned = {
            let state = self.read_state();
            let seq = state.audit_len + 1;
            self.plan(
                &state,
                &Overlay::default(),
                actor,
                service,
                student,
                decision,
                at,
                seq,
            )?
        };

        self.record(std::slice::from_ref(&planned))
    }

    /// Records many decisions of one service at one moment in one durable transaction: what
    /// a service decided about its selection, acknowledged together (a group commit).
    ///
    /// Each decision is checked as [`Store::decide`] checks it, in order, seeing the ones
    /// before it in the batch (invite, then accept, the same student). The result has one
    /// entry per decision: `Ok` if it was recorded, or why it was refused; a refused decision
    /// does not stop the others. An error of the store itself (the disk) records nothing.
    ///
    /// ```
    /// # use chrono::NaiveDate;
    /// # use stagematch_core::*;
    /// # let store = Store::memory()?;
    /// # let svc = store.add_service("Familiezorg", Province::Antwerp)?;
    /// # let contact = store.add_contact(svc, &NewContact::new("Els", "03 123 45 67", "e@f.be"))?;
    /// # let school = store.add_school("VTI Mechelen")?;
    /// # let d = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    /// # let student = NewStudent {
    /// #     first_name: "Jan".into(), last_name: "Janssens".into(), street: "Markt 1".into(),
    /// #     postcode: "2800".into(), city: "Mechelen".into(), form: "blok".into(),
    /// #     periods: vec![Period::new(d(10, 1), d(10, 31))?],
    /// #     hours_per_week: 20.0, total_hours: 80.0, ..NewStudent::default()
    /// # };
    /// let registered = brussels(2025, 9, 1, 9, 0)?;
    /// let ids = store.register_students(school, &[student.clone(), student], registered)?;
    /// let round3 = brussels(2025, 9, 22, 10, 0)?;
    /// let results = store.decide_many(
    ///     svc,
    ///     &[
    ///         (ids[0], Decision::accept(contact)),
    ///         (ids[0], Decision::new(Status::NotAccepted)), // not after an accept
    ///         (ids[1], Decision::new(Status::NotAccepted)),
    ///     ],
    ///     round3,
    /// )?;
    /// assert!(results[0].is_ok() && results[2].is_ok());
    /// assert!(matches!(results[1], Err(Error::InvalidTransition { .. })));
    /// # Ok::<(), stagematch_core::Error>(())
    /// ```
    pub fn decide_many(
        &self,
        service: ServiceId,
        decisions: &[(StudentId, Decision)],
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Vec<Result<()>>> {
        self.decide_many_as(&service.to_string(), service, decisions, moment(at.into()))
    }

    /// [`Store::decide_many`] with the actor recorded in the audit log.
    pub fn decide_many_as(
        &self,
        actor: &str,
        service: ServiceId,
        decisions: &[(StudentId, Decision)],
        at: DateTime<Utc>,
    ) -> Result<Vec<Result<()>>> {
        let _writer = self.lock_writer();

        let mut planned = Vec::new();
        let mut results = Vec::with_capacity(decisions.len());
        {
            let state = self.read_state();
            state.service(service)?;
            let mut overlay = Overlay::default();
            for (student, decision) in decisions {
                let seq = state.audit_len + 1 + planned.len() as u64;
                match self.plan(
                    &state, &overlay, actor, service, *student, decision, at, seq,
                ) {
                    Ok(p) => {
                        overlay.status.insert(student.0, p.entry.to);
                        planned.push(p);
                        results.push(Ok(()));
                    }
                    Err(e) => results.push(Err(e)),
                }
            }
        }

        if !planned.is_empty() {
            self.record(&planned)?;
        }
        Ok(results)
    }

    /// Checks one decision against the state (and the batch before it, in `overlay`) and
    /// returns what to record. The caller holds the writer lock.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        state: &State,
        overlay: &Overlay,
        actor: &str,
        service: ServiceId,
        student: StudentId,
        decision: &Decision,
        at: DateTime<Utc>,
        seq: u64,
    ) -> Result<Planned> {
        let t = micros(at);
        let svc = state.service(service)?;
        let i = state.student_index(student)?;
        let cols = &state.columns;

        let earlier = overlay.status.get(&student.0).copied();
        let from = earlier.unwrap_or_else(|| {
            state
                .pairs
                .get(&(service.0, student.0))
                .and_then(|h| h.last())
                .map_or(Status::Undecided, |(_, s)| *s)
        });
        let accepted_by = match earlier {
            Some(Status::Accepted) => Some(service.0),
            _ => cols.accepted_by(i),
        };
        if let Some(by) = accepted_by
            && by != service.0
        {
            return Err(Error::AlreadyPlaced {
                student,
                service: ServiceId(by),
            });
        }

        // A student this service accepted is no longer in its open tab; the machine refuses
        // every change from `accepted`, which says more than "not visible".
        let rule = Rule::new(&state.cal, service, svc.province, t);
        if accepted_by.is_none() && !cols.in_tab(i, &rule, Tab::Open) {
            return Err(Error::NotVisible { student, service });
        }
        check_transition(state.track(i), from, decision.status)?;

        // The decisions about one student are recorded in the order of their moments,
        // whoever made them, so that "as of" views never see a later decision first.
        if let Some(last) = state.last_decision.get(&student.0)
            && *last > t
        {
            return Err(Error::invalid(
                "at",
                &at.to_rfc3339(),
                "is earlier than the latest decision recorded about this student",
            ));
        }

        let placement = if decision.status == Status::Accepted {
            let contact = decision
                .contact
                .ok_or_else(|| Error::invalid("contact", "", "an accept needs a contact person"))?;
            let owner = state.contact(contact)?.service;
            if owner != service {
                return Err(Error::invalid(
                    "contact",
                    &contact.to_string(),
                    "is a contact person of another service",
                ));
            }
            let record = self.read_student(student)?;
            let periods = accepted_periods(&record.data.periods, decision.periods.as_deref())?;
            Some(Placement {
                service,
                contact,
                periods,
                notes: None,
                at_micros: t,
            })
        } else {
            if decision.contact.is_some() {
                return Err(Error::invalid(
                    "contact",
                    &decision.status.to_string(),
                    "only an accept takes a contact person",
                ));
            }
            if decision.periods.is_some() {
                return Err(Error::invalid(
                    "periods",
                    &decision.status.to_string(),
                    "only an accept takes periods",
                ));
            }
            None
        };
        let notes = match &decision.notes {
            Some(n) => optional_text("notes", n, crate::student::MAX_REMARKS, true)?,
            None => None,
        };
        let placement = placement.map(|p| Placement {
            notes: notes.clone(),
            ..p
        });

        let entry = AuditEntry {
            seq,
            at_micros: t,
            actor: actor.to_owned(),
            service,
            student,
            from,
            to: decision.status,
            contact: placement.as_ref().map(|p| p.contact),
            periods: placement
                .as_ref()
                .map(|p| p.periods.clone())
                .unwrap_or_default(),
            notes,
        };
        Ok(Planned { entry, placement })
    }

    /// Writes planned decisions in one durable transaction, then makes them visible. The
    /// caller holds the writer lock; if the transaction fails, nothing is recorded.
    fn record(&self, planned: &[Planned]) -> Result<()> {
        self.transact(|txn| {
            let mut audit = txn.open_table(AUDIT)?;
            let mut table = txn.open_table(PLACEMENTS)?;
            for Planned { entry, placement } in planned {
                audit.insert(entry.seq, encode(entry)?.as_slice())?;
                let Some(p) = placement else { continue };

                // A second line of defence for exactly-once: the file itself must not hold a
                // placement yet (the writer lock already guarantees it does not).
                if let Some(existing) = table.get(entry.student.0)? {
                    let existing: Placement = decode(existing.value())?;
                    return Err(Error::AlreadyPlaced {
                        student: entry.student,
                        service: existing.service,
                    });
                }
                table.insert(entry.student.0, encode(p)?.as_slice())?;
            }
            Ok(())
        })?;

        let mut state = self.write_state();
        for Planned { entry, placement } in planned {
            state.audit_len = entry.seq;
            state.last_decision.insert(entry.student.0, entry.at_micros);
            state
                .pairs
                .entry((entry.service.0, entry.student.0))
                .or_default()
                .push((entry.at_micros, entry.to));
            if placement.is_some() {
                state
                    .columns
                    .set_accepted(entry.student.index(), entry.service.0, entry.at_micros);
            }
        }
        Ok(())
    }

    /// The status of `service` for `student` as of `at` (now if `None`).
    pub fn status(
        &self,
        service: ServiceId,
        student: StudentId,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Status> {
        let state = self.read_state();
        state.service(service)?;
        state.student_index(student)?;
        Ok(state.status_of(service, student, micros(moment(at.into()))))
    }

    /// The placement of a student, if a service accepted it.
    pub fn placement(&self, student: StudentId) -> Result<Option<Placement>> {
        self.read_state().student_index(student)?;
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PLACEMENTS)?;
        table.get(student.0)?.map(|v| decode(v.value())).transpose()
    }

    /// Every recorded decision about `student` (or about every student), oldest first.
    pub fn history(&self, student: Option<StudentId>) -> Result<Vec<AuditEntry>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(AUDIT)?;
        let mut entries = Vec::new();
        for item in table.iter()? {
            let (_, value) = item?;
            let entry: AuditEntry = decode(value.value())?;
            if student.is_none_or(|s| s == entry.student) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// How often each service chose each status for each student, from the audit log,
    /// sorted by student, service and status.
    pub fn status_counts(&self) -> Result<Vec<StatusCount>> {
        let mut counts: HashMap<(StudentId, ServiceId, Status), u32> = HashMap::new();
        for entry in self.history(None)? {
            *counts
                .entry((entry.student, entry.service, entry.to))
                .or_default() += 1;
        }

        let mut rows: Vec<StatusCount> = counts
            .into_iter()
            .map(|((student, service, status), count)| StatusCount {
                student,
                service,
                status,
                count,
            })
            .collect();
        rows.sort();
        Ok(rows)
    }

    // ----- views --------------------------------------------------------------------------

    /// A page of a service's tab at `at` (now if `None`), filtered and sorted as `query` says.
    pub fn students(
        &self,
        service: ServiceId,
        query: &Query,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<Page> {
        let t = micros(moment(at.into()));
        let (total, picked) = self.pick(service, query, t, false)?;
        let rows = self.cards(service, picked)?;
        Ok(Page { total, rows })
    }

    /// Runs `query` for `service` at `t`: the total, and the page's students with this
    /// service's status and whether it may see their personal data. `everything` ignores
    /// the paging and returns every match, in order.
    fn pick(
        &self,
        service: ServiceId,
        query: &Query,
        t: Micros,
        everything: bool,
    ) -> Result<(usize, Vec<Picked>)> {
        let state = self.read_state();
        let svc = state.service(service)?;
        let names: Vec<String> = state.schools.iter().map(|s| s.name.clone()).collect();
        let filter = Filter::compile(query, &names)?;

        let rule = Rule::new(&state.cal, service, svc.province, t);
        let (offset, limit) = if everything {
            (0, usize::MAX)
        } else {
            (query.offset, query.limit)
        };
        let (total, page) = state
            .columns
            .query(&rule, query.tab, &filter, query.sort, offset, limit);

        let picked = page
            .into_iter()
            .map(|i| {
                let id = StudentId::from_index(i as usize);
                let status = state.status_of(service, id, t);
                (id, status, state.personal_data(service, id, status))
            })
            .collect();
        Ok((total, picked))
    }

    /// Writes a service's tab, filtered and sorted as `query` says (its paging ignored), as
    /// CSV that Excel opens: see [`crate::csv::write_tab`]. Personal data appears only where
    /// the service may see it. Returns the number of students written.
    pub fn export_tab<W: std::io::Write>(
        &self,
        service: ServiceId,
        query: &Query,
        at: impl Into<Option<DateTime<Utc>>>,
        options: &crate::csv::ExportOptions,
        out: W,
    ) -> Result<usize> {
        let t = micros(moment(at.into()));
        let (_, picked) = self.pick(service, query, t, true)?;
        let school_names = self.school_names();
        let txn = self.db.begin_read()?;

        let mut out = out;
        out.write_all(&crate::csv::tab_header(options)?)?;
        // The tab's order is not the file's: each window of rows is read in id order (the
        // file's), rendered on rayon's threads, and written back in the tab's order.
        write_reordered(
            options.delimiter,
            &picked,
            |p| p.0.0,
            &mut out,
            |chunk, rows| {
                let students = txn.open_table(STUDENTS)?;
                let placements = txn.open_table(PLACEMENTS)?;
                let mut row = |(id, status, personal): Picked, value: &[u8]| -> Result<()> {
                    let s: StudentRef<'_> = postcard::from_bytes(value)?;
                    let placement = if status == Status::Accepted {
                        placements
                            .get(id.0)?
                            .map(|v| decode::<Placement>(v.value()))
                            .transpose()?
                            .filter(|p| p.service == service)
                    } else {
                        None
                    };
                    let tail = crate::csv::TabTail {
                        id,
                        school_name: school_names
                            .get(s.school.index_usize())
                            .map_or("", String::as_str),
                        registered_at: from_micros(s.registered_micros),
                        status,
                        placement: placement.as_ref(),
                    };
                    let number = if personal {
                        number_of(&self.vault, id.0, value)?
                    } else {
                        None
                    };
                    let digits = number.as_ref().map(|n| n.digits().as_bytes());
                    rows.tab_row_stored(&s, personal, digits, &tail)?;
                    rows.mark()
                };
                let missing = |id: StudentId| Error::NotFound {
                    what: "student",
                    id: id.to_string(),
                };

                // The chunk is in id order. Where its students lie close together in the
                // file (a tab that holds most students), one walk over their range touches
                // each page once; otherwise each is looked up on its own.
                let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                    return Ok(());
                };
                let span = (last.0.0 - first.0.0) as usize + 1;
                if span > DENSE_SPAN * chunk.len() {
                    for &picked in chunk {
                        let value = students.get(picked.0.0)?.ok_or_else(|| missing(picked.0))?;
                        row(picked, value.value())?;
                    }
                    return Ok(());
                }
                let mut wanted = chunk.iter().copied().peekable();
                for item in students.range(first.0.0..=last.0.0)? {
                    let (key, value) = item?;
                    if wanted.peek().is_some_and(|p| p.0.0 == key.value()) {
                        if let Some(picked) = wanted.next() {
                            row(picked, value.value())?;
                        }
                    }
                }
                match wanted.next() {
                    Some(picked) => Err(missing(picked.0)),
                    None => Ok(()),
                }
            },
        )?;
        out.flush()?;
        Ok(picked.len())
    }

    /// Writes every student with every field, personal data included, and its placement:
    /// the coordinator's export, which [`Store::import_students`] reads back. Returns the
    /// number of students written.
    pub fn export_students<W: std::io::Write>(
        &self,
        options: &crate::csv::ExportOptions,
        out: W,
    ) -> Result<usize> {
        let school_names = self.school_names();
        let txn = self.db.begin_read()?;
        let count = txn.open_table(STUDENTS)?.len()?;
        let ids: Vec<u32> = (1..=u32::try_from(count).unwrap_or(u32::MAX)).collect();

        let mut out = out;
        out.write_all(&crate::csv::full_header(options)?)?;
        write_in_order(&ids, &mut out, |chunk| {
            let students = txn.open_table(STUDENTS)?;
            let placements = txn.open_table(PLACEMENTS)?;
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                return Ok(Vec::new());
            };

            let mut rows = crate::csv::RowWriter::new(options.delimiter);
            for item in students.range(*first..=*last)? {
                let (_, value) = item?;
                let student: StudentRef<'_> = postcard::from_bytes(value.value())?;
                let placement: Option<Placement> = placements
                    .get(student.id.0)?
                    .map(|v| decode(v.value()))
                    .transpose()?;
                let school = school_names
                    .get(student.school.index_usize())
                    .map_or("", String::as_str);
                let number = number_of(&self.vault, student.id.0, value.value())?;
                let digits = number.as_ref().map(|n| n.digits().as_bytes());
                rows.full_row(&student, digits, school, placement.as_ref())?;
            }
            rows.into_bytes()
        })?;
        out.flush()?;
        Ok(ids.len())
    }

    /// The schools' names, by index.
    fn school_names(&self) -> Vec<String> {
        self.read_state()
            .schools
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// One student's card as `service` sees it at `at` (now if `None`). The student must be in
    /// one of the service's tabs.
    pub fn student(
        &self,
        service: ServiceId,
        student: StudentId,
        at: impl Into<Option<DateTime<Utc>>>,
    ) -> Result<StudentCard> {
        let t = micros(moment(at.into()));
        let status = {
            let state = self.read_state();
            let svc = state.service(service)?;
            let i = state.student_index(student)?;
            let rule = Rule::new(&state.cal, service, svc.province, t);
            let cols = &state.columns;
            if !cols.in_tab(i, &rule, Tab::Open) && !cols.in_tab(i, &rule, Tab::Accepted) {
                return Err(Error::NotVisible { student, service });
            }
            let status = state.status_of(service, student, t);
            (status, state.personal_data(service, student, status))
        };

        let mut cards = self.cards(service, vec![(student, status.0, status.1)])?;
        cards.pop().ok_or_else(|| Error::NotFound {
            what: "student",
            id: student.to_string(),
        })
    }

    /// Builds cards from the records in redb, masking personal data by status.
    fn cards(&self, service: ServiceId, picked: Vec<Picked>) -> Result<Vec<StudentCard>> {
        let txn = self.db.begin_read()?;
        cards_in(&txn, &self.vault, service, &picked, &self.school_names())
    }

    /// Round statistics as of `at` (now if `None`); see [`crate::stats`].
    pub fn round_stats(&self, at: impl Into<Option<DateTime<Utc>>>) -> Vec<RoundStat> {
        let t = micros(moment(at.into()));
        let state = self.read_state();
        round_stats(
            &state.columns,
            &state.calendar,
            &state.services,
            &state.pairs,
            t,
        )
    }

    /// Bytes of memory the query columns take per student.
    pub fn query_bytes_per_student(&self) -> f64 {
        self.read_state().columns.bytes_per_student()
    }
}

/// Says which student of a batch an error is about.
fn batch_error(err: Error, k: usize, len: usize) -> Error {
    match err {
        Error::Validation {
            field,
            value,
            reason,
        } if len > 1 => Error::Validation {
            field,
            value,
            reason: format!("{reason} (student {} of the batch)", k + 1),
        },
        other => other,
    }
}

fn read_all<T: DeserializeOwned>(table: &redb::ReadOnlyTable<u32, &[u8]>) -> Result<Vec<T>> {
    let mut all = Vec::new();
    for item in table.iter()? {
        let (_, value) = item?;
        all.push(decode(value.value())?);
    }
    Ok(all)
}

impl SchoolId {
    fn index_usize(self) -> usize {
        (self.0 as usize).wrapping_sub(1)
    }
}

impl State {
    fn service(&self, id: ServiceId) -> Result<&Service> {
        self.services
            .get((id.0 as usize).wrapping_sub(1))
            .ok_or_else(|| Error::NotFound {
                what: "service",
                id: id.to_string(),
            })
    }

    fn school(&self, id: SchoolId) -> Result<&School> {
        self.schools
            .get((id.0 as usize).wrapping_sub(1))
            .ok_or_else(|| Error::NotFound {
                what: "school",
                id: id.to_string(),
            })
    }

    fn contact(&self, id: ContactId) -> Result<&Contact> {
        self.contacts
            .get((id.0 as usize).wrapping_sub(1))
            .ok_or_else(|| Error::NotFound {
                what: "contact",
                id: id.to_string(),
            })
    }

    fn student_index(&self, id: StudentId) -> Result<usize> {
        let i = id.index();
        if i < self.columns.len() {
            Ok(i)
        } else {
            Err(Error::NotFound {
                what: "student",
                id: id.to_string(),
            })
        }
    }

    fn track(&self, i: usize) -> Track {
        let (track, ..) = self.columns.facts(i, self.cal.release);
        Track::ALL[track as usize]
    }

    /// Whether `service` may see `student`'s personal data on a card whose status (as of
    /// the moment asked about) is `status`: only while that status is `invited` or
    /// `accepted` and the service's current status still is. Asking about a past moment
    /// therefore never shows data the service may no longer see.
    fn personal_data(&self, service: ServiceId, student: StudentId, status: Status) -> bool {
        let now = self.status_of(service, student, Micros::MAX);
        status.sees_personal_data() && now.sees_personal_data()
    }

    fn status_of(&self, service: ServiceId, student: StudentId, t: Micros) -> Status {
        self.pairs
            .get(&(service.0, student.0))
            .map_or(Status::Undecided, |h| status_as_of(h, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_is_send_and_sync() {
        assert_send_sync::<Store>();
    }

    #[test]
    fn format_version_is_recorded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        drop(Store::open(&path).unwrap());

        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(FORMAT_KEY, 99u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }

        let err = Store::open(&path).err().unwrap();
        assert!(matches!(
            err,
            Error::UnsupportedFormat {
                found: 99,
                supported: FORMAT_VERSION
            }
        ));
    }

    #[test]
    fn a_foreign_redb_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.redb");
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            let def: TableDefinition<u32, u32> = TableDefinition::new("x");
            txn.open_table(def).unwrap().insert(1, 2).unwrap();
            txn.commit().unwrap();
        }
        assert!(matches!(
            Store::open(&path).err().unwrap(),
            Error::Corrupt(_)
        ));
    }

    #[test]
    fn a_different_calendar_is_refused_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        drop(Store::open(&path).unwrap());
        let mut cal = Calendar::default();
        cal.placement_target = cal.round3.end;
        let err = Store::open_with_calendar(&path, cal).err().unwrap();
        assert_eq!(err.field(), Some("calendar"));
    }
}
