//! `PYTHON4R_BF16=ml_dtypes` (here through the builder): bfloat16 crosses without a copy as
//! `ml_dtypes.bfloat16`, both ways.

use python4r::config::{Bf16Mode, Config};
use python4r::half::bf16;
use python4r::pyo3::prelude::*;
use python4r::{DType, Tensor, ToPythonMut};

#[test]
fn bfloat16_crosses_zero_copy() {
    let _ = Config::from_env().unwrap().bf16(Bf16Mode::MlDtypes).apply();
    let t = Tensor::from_vec(
        vec![bf16::from_f32(1.5), bf16::from_f32(-2.0), bf16::ONE],
        &[3],
    )
    .unwrap();
    python4r::set("t", &t).unwrap();
    assert_eq!(
        python4r::eval::<String>("str(t.dtype)").unwrap(),
        "bfloat16"
    );
    assert_eq!(
        python4r::eval::<usize>("t.ctypes.data").unwrap(),
        t.data_ptr() as usize
    );
    assert_eq!(
        python4r::eval::<Vec<f32>>("t.astype('float32').tolist()").unwrap(),
        [1.5, -2.0, 1.0]
    );

    let back: Tensor = python4r::eval("t[::-1]").unwrap();
    assert!(back.shares_storage(&t));
    assert_eq!(back.to_vec::<bf16>().unwrap()[0], bf16::ONE);

    let mut m = t.clone();
    python4r::with_gil(|py| {
        let obj = m.to_python_mut(py)?;
        obj.call_method1("__imul__", (2,))?;
        m.after_call(&obj)
    })
    .unwrap();
    assert_eq!(m.dtype(), DType::BFloat16);
    assert!(
        !m.shares_storage(&t),
        "t was shared, so m was copied before Python wrote"
    );
    assert_eq!(
        m.to_vec::<bf16>().unwrap(),
        [
            bf16::from_f32(3.0),
            bf16::from_f32(-4.0),
            bf16::from_f32(2.0)
        ]
    );

    let made: Tensor =
        python4r::eval("__import__('numpy').arange(4).astype(__import__('ml_dtypes').bfloat16)")
            .unwrap();
    assert_eq!(made.dtype(), DType::BFloat16);
    assert_eq!(
        made.cast(DType::Float32).to_vec::<f32>().unwrap(),
        [0.0, 1.0, 2.0, 3.0]
    );
}
