//! Python calling Rust functions (issue 13, part 1): a Python loop calling a Rust
//! `Fn(f64) -> f64` lent to a `#[py_exec]` body, against the same loop calling a Python lambda;
//! for a trivial kernel (`x * x + 1`, 10^6 calls) and a heavier one (a 1,000-element loop,
//! 1,000 calls), where Rust should win.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use python4r::py_exec;

const TRIVIAL_CALLS: i64 = 1_000_000;
const HEAVY_CALLS: i64 = 1_000;
const HEAVY_LEN: usize = 1_000;

#[py_exec(code = "
total = 0.0
for i in range(n):
    total += f(i * 1e-6)
result = total
")]
fn sum_rust(f: &dyn Fn(f64) -> f64, n: i64) -> f64;

#[py_exec(code = "
f = lambda x: x * x + 1.0
total = 0.0
for i in range(n):
    total += f(i * 1e-6)
result = total
")]
fn sum_python_trivial(n: i64) -> f64;

#[py_exec(code = "
def f(x):
    s = 0.0
    for k in range(1000):
        s += (x + k) * (x - k) * 1e-6
    return s
total = 0.0
for i in range(n):
    total += f(i * 1e-6)
result = total
")]
fn sum_python_heavy(n: i64) -> f64;

fn trivial(x: f64) -> f64 {
    x * x + 1.0
}

fn heavy(x: f64) -> f64 {
    (0..HEAVY_LEN)
        .map(|k| {
            let k = k as f64;
            (x + k) * (x - k) * 1e-6
        })
        .sum()
}

fn closures(c: &mut Criterion) {
    let (trivial_calls, heavy_calls) = if common::bench_mode() {
        (TRIVIAL_CALLS, HEAVY_CALLS)
    } else {
        (1_000, 10) // `cargo test --benches`: one quick pass
    };
    // The same answers both ways.
    let (rust, python) = (
        sum_rust(&trivial, trivial_calls),
        sum_python_trivial(trivial_calls),
    );
    assert!(
        (rust - python).abs() <= 1e-9 * python.abs(),
        "{rust} {python}"
    );
    let (rust, python) = (sum_rust(&heavy, heavy_calls), sum_python_heavy(heavy_calls));
    assert!(
        (rust - python).abs() <= 1e-9 * python.abs(),
        "{rust} {python}"
    );

    let mut group = c.benchmark_group("python_calls_fn_f64_trivial_1e6");
    group.sample_size(10);
    group.bench_function("rust_closure", |b| {
        b.iter(|| sum_rust(&trivial, black_box(trivial_calls)))
    });
    group.bench_function("python_lambda", |b| {
        b.iter(|| sum_python_trivial(black_box(trivial_calls)))
    });
    group.finish();

    let mut group = c.benchmark_group("python_calls_fn_f64_1000_loop_1e3");
    group.sample_size(10);
    group.bench_function("rust_closure", |b| {
        b.iter(|| sum_rust(&heavy, black_box(heavy_calls)))
    });
    group.bench_function("python_function", |b| {
        b.iter(|| sum_python_heavy(black_box(heavy_calls)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = closures
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
