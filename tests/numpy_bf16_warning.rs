//! The bfloat16 → float32 cast logs one warning per call site, not one per call.

use std::sync::Mutex;

use python4r::half::bf16;
use python4r::pyo3::prelude::*;
use python4r::{DType, Tensor};

static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Warn {
            WARNINGS.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn site(py: python4r::pyo3::Python<'_>, t: &Tensor) -> python4r::Result<()> {
    let arr = t.to_numpy(py)?;
    assert_eq!(arr.getattr("dtype")?.str()?.to_string(), "float32");
    Ok(())
}

#[test]
fn one_warning_per_call_site() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let t = Tensor::ones(DType::BFloat16, &[2]).unwrap();
    python4r::with_gil(|py| {
        for _ in 0..5 {
            site(py, &t)?;
        }
        assert_eq!(WARNINGS.lock().unwrap().len(), 1);
        t.to_numpy(py)?; // another call site
        Ok(())
    })
    .unwrap();
    let warnings = WARNINGS.lock().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("float32 copy") && warnings[0].contains("numpy_bf16_warning.rs"));
    let back: Tensor = {
        drop(warnings);
        python4r::set(
            "b",
            &Tensor::from_vec(vec![bf16::from_f32(0.5)], &[1]).unwrap(),
        )
        .unwrap();
        python4r::get("b").unwrap()
    };
    assert_eq!(
        back.dtype(),
        DType::Float32,
        "bfloat16 comes back as float32, as in python4j"
    );
}
