//! Student CSV files, as schools hand them in (*import van leerlingen*).
//!
//! The layout is API.md's: one header row with English or Dutch names in any order, UTF-8
//! with or without a byte-order mark, `;` or `,` as separator (detected from the header),
//! periods as `DD/MM/YYYY-DD/MM/YYYY` or ISO 8601 intervals `YYYY-MM-DD/YYYY-MM-DD`, lists
//! separated by `|`. [`StudentRows`] reads one row at a time (nothing else of the file is held
//! in memory) and turns each into a [`NewStudent`] or the first problem of that row as a
//! [`RowError`] naming its line and column. The store imports all rows or none
//! ([`crate::Store::import_students`]).

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};

use ::csv::ByteRecord;
use chrono::NaiveDate;

use crate::error::{Error, Result, RowError};
use crate::ids::{ServiceId, StudentId};
use crate::student::{NewStudent, Period, StudentData, Supervisor, Track, Transport, Weekday};
use crate::text::alias_key;

/// A column of the student CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    FirstName,
    LastName,
    Track,
    Street,
    Postcode,
    City,
    Transport,
    Periods,
    HoursPerWeek,
    TotalHours,
    Form,
    Days,
    PreferredService,
    NationalNumber,
    Email,
    Phone,
    SupervisorName,
    SupervisorEmail,
    SupervisorPhone,
    Remarks,
    /// A column that exports add (`id`, `school`, `status`, ...), read back and ignored.
    Ignored,
}

/// Columns of the exports that an import reads past.
const EXPORT_ONLY: [&str; 10] = [
    "id",
    "school",
    "registered_at",
    "province",
    "status",
    "placed_with",
    "contact",
    "accepted_periods",
    "notes",
    "school_name",
];

/// The English and Dutch header of each column.
const HEADERS: [(Col, &str, &str); 20] = [
    (Col::FirstName, "first_name", "voornaam"),
    (Col::LastName, "last_name", "achternaam"),
    (Col::Track, "track", "type"),
    (Col::Street, "street", "straat"),
    (Col::Postcode, "postcode", "postcode"),
    (Col::City, "city", "gemeente"),
    (Col::Transport, "transport", "vervoer"),
    (Col::Periods, "periods", "periodes"),
    (Col::HoursPerWeek, "hours_per_week", "uren_per_week"),
    (Col::TotalHours, "total_hours", "totaal_uren"),
    (Col::Form, "form", "vorm"),
    (Col::Days, "days", "dagen"),
    (
        Col::PreferredService,
        "preferred_service",
        "voorkeursdienst",
    ),
    (
        Col::NationalNumber,
        "national_number",
        "rijksregisternummer",
    ),
    (Col::Email, "email", "email"),
    (Col::Phone, "phone", "telefoon"),
    (Col::SupervisorName, "supervisor_name", "begeleider_naam"),
    (Col::SupervisorEmail, "supervisor_email", "begeleider_email"),
    (
        Col::SupervisorPhone,
        "supervisor_phone",
        "begeleider_telefoon",
    ),
    (Col::Remarks, "remarks", "opmerkingen"),
];

/// Columns every file must have; the others may be left out.
const REQUIRED: [Col; 11] = [
    Col::FirstName,
    Col::LastName,
    Col::Track,
    Col::Street,
    Col::Postcode,
    Col::City,
    Col::Transport,
    Col::Periods,
    Col::HoursPerWeek,
    Col::TotalHours,
    Col::Form,
];

/// The rows of a student CSV, one validated [`StudentData`] (or [`RowError`]) at a time.
pub struct StudentRows<R: Read, F: Fn(&str) -> Option<ServiceId>> {
    raw: RawRows<R>,
    converter: RowConverter<F>,
}

/// The rows of a student CSV after its header, read but not converted.
pub(crate) struct RawRows<R: Read> {
    reader: ::csv::Reader<LineEnds<R>>,
    record: ByteRecord,
}

/// The file as the CSV reader gets it: every line break (`\r\n`, or a lone `\r` as old Mac
/// exports have it) becomes `\n`, and a file whose last line has no line break gets one.
/// So every record ends in exactly one `\n`, which the reader counts, and errors name the
/// right line (see [`RawRows::record_line`]). A line break inside a quoted field becomes
/// `\n` too; nothing else changes. It also follows the quotes as the reader reads them, so
/// that a file cut off inside a quoted field (which the reader would take as a field that
/// runs to the end) is an error rather than a student with a strange last field.
struct LineEnds<R: Read> {
    inner: BufReader<R>,
    delimiter: u8,
    /// Whether the last byte read was a `\r` (already passed on as `\n`).
    after_cr: bool,
    /// Whether the last byte passed on was a `\n`, and whether the end of the file was.
    at_line_start: bool,
    ended: bool,
    quoting: Quoting,
    /// The line the bytes passed on so far end on, and the line the quoted field in progress
    /// opened on.
    line: u64,
    quote_line: u64,
}

/// The error of a file that ends inside a quoted field, carried through the CSV reader as an
/// I/O error: the line the field opened on.
#[derive(Debug)]
struct CutOff {
    line: u64,
}

impl fmt::Display for CutOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the file ends inside the quoted field that opens on line {} (a \" without its \
             closing \"): is it cut off?",
            self.line
        )
    }
}

impl std::error::Error for CutOff {}

/// Where the bytes passed on so far leave a field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of two.
    QuoteInQuoted,
}

impl<R: Read> LineEnds<R> {
    fn new(inner: BufReader<R>, delimiter: u8) -> Self {
        LineEnds {
            inner,
            delimiter,
            after_cr: false,
            at_line_start: true,
            ended: false,
            quoting: Quoting::FieldStart,
            line: 1,
            quote_line: 1,
        }
    }

    /// Follows the quotes and counts the lines of `bytes` (line breaks already `\n`).
    fn follow_quotes(&mut self, bytes: &[u8]) {
        let d = self.delimiter;
        let mut i = 0;
        while i < bytes.len() {
            match self.quoting {
                Quoting::FieldStart | Quoting::QuoteInQuoted => {
                    let b = bytes[i];
                    self.quoting = if b == b'"' {
                        if self.quoting == Quoting::FieldStart {
                            self.quote_line = self.line;
                        }
                        Quoting::Quoted
                    } else if b == d {
                        Quoting::FieldStart
                    } else if b == b'\n' {
                        self.line += 1;
                        Quoting::FieldStart
                    } else {
                        Quoting::Unquoted
                    };
                    i += 1;
                }
                Quoting::Unquoted => match memchr::memchr2(d, b'\n', &bytes[i..]) {
                    Some(k) => {
                        if bytes[i + k] == b'\n' {
                            self.line += 1;
                        }
                        i += k + 1;
                        self.quoting = Quoting::FieldStart;
                    }
                    None => i = bytes.len(),
                },
                Quoting::Quoted => {
                    let end = memchr::memchr(b'"', &bytes[i..]).map_or(bytes.len(), |k| i + k);
                    self.line += memchr::memchr_iter(b'\n', &bytes[i..end]).count() as u64;
                    if end < bytes.len() {
                        self.quoting = Quoting::QuoteInQuoted;
                        i = end + 1;
                    } else {
                        i = end;
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.ended || buf.is_empty() {
                return Ok(0);
            }
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.ended = true;
                if self.quoting == Quoting::Quoted {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        CutOff {
                            line: self.quote_line,
                        },
                    ));
                }
                if self.at_line_start {
                    return Ok(0);
                }
                buf[0] = b'\n';
                return Ok(1);
            }

            // In place: each `\r` becomes `\n`, and a `\n` right after a `\r` is dropped.
            let mut out = 0;
            let mut from = 0;
            if self.after_cr && buf[0] == b'\n' {
                from = 1;
            }
            self.after_cr = false;
            while from < n {
                let stop = memchr::memchr(b'\r', &buf[from..n]).map_or(n, |k| from + k);
                buf.copy_within(from..stop, out);
                out += stop - from;
                if stop == n {
                    break;
                }
                buf[out] = b'\n';
                out += 1;
                from = stop + 1;
                if from == n {
                    self.after_cr = true;
                } else if buf[from] == b'\n' {
                    from += 1;
                }
            }
            if out > 0 {
                self.at_line_start = buf[out - 1] == b'\n';
                self.follow_quotes(&buf[..out]);
                return Ok(out);
            }
        }
    }
}

/// Turns one raw row into a student: what [`StudentRows`] knows of the header. It holds no
/// reader, so many threads can convert rows of one file at once.
pub(crate) struct RowConverter<F> {
    columns: Vec<(Col, String)>,
    resolve_service: F,
}

/// A row as read from the file: its line and its fields, or why it could not be read.
pub(crate) type RawRow = (u64, std::result::Result<ByteRecord, RowError>);

/// Reads the header of a student CSV and returns the rows that follow.
///
/// `resolve_service` turns a preferred service's name or id into its id. A header that is
/// not a student CSV (missing, unknown or repeated columns) is refused at once with
/// [`Error::ImportFailed`] naming line 1.
///
/// ```
/// use stagematch_core::csv::student_rows;
/// let file = "voornaam;achternaam;type;straat;postcode;gemeente;vervoer;periodes;\
///             uren_per_week;totaal_uren;vorm\n\
///             Lotte;De Smet;secundair;Veldstraat 5;9000;Gent;fiets|auto;\
///             06/10/2025-31/10/2025;18;72;blok\n";
/// let rows: Vec<_> = student_rows(file.as_bytes(), |_| None)?.collect();
/// let (line, student) = &rows[0];
/// assert_eq!(*line, 2);
/// assert_eq!(student.as_ref().unwrap().last_name, "De Smet");
/// # Ok::<(), stagematch_core::Error>(())
/// ```
pub fn student_rows<R: Read, F: Fn(&str) -> Option<ServiceId>>(
    input: R,
    resolve_service: F,
) -> Result<StudentRows<R, F>> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered.fill_buf()?;
    let first_line = head
        .split(|b| *b == b'\n' || *b == b'\r')
        .next()
        .unwrap_or(head);
    let semicolons = first_line.iter().filter(|b| **b == b';').count();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semicolons >= commas { b';' } else { b',' };

    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineEnds::new(buffered, delimiter));

    let header_error = |column: &str, value: &str, reason: &str| Error::ImportFailed {
        errors: vec![RowError {
            line: 1,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        }],
    };

    let mut header = ::csv::StringRecord::new();
    match reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(header_error("", "", "the file is empty")),
        Err(_) => return Err(header_error("", "", "the header is not valid UTF-8 CSV")),
    }

    if header.len() == 1 && header.get(0).is_some_and(|h| h.contains(['\t', '|'])) {
        let shown: String = header.get(0).unwrap_or("").chars().take(60).collect();
        return Err(header_error("", &shown, "the separator must be ; or ,"));
    }

    let mut columns = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let key = alias_key(name).replace(' ', "_");
        if EXPORT_ONLY.contains(&key.as_str()) {
            columns.push((Col::Ignored, name.trim().to_owned()));
            continue;
        }
        let Some((col, ..)) = HEADERS.iter().find(|(_, en, nl)| *en == key || *nl == key) else {
            return Err(header_error(
                name,
                name,
                "is not a column of the student CSV",
            ));
        };
        if columns.iter().any(|(c, _)| c == col) {
            return Err(header_error(name, name, "appears twice in the header"));
        }
        columns.push((*col, name.trim().to_owned()));
    }
    for need in REQUIRED {
        if !columns.iter().any(|(c, _)| *c == need) {
            let (_, en, nl) = HEADERS
                .iter()
                .find(|(c, ..)| *c == need)
                .copied()
                .unwrap_or((need, "", ""));
            return Err(header_error(
                en,
                "",
                &format!("the column {en} ({nl}) is missing"),
            ));
        }
    }

    Ok(StudentRows {
        raw: RawRows {
            reader,
            record: ByteRecord::new(),
        },
        converter: RowConverter {
            columns,
            resolve_service,
        },
    })
}

impl<R: Read, F: Fn(&str) -> Option<ServiceId>> Iterator for StudentRows<R, F> {
    /// The line of the row, and the validated student or the row's first problem.
    type Item = (u64, std::result::Result<StudentData, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        let (line, raw) = self.raw.next_raw()?;
        let row = raw.and_then(|record| self.converter.convert(line, &record));
        Some((line, row))
    }
}

impl<R: Read, F: Fn(&str) -> Option<ServiceId>> StudentRows<R, F> {
    /// The reader and the converter apart, so that one thread reads while others convert.
    pub(crate) fn into_parts(self) -> (RawRows<R>, RowConverter<F>) {
        (self.raw, self.converter)
    }
}

impl<R: Read> RawRows<R> {
    /// Reads the next row that is not blank, without converting it.
    fn next_raw(&mut self) -> Option<RawRow> {
        loop {
            let result = self.reader.read_byte_record(&mut self.record);
            let line = self.record_line();
            return match result {
                Ok(false) => None,
                Err(e) => {
                    let cut_off = match e.kind() {
                        ::csv::ErrorKind::Io(io) => io
                            .get_ref()
                            .and_then(|inner| inner.downcast_ref::<CutOff>())
                            .map(|c| (c.line, c.to_string())),
                        _ => None,
                    };
                    let (line, reason) = cut_off.unwrap_or_else(|| {
                        (
                            e.position().map_or(line, |p| p.line()),
                            format!("cannot be read as CSV: {e}"),
                        )
                    });
                    Some((
                        line,
                        Err(RowError {
                            line,
                            column: String::new(),
                            value: String::new(),
                            reason,
                        }),
                    ))
                }
                Ok(true) if self.record.iter().all(|f| f.trim_ascii().is_empty()) => continue,
                Ok(true) => Some((line, Ok(self.record.clone()))),
            };
        }
    }

    /// The line the record just read starts on. The reader gives the line where it started
    /// looking, which is a blank line's when blank lines came before the record (rust-csv
    /// issue 208); the line is also known from where the record ended, less the line breaks
    /// inside its fields and the one that ends it ([`LineEnds`] makes sure there is one).
    fn record_line(&self) -> u64 {
        let start = self.record.position().map_or(1, |p| p.line());
        let inside = memchr::memchr_iter(b'\n', self.record.as_slice()).count() as u64;
        let end = self.reader.position().line();
        start.max(end.saturating_sub(inside + 1))
    }

    /// Reads up to `max` rows into `batch` (emptied first) without converting them; returns
    /// false once the file is exhausted and nothing was read.
    pub(crate) fn read_batch(&mut self, max: usize, batch: &mut Vec<RawRow>) -> bool {
        batch.clear();
        while batch.len() < max {
            match self.next_raw() {
                Some(row) => batch.push(row),
                None => break,
            }
        }

        !batch.is_empty()
    }
}

impl<F: Fn(&str) -> Option<ServiceId>> RowConverter<F> {
    /// Validates one row into a student, or returns the row's first problem.
    pub(crate) fn convert(
        &self,
        line: u64,
        record: &ByteRecord,
    ) -> std::result::Result<StudentData, RowError> {
        if record.len() != self.columns.len() {
            return Err(RowError {
                line,
                column: String::new(),
                value: record
                    .iter()
                    .map(String::from_utf8_lossy)
                    .collect::<Vec<_>>()
                    .join("|")
                    .chars()
                    .take(60)
                    .collect(),
                reason: format!(
                    "has {} fields where the header has {}",
                    record.len(),
                    self.columns.len()
                ),
            });
        }

        let mut s = NewStudent::default();
        let mut supervisor = Supervisor::default();
        // One UTF-8 check for the whole row; a field is then a slice of it, unless a field
        // boundary cuts a character, when that field is checked (and refused) on its own.
        let whole = std::str::from_utf8(record.as_slice()).ok();
        let mut start = 0;
        for (i, (col, header)) in self.columns.iter().enumerate() {
            let bytes = record.get(i).unwrap_or_default();
            let end = start + bytes.len();
            let sliced = whole.and_then(|w| w.get(start..end));
            start = end;
            let raw = sliced
                .map_or_else(|| std::str::from_utf8(bytes), Ok)
                .map_err(|_| RowError {
                    line,
                    column: header.clone(),
                    value: String::from_utf8_lossy(bytes).chars().take(60).collect(),
                    reason: "is not valid UTF-8".to_owned(),
                })?
                .trim();
            let fail = |reason: String| RowError {
                line,
                column: header.clone(),
                value: raw.chars().take(60).collect(),
                reason,
            };
            let text = || raw.to_owned();
            let optional = || (!raw.is_empty()).then(|| raw.to_owned());
            match col {
                Col::FirstName => s.first_name = text(),
                Col::LastName => s.last_name = text(),
                Col::Track => s.track = raw.parse::<Track>().map_err(|e| fail(reason(e)))?,
                Col::Street => s.street = text(),
                Col::Postcode => s.postcode = text(),
                Col::City => s.city = text(),
                Col::Transport => {
                    s.transport = list::<Transport>(raw).map_err(|e| fail(reason(e)))?
                }
                Col::Periods => s.periods = periods(raw).map_err(fail)?,
                Col::HoursPerWeek => s.hours_per_week = hours(raw).map_err(fail)?,
                Col::TotalHours => s.total_hours = hours(raw).map_err(fail)?,
                Col::Form => s.form = text(),
                Col::Days => s.days = list::<Weekday>(raw).map_err(|e| fail(reason(e)))?,
                Col::PreferredService => {
                    s.preferred_service = match raw {
                        "" => None,
                        name => Some((self.resolve_service)(name).ok_or_else(|| {
                            fail("is not a service of this store (name or id)".into())
                        })?),
                    }
                }
                Col::NationalNumber => s.national_number = optional(),
                Col::Email => s.email = optional(),
                Col::Phone => s.phone = optional(),
                Col::SupervisorName => supervisor.name = optional(),
                Col::SupervisorEmail => supervisor.email = optional(),
                Col::SupervisorPhone => supervisor.phone = optional(),
                Col::Remarks => s.remarks = optional(),
                Col::Ignored => {}
            }
        }
        s.supervisor = (supervisor != Supervisor::default()).then_some(supervisor);

        // The rules of the student itself; the error names the field, which is mapped back
        // to the column as this file spells it.
        s.into_data().map_err(|e| {
            let (field, value, why) = match e {
                Error::Validation {
                    field,
                    value,
                    reason,
                } => (field, value, reason),
                other => (String::new(), String::new(), other.to_string()),
            };
            let column = self
                .columns
                .iter()
                .find(|(c, _)| {
                    HEADERS
                        .iter()
                        .any(|(hc, en, _)| hc == c && field.starts_with(en))
                })
                .map_or(field, |(_, h)| h.clone());
            RowError {
                line,
                column,
                value,
                reason: why,
            }
        })
    }
}

fn reason(e: Error) -> String {
    match e {
        Error::Validation { reason, .. } => reason,
        other => other.to_string(),
    }
}

fn list<T: std::str::FromStr<Err = Error>>(raw: &str) -> Result<Vec<T>> {
    raw.split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

fn hours(raw: &str) -> std::result::Result<f64, String> {
    let parsed = if raw.contains(',') {
        raw.replace(',', ".").parse::<f64>()
    } else {
        raw.parse::<f64>()
    };

    parsed.map_err(|_| "must be a number of hours".to_owned())
}

/// Parses `DD/MM/YYYY` or `YYYY-MM-DD` (one- or two-digit days and months) without chrono's
/// format machinery, which dominated the cost of a row.
fn date(s: &str) -> Option<NaiveDate> {
    let number = |t: &str, max_len: usize| -> Option<u32> {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };

    let mut slash = s.split('/');
    let (y, m, d) = match (slash.next(), slash.next(), slash.next(), slash.next()) {
        (Some(d), Some(m), Some(y), None) if y.len() == 4 => (y, m, d),
        _ => {
            let mut dash = s.split('-');
            match (dash.next(), dash.next(), dash.next(), dash.next()) {
                (Some(y), Some(m), Some(d), None) if y.len() == 4 => (y, m, d),
                _ => return None,
            }
        }
    };

    let year = i32::try_from(number(y, 4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(m, 2)?, number(d, 2)?)
}

/// Parses `DD/MM/YYYY-DD/MM/YYYY` or `YYYY-MM-DD/YYYY-MM-DD` periods separated by `|`.
fn periods(raw: &str) -> std::result::Result<Vec<Period>, String> {
    let rule = "must be DD/MM/YYYY-DD/MM/YYYY or YYYY-MM-DD/YYYY-MM-DD, several separated by |";
    let mut out = Vec::new();
    for part in raw.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = if part.contains('/') && part.matches('/').count() == 1 {
            part.split_once('/').ok_or_else(|| rule.to_owned())?
        } else if let Some((a, b)) = part.split_once('-').filter(|(a, _)| a.contains('/')) {
            (a, b)
        } else {
            return Err(rule.to_owned());
        };
        let day = |s: &str| date(s.trim()).ok_or_else(|| format!("{s:?} is not a date; {rule}"));
        let period = Period::new(day(a)?, day(b)?).map_err(reason)?;
        out.push(period);
    }
    Ok(out)
}

/// How exports are written. The default is what Excel in Belgium opens directly: a UTF-8
/// byte-order mark, `;` between fields, decimal commas, dates as DD/MM/YYYY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The separator (`;` by default).
    pub delimiter: u8,
    /// Whether to start with a UTF-8 byte-order mark (yes by default).
    pub bom: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            delimiter: b';',
            bom: true,
        }
    }
}

fn csv_writer<W: Write>(mut out: W, options: &ExportOptions) -> Result<::csv::Writer<W>> {
    if options.bom {
        out.write_all("\u{feff}".as_bytes())?;
    }
    Ok(::csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .from_writer(out))
}

fn csv_error(e: ::csv::Error) -> Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Corrupt(format!("{other:?}")),
    }
}

fn number(x: f64, delimiter: u8) -> String {
    let mut out = Vec::new();
    push_number(&mut out, x, delimiter);
    String::from_utf8_lossy(&out).into_owned()
}

// ----- formatting into a byte buffer, without allocating per row -----------------------------

fn push_two(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

fn push_int(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `DD/MM/YYYY`.
fn push_day(out: &mut Vec<u8>, d: NaiveDate) {
    use chrono::Datelike;

    push_two(out, d.day());
    out.push(b'/');
    push_two(out, d.month());
    out.push(b'/');
    let year = u32::try_from(d.year()).unwrap_or(0);
    push_two(out, year / 100);
    push_two(out, year % 100);
}

/// Periods as `DD/MM/YYYY-DD/MM/YYYY`, separated by `|`.
fn push_spans(out: &mut Vec<u8>, periods: &[Period]) {
    for (i, p) in periods.iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        push_day(out, p.start());
        out.push(b'-');
        push_day(out, p.end());
    }
}

/// A number as Rust prints it (`12`, `7.5`), with a decimal comma when fields are separated by
/// `;`, as Excel in Belgium reads it.
fn push_number(out: &mut Vec<u8>, x: f64, delimiter: u8) {
    if x.fract() == 0.0 && (0.0..1e15).contains(&x) {
        // Whole and in range, so the cast is exact.
        push_int(out, x as u64);
        return;
    }

    let start = out.len();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{x}");
    if delimiter == b';' {
        for b in &mut out[start..] {
            if *b == b'.' {
                *b = b',';
            }
        }
    }
}

/// A moment in Brussels time as `DD/MM/YYYY HH:MM`.
fn push_moment(out: &mut Vec<u8>, t: chrono::DateTime<chrono::Utc>) {
    use chrono::Timelike;

    let local = t.with_timezone(&chrono_tz::Europe::Brussels);
    push_day(out, local.date_naive());
    out.push(b' ');
    push_two(out, local.hour());
    out.push(b':');
    push_two(out, local.minute());
}

/// Codes separated by `|`.
fn push_codes<T: Copy>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    code: fn(T) -> &'static str,
) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        out.extend_from_slice(code(item).as_bytes());
    }
}

/// An id's text form (`stu-12`).
fn push_id(out: &mut Vec<u8>, prefix: &str, n: u32) {
    out.extend_from_slice(prefix.as_bytes());
    push_int(out, u64::from(n));
}

/// The columns shared by both exports, in the import's English names.
const STUDENT_COLUMNS: [&str; 20] = [
    "first_name",
    "last_name",
    "track",
    "street",
    "postcode",
    "city",
    "transport",
    "periods",
    "hours_per_week",
    "total_hours",
    "form",
    "days",
    "preferred_service",
    "national_number",
    "email",
    "phone",
    "supervisor_name",
    "supervisor_email",
    "supervisor_phone",
    "remarks",
];

/// The last columns of a service's tab.
const TAB_COLUMNS: [&str; 7] = [
    "id",
    "school",
    "registered_at",
    "status",
    "contact",
    "accepted_periods",
    "notes",
];

/// The last columns of the coordinator's export.
const FULL_COLUMNS: [&str; 6] = [
    "id",
    "school",
    "registered_at",
    "placed_with",
    "contact",
    "accepted_periods",
];

/// The student columns of one row, borrowed from a stored record or from a card.
struct StudentView<'a> {
    track: Track,
    first_name: &'a [u8],
    last_name: &'a [u8],
    street: &'a [u8],
    postcode: u16,
    city: &'a [u8],
    transport: crate::student::TransportSet,
    periods: &'a [Period],
    hours_per_week: f64,
    total_hours: f64,
    form: &'a [u8],
    days: &'a [Weekday],
    preferred_service: Option<ServiceId>,
    /// The eleven digits.
    national_number: Option<&'a [u8]>,
    email: Option<&'a [u8]>,
    phone: Option<&'a [u8]>,
    supervisor_name: Option<&'a [u8]>,
    supervisor_email: Option<&'a [u8]>,
    supervisor_phone: Option<&'a [u8]>,
    remarks: Option<&'a [u8]>,
}

impl<'a> StudentView<'a> {
    /// The view of a stored student as a service sees it: without personal data unless
    /// `personal`.
    fn stored(
        d: &'a crate::student::StudentDataRef<'a>,
        personal: bool,
        number: Option<&'a [u8]>,
    ) -> Self {
        let sup = d.supervisor.as_ref();
        let mine = |v: Option<&'a [u8]>| v.filter(|_| personal);
        StudentView {
            track: d.track,
            first_name: d.first_name,
            last_name: d.last_name,
            street: d.street,
            postcode: d.postcode.get(),
            city: d.city,
            transport: d.transport,
            periods: &d.periods,
            hours_per_week: d.hours_per_week,
            total_hours: d.total_hours,
            form: d.form,
            days: &d.days,
            preferred_service: d.preferred_service,
            national_number: mine(number.or(d.national_number)),
            email: mine(d.email),
            phone: mine(d.phone),
            supervisor_name: sup.and_then(|s| s.name),
            supervisor_email: mine(sup.and_then(|s| s.email)),
            supervisor_phone: mine(sup.and_then(|s| s.phone)),
            remarks: d.remarks,
        }
    }
}

impl<'a> From<&'a StudentData> for StudentView<'a> {
    fn from(d: &'a StudentData) -> Self {
        StudentView {
            track: d.track,
            first_name: d.first_name.as_bytes(),
            last_name: d.last_name.as_bytes(),
            street: d.street.as_bytes(),
            postcode: d.postcode.get(),
            city: d.city.as_bytes(),
            transport: d.transport,
            periods: &d.periods,
            hours_per_week: d.hours_per_week,
            total_hours: d.total_hours,
            form: d.form.as_bytes(),
            days: &d.days,
            preferred_service: d.preferred_service,
            national_number: d.national_number.as_ref().map(|n| n.digits().as_bytes()),
            email: d.email.as_deref().map(str::as_bytes),
            phone: d.phone.as_deref().map(str::as_bytes),
            supervisor_name: d
                .supervisor
                .as_ref()
                .and_then(|s| s.name.as_deref())
                .map(str::as_bytes),
            supervisor_email: d
                .supervisor
                .as_ref()
                .and_then(|s| s.email.as_deref())
                .map(str::as_bytes),
            supervisor_phone: d
                .supervisor
                .as_ref()
                .and_then(|s| s.phone.as_deref())
                .map(str::as_bytes),
            remarks: d.remarks.as_deref().map(str::as_bytes),
        }
    }
}

impl<'a> From<&'a crate::store::StudentCard> for StudentView<'a> {
    fn from(c: &'a crate::store::StudentCard) -> Self {
        StudentView {
            track: c.track,
            first_name: c.first_name.as_bytes(),
            last_name: c.last_name.as_bytes(),
            street: c.street.as_bytes(),
            postcode: c.postcode.get(),
            city: c.city.as_bytes(),
            transport: c.transport.iter().copied().collect(),
            periods: &c.periods,
            hours_per_week: c.hours_per_week,
            total_hours: c.total_hours,
            form: c.form.as_bytes(),
            days: &c.days,
            preferred_service: c.preferred_service,
            national_number: c.national_number.as_ref().map(|n| n.digits().as_bytes()),
            email: c.email.as_deref().map(str::as_bytes),
            phone: c.phone.as_deref().map(str::as_bytes),
            supervisor_name: c
                .supervisor
                .as_ref()
                .and_then(|s| s.name.as_deref())
                .map(str::as_bytes),
            supervisor_email: c
                .supervisor
                .as_ref()
                .and_then(|s| s.email.as_deref())
                .map(str::as_bytes),
            supervisor_phone: c
                .supervisor
                .as_ref()
                .and_then(|s| s.phone.as_deref())
                .map(str::as_bytes),
            remarks: c.remarks.as_deref().map(str::as_bytes),
        }
    }
}

/// The columns of a tab row after the student's own.
pub(crate) struct TabTail<'a> {
    pub id: StudentId,
    pub school_name: &'a str,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub status: crate::decision::Status,
    pub placement: Option<&'a crate::decision::Placement>,
}

/// Writes rows of an export into memory, one field at a time, formatting numbers, dates and
/// codes straight into the row: the rows of a million-row export cost no allocation each.
/// Many of these run at once on rayon's threads, each on its own chunk of rows.
///
/// Fields are quoted as the `csv` crate quotes them (only where they hold the separator, a
/// quote or a line break; quotes doubled), and rows end with `\n`; a unit test holds the two
/// to the same bytes. It is written out by hand because the generic writer's per-byte state
/// machine was the largest single cost of an export.
pub(crate) struct RowWriter {
    out: Vec<u8>,
    delimiter: u8,
    /// Whether a text that starts like a spreadsheet formula gets a leading `'` (a tab is
    /// opened in Excel; the coordinator's export, which imports back, is written as stored).
    guard_formulas: bool,
    /// Whether the row has a field already, so that the next one needs a separator.
    in_row: bool,
    /// Where marked rows end, for callers that reorder rows.
    ends: Vec<usize>,
}

impl RowWriter {
    /// An empty buffer for rows separated by `delimiter`.
    pub(crate) fn new(delimiter: u8) -> Self {
        RowWriter {
            out: Vec::with_capacity(1 << 16),
            delimiter,
            guard_formulas: false,
            in_row: false,
            ends: Vec::new(),
        }
    }

    /// A writer for a service's tab, which Excel opens: a text that Excel would take for a
    /// formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is written
    /// with a leading `'`, which Excel shows as a text marker and does not display.
    pub(crate) fn for_tab(delimiter: u8) -> Self {
        RowWriter {
            guard_formulas: true,
            ..RowWriter::new(delimiter)
        }
    }

    /// Records where the row just written ends.
    pub(crate) fn mark(&mut self) -> Result<()> {
        self.ends.push(self.out.len());
        Ok(())
    }

    /// The rows written so far, and where each marked row ends.
    pub(crate) fn into_marked(mut self) -> Result<(Vec<u8>, Vec<usize>)> {
        let ends = std::mem::take(&mut self.ends);
        Ok((self.into_bytes()?, ends))
    }

    /// Whether a field must be quoted.
    fn needs_quotes(&self, field: &[u8]) -> bool {
        let d = self.delimiter;
        field
            .iter()
            .any(|&b| b == d || b == b'"' || b == b'\n' || b == b'\r')
    }

    fn separate(&mut self) {
        if self.in_row {
            self.out.push(self.delimiter);
        }
        self.in_row = true;
    }

    fn push_quoted(out: &mut Vec<u8>, field: &[u8]) {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }

    fn text(&mut self, value: impl AsRef<[u8]>) -> Result<()> {
        let value = value.as_ref();
        if self.guard_formulas
            && matches!(
                value.first(),
                Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
            )
        {
            let mut guarded = Vec::with_capacity(value.len() + 1);
            guarded.push(b'\'');
            guarded.extend_from_slice(value);
            return self.plain_text(&guarded);
        }
        self.plain_text(value)
    }

    fn plain_text(&mut self, value: &[u8]) -> Result<()> {
        self.separate();
        if self.needs_quotes(value) {
            Self::push_quoted(&mut self.out, value);
        } else {
            self.out.extend_from_slice(value);
        }
        Ok(())
    }

    fn formatted(&mut self, fill: impl FnOnce(&mut Vec<u8>, u8)) -> Result<()> {
        self.separate();
        let start = self.out.len();
        fill(&mut self.out, self.delimiter);

        // Numbers, dates and codes hold no quote or line break; only an unusual separator
        // (`|`, `/`, `-`) can make them need quotes.
        if self.needs_quotes(&self.out[start..]) {
            let field = self.out.split_off(start);
            Self::push_quoted(&mut self.out, &field);
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        self.out.push(b'\n');
        self.in_row = false;
        Ok(())
    }

    /// The header row: the student columns, then `tail`.
    fn header(&mut self, tail: &[&str]) -> Result<()> {
        for name in STUDENT_COLUMNS.iter().chain(tail) {
            self.text(name)?;
        }
        self.end()
    }

    fn student(&mut self, v: &StudentView<'_>) -> Result<()> {
        self.text(v.first_name)?;
        self.text(v.last_name)?;
        self.text(v.track.code())?;
        self.text(v.street)?;
        self.formatted(|o, _| push_int(o, u64::from(v.postcode)))?;
        self.text(v.city)?;
        self.formatted(|o, _| push_codes(o, v.transport.to_vec(), Transport::code))?;
        self.formatted(|o, _| push_spans(o, v.periods))?;
        self.formatted(|o, d| push_number(o, v.hours_per_week, d))?;
        self.formatted(|o, d| push_number(o, v.total_hours, d))?;
        self.text(v.form)?;
        self.formatted(|o, _| push_codes(o, v.days.iter().copied(), Weekday::code))?;
        self.formatted(|o, _| {
            if let Some(s) = v.preferred_service {
                push_id(o, ServiceId::PREFIX, s.0);
            }
        })?;
        self.formatted(|o, _| {
            if let Some(n) = v.national_number {
                let d = n;
                o.extend_from_slice(&d[0..2]);
                o.push(b'.');
                o.extend_from_slice(&d[2..4]);
                o.push(b'.');
                o.extend_from_slice(&d[4..6]);
                o.push(b'-');
                o.extend_from_slice(&d[6..9]);
                o.push(b'.');
                o.extend_from_slice(&d[9..11]);
            }
        })?;
        self.text(v.email.unwrap_or_default())?;
        self.text(v.phone.unwrap_or_default())?;
        self.text(v.supervisor_name.unwrap_or_default())?;
        self.text(v.supervisor_email.unwrap_or_default())?;
        self.text(v.supervisor_phone.unwrap_or_default())?;
        self.text(v.remarks.unwrap_or_default())
    }

    /// One row of a service's tab.
    pub(crate) fn tab_row(&mut self, c: &crate::store::StudentCard) -> Result<()> {
        self.student(&StudentView::from(c))?;
        let tail = TabTail {
            id: c.id,
            school_name: &c.school_name,
            registered_at: c.registered_at,
            status: c.status,
            placement: c.placement.as_ref(),
        };
        self.tab_tail(&tail)
    }

    /// One row of a service's tab, from the stored student: personal data only if
    /// `personal`, as the card would show it.
    pub(crate) fn tab_row_stored(
        &mut self,
        s: &crate::student::StudentRef<'_>,
        personal: bool,
        number: Option<&[u8]>,
        tail: &TabTail<'_>,
    ) -> Result<()> {
        self.student(&StudentView::stored(&s.data, personal, number))?;
        self.tab_tail(tail)
    }

    fn tab_tail(&mut self, c: &TabTail<'_>) -> Result<()> {
        let placement = c.placement;
        self.formatted(|o, _| push_id(o, StudentId::PREFIX, c.id.0))?;
        self.text(c.school_name)?;
        self.formatted(|o, _| push_moment(o, c.registered_at))?;
        self.text(c.status.code())?;
        self.formatted(|o, _| {
            if let Some(p) = placement {
                push_id(o, crate::ids::ContactId::PREFIX, p.contact.0);
            }
        })?;
        self.formatted(|o, _| {
            if let Some(p) = placement {
                push_spans(o, &p.periods);
            }
        })?;
        self.text(
            placement
                .and_then(|p| p.notes.as_deref())
                .unwrap_or_default(),
        )?;
        self.end()
    }

    /// One row of the coordinator's export.
    pub(crate) fn full_row(
        &mut self,
        s: &crate::student::StudentRef<'_>,
        number: Option<&[u8]>,
        school: &str,
        placement: Option<&crate::decision::Placement>,
    ) -> Result<()> {
        self.student(&StudentView::stored(&s.data, true, number))?;

        self.formatted(|o, _| push_id(o, StudentId::PREFIX, s.id.0))?;
        self.text(school)?;
        let registered = crate::calendar::from_micros(s.registered_micros);
        self.formatted(|o, _| push_moment(o, registered))?;
        self.formatted(|o, _| {
            if let Some(p) = placement {
                push_id(o, ServiceId::PREFIX, p.service.0);
            }
        })?;
        self.formatted(|o, _| {
            if let Some(p) = placement {
                push_id(o, crate::ids::ContactId::PREFIX, p.contact.0);
            }
        })?;
        self.formatted(|o, _| {
            if let Some(p) = placement {
                push_spans(o, &p.periods);
            }
        })?;
        self.end()
    }

    /// The rows written so far.
    pub(crate) fn into_bytes(self) -> Result<Vec<u8>> {
        Ok(self.out)
    }
}

/// The byte-order mark (if asked) and the header of a service's tab.
pub(crate) fn tab_header(options: &ExportOptions) -> Result<Vec<u8>> {
    header(options, &TAB_COLUMNS)
}

/// The byte-order mark (if asked) and the header of the coordinator's export.
pub(crate) fn full_header(options: &ExportOptions) -> Result<Vec<u8>> {
    header(options, &FULL_COLUMNS)
}

fn header(options: &ExportOptions, tail: &[&str]) -> Result<Vec<u8>> {
    let mut rows = RowWriter::new(options.delimiter);
    rows.header(tail)?;
    let mut out = if options.bom {
        "\u{feff}".as_bytes().to_vec()
    } else {
        Vec::new()
    };
    out.extend(rows.into_bytes()?);
    Ok(out)
}

/// Writes students as a school hands them in: the student columns only, one header row.
/// [`student_rows`] reads the file back to the same students.
///
/// ```
/// use stagematch_core::csv::{ExportOptions, student_rows, write_student_file};
/// use stagematch_core::synth::{self, Rng};
///
/// let student = synth::student(&mut Rng::new(7), &[]).into_data()?;
/// let mut file = Vec::new();
/// write_student_file([&student], &ExportOptions::default(), &mut file)?;
/// let back: Vec<_> = student_rows(file.as_slice(), |_| None)?.collect();
/// assert_eq!(back[0].1.as_ref().unwrap(), &student);
/// # Ok::<(), stagematch_core::Error>(())
/// ```
pub fn write_student_file<'a, W: Write>(
    students: impl IntoIterator<Item = &'a StudentData>,
    options: &ExportOptions,
    mut out: W,
) -> Result<()> {
    out.write_all(&header(options, &[])?)?;

    let mut rows = RowWriter::new(options.delimiter);
    for (i, s) in students.into_iter().enumerate() {
        rows.student(&StudentView::from(s))?;
        rows.end()?;
        if i % 4096 == 4095 {
            let full = std::mem::replace(&mut rows, RowWriter::new(options.delimiter));
            out.write_all(&full.into_bytes()?)?;
        }
    }
    out.write_all(&rows.into_bytes()?)?;
    out.flush()?;
    Ok(())
}

/// Writes a service's tab: the import's columns (personal data as the card shows it), then
/// `id`, `school`, `registered_at`, and the service's own: `status`, `contact`,
/// `accepted_periods`, `notes`. For hosts that build their own cards; the store's
/// [`crate::Store::export_tab`] writes the same rows from many threads.
pub struct TabWriter<W: Write> {
    out: W,
    rows: RowWriter,
}

impl<W: Write> TabWriter<W> {
    /// Starts the file with its header.
    pub fn new(mut out: W, options: &ExportOptions) -> Result<Self> {
        out.write_all(&tab_header(options)?)?;
        Ok(TabWriter {
            out,
            rows: RowWriter::for_tab(options.delimiter),
        })
    }

    /// Writes one card.
    pub fn write(&mut self, c: &crate::store::StudentCard) -> Result<()> {
        self.rows.tab_row(c)?;
        if self.rows.out.len() >= 1 << 16 {
            self.drain()?;
        }
        Ok(())
    }

    fn drain(&mut self) -> Result<()> {
        self.out.write_all(&self.rows.out)?;
        self.rows.out.clear();
        Ok(())
    }

    /// Writes what is left and flushes the file.
    pub fn finish(mut self) -> Result<()> {
        self.drain()?;
        self.out.flush()?;
        Ok(())
    }
}

/// Writes the coordinator's status counts: per student, service and status, how often it was
/// chosen.
pub fn write_status_counts<W: Write>(
    rows: &[crate::decision::StatusCount],
    options: &ExportOptions,
    out: W,
) -> Result<()> {
    let mut csv = csv_writer(out, options)?;
    csv.write_record(["student", "service", "status", "count"])
        .map_err(csv_error)?;
    for r in rows {
        let record = [
            r.student.to_string(),
            r.service.to_string(),
            r.status.to_string(),
            r.count.to_string(),
        ];
        csv.write_record(&record).map_err(csv_error)?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes round statistics, one row per phase, province, track and service.
pub fn write_round_stats<W: Write>(
    rows: &[crate::stats::RoundStat],
    options: &ExportOptions,
    out: W,
) -> Result<()> {
    let mut csv = csv_writer(out, options)?;
    let header = [
        "phase",
        "province",
        "track",
        "service",
        "open",
        "invited",
        "accepted",
        "mean_days_to_accept",
        "median_days_to_accept",
    ];
    csv.write_record(header).map_err(csv_error)?;
    let days = |d: Option<f64>| {
        d.map_or(String::new(), |d| {
            number((d * 10.0).round() / 10.0, options.delimiter)
        })
    };
    for r in rows {
        let record = [
            r.phase.to_string(),
            r.province.to_string(),
            r.track.to_string(),
            r.service.to_string(),
            r.open.to_string(),
            r.invited.to_string(),
            r.accepted.to_string(),
            days(r.mean_days_to_accept),
            days(r.median_days_to_accept),
        ];
        csv.write_record(&record).map_err(csv_error)?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "first_name;last_name;track;street;postcode;city;transport;periods;\
                          hours_per_week;total_hours;form";

    fn rows(file: &str) -> Vec<(u64, std::result::Result<StudentData, RowError>)> {
        student_rows(file.as_bytes(), |n| {
            (n == "Familiehulp").then_some(ServiceId(1))
        })
        .unwrap()
        .collect()
    }

    #[test]
    fn rows_are_quoted_as_the_csv_crate_quotes_them() {
        let fields: [&[u8]; 9] = [
            b"",
            b"plain",
            b"a;b",
            b"say \"hi\"",
            b"two\nlines",
            b"cr\r",
            b"comma,here",
            b"\"",
            "Ana\u{ef}s".as_bytes(),
        ];
        for delimiter in [b';', b',', b'|'] {
            let mut ours = RowWriter::new(delimiter);
            let mut theirs = ::csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(Vec::new());
            for start in 0..fields.len() {
                let row: Vec<&[u8]> = fields.iter().cycle().skip(start).take(5).copied().collect();
                for f in &row {
                    ours.text(f).unwrap();
                }
                ours.formatted(|o, _| o.extend_from_slice(b"1|2")).unwrap();
                ours.end().unwrap();
                theirs
                    .write_record(row.iter().copied().chain([&b"1|2"[..]]))
                    .unwrap();
            }
            let theirs = theirs.into_inner().unwrap();
            assert_eq!(
                String::from_utf8(ours.into_bytes().unwrap()).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "separator {}",
                delimiter as char
            );
        }
    }

    #[test]
    fn periods_in_both_notations() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        let p = periods("06/10/2025-31/10/2025 | 2025-12-01/2025-12-19").unwrap();
        assert_eq!(p[0], Period::new(d(10, 6), d(10, 31)).unwrap());
        assert_eq!(p[1], Period::new(d(12, 1), d(12, 19)).unwrap());
        for bad in ["31/10/2025-06/10/2025", "2025-10-06", "06/10/2025", "soon"] {
            assert!(periods(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_in_both_notations_and_nothing_else() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(date("06/10/2025"), d(2025, 10, 6));
        assert_eq!(date("6/1/2026"), d(2026, 1, 6));
        assert_eq!(date("2026-01-06"), d(2026, 1, 6));
        for bad in [
            "31/02/2026",
            "2026/01/06",
            "06-01-2026",
            "06/10/25",
            "+2025-01-06",
            "06/10/2025/1",
            "0006/010/2025",
            "",
            "//",
            "a6/10/2025",
            "06/10/20255",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn comma_files_with_a_bom_and_dutch_headers_in_any_order() {
        let file = "\u{feff}vorm,voornaam,achternaam,type,straat,postcode,gemeente,vervoer,\
                    periodes,uren_per_week,totaal_uren,voorkeursdienst\n\
                    blok,Jan,Peeters,cvo,Markt 1,2800,Mechelen,auto,\
                    2025-10-06/2025-10-31,\"19,5\",80,Familiehulp\n";
        let out = rows(file);
        let s = out[0].1.as_ref().unwrap();
        assert_eq!((s.track, s.hours_per_week), (Track::Adult, 19.5));
        assert_eq!(s.transport.to_vec(), vec![Transport::Car]);
        assert_eq!(s.preferred_service, Some(ServiceId(1)));
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let file = format!(
            "{HEADER}\n\
             A;B;secondary;S 1;9000;Gent;bike;06/10/2025-31/10/2025;18;72;blok\n\
             A;B;secondary;S 1;0999;Gent;bike;06/10/2025-31/10/2025;18;72;blok\n\
             A;B;circus;S 1;9000;Gent;bike;06/10/2025-31/10/2025;18;72;blok\n\
             A;B;secondary;S 1;9000;Gent\n"
        );
        let out = rows(&file);
        assert!(out[0].1.is_ok());
        let e = out[1].1.as_ref().unwrap_err();
        assert_eq!(
            (e.line, e.column.as_str(), e.value.as_str()),
            (3, "postcode", "0999")
        );
        let e = out[2].1.as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (4, "track"));
        let e = out[3].1.as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("6 fields"), "{e}");
    }

    #[test]
    fn lines_ending_in_a_lone_carriage_return_are_counted() {
        let file = format!(
            "{HEADER}\r\
             A;B;secondary;S 1;9000;Gent;bike;06/10/2025-31/10/2025;18;72;blok\r\
             A;B;secondary;S 1;0999;Gent;bike;06/10/2025-31/10/2025;18;72;blok\r"
        );
        let out = rows(&file);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, 2);
        assert!(out[0].1.is_ok());
        let e = out[1].1.as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (3, "postcode"));
    }

    #[test]
    fn rows_after_blank_lines_and_line_breaks_in_fields_name_their_own_line() {
        let good = "A;B;secondary;S 1;9000;Gent;bike;06/10/2025-31/10/2025;18;72;blok";
        let bad = "A;B;secondary;S 1;0999;Gent;bike;06/10/2025-31/10/2025;18;72;blok";
        let quoted = "A;B;secondary;\"S 1\nbus 2\r\nachteraan\";0999;Gent;bike;\
                      06/10/2025-31/10/2025;18;72;blok";
        let cases = [
            (format!("{HEADER}\n{good}\n\n{bad}\n"), 4),
            (format!("{HEADER}\n{good}\n\n\n{bad}"), 5),
            (format!("{HEADER}\n\n{bad}\n{good}\n"), 3),
            (format!("{HEADER}\r\n{good}\r\n\r\n{bad}\r\n"), 4),
            (format!("{HEADER}\n{quoted}\n{bad}\n"), 2),
            (format!("{HEADER}\n\n{good}\n{quoted}\n\n{bad}\n"), 4),
        ];
        for (file, line) in cases {
            let out = rows(&file);
            let e = out.iter().find_map(|r| r.1.as_ref().err()).unwrap();
            assert_eq!(e.line, line, "{file:?}");
        }
        let out = rows(&format!("{HEADER}\n{quoted}\n\n{bad}\n"));
        let lines: Vec<u64> = out.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 6]);
    }

    /// Hands out at most `step` bytes a read, so that line breaks and quotes fall across
    /// the reads of the CSV reader.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn line_breaks_and_quotes_across_reads_and_a_cut_off_field_name_their_lines() {
        let good = "A;B;secondary;S 1;9000;Gent;bike;06/10/2025-31/10/2025;18;72;blok;";
        let bad = "A;B;secondary;S 1;0999;Gent;bike;06/10/2025-31/10/2025;18;72;blok;";
        let quoted = "A;B;secondary;\"S 1; bus 2\";9000;Gent;bike;\
                      06/10/2025-31/10/2025;18;72;blok;\"Spreekt\r\n\"\"Frans\"\"\"";
        let cases = [
            (
                format!("{HEADER};remarks\r\n{good}\r\n\r\n{quoted}\r\n{bad}\r\n"),
                6,
            ),
            (format!("{HEADER};remarks\r{good}\r{quoted}\r\r{bad}\r"), 6),
            (format!("{HEADER};remarks\n{quoted}\n{good}\n{bad}"), 5),
        ];
        for (file, line) in &cases {
            for step in [1, 2, 7, 4096] {
                let rows: Vec<_> = student_rows(
                    Trickle {
                        bytes: file.as_bytes(),
                        step,
                    },
                    |_| None,
                )
                .unwrap()
                .collect();
                let e = rows.iter().find_map(|r| r.1.as_ref().err()).unwrap();
                assert_eq!(
                    (e.line, e.column.as_str()),
                    (*line, "postcode"),
                    "{step} {file:?}"
                );
                assert_eq!(rows.len(), 3, "{step} {file:?}");
            }
        }

        // A quoted field that opens on line 3 and is never closed.
        let cut = format!("{HEADER};remarks\n{good}ok\n{good}\"Spreekt\nFrans\nen\n");
        for step in [1, 3, 4096] {
            let rows: Vec<_> = student_rows(
                Trickle {
                    bytes: cut.as_bytes(),
                    step,
                },
                |_| None,
            )
            .unwrap()
            .collect();
            let e = rows.iter().find_map(|r| r.1.as_ref().err()).unwrap();
            assert_eq!(e.line, 3, "{step}: {e}");
            assert!(e.reason.contains("opens on line 3"), "{e}");
        }
    }

    #[test]
    fn bad_headers_are_refused_at_line_one() {
        for (file, column) in [
            ("first_name;last_name\nA;B\n", "track"),
            (&format!("{HEADER};shoe_size\n") as &str, "shoe_size"),
            (&format!("{HEADER};voornaam\n"), "voornaam"),
            ("", ""),
        ] {
            let Err(Error::ImportFailed { errors }) = student_rows(file.as_bytes(), |_| None)
            else {
                panic!("{file:?} was accepted");
            };
            assert_eq!(
                (errors[0].line, errors[0].column.as_str()),
                (1, column),
                "{file:?}"
            );
        }
    }
}
