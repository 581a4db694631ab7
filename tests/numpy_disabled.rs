//! `PYTHON4R_NUMPY_IMPORT=false` (here through the builder): numpy is never imported, tensors
//! cannot cross (a clear error), everything else works.

use python4r::config::Config;
use python4r::{Error, Tensor};

#[test]
fn tensors_cannot_cross_and_numpy_stays_unimported() {
    let _ = Config::from_env().unwrap().numpy_import(false).apply();
    python4r::exec("a = 1 + 1").unwrap();
    assert_eq!(python4r::get::<i64>("a").unwrap(), 2);
    let t = Tensor::zeros(python4r::DType::Float32, &[2]).unwrap();
    let err = python4r::with_gil(|py| t.to_numpy(py).map(|_| ())).unwrap_err();
    assert!(matches!(err, Error::NumpyDisabled), "{err}");
    // Through pyo3's conversion traits too (the dynamic API, `#[py_exec]` arguments and
    // returns), the error keeps its variant.
    let err = python4r::set("t", &t).unwrap_err();
    assert!(matches!(err, Error::NumpyDisabled), "{err:?}");
    assert!(
        err.to_string().contains("PYTHON4R_NUMPY_IMPORT=false"),
        "{err}"
    );
    let err = python4r::eval::<Tensor>("None or 1").unwrap_err();
    assert!(matches!(err, Error::NumpyDisabled), "{err:?}");
    assert!(err.to_string().contains("numpy is switched off"), "{err}");
    assert!(!python4r::eval::<bool>("'numpy' in __import__('sys').modules").unwrap());
}
