//! `stagematch`: the program that runs a placement season from the command line.
//!
//! Every command opens the store given as `DB`, does one thing, and prints its result. A
//! wrong argument prints clap's usage message and exits with status 2; a refused operation
//! (bad input, an unknown name, a student already placed) prints one line naming the
//! problem, exits with status 1, and leaves the store as it was. `demo` plays a synthetic
//! season (see the `demo` module).

mod demo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use stagematch_core::csv::ExportOptions;
use stagematch_core::{
    Calendar, Decision, Error, Key, NewContact, Province, Query, Role, Sort, Status, Store, Tab,
    parse_moment,
};

/// Placement matching for Flemish home-care services (stagematching gezinszorg).
#[derive(Parser)]
#[command(name = "stagematch", version, about, long_about = None)]
struct Cli {
    /// The file with the store's key (64 hexadecimal digits) for sealed national register
    /// numbers; `init` writes a new one there if it does not exist.
    #[arg(long, global = true, env = "STAGEMATCH_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play a synthetic season on an embedded store and print it round by round.
    Demo {
        /// How many students (up to 1 000 000; each decision is one durable transaction).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        students: u64,
        /// The seed of the synthetic cohort: the same seed plays the same season.
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// Where to write the store (default: stagematch-demo.redb here, replaced if present).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Also write an HTML report with charts to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Create a season store, with the default 2025-2026 calendar or one from a file.
    Init {
        /// The store file to create.
        db: PathBuf,
        /// A calendar file (`key = start .. end` lines; `stagematch calendar` prints one).
        #[arg(long)]
        calendar: Option<PathBuf>,
    },
    /// Check a store file that no program has open: redb's integrity check of every page,
    /// then the digest of everything it holds (equal digests, equal stores).
    Check {
        /// The store file.
        db: PathBuf,
    },
    /// Print the store's calendar as a calendar file, or with --set replace it from one.
    Calendar {
        /// The store file.
        db: PathBuf,
        /// The calendar file to use from now on (a new school year, a round moved).
        #[arg(long)]
        set: Option<PathBuf>,
    },
    /// Print the phase of the season (closed, round1, round2, round3, open).
    Phase {
        /// The store file.
        db: PathBuf,
        /// YYYY-MM-DD HH:MM in Brussels time, or ISO 8601 with an offset (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Add a home-care service (dienst) with its province.
    AddService {
        /// The store file.
        db: PathBuf,
        /// The service's name, unique in the store.
        name: String,
        /// Its province: an ISO code (VAN, VOV, ...) or a Dutch, French or English name.
        #[arg(long)]
        province: String,
    },
    /// Add a school.
    AddSchool {
        /// The store file.
        db: PathBuf,
        /// The school's name, unique in the store.
        name: String,
    },
    /// Add a contact person (contactpersoon stageplaats) to a service.
    AddContact {
        /// The store file.
        db: PathBuf,
        /// The service's name or id.
        #[arg(long)]
        service: String,
        /// The contact person's name.
        #[arg(long)]
        name: String,
        /// Phone number.
        #[arg(long)]
        phone: String,
        /// Email address.
        #[arg(long)]
        email: String,
    },
    /// Import a school's students from CSV: every row or none.
    Import {
        /// The store file.
        db: PathBuf,
        /// The school's name or id.
        #[arg(long)]
        school: String,
        /// The CSV file (see API.md for its columns).
        file: PathBuf,
        /// The registration moment (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// List a service's tab, one student a line, the id first.
    Students {
        /// The store file.
        db: PathBuf,
        /// The service's name or id.
        #[arg(long)]
        service: String,
        #[command(flatten)]
        view: View,
        /// How many students to skip.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// How many students to list at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Record a service's decision about a student.
    Decide {
        /// The store file.
        db: PathBuf,
        /// The service's name or id.
        #[arg(long)]
        service: String,
        /// The student's id (stu-12).
        student: String,
        /// The new status (accepted, not_accepted, invited, ... or the Dutch words).
        status: String,
        /// For an accept: the contact person's name or id.
        #[arg(long)]
        contact: Option<String>,
        /// The moment of the decision (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Export a service's tab to CSV for Excel (UTF-8 with BOM, ';', DD/MM/YYYY), or with
    /// --all every student with every field (the coordinator's export, which import reads).
    Export {
        /// The store file.
        db: PathBuf,
        /// The service's name or id.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        service: Option<String>,
        /// Every student, personal data included, with its placement (for the coordinator).
        #[arg(long)]
        all: bool,
        /// The CSV file to write.
        out: PathBuf,
        #[command(flatten)]
        view: View,
    },
    /// Create a login (coordinator, service or school) and print its invitation code; the
    /// invitation message also goes to the outbox.
    AddLogin {
        /// The store file.
        db: PathBuf,
        /// The login's email address.
        email: String,
        /// coordinator, service or school.
        #[arg(long)]
        role: String,
        /// For a service login: the service's name or id.
        #[arg(long)]
        service: Option<String>,
        /// For a school login: the school's name or id.
        #[arg(long)]
        school: Option<String>,
    },
    /// Activate a login with its invitation code; the password is read from standard input
    /// (one line), never from the command line.
    Activate {
        /// The store file.
        db: PathBuf,
        /// The invitation code.
        token: String,
    },
    /// List the logins: email, role, active or invited.
    Logins {
        /// The store file.
        db: PathBuf,
    },
    /// Put the round mailings and the reminders of open requests in the outbox.
    Mailings {
        /// The moment (default: now).
        #[arg(long)]
        at: Option<String>,
        /// The store file.
        db: PathBuf,
    },
    /// Take the messages of the outbox and print them (each message is taken once).
    Outbox {
        /// The store file.
        db: PathBuf,
    },
    /// Print the round statistics (or write them, and the status counts, as CSV).
    Stats {
        /// The store file.
        db: PathBuf,
        /// Statistics as of this moment (default: now).
        #[arg(long)]
        at: Option<String>,
        /// Write the round statistics to this CSV file instead of printing them.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Also write the status counts (per student, service and status) to this CSV file.
        #[arg(long)]
        counts: Option<PathBuf>,
    },
}

/// Which tab, which filters, which order, at which moment.
#[derive(Args)]
struct View {
    /// open or accepted.
    #[arg(long, default_value = "open")]
    tab: String,
    /// The moment (default: now).
    #[arg(long)]
    at: Option<String>,
    /// A substring of the first or last name (ignoring case and accents).
    #[arg(long)]
    name: Option<String>,
    /// A province the student lives in (repeat for several).
    #[arg(long = "province")]
    provinces: Vec<String>,
    /// A substring of the school's name.
    #[arg(long)]
    school: Option<String>,
    /// A postcode, or its first digits.
    #[arg(long)]
    postcode: Option<String>,
    /// A means of transport the student has (repeat for any of several).
    #[arg(long = "transport")]
    transport: Vec<String>,
    /// secondary, adult or dual.
    #[arg(long)]
    track: Option<String>,
    /// default, name, -name, postcode or -registered.
    #[arg(long, default_value = "default", allow_hyphen_values = true)]
    sort: String,
}

impl View {
    fn query(&self) -> Result<Query, Error> {
        Ok(Query {
            tab: self.tab.parse::<Tab>()?,
            name: self.name.clone(),
            provinces: self
                .provinces
                .iter()
                .map(|p| p.parse())
                .collect::<Result<_, _>>()?,
            school: self.school.clone(),
            postcode: self.postcode.clone(),
            transport: self
                .transport
                .iter()
                .map(|t| t.parse())
                .collect::<Result<_, _>>()?,
            track: self.track.as_deref().map(str::parse).transpose()?,
            sort: self.sort.parse::<Sort>()?,
            ..Query::default()
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command, cli.key_file.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::ImportFailed { errors }) => {
            eprintln!(
                "stagematch: the import was refused, nothing was stored ({} bad rows):",
                errors.len()
            );
            // A terminal's worth; the rest is counted, not printed.
            const SHOWN: usize = 50;
            for e in errors.iter().take(SHOWN) {
                eprintln!("  {e}");
            }
            if errors.len() > SHOWN {
                eprintln!("  ... and {} more bad rows", errors.len() - SHOWN);
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("stagematch: {e}");
            ExitCode::from(1)
        }
    }
}

fn moment(at: &Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    at.as_deref().map(parse_moment).transpose()
}

/// Opens an existing store; only `init` creates one.
fn existing(db: &Path, key: Option<&Key>) -> Result<Store, Error> {
    if !db.exists() {
        return Err(Error::NotFound {
            what: "store",
            id: db.display().to_string(),
        });
    }
    Store::open_with(db, None, key)
}

/// Reads a key file: 64 hexadecimal digits.
fn read_key_file(path: &Path) -> Result<Key, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("the key file {}: {e}", path.display()),
        ))
    })?;
    Key::from_hex(&text)
}

/// Writes a new random key to `path`, readable by its owner only.
fn new_key_file(path: &Path) -> Result<Key, Error> {
    use std::io::Write;

    let key = Key::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{}", key.to_hex())?;
    eprintln!(
        "stagematch: wrote a new key to {}; keep it apart from the store, which cannot be \
         opened without it",
        path.display()
    );
    Ok(key)
}

/// An I/O error that names the file it is about.
fn about(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("the file {}: {e}", path.display()),
        ))
    }
}

/// Reads a calendar file.
fn read_calendar(path: &Path) -> Result<Calendar, Error> {
    let text = std::fs::read_to_string(path).map_err(about(path))?;
    Calendar::parse(&text)
}

fn run(command: Command, key_file: Option<&Path>) -> Result<(), Error> {
    // A calendar for a new store is read first, so that a bad one leaves nothing behind.
    let calendar = match &command {
        Command::Init {
            calendar: Some(path),
            ..
        } => Some(read_calendar(path)?),
        _ => None,
    };

    // `init` may create the key file; every other command reads it.
    let key = match (&command, key_file) {
        (Command::Init { .. } | Command::Demo { .. }, Some(path)) if !path.exists() => {
            Some(new_key_file(path)?)
        }
        (_, Some(path)) => Some(read_key_file(path)?),
        (_, None) => None,
    };
    let key = key.as_ref();

    match command {
        Command::Demo {
            students,
            seed,
            db,
            report,
        } => {
            let db = match db {
                Some(path) if path.exists() => {
                    return Err(Error::Validation {
                        field: "db".into(),
                        value: path.display().to_string(),
                        reason: "exists already; the demo writes a new store".into(),
                    });
                }
                Some(path) => path,
                None => {
                    let path = PathBuf::from("stagematch-demo.redb");
                    if path.exists() {
                        std::fs::remove_file(&path)?;
                    }
                    path
                }
            };
            let store = Store::open_with(&db, None, key)?;
            let outcome = demo::play(&store, students as usize, seed)?;
            println!(
                "placed {} of {} students ({:.1} %); {} accepts lost a race",
                outcome.placed,
                outcome.students,
                100.0 * outcome.placed as f64 / outcome.students as f64,
                outcome.races_lost
            );
            println!("the store was written to {}", db.display());
            if let Some(path) = report {
                demo::report(&path, &outcome, &db)?;
                println!("the report was written to {}", path.display());
            }
        }
        Command::Init { db, .. } => {
            if db.exists() {
                return Err(Error::Validation {
                    field: "DB".into(),
                    value: db.display().to_string(),
                    reason: "exists already".into(),
                });
            }
            let store = Store::open_with(&db, calendar, key)?;
            let sealed = if store.seals_personal_data() {
                "; national register numbers are sealed with the key"
            } else {
                ""
            };
            println!(
                "created {} (phase now {}){sealed}",
                db.display(),
                store.phase(None)
            );
        }
        Command::Check { db } => {
            if !db.exists() {
                return Err(Error::NotFound {
                    what: "store",
                    id: db.display().to_string(),
                });
            }
            // Neither step writes to the store, nor needs its key.
            let whole = Store::check_file(&db)?;
            let digest: String = Store::digest_file(&db)?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if whole {
                println!("{}: whole", db.display());
            } else {
                println!(
                    "{}: repaired (it had not been closed cleanly)",
                    db.display()
                );
            }
            println!("digest {digest}");
        }
        Command::Calendar { db, set: None } => print!("{}", existing(&db, key)?.calendar()),
        Command::Calendar {
            db,
            set: Some(path),
        } => {
            let calendar = read_calendar(&path)?;
            let store = existing(&db, key)?;
            store.set_calendar(calendar)?;
            println!(
                "the calendar of {} is now {} (phase now {})",
                db.display(),
                path.display(),
                store.phase(None)
            );
        }
        Command::Phase { db, at } => println!("{}", existing(&db, key)?.phase(moment(&at)?)),
        Command::AddService { db, name, province } => {
            let province: Province = province.parse()?;
            println!("{}", existing(&db, key)?.add_service(&name, province)?);
        }
        Command::AddSchool { db, name } => println!("{}", existing(&db, key)?.add_school(&name)?),
        Command::AddContact {
            db,
            service,
            name,
            phone,
            email,
        } => {
            let store = existing(&db, key)?;
            let svc = store.find_service(&service)?.id;
            println!(
                "{}",
                store.add_contact(svc, &NewContact::new(name, phone, email))?
            );
        }
        Command::Import {
            db,
            school,
            file,
            at,
        } => {
            let store = existing(&db, key)?;
            let school = store.find_school(&school)?.id;
            let at = moment(&at)?;
            let input = std::fs::File::open(&file).map_err(about(&file))?;

            // A bar over the file's bytes, on standard error and only on a terminal; the last
            // moments (the commit) show as a full bar.
            let bar = indicatif::ProgressBar::new(input.metadata()?.len()).with_style(
                indicatif::ProgressStyle::with_template(
                    "importing {bar:40} {bytes}/{total_bytes} ({eta})",
                )
                .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?,
            );
            let input = std::io::BufReader::new(bar.wrap_read(input));
            let imported = store.import_students(input, school, at);
            bar.finish_and_clear();
            println!("imported {} students", imported?.len());
        }
        Command::Students {
            db,
            service,
            view,
            offset,
            limit,
        } => {
            let store = existing(&db, key)?;
            let svc = store.find_service(&service)?.id;
            let query = Query {
                offset,
                limit,
                ..view.query()?
            };
            let page = store.students(svc, &query, moment(&view.at)?)?;
            for c in &page.rows {
                println!(
                    "{}\t{}, {}\t{} {} ({})\t{}\t{}",
                    c.id,
                    c.last_name,
                    c.first_name,
                    c.postcode,
                    c.city,
                    c.province,
                    c.track,
                    c.status
                );
            }
            eprintln!("{} of {} students", page.rows.len(), page.total);
        }
        Command::Decide {
            db,
            service,
            student,
            status,
            contact,
            at,
        } => {
            let store = existing(&db, key)?;
            let svc = store.find_service(&service)?.id;
            let status: Status = status.parse()?;
            let mut decision = Decision::new(status);
            if let Some(name) = contact {
                let found = store.contacts(svc)?.into_iter().find(|c| {
                    c.id.to_string() == name
                        || stagematch_core::fold(&c.name) == stagematch_core::fold(&name)
                });
                let found = found.ok_or(Error::NotFound {
                    what: "contact",
                    id: name,
                })?;
                decision.contact = Some(found.id);
            }
            store.decide(svc, student.parse()?, &decision, moment(&at)?)?;
            println!("{student}: {status}");
        }
        Command::Export {
            db,
            service,
            all: _,
            out,
            view,
        } => {
            let store = existing(&db, key)?;
            let Some(service) = service else {
                let file =
                    std::io::BufWriter::new(std::fs::File::create(&out).map_err(about(&out))?);
                let n = store.export_students(&ExportOptions::default(), file)?;
                println!("wrote {n} students to {}", out.display());
                return Ok(());
            };
            let svc = store.find_service(&service)?.id;
            let query = view.query()?;
            let file = std::io::BufWriter::new(std::fs::File::create(&out).map_err(about(&out))?);
            let n = store.export_tab(
                svc,
                &query,
                moment(&view.at)?,
                &ExportOptions::default(),
                file,
            )?;
            println!("wrote {n} students to {}", out.display());
        }
        Command::AddLogin {
            db,
            email,
            role,
            service,
            school,
        } => {
            let store = existing(&db, key)?;
            let role = match (role.as_str(), service, school) {
                ("coordinator", None, None) => Role::Coordinator,
                ("service", Some(s), None) => Role::Service(store.find_service(&s)?.id),
                ("school", None, Some(s)) => Role::School(store.find_school(&s)?.id),
                _ => {
                    return Err(Error::Validation {
                        field: "role".into(),
                        value: role,
                        reason: "must be coordinator, service --service NAME or school \
                                 --school NAME"
                            .into(),
                    });
                }
            };
            let token = store.create_login(&email, role)?;
            println!("invitation code for {email}: {token}");
            println!("(the invitation message is in the outbox: stagematch outbox)");
        }
        Command::Activate { db, token } => {
            let store = existing(&db, key)?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let login = store.activate(&token, password)?;
            println!("{} is active ({})", login.email, login.role);
        }
        Command::Logins { db } => {
            let store = existing(&db, key)?;
            for login in store.logins() {
                let state = if login.active { "active" } else { "invited" };
                println!("{}\t{}\t{state}", login.email, login.role);
            }
        }
        Command::Mailings { db, at } => {
            let store = existing(&db, key)?;
            let at = moment(&at)?;
            let mailings = store.queue_mailings(at)?;
            let reminders = store.queue_reminders(at)?;
            println!("{mailings} round mailings and {reminders} reminders are in the outbox");
        }
        Command::Outbox { db } => {
            let store = existing(&db, key)?;
            let messages = store.take_outbox()?;
            for m in &messages {
                println!(
                    "kind: {}\nto: {}\nsubject: {}\n\n{}\n",
                    m.kind, m.to, m.subject, m.body
                );
                println!("----");
            }
            eprintln!("{} messages taken from the outbox", messages.len());
        }
        Command::Stats {
            db,
            at,
            csv,
            counts,
        } => {
            let store = existing(&db, key)?;
            let options = ExportOptions::default();
            if let Some(path) = counts {
                let file =
                    std::io::BufWriter::new(std::fs::File::create(&path).map_err(about(&path))?);
                stagematch_core::csv::write_status_counts(&store.status_counts()?, &options, file)?;
                println!("wrote the status counts to {}", path.display());
            }
            if let Some(path) = csv {
                let rows = store.round_stats(moment(&at)?);
                let file =
                    std::io::BufWriter::new(std::fs::File::create(&path).map_err(about(&path))?);
                stagematch_core::csv::write_round_stats(&rows, &options, file)?;
                println!(
                    "wrote {} rows of round statistics to {}",
                    rows.len(),
                    path.display()
                );
                return Ok(());
            }
            let names: Vec<String> = store.services().into_iter().map(|s| s.name).collect();
            println!("phase\tprovince\ttrack\tservice\topen\tinvited\taccepted\tmedian_days");
            for r in store.round_stats(moment(&at)?) {
                let name = names
                    .get(r.service.get() as usize - 1)
                    .map_or("", String::as_str);
                let median = r
                    .median_days_to_accept
                    .map_or(String::new(), |d| format!("{d:.1}"));
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.phase, r.province, r.track, name, r.open, r.invited, r.accepted, median
                );
            }
        }
    }
    Ok(())
}
