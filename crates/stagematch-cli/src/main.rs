//! `stagematch`: the program that runs a placement season from the command line.
//!
//! This first version offers `init` and `phase`; milestone M3 brings every command of the
//! API (demo, import, students, decide, export, stats) with clap. A wrong argument or a
//! failure prints one line naming the problem and exits with status 2 (usage) or 1 (error).

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use stagematch_core::{Store, parse_moment};

const USAGE: &str = "\
usage:
  stagematch init DB                 create a season store (default 2025-2026 calendar)
  stagematch phase DB [--at MOMENT]  print the phase of the season at MOMENT (default: now)

MOMENT is YYYY-MM-DD HH:MM in Brussels time, or ISO 8601 with an offset.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("stagematch: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Error(e)) => {
            eprintln!("stagematch: {e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Error(stagematch_core::Error),
}

impl From<stagematch_core::Error> for Failure {
    fn from(e: stagematch_core::Error) -> Self {
        Failure::Error(e)
    }
}

fn run(args: &[String]) -> Result<String, Failure> {
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    match strs.as_slice() {
        ["--help" | "-h" | "help"] => Ok(USAGE.to_owned()),
        ["--version" | "-V"] => Ok(format!("stagematch {}", env!("CARGO_PKG_VERSION"))),
        ["init", db] => {
            let store = Store::open(db)?;
            Ok(format!(
                "created {db} (format {}, phase now {})",
                stagematch_core::FORMAT_VERSION,
                store.phase(None)
            ))
        }
        ["phase", db, rest @ ..] => {
            let at = moment_arg(rest)?;
            if !std::path::Path::new(db).exists() {
                return Err(Failure::Error(stagematch_core::Error::NotFound {
                    what: "store",
                    id: (*db).to_owned(),
                }));
            }
            Ok(Store::open(db)?.phase(at).code().to_owned())
        }
        [] => Err(Failure::Usage("no command given".into())),
        [cmd, ..] => Err(Failure::Usage(format!(
            "unknown command or wrong arguments: {cmd}"
        ))),
    }
}

fn moment_arg(rest: &[&str]) -> Result<Option<DateTime<Utc>>, Failure> {
    match rest {
        [] => Ok(None),
        ["--at", m] => Ok(Some(parse_moment(m)?)),
        other => Err(Failure::Usage(format!(
            "unexpected arguments: {}",
            other.join(" ")
        ))),
    }
}
