//! Sessions and messages for Python: `Store.sign_in` returns a [`Session`] whose methods are
//! the store's, for its role, without the service or school argument.
//!
//! A `Session` holds the store and its token, and checks the session again on every call
//! (a newer sign-in, a reset or idleness ends it), so a Python object never outlives the
//! rights it stood for.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use stagematch_core as sm;

use super::{
    CsvInput, Filters, Page, StudentArgs, StudentCard, detached, export_options, import_report,
    make_page, moment, new_student, parse, periods, to_py,
};

/// A message of the outbox, for the host to deliver.
#[pyclass(frozen, get_all, module = "stagematch._native")]
pub(crate) struct Message {
    /// `invitation`, `password_reset`, `round_start`, `round_close` or `reminder`.
    kind: String,
    /// The recipient's email address.
    to: String,
    /// The subject line, in Dutch.
    subject: String,
    /// The text, in Dutch.
    body: String,
    /// When it was produced (UTC).
    created_at: DateTime<Utc>,
}

impl Message {
    pub(crate) fn from_core(m: sm::Message) -> Message {
        Message {
            kind: m.kind.code().to_owned(),
            created_at: m.created_at(),
            to: m.to,
            subject: m.subject,
            body: m.body,
        }
    }
}

#[pymethods]
impl Message {
    fn __repr__(&self) -> String {
        format!(
            "Message(kind={:?}, to={:?}, subject={:?})",
            self.kind, self.to, self.subject
        )
    }
}

/// A role from Python's `role=` and `service=`/`school=` arguments.
pub(crate) fn role(
    py: Python<'_>,
    role: &str,
    service: Option<&str>,
    school: Option<&str>,
) -> PyResult<sm::Role> {
    let bad = |reason: &str| {
        to_py(
            py,
            sm::Error::Validation {
                field: "role".into(),
                value: role.to_owned(),
                reason: reason.to_owned(),
            },
        )
    };
    match (role, service, school) {
        ("coordinator", None, None) => Ok(sm::Role::Coordinator),
        ("service", Some(s), None) => Ok(sm::Role::Service(parse(py, s)?)),
        ("school", None, Some(s)) => Ok(sm::Role::School(parse(py, s)?)),
        ("service", ..) => Err(bad("a service login needs service= (and no school=)")),
        ("school", ..) => Err(bad("a school login needs school= (and no service=)")),
        ("coordinator", ..) => Err(bad("a coordinator login takes no service= or school=")),
        _ => Err(bad("must be coordinator, service or school")),
    }
}

/// A login as a dict: `email`, `role`, `service`, `school`, `active`, `created_at`.
pub(crate) fn login_dict<'py>(py: Python<'py>, l: &sm::Login) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("email", &l.email)?;
    let (role, service, school) = role_parts(l.role);
    d.set_item("role", role)?;
    d.set_item("service", service)?;
    d.set_item("school", school)?;
    d.set_item("active", l.active)?;
    d.set_item("created_at", l.created_at)?;
    Ok(d)
}

fn role_parts(role: sm::Role) -> (&'static str, Option<String>, Option<String>) {
    match role {
        sm::Role::Coordinator => ("coordinator", None, None),
        sm::Role::Service(s) => ("service", Some(s.to_string()), None),
        sm::Role::School(s) => ("school", None, Some(s.to_string())),
    }
}

/// A student's full record as a dict (for a school's own students).
fn student_dict<'py>(py: Python<'py>, s: &sm::Student) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let data = &s.data;
    d.set_item("id", s.id.to_string())?;
    d.set_item("school", s.school.to_string())?;
    d.set_item("registered_at", s.registered_at())?;
    d.set_item("track", data.track.code())?;
    d.set_item("first_name", &data.first_name)?;
    d.set_item("last_name", &data.last_name)?;
    d.set_item("street", &data.street)?;
    d.set_item("postcode", data.postcode.to_string())?;
    d.set_item("city", &data.city)?;
    d.set_item("province", data.province().code())?;
    let transport: Vec<&str> = data.transport.to_vec().iter().map(|t| t.code()).collect();
    d.set_item("transport", transport)?;
    let spans: Vec<_> = data.periods.iter().map(|p| (p.start(), p.end())).collect();
    d.set_item("periods", spans)?;
    d.set_item("hours_per_week", data.hours_per_week)?;
    d.set_item("total_hours", data.total_hours)?;
    d.set_item("form", &data.form)?;
    let days: Vec<&str> = data.days.iter().map(|w| w.code()).collect();
    d.set_item("days", days)?;
    d.set_item(
        "preferred_service",
        data.preferred_service.map(|p| p.to_string()),
    )?;
    d.set_item(
        "national_number",
        data.national_number.as_ref().map(|n| n.digits().to_owned()),
    )?;
    d.set_item("email", &data.email)?;
    d.set_item("phone", &data.phone)?;
    let sup = data.supervisor.clone().unwrap_or_default();
    d.set_item("supervisor_name", sup.name)?;
    d.set_item("supervisor_email", sup.email)?;
    d.set_item("supervisor_phone", sup.phone)?;
    d.set_item("remarks", &data.remarks)?;
    Ok(d)
}

/// A signed-in login. Its methods are the store's for its role (`students`, `student`,
/// `status`, `decide`, `decide_many`, `add_contact`, `contacts`, `export_csv` for a service;
/// `register_student`, `import_students`, `own_students` for a school; `store` and
/// `create_login` for the coordinator); any other raises `AuthError`.
#[pyclass(frozen, module = "stagematch._native")]
pub(crate) struct Session {
    store: Arc<sm::Store>,
    token: String,
    email: String,
    role: sm::Role,
    /// The Python store this session came from (what `store` returns to a coordinator).
    owner: Py<PyAny>,
}

impl Session {
    pub(crate) fn new(
        store: Arc<sm::Store>,
        session: &sm::Session<'_>,
        owner: Py<PyAny>,
    ) -> Session {
        Session {
            token: session.token().to_owned(),
            email: session.email().to_owned(),
            role: session.role(),
            store,
            owner,
        }
    }

    /// Runs `f` with the live core session, without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&sm::Session<'_>) -> sm::Result<T> + Send,
    ) -> PyResult<T> {
        let store = self.store.clone();
        let token = self.token.clone();
        detached(py, move || f(&store.session(&token)?))
    }
}

#[pymethods]
impl Session {
    /// The session's token (for a cookie); `Store.session(token)` resumes it.
    #[getter]
    fn token(&self) -> &str {
        &self.token
    }

    /// The login's email address.
    #[getter]
    fn email(&self) -> &str {
        &self.email
    }

    /// `coordinator`, `service` or `school`.
    #[getter]
    fn role(&self) -> &'static str {
        role_parts(self.role).0
    }

    /// The service's id for a service login, else `None`.
    #[getter]
    fn service(&self) -> Option<String> {
        role_parts(self.role).1
    }

    /// The school's id for a school login, else `None`.
    #[getter]
    fn school(&self) -> Option<String> {
        role_parts(self.role).2
    }

    fn __repr__(&self) -> String {
        format!(
            "Session(email={:?}, role={:?})",
            self.email,
            self.role.to_string()
        )
    }

    /// Ends the session.
    fn sign_out(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store.clone();
        let token = self.token.clone();
        detached(py, move || store.session(&token)?.sign_out())
    }

    /// The whole store, for the coordinator (`AuthError` for anyone else).
    #[getter]
    fn store(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.with(py, |s| s.coordinator().map(|_| ()))?;
        Ok(self.owner.clone_ref(py))
    }

    /// Creates a login (coordinator only); returns its invitation token.
    #[pyo3(signature = (email, role="service", service=None, school=None))]
    fn create_login(
        &self,
        py: Python<'_>,
        email: String,
        role: &str,
        service: Option<&str>,
        school: Option<&str>,
    ) -> PyResult<String> {
        let role = self::role(py, role, service, school)?;
        self.with(py, move |s| s.create_login(&email, role))
    }

    /// A page of the service's tab (the arguments of `Store.students` without `service`).
    #[pyo3(signature = (
        tab="open", at=None, name=None, provinces=None, school=None, postcode=None,
        transport=None, track=None, sort="default", offset=0, limit=50
    ))]
    #[allow(clippy::too_many_arguments)]
    fn students(
        &self,
        py: Python<'_>,
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
        let page = self.with(py, move |s| s.students(&query, at))?;
        make_page(py, page)
    }

    /// One student's card as the service sees it.
    #[pyo3(signature = (student, at=None))]
    fn student(
        &self,
        py: Python<'_>,
        student: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<StudentCard> {
        let student: sm::StudentId = parse(py, student)?;
        let at = moment(py, at)?;
        self.with(py, move |s| s.student(student, at))
            .map(StudentCard::from_core)
    }

    /// The service's status for a student.
    #[pyo3(signature = (student, at=None))]
    fn status(
        &self,
        py: Python<'_>,
        student: &str,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<&'static str> {
        let student: sm::StudentId = parse(py, student)?;
        let at = moment(py, at)?;
        self.with(py, move |s| s.status(student, at))
            .map(sm::Status::code)
    }

    /// Records the service's decision about a student, dated now (the store's clock).
    #[pyo3(signature = (student, status, contact=None, periods=None, notes=None))]
    fn decide(
        &self,
        py: Python<'_>,
        student: &str,
        status: &str,
        contact: Option<String>,
        periods: Option<&Bound<'_, PyAny>>,
        notes: Option<String>,
    ) -> PyResult<()> {
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
        self.with(py, move |s| s.decide(student, &decision))
    }

    /// Records many decisions of the service at once (see `Store.decide_many`).
    fn decide_many(
        &self,
        py: Python<'_>,
        decisions: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Option<Py<PyAny>>>> {
        let batch = super::decision_batch(py, decisions)?;
        let results = self.with(py, move |s| s.decide_many(&batch))?;
        Ok(results
            .into_iter()
            .map(|r| r.err().map(|e| to_py(py, e).into_value(py).into_any()))
            .collect())
    }

    /// Adds a contact person to the service; returns its id.
    #[pyo3(signature = (*, name, phone, email))]
    fn add_contact(
        &self,
        py: Python<'_>,
        name: String,
        phone: String,
        email: String,
    ) -> PyResult<String> {
        let contact = sm::NewContact::new(&name, &phone, &email);
        self.with(py, move |s| s.add_contact(&contact))
            .map(|id| id.to_string())
    }

    /// The service's contact persons, as dicts with `id`, `name`, `phone` and `email`.
    fn contacts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let contacts = self.with(py, |s| s.contacts())?;
        let list = PyList::empty(py);
        for c in contacts {
            let d = PyDict::new(py);
            d.set_item("id", c.id.to_string())?;
            d.set_item("name", c.name)?;
            d.set_item("phone", c.phone)?;
            d.set_item("email", c.email)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// Writes the service's tab to a CSV file for Excel; returns the number of students.
    #[pyo3(signature = (
        path, tab="open", at=None, name=None, provinces=None, school=None, postcode=None,
        transport=None, track=None, sort="default", delimiter=";"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn export_csv(
        &self,
        py: Python<'_>,
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
        self.with(py, move |s| {
            let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            s.export_tab(&query, at, &options, file)
        })
    }

    /// Registers a student of the school, now; the arguments of `Store.register_student`
    /// without `school` and `at`.
    #[pyo3(signature = (
        *, track, first_name, last_name, street, postcode, city, transport, periods,
        hours_per_week, total_hours, form, days=None, preferred_service=None,
        national_number=None, email=None, phone=None, supervisor=None, remarks=None,
        province=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn register_student(
        &self,
        py: Python<'_>,
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
    ) -> PyResult<String> {
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
        self.with(py, move |s| s.register_student(&student))
            .map(|id| id.to_string())
    }

    /// Imports the school's CSV file (a path or a file object), now: all rows or none.
    fn import_students<'py>(
        &self,
        py: Python<'py>,
        path_or_file: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let input = CsvInput::from_py(path_or_file)?;
        let ids = self.with(py, move |s| input.import(|r| s.import_students(r)))?;
        import_report(py, &ids)
    }

    /// The school's own students, each a dict with every field the school registered.
    fn own_students<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let students = self.with(py, |s| s.own_students())?;
        let list = PyList::empty(py);
        for s in &students {
            list.append(student_dict(py, s)?)?;
        }
        Ok(list)
    }
}
