//! Complex numbers: `complex64` and `complex128` tensors through numpy both ways without a copy,
//! through DLPack, printed, cast (real parts, with one warning), `np.fft`; complex `Value`s;
//! with the `num-complex` feature, complex scalars as parameters and returns.

mod common;

use python4r::num_complex::{Complex32, Complex64};
use python4r::pyo3::prelude::*;
use python4r::{DType, Tensor, Value, py_exec};

#[py_exec(code = "import numpy as np\nresult = np.fft.fft(x)")]
fn fft(x: &Tensor) -> Tensor;

#[py_exec(code = "z *= 1j")]
fn rotate(z: &mut Tensor);

#[py_exec(code = "result = z.ctypes.data")]
fn address(z: &Tensor) -> usize;

fn c64(re: f64, im: f64) -> Complex64 {
    Complex64::new(re, im)
}

#[test]
fn numpy_arrays_cross_without_a_copy_in_any_layout() {
    python4r::exec(
        "import numpy as np\n\
         a = (np.arange(12) + 1j * np.arange(12)[::-1]).reshape(3, 4)\n\
         b = a.astype(np.complex64).T[::2]\n\
         c = np.complex64(1.5 - 2j)",
    )
    .unwrap();
    let a: Tensor = python4r::get("a").unwrap();
    assert_eq!(
        (a.dtype(), a.shape()),
        (DType::Complex128, &[3usize, 4][..])
    );
    assert_eq!(
        a.data_ptr() as usize,
        python4r::eval::<usize>("a.ctypes.data").unwrap()
    );
    assert_eq!(a.get::<Complex64>(&[1, 2]).unwrap(), c64(6.0, 5.0));
    let b: Tensor = python4r::get("b").unwrap();
    assert_eq!((b.dtype(), b.shape()), (DType::Complex64, &[2usize, 3][..]));
    assert_eq!(b.strides(), &[16, 32]);
    let expected: Vec<Complex32> = [0, 4, 8, 2, 6, 10]
        .iter()
        .map(|&i| Complex32::new(i as f32, (11 - i) as f32))
        .collect();
    assert_eq!(b.to_vec::<Complex32>().unwrap(), expected);
    // A numpy complex scalar is a 0-d tensor.
    let c: Tensor = python4r::get("c").unwrap();
    assert_eq!(
        c.to_vec::<Complex32>().unwrap(),
        [Complex32::new(1.5, -2.0)]
    );
}

#[test]
fn tensors_cross_to_numpy_without_a_copy_and_change_in_place() {
    let mut z = Tensor::from_vec(vec![c64(1.0, 2.0), c64(-3.0, 0.5)], &[2]).unwrap();
    assert_eq!(address(&z), z.data_ptr() as usize);
    python4r::with_gil(|py| {
        let arr = z.to_numpy(py)?;
        assert_eq!(arr.getattr("dtype")?.str()?.to_string(), "complex128");
        let back: Vec<Complex64> = arr.extract::<Tensor>()?.to_vec()?;
        assert_eq!(back, [c64(1.0, 2.0), c64(-3.0, 0.5)]);
        Ok(())
    })
    .unwrap();
    let before = z.data_ptr();
    rotate(&mut z);
    assert_eq!(z.data_ptr(), before, "in place");
    assert_eq!(
        z.to_vec::<Complex64>().unwrap(),
        [c64(-2.0, 1.0), c64(-0.5, -3.0)]
    );
    let single = Tensor::from_vec(vec![Complex32::new(1.0, 1.0); 4], &[2, 2])
        .unwrap()
        .transpose();
    let text: String = python4r::with_gil(|py| {
        let arr = single.to_numpy(py)?;
        Ok(arr.getattr("dtype")?.str()?.to_string())
    })
    .unwrap();
    assert_eq!(text, "complex64");
}

#[test]
fn fft_of_a_real_tensor_is_complex128() {
    let n = 8;
    let x: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 0.7).sin() + 0.25 * i as f64)
        .collect();
    let spectrum = fft(&Tensor::from_slice(&x, &[n]).unwrap());
    assert_eq!(spectrum.dtype(), DType::Complex128);
    assert_eq!(spectrum.shape(), &[n]);
    let ours = spectrum.to_vec::<Complex64>().unwrap();
    for (k, got) in ours.iter().enumerate() {
        let want: Complex64 = x
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                Complex64::from_polar(v, -2.0 * std::f64::consts::PI * (j * k) as f64 / n as f64)
            })
            .sum();
        assert!((got - want).norm() < 1e-9, "bin {k}: {got} vs {want}");
    }
    // The parts are views of the same memory.
    let re = spectrum.real().unwrap();
    assert!(re.shares_storage(&spectrum));
    assert!((re.to_vec::<f64>().unwrap()[0] - x.iter().sum::<f64>()).abs() < 1e-12);
}

#[test]
fn dlpack_type_code_5() {
    python4r::with_gil(|py| {
        let np = py.import("numpy")?;
        let t = Tensor::from_vec(vec![c64(1.0, -1.0), c64(2.0, 0.0)], &[2])?;
        let arr = np.call_method1("from_dlpack", (t.to_dlpack(py)?,))?;
        assert_eq!(arr.getattr("dtype")?.str()?.to_string(), "complex128");
        assert_eq!(
            arr.extract::<Tensor>()?.to_vec::<Complex64>()?,
            [c64(1.0, -1.0), c64(2.0, 0.0)]
        );
        let src = np.call_method1("full", (3, py.eval(c"0.5 + 0.25j", None, None)?))?;
        let src = src.call_method1("astype", ("complex64",))?;
        let back = Tensor::from_dlpack(&src)?;
        assert_eq!(back.dtype(), DType::Complex64);
        assert_eq!(
            back.data_ptr() as usize,
            src.getattr("ctypes")?.getattr("data")?.extract::<usize>()?
        );
        assert_eq!(back.to_vec::<Complex32>()?, [Complex32::new(0.5, 0.25); 3]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn printed_and_compared_like_numpy() {
    let z = Tensor::from_vec(vec![c64(1.5, -0.0), c64(0.0, 2.0)], &[2]).unwrap();
    assert_eq!(
        z.to_string(),
        "tensor([1.5-0.0j, 0.0+2.0j], dtype=complex128, shape=[2])"
    );
    assert!(format!("{z:?}").contains("strides=[16]"));
    assert_eq!(z.transpose(), z);
    assert_ne!(z.cast(DType::Complex64), z, "another dtype");
    assert_eq!(
        z.cast(DType::Complex64).to_vec::<Complex32>().unwrap(),
        [Complex32::new(1.5, -0.0), Complex32::new(0.0, 2.0)]
    );
    assert_eq!(
        Tensor::from_vec(vec![1i8, -2], &[2])
            .unwrap()
            .cast(DType::Complex64)
            .to_vec::<Complex32>()
            .unwrap(),
        [Complex32::new(1.0, 0.0), Complex32::new(-2.0, 0.0)]
    );
}

#[test]
fn casting_to_real_keeps_the_real_part_and_warns_once() {
    let (stdout, stderr) = common::run_child_with_stderr("child_casts_complex_to_real", &[]);
    assert!(stdout.contains("real parts: [1.5, -3.0]"), "{stdout}");
    let warning = "python4r: warning: casting a complex128 tensor to float64 discards the \
                   imaginary parts";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(stderr.contains("ComplexWarning"), "{stderr}");
    assert!(
        !stderr.contains("to bool"),
        "casting to bool keeps all information"
    );
}

#[test]
#[ignore = "run by the test above in a child process"]
fn child_casts_complex_to_real() {
    let z = Tensor::from_vec(vec![c64(1.5, 2.0), c64(-3.0, -4.0)], &[2]).unwrap();
    for _ in 0..3 {
        let real = z.cast(DType::Float64).to_vec::<f64>().unwrap();
        println!("real parts: {real:?}");
    }
    assert_eq!(z.cast(DType::Bool).to_vec::<bool>().unwrap(), [true, true]);
    // Saying what you mean does not warn.
    assert_eq!(z.real().unwrap().to_vec::<f64>().unwrap(), [1.5, -3.0]);
}

#[test]
fn values_are_complex() {
    let v: Value = python4r::eval("[1 + 2j, __import__('numpy').complex64(-1j), 2.5]").unwrap();
    assert_eq!(
        v,
        Value::List(vec![
            Value::Complex(c64(1.0, 2.0)),
            Value::Complex(c64(0.0, -1.0)),
            Value::Float(2.5)
        ])
    );
    // `-1j` is `-(0+1j)`: its real part is -0.0, as Python's repr shows.
    assert_eq!(v.to_string(), "[(1+2j), (-0-1j), 2.5]");
    assert_eq!(Value::from(c64(0.0, -1.0)).to_string(), "-1j");
    assert_eq!(Value::from(c64(-0.0, 1.0)).to_string(), "(-0+1j)");
    python4r::set("z", &Value::Complex(c64(0.5, -1.5))).unwrap();
    assert!(python4r::eval::<bool>("z == 0.5-1.5j and type(z) is complex").unwrap());
    for z in [
        c64(0.5, -1.5),
        c64(1e300, f64::NAN),
        c64(-0.0, 0.0),
        c64(3.0, f64::INFINITY),
    ] {
        python4r::set("z", &Value::Complex(z)).unwrap();
        let repr: String = python4r::eval("repr(z)").unwrap();
        assert_eq!(repr, Value::Complex(z).to_string());
    }
}

#[test]
fn clongdouble_says_which_dtypes_to_use() {
    let err = python4r::eval::<Tensor>("__import__('numpy').zeros(2, dtype='clongdouble')")
        .unwrap_err()
        .to_string();
    assert!(err.contains("complex64, complex128"), "{err}");
    assert!(err.contains("astype(np.complex128)"), "{err}");
}

#[cfg(feature = "num-complex")]
mod scalars {
    use super::*;

    #[py_exec(code = "import cmath\nresult = cmath.sqrt(z), abs(z)")]
    fn sqrt(z: Complex64) -> (Complex64, f64);

    #[py_exec(code = "import numpy as np\nresult = np.complex64(z) * 2")]
    fn twice_single(z: Complex32) -> Complex32;

    #[test]
    fn complex_scalars_are_parameters_and_returns() {
        let (root, norm) = sqrt(c64(-4.0, 0.0));
        assert!((root - c64(0.0, 2.0)).norm() < 1e-12);
        assert_eq!(norm, 4.0);
        assert_eq!(
            twice_single(Complex32::new(1.0, -0.5)),
            Complex32::new(2.0, -1.0)
        );
        let z: Complex64 = python4r::eval("__import__('numpy').complex128(3 - 4j)").unwrap();
        assert_eq!(z, c64(3.0, -4.0));
        let zs: Vec<Complex64> = python4r::eval("[1j, 2]").unwrap();
        assert_eq!(zs, [c64(0.0, 1.0), c64(2.0, 0.0)]);
    }
}
