//! A service's open tab three ways, on the same cohort: what the engine is measured against.
//!
//! - [`Floor`]: a hand-written column scan, the least work any engine could do for the query:
//!   the filter columns as plain vectors, scanned in parallel chunks, and for every sort order
//!   the exact rank of each student computed once at load time, so that ordering a page is
//!   integer work only. It answers ids; it keeps no cards and cannot take a change without
//!   recomputing its ranks, so it is a floor, not a rival.
//! - [`SqliteTab`]: SQLite (bundled) in memory, one table with the same facts and the card's
//!   texts, queried with one `SELECT ... ORDER BY ... LIMIT ... OFFSET` for the page (with the
//!   card's columns) and one `SELECT count(*)` for the total, under one of several index sets.
//! - stagematch itself, through `Store::students`.
//!
//! Every engine is checked against the others on every query before anything is timed.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use memchr::memmem;
use rayon::prelude::*;
use rusqlite::{Connection, params_from_iter};
use stagematch_core::{
    Calendar, Phase, Province, Query, ServiceId, Sort, Store, Track, Transport, fold,
};

/// What the tab needs to know of one student, read from a store.
#[derive(Debug, Clone)]
pub struct Facts {
    pub id: u32,
    pub province: u8,
    pub postcode: u16,
    pub transport: u8,
    pub dual: bool,
    pub registered: i64,
    pub visible_from: i64,
    pub preferred: u32,
    pub accepted_by: u32,
    pub last_folded: String,
    pub first_folded: String,
    pub first_name: String,
    pub last_name: String,
    pub street: String,
    pub city: String,
}

fn transport_mask(list: &[Transport]) -> u8 {
    list.iter().fold(0, |m, t| m | 1 << (*t as u8))
}

/// The facts of every student of `store`, in id order.
pub fn facts(store: &Store) -> Vec<Facts> {
    let cal = store.calendar();
    store
        .all_students()
        .expect("students")
        .into_iter()
        .map(|s| {
            let accepted_by = store
                .placement(s.id)
                .expect("placement")
                .map_or(0, |p| p.service.get());
            Facts {
                id: s.id.get(),
                province: s.data.province() as u8,
                postcode: s.data.postcode.get(),
                transport: transport_mask(&s.data.transport.to_vec()),
                dual: s.data.track == Track::Dual,
                registered: s.registered_at().timestamp_micros(),
                visible_from: cal.visible_from(s.registered_at()).timestamp_micros(),
                preferred: s.data.preferred_service.map_or(0, |p| p.get()),
                accepted_by,
                last_folded: fold(&s.data.last_name),
                first_folded: fold(&s.data.first_name),
                first_name: s.data.first_name.clone(),
                last_name: s.data.last_name.clone(),
                street: s.data.street.clone(),
                city: s.data.city.clone(),
            }
        })
        .collect()
}

/// Who asks, and when: the round's rule as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Asker {
    pub service: u32,
    pub province: u8,
    pub t: i64,
    /// 0 closed, 1 to 3 the round in force, 4 open.
    pub phase: u8,
    pub dual_open: bool,
}

impl Asker {
    pub fn new(service: ServiceId, province: Province, t: DateTime<Utc>) -> Asker {
        let cal = Calendar::default();
        Asker {
            service: service.get(),
            province: province as u8,
            t: t.timestamp_micros(),
            phase: match cal.phase(t) {
                Phase::Closed => 0,
                Phase::Round1 => 1,
                Phase::Round2 => 2,
                Phase::Round3 => 3,
                _ => 4,
            },
            dual_open: cal.dual_open(t),
        }
    }
}

/// The inclusive postcode range of a prefix (`95` is 9500 to 9599).
fn postcode_range(prefix: &str) -> (u16, u16) {
    let digits = prefix.len().min(4) as u32;
    let p: u16 = prefix.parse().unwrap_or(0);
    let scale = 10u16.pow(4 - digits);
    (p * scale, p * scale + scale - 1)
}

/// The exact orders, as `compare` would state them: the `Sort` of stagematch on the facts.
fn order(sort: Sort, a: &Facts, b: &Facts) -> std::cmp::Ordering {
    let name = || {
        a.last_folded
            .cmp(&b.last_folded)
            .then_with(|| a.first_folded.cmp(&b.first_folded))
    };
    match sort {
        Sort::Default => a
            .province
            .cmp(&b.province)
            .then(a.postcode.cmp(&b.postcode))
            .then_with(name)
            .then(a.id.cmp(&b.id)),
        Sort::Name => name().then(a.id.cmp(&b.id)),
        Sort::NameDesc => name().reverse().then(a.id.cmp(&b.id)),
        Sort::Postcode => a
            .postcode
            .cmp(&b.postcode)
            .then_with(name)
            .then(a.id.cmp(&b.id)),
        Sort::RegisteredDesc => b.registered.cmp(&a.registered).then(b.id.cmp(&a.id)),
    }
}

/// The hand-written column scan (see the module documentation).
pub struct Floor {
    province: Vec<u8>,
    postcode: Vec<u16>,
    transport: Vec<u8>,
    dual: Vec<bool>,
    visible_from: Vec<i64>,
    preferred: Vec<u32>,
    accepted_by: Vec<u32>,
    /// Folded last and first names, one string each, for the name filter.
    names: Vec<(String, String)>,
    /// For every sort order (in `Sort::ALL`'s order), the exact rank of each student.
    ranks: Vec<Vec<u32>>,
}

const FLOOR_CHUNK: usize = 1 << 14;

impl Floor {
    pub fn new(facts: &[Facts]) -> Floor {
        let ranks = Sort::ALL
            .iter()
            .map(|&sort| {
                let mut by: Vec<u32> = (0..facts.len() as u32).collect();
                by.par_sort_unstable_by(|&a, &b| {
                    order(sort, &facts[a as usize], &facts[b as usize])
                });
                let mut rank = vec![0u32; facts.len()];
                for (r, &i) in by.iter().enumerate() {
                    rank[i as usize] = r as u32;
                }
                rank
            })
            .collect();
        Floor {
            province: facts.iter().map(|f| f.province).collect(),
            postcode: facts.iter().map(|f| f.postcode).collect(),
            transport: facts.iter().map(|f| f.transport).collect(),
            dual: facts.iter().map(|f| f.dual).collect(),
            visible_from: facts.iter().map(|f| f.visible_from).collect(),
            preferred: facts.iter().map(|f| f.preferred).collect(),
            accepted_by: facts.iter().map(|f| f.accepted_by).collect(),
            names: facts
                .iter()
                .map(|f| (f.last_folded.clone(), f.first_folded.clone()))
                .collect(),
            ranks,
        }
    }

    /// Bytes per student of the filter columns, the names and the ranks.
    pub fn bytes_per_student(&self) -> f64 {
        let n = self.province.len().max(1) as f64;
        let names: usize = self.names.iter().map(|(l, f)| l.len() + f.len() + 48).sum();
        let fixed = 1 + 2 + 1 + 1 + 8 + 4 + 4 + 4 * self.ranks.len();
        fixed as f64 + names as f64 / n
    }

    /// The total and the page's ids.
    // The scan reads eight columns at the same index; a range loop says so most plainly.
    #[allow(clippy::needless_range_loop)]
    pub fn query(&self, who: &Asker, q: &Query) -> (usize, Vec<u32>) {
        let sort_index = Sort::ALL.iter().position(|s| *s == q.sort).unwrap_or(0);
        let rank = &self.ranks[sort_index];
        let k = q.offset + q.limit;
        let provinces: u16 = q.provinces.iter().fold(0, |m, p| m | 1 << (*p as u8));
        let transport = transport_mask(&q.transport);
        let postcode = q.postcode.as_deref().map(postcode_range);
        let needle = q.name.as_deref().map(fold);
        let finder = needle.as_deref().map(|n| memmem::Finder::new(n.as_bytes()));

        let parts: Vec<(usize, Vec<(u32, u32)>)> = (0..self.province.len())
            .into_par_iter()
            .step_by(FLOOR_CHUNK)
            .map(|lo| {
                let hi = (lo + FLOOR_CHUNK).min(self.province.len());
                let mut hits = Vec::new();
                let mut total = 0;
                for i in lo..hi {
                    let admitted = if self.dual[i] {
                        who.dual_open
                    } else {
                        who.phase >= 3
                            || (self.preferred[i] == who.service
                                && (who.phase == 2
                                    || (who.phase == 1 && self.province[i] == who.province)))
                    };
                    let keep = self.accepted_by[i] == 0
                        && self.visible_from[i] <= who.t
                        && admitted
                        && (provinces == 0 || provinces & 1 << self.province[i] != 0)
                        && (transport == 0 || transport & self.transport[i] != 0)
                        && postcode.is_none_or(|(a, b)| (a..=b).contains(&self.postcode[i]))
                        && finder.as_ref().is_none_or(|f| {
                            let (last, first) = &self.names[i];
                            f.find(last.as_bytes()).is_some() || f.find(first.as_bytes()).is_some()
                        });
                    if keep {
                        total += 1;
                        if k > 0 {
                            hits.push((rank[i], i as u32));
                        }
                    }
                }
                if hits.len() > k && k > 0 {
                    hits.select_nth_unstable(k - 1);
                    hits.truncate(k);
                }
                (total, hits)
            })
            .collect();

        let total = parts.iter().map(|p| p.0).sum();
        let mut hits: Vec<(u32, u32)> = parts.into_iter().flat_map(|p| p.1).collect();
        if hits.len() > k && k > 0 {
            hits.select_nth_unstable(k - 1);
            hits.truncate(k);
        }
        hits.sort_unstable();
        let page = hits
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .map(|(_, i)| i + 1)
            .collect();
        (total, page)
    }
}

/// Which indexes a [`SqliteTab`] has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexSet {
    /// The primary key only.
    PrimaryKey,
    /// The obvious composite index on the default order.
    Composite,
    /// One partial index per sort order over the unplaced students, and one on the postcode.
    PartialPerOrder,
}

impl IndexSet {
    pub const ALL: [IndexSet; 3] = [
        IndexSet::PrimaryKey,
        IndexSet::Composite,
        IndexSet::PartialPerOrder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IndexSet::PrimaryKey => "primary key only",
            IndexSet::Composite => "composite (province, postcode, name)",
            IndexSet::PartialPerOrder => "partial index per order",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            IndexSet::PrimaryKey => "",
            IndexSet::Composite => {
                "CREATE INDEX by_default ON students (province, postcode, last_f, first_f);"
            }
            IndexSet::PartialPerOrder => {
                "CREATE INDEX open_default ON students (province, postcode, last_f, first_f, id)
                     WHERE accepted_by = 0;
                 CREATE INDEX open_name ON students (last_f, first_f, id) WHERE accepted_by = 0;
                 CREATE INDEX open_name_desc ON students (last_f DESC, first_f DESC, id)
                     WHERE accepted_by = 0;
                 CREATE INDEX open_postcode ON students (postcode, last_f, first_f, id)
                     WHERE accepted_by = 0;
                 CREATE INDEX open_registered ON students (registered DESC, id DESC)
                     WHERE accepted_by = 0;"
            }
        }
    }
}

/// SQLite in memory holding the cohort, under one index set.
pub struct SqliteTab {
    conn: Connection,
    pub indexes: IndexSet,
}

impl SqliteTab {
    pub fn new(facts: &[Facts], indexes: IndexSet) -> SqliteTab {
        let conn = Connection::open_in_memory().expect("sqlite");
        conn.execute_batch(
            "CREATE TABLE students (
                 id INTEGER PRIMARY KEY, province INTEGER NOT NULL, postcode INTEGER NOT NULL,
                 transport INTEGER NOT NULL, dual INTEGER NOT NULL, registered INTEGER NOT NULL,
                 visible_from INTEGER NOT NULL, preferred INTEGER NOT NULL,
                 accepted_by INTEGER NOT NULL, last_f TEXT NOT NULL, first_f TEXT NOT NULL,
                 first_name TEXT NOT NULL, last_name TEXT NOT NULL, street TEXT NOT NULL,
                 city TEXT NOT NULL
             );",
        )
        .expect("schema");
        {
            let tx = conn.unchecked_transaction().expect("transaction");
            let mut insert = tx
                .prepare(
                    "INSERT INTO students VALUES
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .expect("prepare");
            for f in facts {
                insert
                    .execute(rusqlite::params![
                        f.id,
                        f.province,
                        f.postcode,
                        f.transport,
                        f.dual,
                        f.registered,
                        f.visible_from,
                        f.preferred,
                        f.accepted_by,
                        f.last_folded,
                        f.first_folded,
                        f.first_name,
                        f.last_name,
                        f.street,
                        f.city,
                    ])
                    .expect("insert");
            }
            drop(insert);
            tx.commit().expect("commit");
        }
        conn.execute_batch(indexes.sql()).expect("indexes");
        conn.execute_batch("ANALYZE;").expect("analyze");
        SqliteTab { conn, indexes }
    }

    /// The WHERE clause of `q` and its parameters: the round's rule and the filters.
    fn clause(who: &Asker, q: &Query) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;

        let mut sql = String::from(
            "accepted_by = 0 AND visible_from <= ? AND CASE WHEN dual = 1 THEN ? \
             ELSE (? >= 3 OR (preferred = ? AND (? = 2 OR (? = 1 AND province = ?)))) END",
        );
        let mut values = vec![
            Value::Integer(who.t),
            Value::Integer(i64::from(who.dual_open)),
            Value::Integer(i64::from(who.phase)),
            Value::Integer(i64::from(who.service)),
            Value::Integer(i64::from(who.phase)),
            Value::Integer(i64::from(who.phase)),
            Value::Integer(i64::from(who.province)),
        ];
        if !q.provinces.is_empty() {
            let marks = vec!["?"; q.provinces.len()].join(", ");
            let _ = write!(sql, " AND province IN ({marks})");
            values.extend(q.provinces.iter().map(|p| Value::Integer(*p as i64)));
        }
        if !q.transport.is_empty() {
            sql.push_str(" AND (transport & ?) != 0");
            values.push(Value::Integer(i64::from(transport_mask(&q.transport))));
        }
        if let Some(prefix) = q.postcode.as_deref() {
            let (a, b) = postcode_range(prefix);
            sql.push_str(" AND postcode BETWEEN ? AND ?");
            values.push(Value::Integer(i64::from(a)));
            values.push(Value::Integer(i64::from(b)));
        }
        if let Some(name) = q.name.as_deref() {
            sql.push_str(" AND (instr(last_f, ?) > 0 OR instr(first_f, ?) > 0)");
            values.push(Value::Text(fold(name)));
            values.push(Value::Text(fold(name)));
        }
        (sql, values)
    }

    fn order_by(sort: Sort) -> &'static str {
        match sort {
            Sort::Default => "province, postcode, last_f, first_f, id",
            Sort::Name => "last_f, first_f, id",
            Sort::NameDesc => "last_f DESC, first_f DESC, id",
            Sort::Postcode => "postcode, last_f, first_f, id",
            Sort::RegisteredDesc => "registered DESC, id DESC",
        }
    }

    fn page_sql(who: &Asker, q: &Query) -> (String, Vec<rusqlite::types::Value>) {
        let (clause, mut values) = Self::clause(who, q);
        let sql = format!(
            "SELECT id, first_name, last_name, street, postcode, city, province, transport,
                    registered
             FROM students WHERE {clause} ORDER BY {} LIMIT ? OFFSET ?",
            Self::order_by(q.sort)
        );
        values.push(rusqlite::types::Value::Integer(q.limit as i64));
        values.push(rusqlite::types::Value::Integer(q.offset as i64));
        (sql, values)
    }

    /// The total and the page's ids (the page's rows are read with the card's columns).
    pub fn query(&self, who: &Asker, q: &Query) -> (usize, Vec<u32>) {
        let (clause, values) = Self::clause(who, q);
        let count_sql = format!("SELECT count(*) FROM students WHERE {clause}");
        let total: i64 = self
            .conn
            .prepare_cached(&count_sql)
            .expect("prepare")
            .query_row(params_from_iter(values.iter()), |r| r.get(0))
            .expect("count");

        let (sql, values) = Self::page_sql(who, q);
        let mut select = self.conn.prepare_cached(&sql).expect("prepare");
        let mut rows = select
            .query(params_from_iter(values.iter()))
            .expect("query");
        let mut page = Vec::with_capacity(q.limit);
        while let Some(row) = rows.next().expect("row") {
            let id: u32 = row.get(0).expect("id");
            let _card: (String, String, String, u16, String) = (
                row.get(1).expect("first"),
                row.get(2).expect("last"),
                row.get(3).expect("street"),
                row.get(4).expect("postcode"),
                row.get(5).expect("city"),
            );
            page.push(id);
        }
        (total as usize, page)
    }

    /// SQLite's plan for the page and the count of `q`, one line per step.
    pub fn plan(&self, who: &Asker, q: &Query) -> String {
        let (sql, values) = Self::page_sql(who, q);
        let mut out = String::new();
        let mut stmt = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let mut rows = stmt.query(params_from_iter(values.iter())).expect("plan");
        while let Some(row) = rows.next().expect("row") {
            let detail: String = row.get(3).expect("detail");
            let _ = write!(out, "{detail}; ");
        }
        out
    }
}
