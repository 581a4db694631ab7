//! Several Rust threads calling Python: each call holds the GIL only while Python runs.

use std::thread;

use python4r::py_exec;

#[py_exec(code = "result = sum(i * i for i in range(n))")]
fn sum_of_squares(n: u64) -> u64;

#[py_exec(code = "import time\ntime.sleep(seconds)\nresult = label")]
fn slow_echo(label: String, seconds: f64) -> String;

fn main() {
    let workers: Vec<_> = (0..4_u64)
        .map(|t| {
            thread::spawn(move || {
                let total: u64 = (0..250).map(|i| sum_of_squares(t * 1000 + i)).sum();
                (t, total)
            })
        })
        .collect();
    for worker in workers {
        let (t, total) = worker.join().expect("worker thread");
        println!("thread {t}: sum of 250 sums of squares = {total}");
    }

    // time.sleep releases the GIL: four 0.2 s sleeps overlap.
    let start = std::time::Instant::now();
    let sleepers: Vec<_> = (0..4)
        .map(|i| thread::spawn(move || slow_echo(format!("sleeper {i}"), 0.2)))
        .collect();
    let labels: Vec<String> = sleepers
        .into_iter()
        .map(|s| s.join().expect("sleeper"))
        .collect();
    println!(
        "{labels:?} finished in {:.2} s (sleeping 4 × 0.2 s in parallel)",
        start.elapsed().as_secs_f64()
    );
}
