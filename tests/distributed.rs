//! dask.distributed from `#[py_exec]`: a `LocalCluster` of worker processes maps a CPU-bound
//! pure-Python function over chunks of a Rust tensor, and no worker process outlives the
//! program, whether it calls `python4r::shutdown()` or just returns.
//!
//! dask needs Python 3.10 or newer: on older Pythons these tests print why they did not run
//! and pass; on 3.10+ they fail when dask is not installed.

mod common;

use common::{report, skip, spawn_child};
use python4r::{Tensor, py_exec};

#[py_exec(
    setup = r#"
import multiprocessing, os
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
futures = client.map(collatz_steps, np.array_split(values, chunks))
result = np.concatenate(client.gather(futures))
# The processes that ran the chunks, and every child process this one has.
workers = sorted(set(client.run(os.getpid).values()) | {p.pid for p in multiprocessing.active_children()})
"#,
    output = ["result", "workers"]
)]
fn collatz_steps(values: &Tensor, chunks: usize) -> python4r::Result<(Tensor, Vec<u32>)>;

fn collatz_steps_rust(mut n: i64) -> i64 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

/// Whether dask can run here: `false` (with the reason printed) below Python 3.10; a failure
/// naming the install command when it is missing on 3.10+.
fn dask_runs_here() -> bool {
    let version = python4r::interpreter::BuildInfo::get().version;
    let minor: u32 = version
        .strip_prefix("3.")
        .and_then(|m| m.parse().ok())
        .unwrap();
    if minor < 10 {
        skip(&format!(
            "dask.distributed needs Python 3.10 or newer; this is Python {version}"
        ));
        return false;
    }
    if let Err(err) = python4r::exec("import dask.distributed") {
        let exe = python4r::process::executable().ok().unwrap_or_default();
        panic!(
            "dask.distributed is not importable by the embedded Python ({err}); the workspace \
             declares it under [package.metadata.python4r] in Cargo.toml: rebuild ({})",
            exe.display()
        );
    }
    true
}

/// Runs the map and checks the values; returns the worker processes.
fn map_over_chunks() -> Vec<u32> {
    let values: Vec<i64> = (1..=5_000).collect();
    let tensor = Tensor::from_vec(values.clone(), &[values.len()]).unwrap();
    let (steps, workers) = collatz_steps(&tensor, 8).unwrap();
    let expected: Vec<i64> = values.iter().map(|&n| collatz_steps_rust(n)).collect();
    assert_eq!(steps.to_vec::<i64>().unwrap(), expected);
    assert!(workers.len() >= 2, "two worker processes: {workers:?}");
    assert!(!workers.contains(&std::process::id()), "{workers:?}");
    workers
}

#[test]
fn worker_processes_map_a_python_function_over_chunks_of_a_tensor() {
    if dask_runs_here() {
        map_over_chunks();
        // The cluster is closed by the exit hook when this test binary ends.
    }
}

/// When the process started, in clock ticks since boot (`/proc/<pid>/stat`, field 22): with the
/// pid, it names one process even if the pid is reused.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19).map(str::to_owned)
}

fn child_map_and_report(explicit: bool) {
    if !dask_runs_here() {
        report("skipped", true);
        return;
    }
    for pid in map_over_chunks() {
        report("worker", format!("{pid} {}", start_time(pid).unwrap()));
    }
    if explicit {
        python4r::shutdown().unwrap();
    }
}

#[test]
#[ignore = "run in a child process by the tests without `child_`"]
fn child_explicit_shutdown() {
    child_map_and_report(true);
}

#[test]
#[ignore = "run in a child process by the tests without `child_`"]
fn child_exit_hook() {
    child_map_and_report(false);
}

/// Runs `child` and checks, as soon as it has ended, that none of the worker processes it
/// reported still exists (not even as a zombie: its parent reaped it) and that nothing warned
/// about leaked resources.
fn no_worker_outlives(child: &str) {
    let child = spawn_child(child, &[]);
    let workers: Vec<(u32, String)> = child
        .report
        .lines()
        .filter_map(|line| line.strip_prefix("worker="))
        .map(|w| {
            let (pid, start) = w.split_once(' ').unwrap();
            (pid.parse().unwrap(), start.to_owned())
        })
        .collect();
    let remaining: Vec<String> = workers
        .iter()
        .filter(|(pid, start)| start_time(*pid).as_ref() == Some(start))
        .map(|(pid, _)| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            format!("{pid}: {stat}")
        })
        .collect();
    assert_eq!(child.code, Some(0), "{child:#?}");
    if child.report.contains("skipped=true") {
        return;
    }
    assert!(workers.len() >= 2, "{child:#?}");
    assert!(
        remaining.is_empty(),
        "worker processes outlived the program: {remaining:?}\n{child:#?}"
    );
    assert!(
        !child.stderr.contains("leaked"),
        "resources leaked: {}",
        child.stderr
    );
}

#[test]
#[cfg(target_os = "linux")]
fn no_worker_process_remains_after_shutdown() {
    no_worker_outlives("child_explicit_shutdown");
}

#[test]
#[cfg(target_os = "linux")]
fn no_worker_process_remains_after_the_program_returns_without_shutdown() {
    no_worker_outlives("child_exit_hook");
}
