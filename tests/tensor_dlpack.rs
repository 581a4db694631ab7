//! DLPack: python4r tensors consumed by numpy without a copy (read-only when shared), and DLPack
//! producers imported as tensors without a copy.

use python4r::pyo3::prelude::*;
use python4r::{DType, Error, Tensor};

/// Whether this numpy's `from_dlpack` speaks versioned DLPack (1.0, numpy 2.1+).
fn versioned_consumer(np: &Bound<'_, PyModule>) -> PyResult<bool> {
    let version: String = np.getattr("__version__")?.extract()?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    Ok((parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (2, 1))
}

#[test]
fn numpy_consumes_every_dtype_without_copy() {
    python4r::with_gil(|py| {
        let np = py.import("numpy")?;
        for d in DType::ALL {
            if d == DType::BFloat16 {
                continue; // numpy's from_dlpack has no bfloat16
            }
            let t = Tensor::ones(d, &[2, 3])?.transpose();
            if d.time_unit().is_some() {
                let err = t.to_dlpack(py).unwrap_err();
                assert!(matches!(err, Error::UnsupportedDType { .. }), "{err}");
                assert!(err.to_string().contains("DLPack has no date"), "{err}");
                continue;
            }
            let arr = np.call_method1("from_dlpack", (t.to_dlpack(py)?,))?;
            let ptr: usize = arr.getattr("ctypes")?.getattr("data")?.extract()?;
            if versioned_consumer(&np)? {
                assert_eq!(ptr, t.data_ptr() as usize, "{d}");
            } else {
                // A legacy (unversioned) consumer cannot be told the memory is read-only: copy.
                assert_ne!(ptr, t.data_ptr() as usize, "{d}");
            }
            assert_eq!(arr.getattr("dtype")?.str()?.to_string(), d.numpy_name());
            assert_eq!(arr.getattr("shape")?.extract::<Vec<usize>>()?, vec![3, 2]);
            assert!(
                !arr.getattr("flags")?
                    .getattr("writeable")?
                    .extract::<bool>()?
            );
            assert!(arr.set_item(0, 0).is_err(), "read-only for consumers");
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn consumer_keeps_memory_after_tensor_drop() {
    python4r::with_gil(|py| {
        let np = py.import("numpy")?;
        let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?.flip(0)?;
        let arr = np.call_method1("from_dlpack", (t.to_dlpack(py)?,))?;
        drop(t);
        let _junk = np.call_method1("ones", (100_000,))?;
        assert_eq!(
            arr.call_method0("tolist")?.extract::<Vec<f32>>()?,
            [3.0, 2.0, 1.0]
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn legacy_consumer_gets_a_copy_of_read_only_memory() {
    python4r::with_gil(|py| {
        let t = Tensor::from_vec(vec![7i16, 8], &[2])?;
        let producer = t.to_dlpack(py)?;
        let capsule = producer.call_method0("__dlpack__")?; // no max_version: legacy
        let back = Tensor::from_dlpack(&capsule)?;
        assert!(!back.shares_storage(&t));
        assert_ne!(back.data_ptr(), t.data_ptr());
        assert_eq!(back.to_vec::<i16>()?, vec![7, 8]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn writable_export_with_into_dlpack() {
    python4r::with_gil(|py| {
        let np = py.import("numpy")?;
        let t = Tensor::from_vec(vec![1u8, 2, 3], &[3])?;
        let ptr = t.data_ptr() as usize;
        let arr = np.call_method1("from_dlpack", (t.into_dlpack(py)?,))?;
        assert_eq!(
            arr.getattr("ctypes")?.getattr("data")?.extract::<usize>()?,
            ptr
        );
        if arr
            .getattr("flags")?
            .getattr("writeable")?
            .extract::<bool>()?
        {
            arr.set_item(0, 9)?;
            assert_eq!(arr.call_method0("tolist")?.extract::<Vec<u8>>()?, [9, 2, 3]);
        } else {
            // numpy before 2.1 marks every DLPack import read-only.
            assert!(
                !versioned_consumer(&np)?,
                "a writable export stays writable"
            );
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn tensor_from_numpy_dlpack_without_copy() {
    python4r::with_gil(|py| {
        let code =
            c"import numpy as np\na = np.arange(24, dtype=np.float32).reshape(4, 6)[::2, 1::2]";
        let ns = python4r::pyo3::types::PyDict::new(py);
        py.run(code, Some(&ns), None)?;
        let a = ns.get_item("a")?.unwrap();
        let t = Tensor::from_dlpack(&a)?;
        assert_eq!(
            t.data_ptr() as usize,
            a.getattr("ctypes")?.getattr("data")?.extract::<usize>()?
        );
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(
            t.to_vec::<f32>()?,
            a.call_method0("ravel")?
                .call_method0("tolist")?
                .extract::<Vec<f32>>()?
        );
        drop(ns);
        drop(a);
        assert_eq!(t.to_vec::<f32>()?, vec![1.0, 3.0, 5.0, 13.0, 15.0, 17.0]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn round_trip_through_own_producer_and_errors() {
    python4r::with_gil(|py| {
        let t = Tensor::from_vec(vec![true, false, true], &[3])?;
        let back = Tensor::from_dlpack(&t.to_dlpack(py)?)?;
        assert_eq!(back.data_ptr(), t.data_ptr());
        assert_eq!(back.to_vec::<bool>()?, vec![true, false, true]);
        let np = py.import("numpy")?;
        // Complex numbers are DLPack's type code 5 (an unknown code is a unit test of dlpack.rs).
        let c = np
            .call_method1("zeros", (4, "uint64"))?
            .call_method1("view", ("complex64",))?;
        let back = Tensor::from_dlpack(&c)?;
        assert_eq!(
            (back.dtype(), back.shape()),
            (DType::Complex64, &[4usize][..])
        );
        assert_eq!(
            back.data_ptr() as usize,
            c.getattr("ctypes")?.getattr("data")?.extract::<usize>()?
        );
        let err =
            Tensor::from_dlpack(&np.call_method1("zeros", (2,))?.getattr("shape")?).unwrap_err();
        assert!(err.to_string().contains("DLPack"), "{err}");
        Ok(())
    })
    .unwrap();
}
