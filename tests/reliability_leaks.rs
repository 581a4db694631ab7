//! Leaks: a million `#[py_exec]` tensor calls and a hundred thousand calls that raise grow the
//! resident memory by at most 16 MB after a warm-up. Ignored by default (they take seconds in
//! release, minutes in debug); CI runs them with
//! `cargo test --release --test reliability_leaks -- --ignored --test-threads=1`.

use python4r::{Tensor, py_exec};

const LIMIT_BYTES: u64 = 16 * 1024 * 1024;

#[py_exec(code = "result = arr * 2.0")]
fn double(arr: &Tensor) -> Tensor;

#[py_exec(code = "raise ValueError(f'bad value {x}')")]
fn always_raises(x: i64) -> python4r::Result<()>;

/// Resident memory of this process (VmRSS), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kb * 1024
}

/// Runs `call` `warm_up` times, then `calls` times, and fails if RSS grew by more than
/// [`LIMIT_BYTES`] over the measured calls.
fn assert_no_growth(what: &str, warm_up: u64, calls: u64, mut call: impl FnMut(u64)) {
    for i in 0..warm_up {
        call(i);
    }
    python4r::exec("import gc; gc.collect()").unwrap();
    let before = rss();
    for i in 0..calls {
        call(i);
    }
    python4r::exec("import gc; gc.collect()").unwrap();
    let after = rss();
    let growth = after.saturating_sub(before);
    println!(
        "{what}: {calls} calls, RSS {:.1} MB -> {:.1} MB, growth {:.2} MB (limit {} MB)",
        before as f64 / 1e6,
        after as f64 / 1e6,
        growth as f64 / 1e6,
        LIMIT_BYTES / 1024 / 1024
    );
    assert!(
        growth <= LIMIT_BYTES,
        "{what}: RSS grew by {growth} bytes over {calls} calls"
    );
}

#[test]
#[ignore = "10^6 calls: run in release with --ignored (CI does)"]
fn a_million_double_calls_do_not_leak() {
    let t = Tensor::from_vec((0..64).map(f64::from).collect(), &[8, 8]).unwrap();
    assert_no_growth("double", 20_000, 1_000_000, |i| {
        let out = double(&t);
        if i % 100_000 == 0 {
            assert_eq!(out.get::<f64>(&[7, 7]).unwrap(), 126.0);
        }
    });
}

#[test]
#[ignore = "10^5 raising calls: run in release with --ignored (CI does)"]
fn a_hundred_thousand_raising_calls_do_not_leak() {
    let ctx = python4r::Context::new();
    assert_no_growth("raise", 5_000, 100_000, |i| {
        let err = always_raises(i as i64).unwrap_err();
        let exc = err.python_exception().unwrap();
        assert_eq!(exc.type_name(), "ValueError");
        // The dynamic API too, with a chained exception.
        let err = ctx
            .exec("try:\n    {}['k']\nexcept KeyError as e:\n    raise RuntimeError('wrapped') from e")
            .unwrap_err();
        assert_eq!(err.python_exception().unwrap().type_name(), "RuntimeError");
    });
}

#[test]
fn rss_is_readable() {
    assert!(rss() > 0);
}
