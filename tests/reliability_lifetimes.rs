//! Memory lifetimes across the bridge, small enough to run under valgrind memcheck
//! (`scripts/valgrind.sh`): Python keeps views after Rust dropped the tensor while the allocator
//! hands the freed memory out again; Rust keeps tensors after Python dropped the arrays; `&mut`
//! calls, DLPack consumers and threads dropping in any order. Under valgrind any use after free
//! is an invalid read; without it the values still must be right.

use python4r::pyo3::prelude::*;
use python4r::{Context, Tensor, ToPythonMut, py_exec};

/// Allocates and fills many blocks of `bytes` bytes on the Rust side and in Python, so that freed
/// memory is handed out again (and overwritten) before the survivors are read.
fn churn(bytes: usize) {
    let blocks: Vec<Vec<u8>> = (0..64).map(|i| vec![0xA5 ^ i as u8; bytes]).collect();
    drop(blocks);
    python4r::exec(&format!(
        "import gc\n_junk = [bytearray(b'\\x5a' * {bytes}) for _ in range(64)]\ndel _junk\ngc.collect()"
    ))
    .unwrap();
}

#[test]
fn python_keeps_views_after_rust_drops_the_tensor() {
    let ctx = Context::new();
    let t = Tensor::from_vec((0..256).map(f64::from).collect(), &[16, 16]).unwrap();
    let bytes = 256 * 8;
    ctx.set("whole", &t).unwrap();
    ctx.exec("part = whole[3:9, ::-2].T\nflat = whole.ravel()\nscalar_view = whole[15, 15, ...]")
        .unwrap();
    drop(t);
    ctx.exec("del whole").unwrap();
    churn(bytes);
    let sum: f64 = ctx
        .eval("float(part.sum() + flat[-1] + scalar_view)")
        .unwrap();
    let expected_part: f64 = (3..9)
        .flat_map(|r| (0..16).rev().step_by(2).map(move |c| (r * 16 + c) as f64))
        .sum();
    assert_eq!(sum, expected_part + 255.0 + 255.0);
    // Dropping the last views frees the memory (no leak, no double free).
    ctx.exec("del part, flat, scalar_view\nimport gc\ngc.collect()")
        .unwrap();
    churn(bytes);
}

#[test]
fn rust_keeps_tensors_after_python_drops_the_arrays() {
    let ctx = Context::new();
    ctx.exec("import numpy as np\nsrc = np.arange(512, dtype=np.int32).reshape(32, 16)\nview = src[::3, 1::2]")
        .unwrap();
    let whole: Tensor = ctx.get("src").unwrap();
    let view: Tensor = ctx.get("view").unwrap();
    let expected_view: Vec<i32> = ctx.eval("view.ravel().tolist()").unwrap();
    ctx.exec("del src, view\nimport gc\ngc.collect()").unwrap();
    churn(512 * 4);
    ctx.exec("_more = [np.full((32, 16), -1, dtype=np.int32) for _ in range(32)]\ndel _more")
        .unwrap();
    assert_eq!(whole.to_vec::<i32>().unwrap(), (0..512).collect::<Vec<_>>());
    assert_eq!(view.to_vec::<i32>().unwrap(), expected_view);
    assert_eq!(whole.as_slice::<i32>().unwrap()[511], 511);
    // Dropped from another thread, after the interpreter has moved on.
    std::thread::spawn(move || drop((whole, view)))
        .join()
        .unwrap();
    churn(512 * 4);
}

#[test]
fn mut_calls_and_kept_arrays() {
    let ctx = Context::new();
    let mut t = Tensor::from_vec(vec![1.0f32; 128], &[128]).unwrap();
    python4r::with_gil(|py| {
        let obj = t.to_python_mut(py)?;
        ctx.globals(py).set_item("m", &obj)?;
        ctx.exec("m *= 3\nkept = m[::4]")?;
        ctx.globals(py).del_item("m")?;
        t.after_call(&obj)
    })
    .unwrap();
    drop(t);
    churn(128 * 4);
    let kept: Vec<f32> = ctx.eval("kept.tolist()").unwrap();
    assert_eq!(kept, vec![3.0; 32]);
}

#[py_exec(code = "result = (arr * 2.0, arr[::-1])")]
fn double_and_reverse(arr: &Tensor) -> (Tensor, Tensor);

#[test]
fn py_exec_results_outlive_inputs() {
    for round in 0..20 {
        let input =
            Tensor::from_vec((0..64).map(|i| f64::from(i + round)).collect(), &[64]).unwrap();
        let (doubled, reversed) = double_and_reverse(&input);
        drop(input);
        churn(64 * 8);
        assert_eq!(
            doubled.get::<f64>(&[63]).unwrap(),
            2.0 * f64::from(63 + round)
        );
        assert_eq!(reversed.get::<f64>(&[0]).unwrap(), f64::from(63 + round));
    }
}

#[test]
fn dlpack_consumers_keep_memory() {
    let t = Tensor::from_vec((0..100u16).collect(), &[10, 10]).unwrap();
    let ptr = t.data_ptr() as usize;
    let arr = python4r::with_gil(|py| {
        let np = py.import("numpy")?;
        Ok(np
            .call_method1("from_dlpack", (t.into_dlpack(py)?,))?
            .unbind())
    })
    .unwrap();
    churn(200);
    let (first, last, same): (u16, u16, bool) = python4r::with_gil(|py| {
        let a = arr.bind(py);
        let data: usize = a.getattr("ctypes")?.getattr("data")?.extract()?;
        Ok((
            a.get_item((0, 0))?.extract()?,
            a.get_item((9, 9))?.extract()?,
            data == ptr,
        ))
    })
    .unwrap();
    assert_eq!((first, last, same), (0, 99, true));
    drop(arr);
    churn(200);
}

#[test]
fn threads_drop_shared_storage_in_any_order() {
    let t = Tensor::from_vec((0..1000).map(f64::from).collect(), &[1000]).unwrap();
    python4r::set("shared_across_threads", &t).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let t = t.slice(0, i * 100..i * 100 + 100, 1).unwrap();
            std::thread::spawn(move || {
                let sum: f64 = t.to_vec::<f64>().unwrap().iter().sum();
                let back: f64 =
                    python4r::with_gil(|py| Ok(t.to_numpy(py)?.call_method0("sum")?.extract()?))
                        .unwrap();
                assert_eq!(sum, back);
                sum
            })
        })
        .collect();
    drop(t);
    let total: f64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, (0..400).map(f64::from).sum::<f64>());
    python4r::exec("del shared_across_threads").unwrap();
    churn(8000);
}
