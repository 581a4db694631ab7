//! A small tensor passed again and again lends the same read-only numpy array (no new array per
//! call), and only when that is invisible: nothing else holds the array and Python did not
//! change it in place.

use python4r::{Tensor, py_exec};

#[py_exec(code = "result = id(arr)")]
fn array_id(arr: &Tensor) -> usize;

#[py_exec(setup = "kept = []", code = "kept.append(arr)\nresult = id(arr)")]
fn keep(arr: &Tensor) -> usize;

#[py_exec(code = "arr.shape = (2, 2)\nresult = id(arr)")]
fn reshape_in_place(arr: &Tensor) -> usize;

#[py_exec(code = "result = (arr.flags.writeable, float(arr.sum()), arr.shape)")]
fn describe(arr: &Tensor) -> (bool, f64, Vec<usize>);

#[py_exec(code = "arr *= 2")]
fn double_in_place(arr: &mut Tensor);

fn small() -> Tensor {
    Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]).unwrap()
}

#[test]
fn the_same_array_is_lent_again() {
    let t = small();
    let first = array_id(&t);
    let second = array_id(&t);
    let third = array_id(&t);
    assert_eq!(second, third, "kept from the second crossing on");
    let _ = first;
    assert_eq!(
        describe(&t),
        (false, 10.0, vec![4]),
        "still read-only and the same values"
    );
}

#[test]
fn an_array_python_kept_is_not_lent_again() {
    let t = small();
    array_id(&t);
    let kept = keep(&t);
    assert_ne!(array_id(&t), kept, "Python holds that one: a fresh array");
}

#[test]
fn an_array_python_changed_in_place_is_not_lent_again() {
    let t = small();
    array_id(&t);
    let changed = reshape_in_place(&t);
    assert_eq!(
        describe(&t),
        (false, 10.0, vec![4]),
        "the tensor's own shape"
    );
    assert_ne!(array_id(&t), changed);
}

#[test]
fn writing_after_lending_stays_in_place() {
    let mut t = small();
    array_id(&t);
    array_id(&t);
    let address = t.data_ptr();
    double_in_place(&mut t);
    assert_eq!(
        t.data_ptr(),
        address,
        "the kept array is dropped under the GIL, not copied"
    );
    assert_eq!(t.to_vec::<f64>().unwrap(), [2.0, 4.0, 6.0, 8.0]);
    assert_eq!(
        describe(&t),
        (false, 20.0, vec![4]),
        "the new values, not a stale view"
    );
    // From Rust, without the GIL: the storage is shared with the kept array until Python
    // releases it, so the write copies (values right, address may change).
    array_id(&t);
    array_id(&t);
    t.as_mut_slice::<f64>().unwrap()[0] = 100.0;
    assert_eq!(describe(&t), (false, 118.0, vec![4]));
}

#[test]
fn clones_and_views_keep_their_own() {
    let t = small();
    array_id(&t);
    array_id(&t);
    let c = t.clone();
    let v = t.slice(0, 1..3, 1).unwrap();
    assert_eq!(describe(&c), (false, 10.0, vec![4]));
    assert_eq!(describe(&v), (false, 5.0, vec![2]));
    assert_eq!(describe(&t), (false, 10.0, vec![4]));
}

#[test]
fn threads_lending_one_tensor_see_its_values() {
    let t = small();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..500 {
                    assert_eq!(describe(&t), (false, 10.0, vec![4]));
                }
            });
        }
    });
    let id = array_id(&t);
    assert_eq!(array_id(&t), id, "still lent again afterwards");
}
