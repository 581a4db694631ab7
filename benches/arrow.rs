//! Tables through Python (issue 14, 1): a 10^6-row, 4-column record batch (two float64, two
//! int64 columns, 32 MB) through `result = t` (pyarrow, zero-copy), through `t.to_pandas()` and
//! back, and the by-hand way that needs no Arrow: one numpy copy per column, a DataFrame built
//! of them, and its columns copied back into an Arrow batch.
//!
//! Each case runs in a fresh process (this binary, re-run with `--case`), so its peak resident
//! size (`VmHWM`) belongs to that case alone; the figure is the growth of that peak over the
//! calls, once Python, pyarrow, pandas and the function are warm and the batch exists. Prints
//! one JSON object per case. `cargo bench --features arrow --bench arrow`; under
//! `cargo test --benches` the cases run on 1,000 rows, and are skipped, saying why, when
//! pyarrow or pandas is missing.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use common::memory_kib;
use python4r::arrow_array::cast::AsArray;
use python4r::arrow_array::types::{Float64Type, Int64Type};
use python4r::arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use python4r::{Tensor, py_exec};

#[py_exec(code = "result = t")]
fn pyarrow_identity(t: &RecordBatch) -> RecordBatch;

#[py_exec(code = "result = t.to_pandas()")]
fn pandas_round_trip(t: &RecordBatch) -> RecordBatch;

/// The DataFrame from per-column numpy arrays (pandas copies them into its blocks), and its
/// columns back as numpy arrays.
#[py_exec(
    setup = "import pandas as pd",
    code = r#"
df = pd.DataFrame({"x": x, "y": y, "n": n, "m": m})
x2, y2, n2, m2 = (df[c].to_numpy() for c in ("x", "y", "n", "m"))
"#,
    output = ["x2", "y2", "n2", "m2"]
)]
fn numpy_columns(
    x: &Tensor,
    y: &Tensor,
    n: &Tensor,
    m: &Tensor,
) -> (Tensor, Tensor, Tensor, Tensor);

/// The by-hand way: each column copied into a tensor, the DataFrame built in Python, its
/// columns copied back into a record batch.
fn by_hand(t: &RecordBatch) -> RecordBatch {
    let float = |i: usize| {
        let values = t.column(i).as_primitive::<Float64Type>().values().to_vec();
        Tensor::from_vec(values, &[t.num_rows()]).unwrap()
    };
    let int = |i: usize| {
        let values = t.column(i).as_primitive::<Int64Type>().values().to_vec();
        Tensor::from_vec(values, &[t.num_rows()]).unwrap()
    };
    let (x, y, n, m) = numpy_columns(&float(0), &float(1), &int(2), &int(3));
    let x: ArrayRef = Arc::new(Float64Array::from(x.to_vec::<f64>().unwrap()));
    let y: ArrayRef = Arc::new(Float64Array::from(y.to_vec::<f64>().unwrap()));
    let n: ArrayRef = Arc::new(Int64Array::from(n.to_vec::<i64>().unwrap()));
    let m: ArrayRef = Arc::new(Int64Array::from(m.to_vec::<i64>().unwrap()));
    RecordBatch::try_from_iter([("x", x), ("y", y), ("n", n), ("m", m)]).unwrap()
}

fn batch(rows: usize) -> RecordBatch {
    let x: ArrayRef = Arc::new(Float64Array::from_iter_values((0..rows).map(|i| i as f64)));
    let y: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..rows).map(|i| (i as f64).sqrt()),
    ));
    let n: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
    let m: ArrayRef = Arc::new(Int64Array::from_iter_values(
        (0..rows as i64).map(|i| i % 7),
    ));
    RecordBatch::try_from_iter([("x", x), ("y", y), ("n", n), ("m", m)]).unwrap()
}

const CALLS: usize = 21;

/// The median time of one call of `f`, in µs, over `CALLS` calls.
fn median_us(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..CALLS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos() as f64 / 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[CALLS / 2]
}

fn run_case(case: &str, rows: usize) {
    let call: fn(&RecordBatch) -> RecordBatch = match case {
        "pyarrow_identity" => pyarrow_identity,
        "pandas_round_trip" => pandas_round_trip,
        "numpy_columns_by_hand" => by_hand,
        other => panic!("unknown case {other}"),
    };
    // Python, pyarrow, pandas and the function ready before measuring.
    drop(call(&batch(16)));
    let t = batch(rows);
    let (data_peak, data_rss) = memory_kib();
    let back = call(&t);
    assert_eq!(back.num_rows(), rows);
    assert_eq!(back.column(3), t.column(3));
    drop(back);
    let us = median_us(|| {
        black_box(call(black_box(&t)));
    });
    let (after_peak, _) = memory_kib();
    let data_kib = t.get_array_memory_size() / 1024;
    println!(
        "{{\"case\": \"{case}\", \"rows\": {rows}, \"columns\": 4, \"us_per_call\": {us:.1}, \
         \"data_kib\": {data_kib}, \"rss_with_data_kib\": {data_rss}, \
         \"peak_with_data_kib\": {data_peak}, \"peak_after_calls_kib\": {after_peak}, \
         \"peak_growth_kib\": {}}}",
        after_peak.saturating_sub(data_peak)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--case") {
        run_case(&args[at + 1], args[at + 2].parse().unwrap());
        return;
    }
    if let Err(err) = python4r::exec("import pyarrow, pandas") {
        eprintln!(
            "skipped: pyarrow and pandas are needed ({err}); the workspace declares them for Python 3.10+"
        );
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let rows = if bench { 1_000_000 } else { 1_000 };
    for case in [
        "pyarrow_identity",
        "pandas_round_trip",
        "numpy_columns_by_hand",
    ] {
        common::run_case_in_own_process(case, rows);
    }
}
