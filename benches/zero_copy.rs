//! Peak memory of zero-copy identity calls (`result = arr`) on 16 and 10^8 f32, Rust to Python
//! and Python to Rust (issue 5, 3). Each case runs in a fresh process (this binary, re-run with
//! `--case`), so its peak resident size (VmHWM) belongs to that case alone.
//!
//! Prints one JSON object per case; `scripts/bench.sh` stores them. Under `cargo test --benches`
//! only the 16-element cases run.

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::memory_kib;
use python4r::Tensor;

const CALLS: u32 = 5000;
const BATCHES: usize = 7;

/// The median over `BATCHES` batches of the time per call of `f`, in ns.
fn median_ns(mut f: impl FnMut()) -> f64 {
    let mut batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[BATCHES / 2]
}

fn run_case(direction: &str, n: usize) {
    // Python, numpy and both functions ready (compiled, `setup` run) before measuring.
    let warm = Tensor::from_vec(vec![0.0f32; 16], &[16]).unwrap();
    drop(common::identity(&warm));
    drop(common::python_array(16));
    let (base_peak, _) = memory_kib();

    let (data_peak, ns, after_peak) = match direction {
        "rust_to_python" => {
            let t = Tensor::from_vec(vec![1.0f32; n], &[n]).unwrap();
            let (data_peak, _) = memory_kib();
            let ns = median_ns(|| {
                let back = common::identity(black_box(&t));
                assert_eq!(back.data_ptr(), t.data_ptr());
            });
            (data_peak, ns, memory_kib().0)
        }
        "python_to_rust" => {
            let first = common::python_array(n);
            let (data_peak, _) = memory_kib();
            let ns = median_ns(|| {
                let t = common::python_array(black_box(n));
                assert_eq!(t.data_ptr(), first.data_ptr());
            });
            (data_peak, ns, memory_kib().0)
        }
        other => panic!("unknown direction {other}"),
    };
    println!(
        "{{\"direction\": \"{direction}\", \"elements\": {n}, \"ns_per_call\": {ns:.1}, \
         \"peak_before_data_kib\": {base_peak}, \"peak_with_data_kib\": {data_peak}, \
         \"peak_after_calls_kib\": {after_peak}, \"data_kib\": {}}}",
        n * 4 / 1024
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--case") {
        run_case(&args[at + 1], args[at + 2].parse().unwrap());
        return;
    }
    let sizes: &[usize] = if common::bench_mode() {
        &[16, 100_000_000]
    } else {
        &[16]
    };
    for direction in ["rust_to_python", "python_to_rust"] {
        for &n in sizes {
            common::run_case_in_own_process(direction, n);
        }
    }
}
