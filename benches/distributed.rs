//! A CPU-bound pure-Python function mapped over 8 chunks of a tensor: in the one embedded
//! interpreter, against a dask `LocalCluster` of 2 worker processes (issue 14). The cluster
//! starts in `setup`, before anything is measured, so its start-up is excluded; what is measured
//! includes pickling the chunks to the workers and the results back.

mod common;

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use python4r::{Tensor, py_exec};

/// Values `1..=N`; the Collatz steps of all of them take about half a second in one interpreter.
const N: usize = 40_000;
const CHUNKS: usize = 8;

#[py_exec(
    setup = r#"
import numpy as np
from dask.distributed import Client, LocalCluster

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)

def collatz_steps(chunk):
    out = np.empty(len(chunk), dtype=np.int64)
    for i, n in enumerate(chunk.tolist()):
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        out[i] = steps
    return out
"#,
    code = r#"
parts = np.array_split(values, chunks)
if on_workers:
    # pure=False: fresh keys each time, so that dask never hands back a remembered result.
    result = np.concatenate(client.gather(client.map(collatz_steps, parts, pure=False)))
else:
    result = np.concatenate([collatz_steps(part) for part in parts])
"#
)]
fn collatz_steps(values: &Tensor, chunks: usize, on_workers: bool) -> python4r::Result<Tensor>;

/// Why the bench cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let version = python4r::interpreter::BuildInfo::get().version;
    if version
        .strip_prefix("3.")
        .and_then(|m| m.parse::<u32>().ok())
        < Some(10)
    {
        return Some(format!("dask needs Python 3.10+, this is {version}"));
    }
    python4r::exec("import dask.distributed")
        .err()
        .map(|e| format!("dask.distributed is not importable: {e}"))
}

fn values() -> Tensor {
    Tensor::from_vec((1..=N as i64).collect(), &[N]).unwrap()
}

fn distributed(c: &mut Criterion) {
    let values = values();
    // Starts the cluster (excluded from the figures) and checks both ways agree.
    let here = collatz_steps(&values, CHUNKS, false).unwrap();
    let there = collatz_steps(&values, CHUNKS, true).unwrap();
    assert_eq!(
        here.to_vec::<i64>().unwrap(),
        there.to_vec::<i64>().unwrap()
    );

    let mut group = c.benchmark_group("collatz_8_chunks");
    group.sample_size(10);
    group.bench_function("one_interpreter", |b| {
        b.iter(|| collatz_steps(black_box(&values), CHUNKS, false).unwrap())
    });
    group.bench_function("local_cluster_2_processes", |b| {
        b.iter(|| collatz_steps(black_box(&values), CHUNKS, true).unwrap())
    });
    group.finish();
}

/// Both ways, alternating in rounds: on a shared machine the load changes over the seconds one
/// criterion benchmark takes, and other processes take cores the workers would use; alternating
/// exposes both to it alike, and the best round of each is the least disturbed. Prints them as a
/// JSON line for `scripts/bench.sh`.
fn paired() {
    const ROUNDS: usize = 20;
    // What else the machine was running: the speed-up needs both cores free.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split(' ').next().and_then(|x| x.parse::<f64>().ok()))
        .unwrap_or(-1.0);
    let values = values();
    let (mut here, mut there) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        black_box(collatz_steps(&values, CHUNKS, false).unwrap());
        here.push(start.elapsed().as_nanos() as f64);
        let start = Instant::now();
        black_box(collatz_steps(&values, CHUNKS, true).unwrap());
        there.push(start.elapsed().as_nanos() as f64);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{{\"paired_collatz_8_chunks\": {{\"one_interpreter_best_ns\": {:.0}, \"local_cluster_best_ns\": {:.0}, \"one_interpreter_median_ns\": {:.0}, \"local_cluster_median_ns\": {:.0}, \"rounds\": {ROUNDS}, \"load_average\": {load}}}}}",
        best(&here),
        best(&there),
        median(&mut here),
        median(&mut there)
    );
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = distributed
}

fn main() {
    if !common::bench_mode() {
        return; // `cargo test --benches`: starting a cluster is too heavy for a smoke run
    }
    if let Some(reason) = unavailable() {
        let _ = writeln!(std::io::stderr(), "distributed bench skipped: {reason}");
        return;
    }
    benches();
    paired();
    // Closes the cluster now rather than in the exit hook.
    python4r::shutdown().unwrap();
    Criterion::default().configure_from_args().final_summary();
}
