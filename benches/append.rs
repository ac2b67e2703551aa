//! Durable appends per second through the committer (group commit + fsync),
//! with 1, 16 and 64 concurrent appenders, on a real sled store on disk.
//! Run: `cargo bench --bench append` (figures go to docs/performance.md).

#[path = "../tests/support/commands.rs"]
mod commands;

use commands::{create, visit, POLICY};
use sharelog::domain::ShareId;
use sharelog::store::Store;
use std::time::{Duration, Instant};

const RUN_FOR: Duration = Duration::from_secs(5);

fn run(appenders: usize) -> Result<(f64, f64), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(dir.path(), POLICY).map_err(|e| e.to_string())?;
    let shares: Vec<ShareId> = (0..16u128)
        .map(|n| {
            store
                .execute_blocking(create(n, "bench"), None)
                .map_err(|e| e.to_string())?
                .map(|o| o.share.id)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..appenders)
            .map(|i| {
                let (store, id) = (&store, &shares[i % shares.len()]);
                s.spawn(move || {
                    let mut n = 0u64;
                    while start.elapsed() < RUN_FOR {
                        if matches!(store.execute_blocking(visit(id), None), Ok(Ok(_))) {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let total: u64 = counts.iter().sum();
    let per_event_us = secs * 1e6 * appenders as f64 / total.max(1) as f64;
    Ok((total as f64 / secs, per_event_us))
}

fn main() {
    println!(
        "durable appends through the committer, {}s per run",
        RUN_FOR.as_secs()
    );
    for appenders in [1, 16, 64] {
        match run(appenders) {
            Ok((rate, latency)) => println!(
                "{appenders:>3} appenders: {rate:>9.0} events/s  (mean latency {latency:.0} µs)"
            ),
            Err(e) => println!("{appenders:>3} appenders: failed: {e}"),
        }
    }
}
