//! python4r's warnings reach a person: through `log` when the program installed a logger (see
//! `numpy_bf16_warning.rs`), else printed once each on standard error, unless
//! `PYTHON4R_WARNINGS=off`. Each check runs in a child process, since a logger is process-wide.

mod common;

use python4r::pyo3::prelude::*;
use python4r::{DType, Tensor};

const PREFIX: &str = "python4r: warning: a bfloat16 tensor is passed to Python as a float32 copy";

#[test]
fn without_a_logger_each_warning_is_printed_once() {
    let (_, stderr) = common::run_child_with_stderr("child_bf16_twice", &[]);
    assert_eq!(stderr.matches(PREFIX).count(), 1, "{stderr}");
    assert!(stderr.contains("PYTHON4R_BF16=ml_dtypes"), "{stderr}");
}

#[test]
fn python4r_warnings_off_silences_them() {
    let (_, stderr) =
        common::run_child_with_stderr("child_bf16_twice", &[("PYTHON4R_WARNINGS", "off")]);
    assert!(!stderr.contains("python4r: warning"), "{stderr}");
}

#[test]
#[ignore = "run by the tests above in a child process"]
fn child_bf16_twice() {
    let t = Tensor::ones(DType::BFloat16, &[2]).unwrap();
    python4r::with_gil(|py| {
        for _ in 0..3 {
            let arr = t.to_numpy(py)?;
            assert_eq!(arr.getattr("dtype")?.str()?.to_string(), "float32");
        }
        Ok(())
    })
    .unwrap();
}
