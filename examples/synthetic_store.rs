//! Writes a synthetic season store for benchmarks and notebooks: N students (default
//! 1 000 000) from 30 services' regions, registered from late May, 1 % accepted in round 3.
//!
//! Run: `cargo run --release --example synthetic_store -- PATH [N]`

use stagematch_core::synth::{self, Rng};
use stagematch_core::{Decision, NewContact, Result, ServiceId, Store, StudentId, brussels};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "synthetic.redb".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    if std::path::Path::new(&path).exists() {
        std::fs::remove_file(&path)?;
    }

    let store = Store::open(&path)?;
    let mut services = Vec::new();
    let mut contacts = Vec::new();
    for (name, province) in synth::services(30) {
        let id = store.add_service(&name, province)?;
        contacts.push(store.add_contact(id, &NewContact::new("Mentor", "09 123 45 67", "m@d.be"))?);
        services.push((id, province));
    }
    let school = store.add_school("Synthetische School")?;

    let mut rng = Rng::new(2025);
    let students: Vec<_> = (0..n)
        .map(|_| synth::student(&mut rng, &services))
        .collect();
    for (k, part) in students.chunks(100_000).enumerate() {
        store.register_students(
            school,
            part,
            brussels(2025, 5, 20, 9, 0)? + chrono::Duration::days(k as i64),
        )?;
    }

    let round3 = brussels(2025, 9, 22, 10, 0)?;
    for i in (0..n).step_by(100) {
        let k = i % services.len();
        let student = StudentId::new(i as u32 + 1)
            .ok_or_else(|| stagematch_core::Error::Corrupt("id".into()))?;
        let service: ServiceId = services[k].0;
        // Dual students need an invitation first; skipping them keeps this simple.
        let _ = store.decide(service, student, &Decision::accept(contacts[k]), round3);
    }

    println!("wrote {n} students to {path}");
    Ok(())
}
