//! The types users hold can be used inside `std::panic::catch_unwind`, as `Vec` and
//! `ndarray::Array` can.

use std::panic::{RefUnwindSafe, UnwindSafe, catch_unwind};

use python4r::interrupt::Interrupter;
use python4r::{Context, Error, Job, PyException, Tensor, Value};

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn held_types_are_unwind_safe() {
    unwind_safe::<Tensor>();
    unwind_safe::<Value>();
    unwind_safe::<Context>();
    unwind_safe::<Error>();
    unwind_safe::<PyException>();
    unwind_safe::<Job>();
    unwind_safe::<Interrupter>();
    unwind_safe::<python4r::Outputs>();
    unwind_safe::<python4r::config::Config>();
    unwind_safe::<python4r::interpreter::InterpreterInfo>();
}

#[test]
fn a_tensor_can_be_used_inside_catch_unwind() {
    let t = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
    let total = catch_unwind(|| t.to_vec::<f64>().unwrap().iter().sum::<f64>()).unwrap();
    assert_eq!(total, 3.0);
    let caught = catch_unwind(|| {
        let _ = t.get::<f64>(&[0]);
        panic!("a panic inside")
    });
    assert!(caught.is_err());
    // The tensor is intact after the panic.
    assert_eq!(t.to_vec::<f64>().unwrap(), [1.0, 2.0]);
}
