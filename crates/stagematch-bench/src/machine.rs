//! The machine's own limits, printed beside every benchmark run: how fast one thread copies
//! memory, and how long a durable write takes on the disk the benchmarks write to. Figures of
//! one run are comparable with each other; across runs, compare these first.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Memory copied by one thread, in GB/s (the best of five copies of 256 MiB).
pub fn copy_bandwidth() -> f64 {
    const SIZE: usize = 256 << 20;
    let from = vec![1u8; SIZE];
    let mut to = vec![0u8; SIZE];
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        to.copy_from_slice(std::hint::black_box(&from));
        best = best.min(start.elapsed());
        std::hint::black_box(&to);
    }
    SIZE as f64 / best.as_secs_f64() / 1e9
}

/// Latencies of `n` writes of 4 KiB each followed by `fdatasync`, in a file in `dir`.
pub fn fsync_latencies(dir: &Path, n: usize) -> Vec<Duration> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("probe file");
    let block = [7u8; 4096];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
        times.push(start.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    times
}

/// The `p`-th percentile (0 to 100) of `times`.
pub fn percentile(times: &[Duration], p: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let k = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

/// Prints the machine's line: cores, memory copy rate, fdatasync p50 and p99 in `dir`.
pub fn report(dir: &Path) {
    let fsync = fsync_latencies(dir, 200);
    eprintln!(
        "machine: {} cores; memory copy {:.1} GB/s (one thread); 4 KiB write + fdatasync \
         p50 {:.3} ms, p99 {:.3} ms ({})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        copy_bandwidth(),
        percentile(&fsync, 50.0).as_secs_f64() * 1e3,
        percentile(&fsync, 99.0).as_secs_f64() * 1e3,
        dir.display()
    );
}
