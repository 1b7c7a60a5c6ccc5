//! Writes a synthetic season store for benchmarks and notebooks: the seeded season of
//! `stagematch_core::synth::cohort` with N students (default 1 000 000): 30 services, 60
//! schools, registrations from mid May over 130 days, 2 % accepted in round 3.
//!
//! Run: `cargo run --release --example synthetic_store -- PATH [N]`

use stagematch_core::{Result, Store, synth};

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
    let season = synth::cohort(&store, n, 2025)?;
    println!(
        "wrote {n} students to {path} ({} accepted on {})",
        season.accepted, season.at
    );
    Ok(())
}
