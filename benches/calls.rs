//! Call cost of `#[py_exec]` functions against the alternatives, in one run (issue 5, 1–4):
//! call overhead on 1,024 f64, a trivial call, zero-copy identity on 16 and 10^8 f32 in both
//! directions, and `double` on 10^7 f32 against numpy timed inside Python.

mod common;

use std::hint::black_box;

use common::{HandWritten, Python4j, PythonLoop, double, identity, inc, python_array, timed};
use criterion::{BenchmarkId, Criterion, criterion_group};
use python4r::numpy::PyArrayMethods;
use python4r::{Tensor, py_exec};

const SMALL: usize = 1024;

fn call_overhead(c: &mut Criterion) {
    let values: Vec<f64> = (0..SMALL).map(|i| i as f64).collect();
    let tensor = Tensor::from_vec(values.clone(), &[SMALL]).unwrap();
    let array = python4r::ndarray::Array1::from(values);
    let hand = HandWritten::new("arr", "result = arr * 2.0");
    let python4j = Python4j::new("result = arr * 2.0");
    let floor = PythonLoop::new(
        "def double(arr):\n    result = arr * 2.0\n    return result",
        "double(arr)",
    );
    python4r::with_gil(|py| {
        floor.bind(py, "arr", tensor.to_numpy(py)?);
        Ok(())
    })
    .unwrap();
    // The same answer from each.
    let expected: Vec<f64> = (0..SMALL).map(|i| 2.0 * i as f64).collect();
    assert_eq!(double(&tensor).to_vec::<f64>().unwrap(), expected);
    python4r::with_gil(|py| {
        assert_eq!(hand.double(&array).bind(py).to_vec().unwrap(), expected);
        assert_eq!(python4j.double(&array).bind(py).to_vec().unwrap(), expected);
        Ok(())
    })
    .unwrap();

    let mut group = c.benchmark_group("double_1024_f64");
    group.bench_function("python4r", |b| b.iter(|| double(black_box(&tensor))));
    group.bench_function("hand_written_pyo3", |b| {
        b.iter(|| hand.double(black_box(&array)))
    });
    group.bench_function("python4j_way", |b| {
        b.iter(|| python4j.double(black_box(&array)))
    });
    group.bench_function("python_calls_python", |b| {
        b.iter_custom(|iters| floor.time(iters))
    });
    group.finish();
}

fn trivial_call(c: &mut Criterion) {
    let hand = HandWritten::new("x", "result = x + 1");
    let python4j = Python4j::new("result = x + 1");
    let floor = PythonLoop::new(
        "def inc(x):\n    result = x + 1\n    return result",
        "inc(41)",
    );
    assert_eq!((inc(41), hand.inc(41), python4j.inc(41)), (42, 42, 42));

    let mut group = c.benchmark_group("inc_i64");
    group.bench_function("python4r", |b| b.iter(|| inc(black_box(41))));
    group.bench_function("hand_written_pyo3", |b| b.iter(|| hand.inc(black_box(41))));
    group.bench_function("python4j_way", |b| b.iter(|| python4j.inc(black_box(41))));
    group.bench_function("python_calls_python", |b| {
        b.iter_custom(|iters| floor.time(iters))
    });
    group.finish();
}

fn zero_copy(c: &mut Criterion) {
    // 10^8 f32 is 400 MB: only when benchmarking, not in `cargo test --benches`' single pass.
    let sizes: &[usize] = if common::bench_mode() {
        &[16, 100_000_000]
    } else {
        &[16]
    };
    let mut group = c.benchmark_group("identity_f32");
    for &n in sizes {
        let tensor = Tensor::from_vec(vec![1.0f32; n], &[n]).unwrap();
        let back = identity(&tensor);
        assert!(back.shares_storage(&tensor) && back.data_ptr() == tensor.data_ptr());
        drop(back);
        group.bench_with_input(BenchmarkId::new("rust_to_python", n), &tensor, |b, t| {
            b.iter(|| identity(black_box(t)))
        });
        drop(tensor);

        let first = python_array(n);
        assert_eq!(
            python_array(n).data_ptr(),
            first.data_ptr(),
            "the same array"
        );
        group.bench_with_input(BenchmarkId::new("python_to_rust", n), &n, |b, &n| {
            b.iter(|| python_array(black_box(n)))
        });
        drop(first);
        common::forget_python_arrays();
    }
    group.finish();
}

fn large_work(c: &mut Criterion) {
    const N: usize = 10_000_000;
    let n = if common::bench_mode() { N } else { 1000 };
    let tensor = Tensor::from_vec((0..n).map(|i| (i % 1000) as f32).collect(), &[n]).unwrap();
    let numpy = PythonLoop::new("", "arr * 2.0");
    python4r::with_gil(|py| {
        numpy.bind(py, "arr", tensor.to_numpy(py)?);
        Ok(())
    })
    .unwrap();
    let doubled = double(&tensor);
    assert_eq!(doubled.dtype(), python4r::DType::Float32);
    drop(doubled);

    let mut group = c.benchmark_group("double_1e7_f32");
    group.sample_size(30);
    group.bench_function("python4r", |b| {
        b.iter_custom(|iters| timed(iters, || drop(black_box(double(&tensor)))))
    });
    group.bench_function("numpy_in_python", |b| {
        b.iter_custom(|iters| numpy.time(iters))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = call_overhead, trivial_call, zero_copy, large_work
}
/// `double` on 10^7 f32 and numpy in Python, alternating in rounds: on a shared machine the
/// load changes over the seconds one criterion benchmark takes, and alternating exposes both to
/// it alike. Prints the best round of each as a JSON line for `scripts/bench.sh`.
fn paired_large_work() {
    const N: usize = 10_000_000;
    const ROUNDS: usize = 40;
    const ITERS: u64 = 5;
    let tensor = Tensor::from_vec((0..N).map(|i| (i % 1000) as f32).collect(), &[N]).unwrap();
    let numpy = PythonLoop::new("", "arr * 2.0");
    python4r::with_gil(|py| {
        numpy.bind(py, "arr", tensor.to_numpy(py)?);
        Ok(())
    })
    .unwrap();
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = timed(ITERS, || drop(black_box(double(&tensor))));
        mine.push(t.as_nanos() as f64 / ITERS as f64);
        theirs.push(numpy.time(ITERS).as_nanos() as f64 / ITERS as f64);
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{{\"paired_double_1e7_f32\": {{\"python4r_best_ns\": {:.0}, \"numpy_best_ns\": {:.0}, \"python4r_median_ns\": {:.0}, \"numpy_median_ns\": {:.0}}}}}",
        best(&mine),
        best(&theirs),
        median(&mut mine),
        median(&mut theirs)
    );
}

/// Zero-copy identity (`result = arr`) on 16 and 10^8 f32, both directions, the four cases
/// alternating in rounds (as `paired_large_work`): whether a crossing's cost depends on the size
/// (target 3), without the load changes between criterion's one-after-the-other runs. Prints the
/// best round of each, in ns per call, as a JSON line for `scripts/bench.sh`.
fn paired_identity() {
    const BIG: usize = 100_000_000;
    const ROUNDS: usize = 40;
    const ITERS: u64 = 5_000;
    let small = Tensor::from_vec(vec![1.0f32; 16], &[16]).unwrap();
    let big = Tensor::from_vec(vec![1.0f32; BIG], &[BIG]).unwrap();
    let (first_small, first_big) = (python_array(16), python_array(BIG));
    let names = [
        "rust_to_python_16",
        "rust_to_python_100000000",
        "python_to_rust_16",
        "python_to_rust_100000000",
    ];
    let cases: [&dyn Fn(); 4] = [
        &|| drop(black_box(identity(black_box(&small)))),
        &|| drop(black_box(identity(black_box(&big)))),
        &|| drop(black_box(python_array(black_box(16)))),
        &|| drop(black_box(python_array(black_box(BIG)))),
    ];
    let mut best = [f64::INFINITY; 4];
    for _ in 0..ROUNDS {
        for (run, best) in cases.iter().zip(&mut best) {
            let ns = timed(ITERS, run).as_nanos() as f64 / ITERS as f64;
            *best = best.min(ns);
        }
    }
    let fields: Vec<String> = names
        .iter()
        .zip(best)
        .map(|(name, ns)| format!("\"{name}\": {ns:.1}"))
        .collect();
    println!("{{\"paired_identity\": {{{}}}}}", fields.join(", "));
    drop((first_small, first_big));
    common::forget_python_arrays();
}

/// One per-call case of issue 15: its name and a function timing `n` calls.
type Case<'a> = (&'static str, Box<dyn Fn(u64) -> std::time::Duration + 'a>);

/// The per-call targets (issue 15), each python4r variant and its hand-written baseline timed in
/// alternating rounds (machine load falls on both alike), with the Python-calls-Python floors.
/// Prints one JSON line for `scripts/bench.sh`: the best round of each, in ns per call.
fn paired_calls() {
    const ROUNDS: usize = 40;
    const ITERS: u64 = 20_000;
    with_call_cases(|cases| {
        let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
        for _ in 0..ROUNDS {
            for ((_, run), times) in cases.iter().zip(&mut rounds) {
                times.push(run(ITERS).as_nanos() as f64 / ITERS as f64);
            }
        }
        let fields: Vec<String> = cases
            .iter()
            .zip(&rounds)
            .map(|((name, _), times)| {
                let best = times.iter().copied().fold(f64::INFINITY, f64::min);
                format!("\"{name}\": {best:.1}")
            })
            .collect();
        println!("{{\"paired_calls\": {{{}}}}}", fields.join(", "));
    });
}

/// `PYTHON4R_BENCH_CALLS=case:n`: only `n` calls of one case, after 100 to warm up, for
/// `scripts/instructions.sh`, which counts the instructions of the `n` calls under callgrind.
fn counted_calls(spec: &str) {
    let (name, n) = spec
        .split_once(':')
        .expect("PYTHON4R_BENCH_CALLS is case:count");
    let n: u64 = n.parse().expect("the count is a number");
    with_call_cases(|cases| {
        let (_, run) = cases
            .iter()
            .find(|(case, _)| *case == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        run(100);
        counted_region(&**run, n);
    });
}

/// The calls callgrind counts (`--toggle-collect=*counted_region*`): nothing else of the run.
#[inline(never)]
fn counted_region(run: &dyn Fn(u64) -> std::time::Duration, n: u64) {
    black_box(run(black_box(n)));
}

/// Builds the per-call cases over one tensor and its hand-written baselines, and gives them to
/// `f`.
fn with_call_cases(f: impl FnOnce(&[Case<'_>])) {
    let values: Vec<f64> = (0..SMALL).map(|i| i as f64).collect();
    let tensor = Tensor::from_vec(values.clone(), &[SMALL]).unwrap();
    let array = python4r::ndarray::Array1::from(values.clone());
    let hand_double = HandWritten::new("arr", "result = arr * 2.0");
    let hand_inc = HandWritten::new("x", "result = x + 1");
    let floor_double = PythonLoop::new(
        "def double(arr):\n    result = arr * 2.0\n    return result",
        "double(arr)",
    );
    let floor_inc = PythonLoop::new(
        "def inc(x):\n    result = x + 1\n    return result",
        "inc(41)",
    );
    python4r::with_gil(|py| {
        floor_double.bind(py, "arr", tensor.to_numpy(py)?);
        Ok(())
    })
    .unwrap();
    let cases: Vec<Case<'_>> = vec![
        (
            "double_same_python4r",
            Box::new(|n| timed(n, || drop(black_box(double(black_box(&tensor)))))),
        ),
        (
            "double_same_hand",
            Box::new(|n| timed(n, || drop(black_box(hand_double.double(black_box(&array)))))),
        ),
        (
            "double_fresh_python4r",
            Box::new(|n| {
                timed(n, || {
                    let t = Tensor::from_vec(values.clone(), &[SMALL]).unwrap();
                    drop(black_box(double(black_box(&t))))
                })
            }),
        ),
        (
            "double_fresh_hand",
            Box::new(|n| {
                timed(n, || {
                    let a = python4r::ndarray::Array1::from(values.clone());
                    drop(black_box(hand_double.double(black_box(&a))))
                })
            }),
        ),
        ("double_floor", Box::new(|n| floor_double.time(n))),
        (
            "inc_python4r",
            Box::new(|n| {
                timed(n, || {
                    black_box(inc(black_box(41)));
                })
            }),
        ),
        (
            "inc_hand",
            Box::new(|n| {
                timed(n, || {
                    black_box(hand_inc.inc(black_box(41)));
                })
            }),
        ),
        ("inc_floor", Box::new(|n| floor_inc.time(n))),
        (
            "double_held_python4r",
            Box::new(|n| {
                python4r::with_gil(|_| Ok(timed(n, || drop(black_box(double(black_box(&tensor)))))))
                    .unwrap()
            }),
        ),
        (
            "double_held_hand",
            Box::new(|n| {
                python4r::with_gil(|py| {
                    Ok(timed(n, || {
                        drop(black_box(hand_double.double_in(py, black_box(&array))))
                    }))
                })
                .unwrap()
            }),
        ),
        (
            "inc_held_python4r",
            Box::new(|n| {
                python4r::with_gil(|_| {
                    Ok(timed(n, || {
                        black_box(inc(black_box(41)));
                    }))
                })
                .unwrap()
            }),
        ),
        (
            "inc_held_hand",
            Box::new(|n| {
                python4r::with_gil(|py| {
                    Ok(timed(n, || {
                        black_box(hand_inc.inc_in(py, black_box(41)));
                    }))
                })
                .unwrap()
            }),
        ),
    ];
    f(&cases);
}

/// The Python, numpy and BLAS the benchmarks ran with (python4r's own environment, not the
/// `python3` on the path): one line for the machine line of BENCHMARKS.md.
#[py_exec(
    setup = "import sys, numpy",
    code = r#"
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        result = (
            f"Python {sys.version.split()[0]}, numpy {numpy.__version__}; "
            f"BLAS: {blas.get('name', '?')} {blas.get('version', '')}".rstrip()
        )
    "#
)]
fn about() -> String;

fn main() {
    match std::env::var("PYTHON4R_BENCH_CALLS").as_deref() {
        Ok("about") => return println!("{}", about()),
        // Only the alternating per-call rounds (a quick check of issue 15's wall-time ratios).
        Ok("paired") => return paired_calls(),
        Ok("identity") => return paired_identity(),
        Ok(spec) => return counted_calls(spec),
        Err(_) => {}
    }
    benches();
    if common::bench_mode() {
        paired_large_work();
        paired_identity();
        paired_calls();
    }
    Criterion::default().configure_from_args().final_summary();
}
