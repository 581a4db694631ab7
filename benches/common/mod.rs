//! What the benches share: the `#[py_exec]` functions under test and the alternatives they are
//! measured against (hand-written pyo3 + rust-numpy, the python4j way, Python itself).
#![allow(dead_code)]

use std::ffi::CString;
use std::time::{Duration, Instant};

use python4r::numpy::PyArray1;
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{Tensor, py_exec};

#[py_exec(code = "result = arr * 2.0")]
pub fn double(arr: &Tensor) -> Tensor;

#[py_exec(code = "result = x + 1")]
pub fn inc(x: i64) -> i64;

#[py_exec(code = "result = arr")]
pub fn identity(arr: &Tensor) -> Tensor;

/// An `n`-element float32 array made (once per `n`) and kept by Python: the Python-to-Rust
/// direction of the zero-copy benches. `n = 0` lets Python free the arrays it made.
#[py_exec(
    setup = "import numpy as np\nmade = {}",
    code = r#"
        if n == 0:
            made.clear()
        result = made.get(n)
        if result is None and n:
            result = made[n] = np.ones(n, np.float32)
    "#
)]
fn python_array_or_clear(n: usize) -> Option<Tensor>;

pub fn python_array(n: usize) -> Tensor {
    python_array_or_clear(n).expect("n > 0")
}

pub fn forget_python_arrays() {
    python_array_or_clear(0);
}

/// pyo3's `Python::attach` in the interpreter python4r starts (the baselines and python4r are
/// measured in the same interpreter; python4r refuses one that something else started first).
pub fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    python4r::initialize().expect("the embedded Python starts");
    Python::attach(f)
}

/// Whether the binary runs as a benchmark (`cargo bench`) rather than as a quick test
/// (`cargo test --benches` runs each bench once): heavy set-up is skipped in test mode.
pub fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The hand-written pyo3 way: the body compiled once into a Python function, called with the
/// arguments, the result extracted.
pub struct HandWritten {
    function: Py<PyAny>,
}

impl HandWritten {
    /// Compiles `def f(<params>): <body>; return result` once.
    pub fn new(params: &str, body: &str) -> HandWritten {
        let source = format!("def f({params}):\n    {body}\n    return result\n");
        let function = attach(|py| {
            let globals = PyDict::new(py);
            let source = CString::new(source).unwrap();
            py.run(&source, Some(&globals), None).unwrap();
            globals.get_item("f").unwrap().unwrap().unbind()
        });
        HandWritten { function }
    }

    pub fn inc(&self, x: i64) -> i64 {
        attach(|py| self.inc_in(py, x))
    }

    /// `inc` for a caller that holds the GIL already.
    pub fn inc_in(&self, py: Python<'_>, x: i64) -> i64 {
        self.function
            .bind(py)
            .call1((x,))
            .and_then(|r| r.extract::<i64>())
            .unwrap()
    }

    /// Calls the function with `data` lent to Python without a copy (as the best hand-written
    /// rust-numpy code does, trusting the function not to keep the array) and keeps the result
    /// array without a copy.
    pub fn double(&self, data: &python4r::ndarray::Array1<f64>) -> Py<PyArray1<f64>> {
        attach(|py| self.double_in(py, data))
    }

    /// `double` for a caller that holds the GIL already.
    pub fn double_in(
        &self,
        py: Python<'_>,
        data: &python4r::ndarray::Array1<f64>,
    ) -> Py<PyArray1<f64>> {
        // SAFETY: the array is dropped before `data` can change or be freed: the function only
        // reads it and keeps no reference (the benchmark's own body).
        let arr = unsafe { PyArray1::borrow_from_array(data, py.None().into_bound(py)) };
        self.function
            .bind(py)
            .call1((arr,))
            .and_then(|r| Ok(r.cast_into::<PyArray1<f64>>()?.unbind()))
            .unwrap()
    }
}

/// The python4j way: every call compiles the code string and executes it in a fresh globals
/// dict holding the inputs, then reads `result`.
pub struct Python4j {
    code: CString,
}

impl Python4j {
    pub fn new(code: &str) -> Python4j {
        Python4j {
            code: CString::new(code).unwrap(),
        }
    }

    fn run<'py>(&self, py: Python<'py>, name: &str, value: Bound<'py, PyAny>) -> Bound<'py, PyAny> {
        let globals = PyDict::new(py);
        globals.set_item(name, value).unwrap();
        py.run(&self.code, Some(&globals), None).unwrap();
        globals.get_item("result").unwrap().unwrap()
    }

    pub fn inc(&self, x: i64) -> i64 {
        attach(|py| {
            let x = x.into_pyobject(py).unwrap().into_any();
            self.run(py, "x", x).extract().unwrap()
        })
    }

    pub fn double(&self, data: &python4r::ndarray::Array1<f64>) -> Py<PyArray1<f64>> {
        attach(|py| {
            // SAFETY: as in `HandWritten::double`.
            let arr = unsafe { PyArray1::borrow_from_array(data, py.None().into_bound(py)) };
            self.run(py, "arr", arr.into_any())
                .cast_into::<PyArray1<f64>>()
                .unwrap()
                .unbind()
        })
    }
}

/// Python timing itself: `statement` run `iters` times in a Python `for` loop, with `names`
/// bound; the loop's own cost per iteration is a few ns.
pub struct PythonLoop {
    run: Py<PyAny>,
}

impl PythonLoop {
    /// `setup` defines the names `statement` uses (the function, the data).
    pub fn new(setup: &str, statement: &str) -> PythonLoop {
        let source = format!(
            "import time\n{setup}\ndef __loop(n):\n    start = time.perf_counter_ns()\n    for _ in range(n):\n        {statement}\n    return time.perf_counter_ns() - start\n"
        );
        let run = attach(|py| {
            let globals = PyDict::new(py);
            let source = CString::new(source).unwrap();
            py.run(&source, Some(&globals), None).unwrap();
            globals.get_item("__loop").unwrap().unwrap().unbind()
        });
        PythonLoop { run }
    }

    /// Binds `name` in the loop's globals (the data it works on).
    pub fn bind<'py>(&self, py: Python<'py>, name: &str, value: Bound<'py, PyAny>) {
        let globals = self.run.bind(py).getattr("__globals__").unwrap();
        globals.set_item(name, value).unwrap();
    }

    /// The time of `iters` runs, measured by Python itself.
    pub fn time(&self, iters: u64) -> Duration {
        attach(|py| {
            let ns: u64 = self
                .run
                .bind(py)
                .call1((iters,))
                .unwrap()
                .extract()
                .unwrap();
            Duration::from_nanos(ns)
        })
    }
}

/// Runs `f` `iters` times and returns the elapsed time (for `iter_custom`).
/// The criterion settings every bench uses.
pub fn criterion_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

pub fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

/// Peak and current resident size of this process, in KiB.
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Runs one case of this bench in a fresh process (`<this binary> --case <case> <n>`), so that
/// its peak memory is its own, and prints what it printed; panics with its stderr if it failed.
pub fn run_case_in_own_process(case: &str, n: usize) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe)
        .args(["--case", case, &n.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
