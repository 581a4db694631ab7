//! Pure-Python work on more than one core: a `#[py_exec]` function whose `setup` starts a
//! `dask.distributed` `LocalCluster` with two worker processes maps a CPU-bound function over
//! chunks of a Rust tensor, and gathers one tensor back.
//!
//! Each worker is a Python process of its own, with its own GIL; the chunks are pickled to it
//! and the results pickled back (they are copies, not shared memory). With
//! `Client("tcp://scheduler:8786")` in place of the `LocalCluster`, the same code runs on a real
//! cluster. Needs dask (Python 3.10+), which the workspace declares under
//! `[package.metadata.python4r]`.

use python4r::{Tensor, py_exec};

#[py_exec(
    setup = r#"
import os
import numpy as np
from dask.distributed import Client, LocalCluster

# Processes, not threads: pure-Python code holds the GIL, so only processes run it in parallel.
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
client = Client(cluster)

def collatz_steps(chunk):
    """For each value, the steps its Collatz sequence takes to reach 1: pure Python."""
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
futures = client.map(collatz_steps, np.array_split(values, chunks))
result = np.concatenate(client.gather(futures))
workers = sorted(client.run(os.getpid).values())
"#,
    output = ["result", "workers"]
)]
fn collatz_steps(values: &Tensor, chunks: usize) -> python4r::Result<(Tensor, Vec<u32>)>;

/// The same, in Rust, to check the workers' answers.
fn collatz_steps_rust(mut n: i64) -> i64 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

fn main() -> python4r::Result<()> {
    let version = python4r::interpreter::BuildInfo::get().version;
    if version
        .strip_prefix("3.")
        .and_then(|m| m.parse::<u32>().ok())
        < Some(10)
    {
        println!("dask needs Python 3.10 or newer; this is Python {version}: nothing to run");
        return Ok(());
    }
    let values: Vec<i64> = (1..=40_000).collect();
    let tensor = Tensor::from_vec(values.clone(), &[values.len()])?;

    let start = std::time::Instant::now();
    let (steps, workers) = collatz_steps(&tensor, 8)?;
    let elapsed = start.elapsed();

    let steps = steps.to_vec::<i64>()?;
    let expected: Vec<i64> = values.iter().map(|&n| collatz_steps_rust(n)).collect();
    assert_eq!(steps, expected);
    let (longest, at) = steps.iter().zip(&values).max().expect("values");
    println!(
        "Collatz steps of 1..={} in 8 chunks on worker processes {workers:?} (this program is \
         process {}): longest {longest} steps, from {at}; {:.2} s with cluster start-up",
        values.len(),
        std::process::id(),
        elapsed.as_secs_f64()
    );

    // Runs Python's exit handlers: dask closes the client and the cluster and its worker
    // processes end before this program does. (They also run at exit without this call.)
    python4r::shutdown()
}
