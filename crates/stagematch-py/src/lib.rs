//! The Python face of stagematch: the native module `stagematch._native`, wrapped by the
//! Python package `stagematch` (see `python/stagematch`).
//!
//! Every call converts its Python arguments first, then releases the GIL for the whole of
//! the store operation (a query or a transaction), so one store serves many Python threads
//! at once. Errors become the exception classes of `API.md`, in a hierarchy that mirrors
//! [`stagematch_core::Error`]; OS errors become Python's own `FileNotFoundError`,
//! `PermissionError` and friends. Ids are strings; moments are `datetime` objects (a naive
//! one is read as Brussels time) and come back timezone-aware, in UTC.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyList};
use stagematch_core as sm;

mod session;

create_exception!(
    stagematch,
    StagematchError,
    PyException,
    "Every stagematch error."
);
create_exception!(
    stagematch,
    ValidationError,
    StagematchError,
    "A value breaks a rule."
);
create_exception!(
    stagematch,
    NotFound,
    StagematchError,
    "A referenced thing does not exist."
);
create_exception!(
    stagematch,
    NotVisible,
    StagematchError,
    "The student is not visible."
);
create_exception!(
    stagematch,
    InvalidTransition,
    StagematchError,
    "The machine refuses it."
);
create_exception!(
    stagematch,
    AlreadyPlaced,
    StagematchError,
    "Another service accepted."
);
create_exception!(
    stagematch,
    ImportFailed,
    StagematchError,
    "A CSV import was refused."
);
create_exception!(
    stagematch,
    AuthError,
    StagematchError,
    "A login or session was refused."
);
create_exception!(
    stagematch,
    StoreError,
    StagematchError,
    "The store file cannot be used."
);

/// Turns a core error into the matching Python exception.
fn to_py(py: Python<'_>, err: sm::Error) -> PyErr {
    let message = err.to_string();
    match err {
        sm::Error::Validation {
            field,
            value,
            reason,
        } => {
            let e = ValidationError::new_err(message);
            let v = e.value(py);
            // Setting attributes on a fresh exception instance cannot fail.
            let _ = v.setattr("field", field);
            let _ = v.setattr("value", value);
            let _ = v.setattr("reason", reason);
            e
        }
        sm::Error::NotFound { .. } => NotFound::new_err(message),
        sm::Error::NotVisible { .. } => NotVisible::new_err(message),
        sm::Error::InvalidTransition { .. } => InvalidTransition::new_err(message),
        sm::Error::AlreadyPlaced { service, .. } => {
            let e = AlreadyPlaced::new_err(message);
            let _ = e.value(py).setattr("service", service.to_string());
            e
        }
        sm::Error::ImportFailed { errors } => {
            let e = ImportFailed::new_err(message);
            let rows: Vec<_> = errors
                .into_iter()
                .map(|r| {
                    let d = PyDict::new(py);
                    let _ = d.set_item("line", r.line);
                    let _ = d.set_item("field", r.column);
                    let _ = d.set_item("value", r.value);
                    let _ = d.set_item("message", r.reason);
                    d
                })
                .collect();
            let _ = e.value(py).setattr("errors", rows);
            e
        }
        sm::Error::Auth { reason } | sm::Error::Forbidden { reason } => {
            let e = AuthError::new_err(message);
            let _ = e.value(py).setattr("reason", reason);
            e
        }
        sm::Error::KeyRequired | sm::Error::WrongKey => StoreError::new_err(message),
        sm::Error::Io(io) if io.raw_os_error().is_some() => PyErr::from(io),
        sm::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => PyErr::from(io),
        _ => StoreError::new_err(message),
    }
}

/// The same validation error, named after `field` (for values the core checks under
/// another name, such as a preferred service checked as a service id).
fn relabel(err: sm::Error, field: &str) -> sm::Error {
    match err {
        sm::Error::Validation { value, reason, .. } => sm::Error::Validation {
            field: field.to_owned(),
            value,
            reason,
        },
        other => other,
    }
}

/// A validation error for `field` about a Python value.
fn invalid(py: Python<'_>, field: &str, value: &Bound<'_, PyAny>, reason: &str) -> PyErr {
    let shown = value.repr().map(|r| r.to_string()).unwrap_or_default();
    let err = sm::Error::Validation {
        field: field.to_owned(),
        value: shown,
        reason: reason.to_owned(),
    };
    to_py(py, err)
}

/// Runs `f` without the GIL and converts its error.
fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> sm::Result<T> + Send) -> PyResult<T> {
    py.detach(f).map_err(|e| to_py(py, e))
}

fn parse<T: std::str::FromStr<Err = sm::Error>>(py: Python<'_>, s: &str) -> PyResult<T> {
    s.parse().map_err(|e| to_py(py, e))
}

/// Reads an optional moment: an aware `datetime`, a naive one (Brussels time), or a string
/// as the program accepts it.
fn moment(py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DateTime<Utc>>> {
    moment_of(py, "at", at)
}

/// [`moment`] for a value named `field` in errors.
fn moment_of(
    py: Python<'_>,
    field: &str,
    at: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<DateTime<Utc>>> {
    let Some(value) = at.filter(|v| !v.is_none()) else {
        return Ok(None);
    };

    // An aware datetime of any tzinfo (a fixed offset, zoneinfo, pandas): ask Python for the
    // UTC instant, which also settles the hour that DST repeats.
    let datetime = py.import("datetime")?;
    let is_datetime = value.is_instance(&datetime.getattr("datetime")?)?;
    if is_datetime && !value.getattr("tzinfo")?.is_none() {
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let instant = value.call_method1("astimezone", (utc,))?;
        if let Ok(aware) = instant.extract::<DateTime<FixedOffset>>() {
            return Ok(Some(aware.with_timezone(&Utc)));
        }
    }
    if let Ok(naive) = value.extract::<NaiveDateTime>() {
        return sm::calendar::from_brussels_naive(naive, &naive.to_string())
            .map(Some)
            .map_err(|e| to_py(py, relabel(e, field)));
    }
    if let Ok(text) = value.extract::<String>() {
        return sm::parse_moment(&text)
            .map(Some)
            .map_err(|e| to_py(py, relabel(e, field)));
    }

    let shown = value.repr().map(|r| r.to_string()).unwrap_or_default();
    Err(to_py(
        py,
        sm::Error::Validation {
            field: field.into(),
            value: shown,
            reason: "must be a datetime (naive means Brussels time)".into(),
        },
    ))
}

fn periods(py: Python<'_>, field: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<sm::Period>> {
    const RULE: &str = "must be a list of (date, date) pairs";
    let datetime = py.import("datetime")?;
    let (date_type, datetime_type) = (datetime.getattr("date")?, datetime.getattr("datetime")?);
    let day = |v: &Bound<'_, PyAny>| -> PyResult<NaiveDate> {
        if !v.is_instance(&date_type)? || v.is_instance(&datetime_type)? {
            return Err(invalid(
                py,
                field,
                v,
                "must hold dates (datetime.date, not datetime)",
            ));
        }
        v.extract().map_err(|_| invalid(py, field, v, RULE))
    };

    let is_text = |v: &Bound<'_, PyAny>| v.is_instance_of::<pyo3::types::PyString>();
    if is_text(value) {
        return Err(invalid(py, field, value, RULE));
    }
    let items = value
        .try_iter()
        .map_err(|_| invalid(py, field, value, RULE))?;
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        let pair: Vec<Bound<'_, PyAny>> = match item.try_iter() {
            Ok(it) if !is_text(&item) => it.collect::<PyResult<_>>()?,
            _ => return Err(invalid(py, field, &item, RULE)),
        };
        let [start, end] = pair.as_slice() else {
            return Err(invalid(py, field, &item, RULE));
        };
        let period =
            sm::Period::new(day(start)?, day(end)?).map_err(|e| to_py(py, relabel(e, field)))?;
        out.push(period);
    }
    Ok(out)
}

/// A non-negative count (offset, limit).
fn count(py: Python<'_>, field: &str, n: i64) -> PyResult<usize> {
    usize::try_from(n).map_err(|_| {
        let err = sm::Error::Validation {
            field: field.to_owned(),
            value: n.to_string(),
            reason: "must not be negative".to_owned(),
        };
        to_py(py, err)
    })
}

/// Parses a list of codes given as a list (or tuple) of strings, or as one string.
fn codes<T: std::str::FromStr<Err = sm::Error>>(
    py: Python<'_>,
    field: &str,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<T>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(one) = value.extract::<String>() {
        return Ok(vec![one.parse().map_err(|e| to_py(py, relabel(e, field)))?]);
    }

    let rule = "must be a list of codes";
    let items = value
        .try_iter()
        .map_err(|_| invalid(py, field, value, rule))?;
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        let text: String = item
            .extract()
            .map_err(|_| invalid(py, field, &item, rule))?;
        out.push(text.parse().map_err(|e| to_py(py, relabel(e, field)))?);
    }
    Ok(out)
}

/// The season calendar: rounds, the school blackout and the dual window.
#[pyclass(frozen, module = "stagematch._native")]
#[derive(Clone)]
struct Calendar(sm::Calendar);

#[pymethods]
impl Calendar {
    /// A calendar from its windows; every moment a `datetime` (naive means Brussels time).
    #[new]
    #[pyo3(signature = (*, dual, round1, blackout, release, round2, round3, placement_target))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        dual: Bound<'_, PyAny>,
        round1: Bound<'_, PyAny>,
        blackout: Bound<'_, PyAny>,
        release: Bound<'_, PyAny>,
        round2: Bound<'_, PyAny>,
        round3: Bound<'_, PyAny>,
        placement_target: Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let at = |field: &str, v: &Bound<'_, PyAny>| -> PyResult<DateTime<Utc>> {
            moment_of(py, field, Some(v))?
                .ok_or_else(|| invalid(py, field, v, "a moment is required"))
        };
        let window = |field: &str, w: &Bound<'_, PyAny>| -> PyResult<sm::Window> {
            let pair: (Bound<'_, PyAny>, Bound<'_, PyAny>) = w
                .extract()
                .map_err(|_| invalid(py, field, w, "must be a (start, end) pair of datetimes"))?;
            Ok(sm::Window::new(at(field, &pair.0)?, at(field, &pair.1)?))
        };
        let cal = sm::Calendar {
            dual: window("dual", &dual)?,
            round1: window("round1", &round1)?,
            blackout: window("blackout", &blackout)?,
            release: at("release", &release)?,
            round2: window("round2", &round2)?,
            round3: window("round3", &round3)?,
            placement_target: at("placement_target", &placement_target)?,
        };
        cal.validate().map_err(|e| to_py(py, e))?;
        Ok(Calendar(cal))
    }

    /// The school year 2025-2026 of the manual.
    #[staticmethod]
    fn default() -> Self {
        Calendar(sm::Calendar::default())
    }

    /// A calendar from the text of a calendar file (`key = start .. end` lines; see
    /// `to_text`). Raises ValidationError naming the key and the line.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str) -> PyResult<Self> {
        sm::Calendar::parse(text)
            .map(Calendar)
            .map_err(|e| to_py(py, e))
    }

    /// The calendar as a calendar file, which `Calendar.parse` reads back.
    fn to_text(&self) -> String {
        self.0.to_string()
    }

    /// The phase at `at` (now if not given).
    #[pyo3(signature = (at=None))]
    fn phase(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<&'static str> {
        Ok(self
            .0
            .phase(moment(py, at)?.unwrap_or_else(Utc::now))
            .code())
    }

    #[getter]
    fn dual(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0.dual.start, self.0.dual.end)
    }

    #[getter]
    fn round1(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0.round1.start, self.0.round1.end)
    }

    #[getter]
    fn blackout(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0.blackout.start, self.0.blackout.end)
    }

    #[getter]
    fn release(&self) -> DateTime<Utc> {
        self.0.release
    }

    #[getter]
    fn round2(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0.round2.start, self.0.round2.end)
    }

    #[getter]
    fn round3(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.0.round3.start, self.0.round3.end)
    }

    #[getter]
    fn placement_target(&self) -> DateTime<Utc> {
        self.0.placement_target
    }

    fn __repr__(&self) -> String {
        format!(
            "Calendar(round1={}, round2={}, round3={}, release={})",
            self.0.round1.start.to_rfc3339(),
            self.0.round2.start.to_rfc3339(),
            self.0.round3.start.to_rfc3339(),
            self.0.release.to_rfc3339()
        )
    }

    fn __eq__(&self, other: &Calendar) -> bool {
        self.0 == other.0
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.hash(&mut h);
        h.finish()
    }
}

/// A student as one service sees it at one moment.
#[pyclass(frozen, get_all, module = "stagematch._native")]
struct StudentCard {
    id: String,
    first_name: String,
    last_name: String,
    school: String,
    school_name: String,
    street: String,
    postcode: String,
    city: String,
    province: String,
    transport: Vec<String>,
    track: String,
    status: String,
    registered_at: DateTime<Utc>,
    form: String,
    hours_per_week: f64,
    total_hours: f64,
    periods: Vec<(NaiveDate, NaiveDate)>,
    days: Vec<String>,
    preferred_service: Option<String>,
    remarks: Option<String>,
    supervisor_name: Option<String>,
    supervisor_email: Option<String>,
    supervisor_phone: Option<String>,
    national_number: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    contact: Option<String>,
    accepted_periods: Option<Vec<(NaiveDate, NaiveDate)>>,
    notes: Option<String>,
}

impl StudentCard {
    fn from_core(c: sm::StudentCard) -> Self {
        let span = |p: &sm::Period| (p.start(), p.end());
        let supervisor = c.supervisor.unwrap_or_default();
        StudentCard {
            id: c.id.to_string(),
            first_name: c.first_name,
            last_name: c.last_name,
            school: c.school.to_string(),
            school_name: c.school_name,
            street: c.street,
            postcode: c.postcode.to_string(),
            city: c.city,
            province: c.province.code().to_owned(),
            transport: c.transport.iter().map(|t| t.code().to_owned()).collect(),
            track: c.track.code().to_owned(),
            status: c.status.code().to_owned(),
            registered_at: c.registered_at,
            form: c.form,
            hours_per_week: c.hours_per_week,
            total_hours: c.total_hours,
            periods: c.periods.iter().map(span).collect(),
            days: c.days.iter().map(|d| d.code().to_owned()).collect(),
            preferred_service: c.preferred_service.map(|s| s.to_string()),
            remarks: c.remarks,
            supervisor_name: supervisor.name,
            supervisor_email: supervisor.email,
            supervisor_phone: supervisor.phone,
            national_number: c.national_number.map(|n| n.digits().to_owned()),
            email: c.email,
            phone: c.phone,
            contact: c.placement.as_ref().map(|p| p.contact.to_string()),
            accepted_periods: c
                .placement
                .as_ref()
                .map(|p| p.periods.iter().map(span).collect()),
            notes: c.placement.and_then(|p| p.notes),
        }
    }
}

#[pymethods]
impl StudentCard {
    fn __repr__(&self) -> String {
        format!(
            "StudentCard({}, {:?}, {} {}, {}, {})",
            self.id,
            format!("{}, {}", self.last_name, self.first_name),
            self.postcode,
            self.province,
            self.track,
            self.status
        )
    }
}

/// A page of a tab: `total` matches before paging, and the `rows` of the page.
#[pyclass(frozen, module = "stagematch._native")]
struct Page {
    #[pyo3(get)]
    total: usize,
    rows: Vec<Py<StudentCard>>,
    table: Py<Table>,
}

#[pymethods]
impl Page {
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.rows.iter().map(|r| r.clone_ref(py)))
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.rows(py)?.as_any().try_iter()?.into_any())
    }

    fn __repr__(&self) -> String {
        format!("Page(total={}, rows={})", self.total, self.rows.len())
    }

    /// The page's rows as a table (one column per card attribute, personal data masked).
    fn to_table(&self, py: Python<'_>) -> Py<Table> {
        self.table.clone_ref(py)
    }

    /// The page's rows as a list of dicts.
    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.table.get().to_pylist(py)
    }

    /// The Arrow C stream of the page's rows (the Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.table.get().__arrow_c_stream__(py, requested_schema)
    }

    /// An HTML table for notebooks.
    fn _repr_html_(&self, py: Python<'_>) -> PyResult<String> {
        let table = self.table.get()._repr_html_(py)?;
        Ok(format!("<p>{} matching students</p>{table}", self.total))
    }
}

/// A table for analysts: Arrow through `__arrow_c_stream__`, or `to_pylist()`.
#[pyclass(frozen, module = "stagematch._native")]
struct Table {
    batch: RecordBatch,
}

/// A column of a table being built.
enum Column {
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    Int(Vec<i64>),
    Float(Vec<Option<f64>>),
    /// Moments, as an Arrow timestamp in microseconds, UTC.
    Moment(Vec<i64>),
}

impl Table {
    fn new(columns: Vec<(&str, Column)>) -> PyResult<Table> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (name, column) in columns {
            let (field, array): (Field, ArrayRef) = match column {
                Column::Text(v) => (
                    Field::new(name, DataType::Utf8, false),
                    Arc::new(StringArray::from(v)),
                ),
                Column::OptText(v) => (
                    Field::new(name, DataType::Utf8, true),
                    Arc::new(StringArray::from(v)),
                ),
                Column::Int(v) => (
                    Field::new(name, DataType::Int64, false),
                    Arc::new(Int64Array::from(v)),
                ),
                Column::Moment(v) => (
                    Field::new(
                        name,
                        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                        false,
                    ),
                    Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC")),
                ),
                Column::Float(v) => (
                    Field::new(name, DataType::Float64, true),
                    Arc::new(Float64Array::from(v)),
                ),
            };
            fields.push(field);
            arrays.push(array);
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| StoreError::new_err(e.to_string()))?;
        Ok(Table { batch })
    }

    fn cell<'py>(&self, py: Python<'py>, column: usize, row: usize) -> PyResult<Bound<'py, PyAny>> {
        let array = self.batch.column(column);
        if array.is_null(row) {
            return Ok(py.None().into_bound(py));
        }
        if let Some(a) = array.as_any().downcast_ref::<StringArray>() {
            return Ok(a.value(row).into_pyobject(py)?.into_any());
        }
        if let Some(a) = array.as_any().downcast_ref::<Int64Array>() {
            return Ok(a.value(row).into_pyobject(py)?.into_any());
        }
        if let Some(a) = array.as_any().downcast_ref::<Float64Array>() {
            return Ok(a.value(row).into_pyobject(py)?.into_any());
        }
        if let Some(a) = array.as_any().downcast_ref::<TimestampMicrosecondArray>() {
            let moment = DateTime::<Utc>::from_timestamp_micros(a.value(row))
                .ok_or_else(|| StoreError::new_err("a moment out of range"))?;
            return Ok(moment.into_pyobject(py)?.into_any());
        }
        Err(StoreError::new_err("a column of an unexpected type"))
    }
}

use arrow_array::Array;

#[pymethods]
impl Table {
    /// The rows as a list of dicts.
    fn to_pylist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let names = self.column_names();
        let rows = PyList::empty(py);
        for row in 0..self.batch.num_rows() {
            let dict = PyDict::new(py);
            for (c, name) in names.iter().enumerate() {
                dict.set_item(name, self.cell(py, c, row)?)?;
            }
            rows.append(dict)?;
        }
        Ok(rows)
    }

    /// The column names.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The Arrow C stream of the table (the Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let table = pyo3_arrow::PyTable::try_new(vec![self.batch.clone()], self.batch.schema())?;
        Bound::new(py, table)?.call_method1("__arrow_c_stream__", (requested_schema,))
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "Table({} rows: {})",
            self.batch.num_rows(),
            self.column_names().join(", ")
        )
    }

    /// An HTML table for notebooks (the first 50 rows).
    fn _repr_html_(&self, py: Python<'_>) -> PyResult<String> {
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let names = self.column_names();
        let mut html = String::from("<table><thead><tr>");
        for n in &names {
            html.push_str(&format!("<th>{}</th>", escape(n)));
        }
        html.push_str("</tr></thead><tbody>");
        for row in 0..self.batch.num_rows().min(50) {
            html.push_str("<tr>");
            for c in 0..names.len() {
                let cell = self.cell(py, c, row)?;
                let text = if cell.is_none() {
                    String::new()
                } else {
                    cell.str()?.to_string()
                };
                html.push_str(&format!("<td>{}</td>", escape(&text)));
            }
            html.push_str("</tr>");
        }
        html.push_str(&format!(
            "</tbody></table><p>{} rows</p>",
            self.batch.num_rows()
        ));
        Ok(html)
    }
}

/// The rows of a page as a table.
fn page_table(cards: &[sm::StudentCard]) -> PyResult<Table> {
    let text = |f: fn(&sm::StudentCard) -> String| Column::Text(cards.iter().map(f).collect());
    let opt =
        |f: fn(&sm::StudentCard) -> Option<String>| Column::OptText(cards.iter().map(f).collect());
    Table::new(vec![
        ("id", text(|c| c.id.to_string())),
        ("first_name", text(|c| c.first_name.clone())),
        ("last_name", text(|c| c.last_name.clone())),
        ("school", text(|c| c.school.to_string())),
        ("school_name", text(|c| c.school_name.clone())),
        ("postcode", text(|c| c.postcode.to_string())),
        ("city", text(|c| c.city.clone())),
        ("province", text(|c| c.province.code().to_owned())),
        (
            "transport",
            text(|c| {
                c.transport
                    .iter()
                    .map(|t| t.code())
                    .collect::<Vec<_>>()
                    .join("|")
            }),
        ),
        ("track", text(|c| c.track.code().to_owned())),
        ("status", text(|c| c.status.code().to_owned())),
        (
            "registered_at",
            Column::Moment(
                cards
                    .iter()
                    .map(|c| c.registered_at.timestamp_micros())
                    .collect(),
            ),
        ),
        (
            "preferred_service",
            opt(|c| c.preferred_service.map(|s| s.to_string())),
        ),
        (
            "national_number",
            opt(|c| c.national_number.as_ref().map(|n| n.digits().to_owned())),
        ),
        ("email", opt(|c| c.email.clone())),
        ("phone", opt(|c| c.phone.clone())),
    ])
}

/// The keyword arguments of a student, as `register_student` takes them.
struct StudentArgs<'a, 'py> {
    track: &'a str,
    first_name: String,
    last_name: String,
    street: String,
    postcode: String,
    city: String,
    transport: &'a Bound<'py, PyAny>,
    periods: &'a Bound<'py, PyAny>,
    hours_per_week: &'a Bound<'py, PyAny>,
    total_hours: &'a Bound<'py, PyAny>,
    form: String,
    days: Option<&'a Bound<'py, PyAny>>,
    preferred_service: Option<String>,
    national_number: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    supervisor: Option<Bound<'py, PyDict>>,
    remarks: Option<String>,
    province: Option<String>,
}

/// A number of hours: an int or a float (not a bool, not text).
fn hours(py: Python<'_>, field: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(py, field, value, "must be a number of hours"));
    }
    value
        .extract::<f64>()
        .map_err(|_| invalid(py, field, value, "must be a number of hours"))
}

/// A student from its keyword arguments (checked by the core when registered).
fn new_student(py: Python<'_>, a: StudentArgs<'_, '_>) -> PyResult<sm::NewStudent> {
    let StudentArgs {
        track,
        first_name,
        last_name,
        street,
        postcode,
        city,
        transport,
        periods,
        hours_per_week,
        total_hours,
        form,
        days,
        preferred_service,
        national_number,
        email,
        phone,
        supervisor,
        remarks,
        province,
    } = a;
    let hours_per_week = hours(py, "hours_per_week", hours_per_week)?;
    let total_hours = hours(py, "total_hours", total_hours)?;
    let supervisor = match supervisor {
        Some(d) => {
            for key in d.keys() {
                let known = key
                    .extract::<String>()
                    .is_ok_and(|k| matches!(k.as_str(), "name" | "email" | "phone"));
                if !known {
                    return Err(invalid(
                        py,
                        "supervisor",
                        &key,
                        "keys are name, email and phone",
                    ));
                }
            }
            let get = |k: &str| -> PyResult<Option<String>> {
                d.get_item(k)?
                    .filter(|v| !v.is_none())
                    .map(|v| v.extract())
                    .transpose()
            };
            Some(sm::Supervisor {
                name: get("name")?,
                email: get("email")?,
                phone: get("phone")?,
            })
        }
        None => None,
    };
    let student = sm::NewStudent {
        track: parse(py, track)?,
        first_name,
        last_name,
        street,
        postcode,
        city,
        province: province.map(|p| parse(py, &p)).transpose()?,
        transport: codes(py, "transport", Some(transport))?,
        periods: self::periods(py, "periods", periods)?,
        hours_per_week,
        total_hours,
        form,
        days: codes(py, "days", days)?,
        preferred_service: preferred_service
            .map(|s| {
                s.parse()
                    .map_err(|e| to_py(py, relabel(e, "preferred_service")))
            })
            .transpose()?,
        national_number,
        email,
        phone,
        supervisor,
        remarks,
    };
    Ok(student)
}

/// The filters and order of a tab, as `students` and `export_csv` take them.
struct Filters<'a, 'py> {
    tab: &'a str,
    name: Option<String>,
    provinces: Option<&'a Bound<'py, PyAny>>,
    school: Option<String>,
    postcode: Option<String>,
    transport: Option<&'a Bound<'py, PyAny>>,
    track: Option<String>,
    sort: &'a str,
}

impl Filters<'_, '_> {
    fn query(self, py: Python<'_>, offset: i64, limit: i64) -> PyResult<sm::Query> {
        Ok(sm::Query {
            tab: parse(py, self.tab)?,
            name: self.name,
            provinces: codes(py, "provinces", self.provinces)?,
            school: self.school,
            postcode: self.postcode,
            transport: codes(py, "transport", self.transport)?,
            track: self.track.map(|t| parse(py, &t)).transpose()?,
            sort: parse(py, self.sort)?,
            offset: count(py, "offset", offset)?,
            limit: count(py, "limit", limit)?,
        })
    }
}

/// A page for Python: its cards and its table.
fn make_page(py: Python<'_>, page: sm::Page) -> PyResult<Page> {
    let table = Py::new(py, page_table(&page.rows)?)?;
    let rows = page
        .rows
        .into_iter()
        .map(|c| Py::new(py, StudentCard::from_core(c)))
        .collect::<PyResult<_>>()?;
    Ok(Page {
        total: page.total,
        rows,
        table,
    })
}

/// The options of a CSV export with `delimiter` (`;` or `,`).
fn export_options(py: Python<'_>, delimiter: &str) -> PyResult<sm::csv::ExportOptions> {
    let delimiter = match delimiter {
        ";" => b';',
        "," => b',',
        other => {
            let value = other.into_pyobject(py)?.into_any();
            return Err(invalid(py, "delimiter", &value, "must be ; or ,"));
        }
    };
    Ok(sm::csv::ExportOptions {
        delimiter,
        bom: true,
    })
}

/// A CSV file to import: the content of a file object, or a path.
enum CsvInput {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

impl CsvInput {
    fn from_py(path_or_file: &Bound<'_, PyAny>) -> PyResult<CsvInput> {
        if path_or_file.hasattr("read")? {
            let content = path_or_file.call_method0("read")?;
            Ok(CsvInput::Bytes(match content.extract::<String>() {
                Ok(text) => text.into_bytes(),
                Err(_) => content.extract()?,
            }))
        } else {
            Ok(CsvInput::Path(path_or_file.extract()?))
        }
    }

    /// Runs the import with the file's content as a reader.
    fn import(
        self,
        f: impl FnOnce(&mut dyn std::io::Read) -> sm::Result<Vec<sm::StudentId>>,
    ) -> sm::Result<Vec<sm::StudentId>> {
        match self {
            CsvInput::Bytes(bytes) => f(&mut bytes.as_slice()),
            CsvInput::Path(path) => f(&mut std::fs::File::open(&path)?),
        }
    }
}

/// What an import returns to Python: `{"imported": n, "ids": [...]}`.
fn import_report<'py>(py: Python<'py>, ids: &[sm::StudentId]) -> PyResult<Bound<'py, PyDict>> {
    let report = PyDict::new(py);
    report.set_item("imported", ids.len())?;
    report.set_item("ids", ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())?;
    Ok(report)
}

/// `(student, status)` or `(student, status, contact)` tuples as decisions.
fn decision_batch(
    py: Python<'_>,
    decisions: &Bound<'_, PyAny>,
) -> PyResult<Vec<(sm::StudentId, sm::Decision)>> {
    let mut batch = Vec::new();
    for item in decisions.try_iter()? {
        let item = item?;
        let parts: Vec<Option<String>> = item.extract().map_err(|_| {
            invalid(
                py,
                "decisions",
                &item,
                "each decision must be (student, status) or (student, status, contact)",
            )
        })?;
        let (student, status, contact) = match parts.as_slice() {
            [Some(s), Some(st)] => (s, st, None),
            [Some(s), Some(st), c] => (s, st, c.as_ref()),
            _ => {
                return Err(invalid(
                    py,
                    "decisions",
                    &item,
                    "each decision must be (student, status) or (student, status, contact)",
                ));
            }
        };
        let decision = sm::Decision {
            status: parse(py, status)?,
            contact: contact.map(|c| parse(py, c)).transpose()?,
            periods: None,
            notes: None,
        };
        batch.push((parse::<sm::StudentId>(py, student)?, decision));
    }
    Ok(batch)
}

/// A placement season on an embedded redb store.
#[pyclass(frozen, module = "stagematch._native")]
struct Store {
    inner: Arc<sm::Store>,
}

#[pymethods]
impl Store {
    /// Opens the store at `path`, creating it (with `calendar`, or the default) if missing.
    /// With `key` (64 hexadecimal digits, see `generate_key`), national register numbers
    /// are sealed in the file, and the store cannot be opened again without that key.
    #[staticmethod]
    #[pyo3(signature = (path, calendar=None, key=None))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        calendar: Option<PyRef<'_, Calendar>>,
        key: Option<String>,
    ) -> PyResult<Store> {
        let calendar = calendar.map(|c| c.0);
        let key = key
            .map(|k| sm::Key::from_hex(&k))
            .transpose()
            .map_err(|e| to_py(py, e))?;
        let store = detached(py, move || {
            sm::Store::open_with(&path, calendar, key.as_ref())
        })?;
        Ok(Store {
            inner: Arc::new(store),
        })
    }

    /// A store in memory only (with `key`, numbers are sealed in memory too).
    #[staticmethod]
    #[pyo3(signature = (calendar=None, key=None))]
    fn memory(
        py: Python<'_>,
        calendar: Option<PyRef<'_, Calendar>>,
        key: Option<String>,
    ) -> PyResult<Store> {
        let calendar = calendar.map(|c| c.0);
        let key = key
            .map(|k| sm::Key::from_hex(&k))
            .transpose()
            .map_err(|e| to_py(py, e))?;
        let store = detached(py, move || sm::Store::memory_with(calendar, key.as_ref()))?;
        Ok(Store {
            inner: Arc::new(store),
        })
    }

    /// A SHA-256 digest (64 hexadecimal digits) of everything the store holds: it changes
    /// with every change and stays as it was when an operation is refused.
    fn digest(&self, py: Python<'_>) -> PyResult<String> {
        let store = self.inner.clone();
        let digest = detached(py, move || store.digest())?;
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether national register numbers are sealed in this store (it has a key).
    fn seals_personal_data(&self) -> bool {
        self.inner.seals_personal_data()
    }

    /// The store's calendar.
    fn calendar(&self, py: Python<'_>) -> Calendar {
        let store = self.inner.clone();
        Calendar(py.detach(move || store.calendar()))
    }

    /// Replaces the store's calendar (for a new school year, or a round moved); students
    /// registered in the blackout are seen again against the new one.
    fn set_calendar(&self, py: Python<'_>, calendar: PyRef<'_, Calendar>) -> PyResult<()> {
        let calendar = calendar.0;
        let store = self.inner.clone();
        detached(py, move || store.set_calendar(calendar))
    }

    /// The phase of the season at `at` (now if not given).
    #[pyo3(signature = (at=None))]
    fn phase(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<&'static str> {
        let at = moment(py, at)?;
        let store = self.inner.clone();
        Ok(py.detach(move || store.phase(at)).code())
    }

    /// Adds a service; returns its id.
    #[pyo3(signature = (name, province))]
    fn add_service(&self, py: Python<'_>, name: String, province: &str) -> PyResult<String> {
        let province: sm::Province = parse(py, province)?;
        let store = self.inner.clone();
        detached(py, move || store.add_service(&name, province)).map(|id| id.to_string())
    }

    /// Adds a school; returns its id.
    #[pyo3(signature = (name))]
    fn add_school(&self, py: Python<'_>, name: String) -> PyResult<String> {
        let store = self.inner.clone();
        detached(py, move || store.add_school(&name)).map(|id| id.to_string())
    }

    /// Adds a contact person to a service; returns its id.
    #[pyo3(signature = (service, *, name, phone, email))]
    fn add_contact(
        &self,
        py: Python<'_>,
        service: &str,
        name: String,
        phone: String,
        email: String,
    ) -> PyResult<String> {
        let service: sm::ServiceId = parse(py, service)?;
        let store = self.inner.clone();
        let contact = sm::NewContact::new(name, phone, email);
        detached(py, move || store.add_contact(service, &contact)).map(|id| id.to_string())
    }

    /// Registers a student for `school`; returns its id.
    #[pyo3(signature = (
        school, *, track, first_name, last_name, street, postcode, city, transport, periods,
        hours_per_week, total_hours, form, days=None, preferred_service=None,
        national_number=None, email=None, phone=None, supervisor=None, remarks=None,
        province=None, at=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn register_student(
        &self,
        py: Python<'_>,
        school: &str,
        track: &str,
        first_name: String,
        last_name: String,
        street: String,
        postcode: String,
        city: String,
        transport: &Bound<'_, PyAny>,
        periods: &Bound<'_, PyAny>,
        hours_per_week: &Bound<'_, PyAny>,
        total_hours: &Bound<'_, PyAny>,
        form: String,
        days: Option<&Bound<'_, PyAny>>,
        preferred_service: Option<String>,
        national_number: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        supervisor: Option<Bound<'_, PyDict>>,
        remarks: Option<String>,
        province: Option<String>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let school: sm::SchoolId = parse(py, school)?;
        let student = new_student(
            py,
            StudentArgs {
                track,
                first_name,
                last_name,
                street,
                postcode,
                city,
                transport,
                periods,
                hours_per_week,
                total_hours,
                form,
                days,
                preferred_service,
                national_number,
                email,
                phone,
                supervisor,
                remarks,
                province,
            },
        )?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.register_student(school, &student, at)).map(|id| id.to_string())
    }

    /// Imports a school's student CSV (a path, or a binary or text file object): every row
    /// or none. Returns `{"imported": n, "ids": [...]}`; a bad file raises `ImportFailed`
    /// whose `.errors` lists every bad row (`line`, `field`, `value`, `message`).
    #[pyo3(signature = (path_or_file, school, at=None))]
    fn import_students<'py>(
        &self,
        py: Python<'py>,
        path_or_file: &Bound<'py, PyAny>,
        school: &str,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let school: sm::SchoolId = parse(py, school)?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        let input = CsvInput::from_py(path_or_file)?;
        let ids = detached(py, move || {
            input.import(|r| store.import_students(r, school, at))
        })?;
        import_report(py, &ids)
    }

    /// A page of a service's tab, filtered and sorted.
    #[pyo3(signature = (
        service, tab="open", at=None, name=None, provinces=None, school=None, postcode=None,
        transport=None, track=None, sort="default", offset=0, limit=50
    ))]
    #[allow(clippy::too_many_arguments)]
    fn students(
        &self,
        py: Python<'_>,
        service: &str,
        tab: &str,
        at: Option<&Bound<'_, PyAny>>,
        name: Option<String>,
        provinces: Option<&Bound<'_, PyAny>>,
        school: Option<String>,
        postcode: Option<String>,
        transport: Option<&Bound<'_, PyAny>>,
        track: Option<String>,
        sort: &str,
        offset: i64,
        limit: i64,
    ) -> PyResult<Page> {
        let service: sm::ServiceId = parse(py, service)?;
        let filters = Filters {
            tab,
            name,
            provinces,
            school,
            postcode,
            transport,
            track,
            sort,
        };
        let query = filters.query(py, offset, limit)?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        let page = detached(py, move || store.students(service, &query, at))?;
        make_page(py, page)
    }

    /// Writes a service's tab, filtered and sorted, to a CSV file that Excel opens (UTF-8
    /// with BOM, `;`, DD/MM/YYYY); personal data only where the service may see it. Returns
    /// the number of students written.
    #[pyo3(signature = (
        service, path, tab="open", at=None, name=None, provinces=None, school=None,
        postcode=None, transport=None, track=None, sort="default", delimiter=";"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn export_csv(
        &self,
        py: Python<'_>,
        service: &str,
        path: PathBuf,
        tab: &str,
        at: Option<&Bound<'_, PyAny>>,
        name: Option<String>,
        provinces: Option<&Bound<'_, PyAny>>,
        school: Option<String>,
        postcode: Option<String>,
        transport: Option<&Bound<'_, PyAny>>,
        track: Option<String>,
        sort: &str,
        delimiter: &str,
    ) -> PyResult<usize> {
        let service: sm::ServiceId = parse(py, service)?;
        let options = export_options(py, delimiter)?;
        let filters = Filters {
            tab,
            name,
            provinces,
            school,
            postcode,
            transport,
            track,
            sort,
        };
        let query = filters.query(py, 0, 50)?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || {
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            store.export_tab(service, &query, at, &options, file)
        })
    }

    /// Writes every student with every field, personal data included, and its placement
    /// (the coordinator's export, which `import_students` reads back); returns the rows.
    #[pyo3(signature = (path, delimiter=";"))]
    fn export_students(&self, py: Python<'_>, path: PathBuf, delimiter: &str) -> PyResult<usize> {
        let options = export_options(py, delimiter)?;
        let store = self.inner.clone();
        detached(py, move || {
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            store.export_students(&options, file)
        })
    }

    /// One student's card as `service` sees it.
    #[pyo3(signature = (service, student, at=None))]
    fn student(
        &self,
        py: Python<'_>,
        service: &str,
        student: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<StudentCard> {
        let service: sm::ServiceId = parse(py, service)?;
        let student: sm::StudentId = parse(py, student)?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.student(service, student, at)).map(StudentCard::from_core)
    }

    /// Records a decision of `service` about `student`.
    #[pyo3(signature = (service, student, status, contact=None, periods=None, notes=None, at=None))]
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        py: Python<'_>,
        service: &str,
        student: &str,
        status: &str,
        contact: Option<String>,
        periods: Option<&Bound<'_, PyAny>>,
        notes: Option<String>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let service: sm::ServiceId = parse(py, service)?;
        let student: sm::StudentId = parse(py, student)?;
        let decision = sm::Decision {
            status: parse(py, status)?,
            contact: contact.map(|c| parse(py, &c)).transpose()?,
            periods: periods
                .filter(|p| !p.is_none())
                .map(|p| self::periods(py, "periods", p))
                .transpose()?,
            notes,
        };
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.decide(service, student, &decision, at))
    }

    /// Records many decisions of one service at one moment in one durable transaction.
    /// `decisions` holds `(student, status)` or `(student, status, contact)` tuples; the
    /// result has one entry per decision: `None` if it was recorded, else the exception that
    /// refused it (the others are recorded all the same).
    #[pyo3(signature = (service, decisions, at=None))]
    fn decide_many(
        &self,
        py: Python<'_>,
        service: &str,
        decisions: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Option<Py<PyAny>>>> {
        let service: sm::ServiceId = parse(py, service)?;
        let batch = decision_batch(py, decisions)?;

        let at = moment(py, at)?;
        let store = self.inner.clone();
        let results = detached(py, move || store.decide_many(service, &batch, at))?;
        Ok(results
            .into_iter()
            .map(|r| r.err().map(|e| to_py(py, e).into_value(py).into_any()))
            .collect())
    }

    /// This service's status for the student.
    #[pyo3(signature = (service, student, at=None))]
    fn status(
        &self,
        py: Python<'_>,
        service: &str,
        student: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<&'static str> {
        let service: sm::ServiceId = parse(py, service)?;
        let student: sm::StudentId = parse(py, student)?;
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.status(service, student, at)).map(sm::Status::code)
    }

    /// How often each service chose each status for each student.
    fn status_counts(&self, py: Python<'_>) -> PyResult<Table> {
        let store = self.inner.clone();
        let rows = detached(py, move || store.status_counts())?;
        Table::new(vec![
            (
                "student",
                Column::Text(rows.iter().map(|r| r.student.to_string()).collect()),
            ),
            (
                "service",
                Column::Text(rows.iter().map(|r| r.service.to_string()).collect()),
            ),
            (
                "status",
                Column::Text(rows.iter().map(|r| r.status.code().to_owned()).collect()),
            ),
            (
                "count",
                Column::Int(rows.iter().map(|r| i64::from(r.count)).collect()),
            ),
        ])
    }

    /// Round statistics as of `at` (now if not given).
    #[pyo3(signature = (at=None))]
    fn round_stats(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<Table> {
        let at = moment(py, at)?;
        let store = self.inner.clone();
        let rows = py.detach(move || store.round_stats(at));
        let text = |f: fn(&sm::RoundStat) -> String| Column::Text(rows.iter().map(f).collect());
        let int = |f: fn(&sm::RoundStat) -> u32| {
            Column::Int(rows.iter().map(|r| i64::from(f(r))).collect())
        };
        Table::new(vec![
            ("phase", text(|r| r.phase.code().to_owned())),
            ("province", text(|r| r.province.code().to_owned())),
            ("track", text(|r| r.track.code().to_owned())),
            ("service", text(|r| r.service.to_string())),
            ("open", int(|r| r.open)),
            ("invited", int(|r| r.invited)),
            ("accepted", int(|r| r.accepted)),
            (
                "mean_days_to_accept",
                Column::Float(rows.iter().map(|r| r.mean_days_to_accept).collect()),
            ),
            (
                "median_days_to_accept",
                Column::Float(rows.iter().map(|r| r.median_days_to_accept).collect()),
            ),
        ])
    }

    /// Creates a login and returns its invitation token (the invitation is also in the
    /// outbox). `role` is `coordinator`, `service` (with `service=`) or `school` (with
    /// `school=`).
    #[pyo3(signature = (email, role="service", service=None, school=None))]
    fn create_login(
        &self,
        py: Python<'_>,
        email: String,
        role: &str,
        service: Option<&str>,
        school: Option<&str>,
    ) -> PyResult<String> {
        let role = session::role(py, role, service, school)?;
        let store = self.inner.clone();
        detached(py, move || store.create_login(&email, role))
    }

    /// A new invitation for a login that is not active yet; returns its token.
    fn invite_again(&self, py: Python<'_>, email: String) -> PyResult<String> {
        let store = self.inner.clone();
        detached(py, move || store.invite_again(&email))
    }

    /// Every login, as dicts with `email`, `role`, `service`, `school`, `active` and
    /// `created_at`.
    fn logins<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let store = self.inner.clone();
        let logins = py.detach(move || store.logins());
        let list = PyList::empty(py);
        for l in &logins {
            list.append(session::login_dict(py, l)?)?;
        }
        Ok(list)
    }

    /// Removes a login; its session ends.
    fn remove_login(&self, py: Python<'_>, email: String) -> PyResult<()> {
        let store = self.inner.clone();
        detached(py, move || store.remove_login(&email))
    }

    /// Activates a login with its invitation token by choosing a password; returns the
    /// login as a dict.
    fn activate<'py>(
        &self,
        py: Python<'py>,
        token: String,
        password: String,
    ) -> PyResult<Bound<'py, PyDict>> {
        let store = self.inner.clone();
        let login = detached(py, move || store.activate(&token, &password))?;
        session::login_dict(py, &login)
    }

    /// Signs in and returns the login's one session (an earlier one ends).
    fn sign_in(
        slf: &Bound<'_, Self>,
        email: String,
        password: String,
    ) -> PyResult<session::Session> {
        let py = slf.py();
        let store = slf.get().inner.clone();
        let inner = store.clone();
        let owner = slf.clone().into_any().unbind();
        detached(py, move || {
            let s = inner.sign_in(&email, &password)?;
            Ok(session::Session::new(store, &s, owner))
        })
    }

    /// The session of a token `sign_in` gave (`AuthError` if it ended).
    fn session(slf: &Bound<'_, Self>, token: String) -> PyResult<session::Session> {
        let py = slf.py();
        let store = slf.get().inner.clone();
        let inner = store.clone();
        let owner = slf.clone().into_any().unbind();
        detached(py, move || {
            let s = inner.session(&token)?;
            Ok(session::Session::new(store, &s, owner))
        })
    }

    /// Asks for a password reset: the same answer whether or not the address has a login.
    fn request_password_reset(&self, py: Python<'_>, email: String) -> PyResult<()> {
        let store = self.inner.clone();
        detached(py, move || store.request_password_reset(&email))
    }

    /// Sets a new password with a reset token; every session of the login ends.
    fn reset_password(&self, py: Python<'_>, token: String, password: String) -> PyResult<()> {
        let store = self.inner.clone();
        detached(py, move || store.reset_password(&token, &password))
    }

    /// Takes every message of the outbox (each message is returned exactly once).
    fn take_outbox(&self, py: Python<'_>) -> PyResult<Vec<session::Message>> {
        let store = self.inner.clone();
        let messages = detached(py, move || store.take_outbox())?;
        Ok(messages
            .into_iter()
            .map(session::Message::from_core)
            .collect())
    }

    /// Puts the mailings of round starts and closes since the last call in the outbox;
    /// returns how many.
    #[pyo3(signature = (at=None))]
    fn queue_mailings(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.queue_mailings(at))
    }

    /// Puts a reminder of open requests for every service in the outbox; returns how many.
    #[pyo3(signature = (at=None))]
    fn queue_reminders(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let at = moment(py, at)?;
        let store = self.inner.clone();
        detached(py, move || store.queue_reminders(at))
    }

    /// Fixes the store's "now" for sessions and tokens (tests, replays); `None` returns it
    /// to the system clock.
    #[pyo3(signature = (at=None))]
    fn set_clock(&self, py: Python<'_>, at: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let at = moment(py, at)?;
        self.inner.set_clock(at);
        Ok(())
    }

    /// The store's "now" (UTC).
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// The number of registered students.
    fn student_count(&self, py: Python<'_>) -> usize {
        let store = self.inner.clone();
        py.detach(move || store.student_count())
    }

    /// The services, as dicts with `id`, `name` and `province`.
    fn services<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let store = self.inner.clone();
        let list = PyList::empty(py);
        for s in py.detach(move || store.services()) {
            let d = PyDict::new(py);
            d.set_item("id", s.id.to_string())?;
            d.set_item("name", s.name)?;
            d.set_item("province", s.province.code())?;
            list.append(d)?;
        }
        Ok(list)
    }
}

/// A new random key for `Store.open(..., key=)`: 64 hexadecimal digits. Keep it outside the
/// store's file; without it a store that holds sealed numbers cannot be opened.
#[pyfunction]
fn generate_key(py: Python<'_>) -> PyResult<String> {
    sm::Key::generate()
        .map(|k| k.to_hex())
        .map_err(|e| to_py(py, e))
}

/// The native module behind the `stagematch` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Store>()?;
    m.add_function(wrap_pyfunction!(generate_key, m)?)?;
    m.add_class::<Calendar>()?;
    m.add_class::<StudentCard>()?;
    m.add_class::<Page>()?;
    m.add_class::<Table>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<session::Message>()?;
    m.add("StagematchError", py.get_type::<StagematchError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("NotVisible", py.get_type::<NotVisible>())?;
    m.add("InvalidTransition", py.get_type::<InvalidTransition>())?;
    m.add("AlreadyPlaced", py.get_type::<AlreadyPlaced>())?;
    m.add("ImportFailed", py.get_type::<ImportFailed>())?;
    m.add("AuthError", py.get_type::<AuthError>())?;
    m.add("StoreError", py.get_type::<StoreError>())?;
    Ok(())
}
