//! `#[py_exec]` expansions cannot collide with user names and need nothing from the prelude.

/// Functions whose parameters reuse every name the expansion uses internally, in a module without
/// the prelude.
#[no_implicit_prelude]
mod hygienic {
    use ::python4r::py_exec;

    #[py_exec(code = "result = py + __py + __call + __outputs + __arg0 + __value + __error")]
    pub fn internal_names(
        py: i64,
        __py: i64,
        __call: i64,
        __outputs: i64,
        __arg0: i64,
        __value: i64,
        __error: i64,
    ) -> i64;

    #[py_exec(code = "result = result * 2")]
    pub fn parameter_named_result(result: i64) -> i64;

    #[py_exec(
        code = "__outcome.append(__released0)\n__PYTHON4R_FUNCTION = len(__outcome)",
        output = "__PYTHON4R_FUNCTION"
    )]
    pub fn dunder_names(__outcome: &mut ::std::vec::Vec<i64>, __released0: i64) -> i64;

    #[allow(non_snake_case)]
    #[py_exec(code = "result = Ok + Err + Some")]
    pub fn prelude_names(Ok: i64, Err: i64, Some: i64) -> ::python4r::Result<i64>;

    #[py_exec(code = "result = __args(__a0) + __fn0 + __value + __py")]
    pub fn closure_names(
        __args: &dyn ::core::ops::Fn(i64) -> ::python4r::Result<i64>,
        __a0: i64,
        __fn0: i64,
        __value: i64,
        __py: i64,
    ) -> i64;

    #[allow(dead_code)]
    pub struct Vec;
    #[allow(dead_code)]
    pub struct Result;
    pub mod core {}
    pub mod python4r {}
    pub mod std {}

    #[py_exec(code = "result = [x] * 2")]
    pub fn shadowed_std_names(x: i64) -> ::std::vec::Vec<i64>;
}

#[test]
fn internal_names_do_not_collide() {
    assert_eq!(hygienic::internal_names(1, 2, 3, 4, 5, 6, 7), 28);
    assert_eq!(hygienic::parameter_named_result(21), 42);
    let mut seen = vec![1];
    assert_eq!(hygienic::dunder_names(&mut seen, 5), 2);
    assert_eq!(seen, [1, 5]);
    assert_eq!(hygienic::prelude_names(1, 2, 3).unwrap(), 6);
    assert_eq!(hygienic::shadowed_std_names(3), [3, 3]);
    assert_eq!(hygienic::closure_names(&|x| Ok(x * 10), 1, 2, 3, 4), 19);
}
