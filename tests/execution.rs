//! python4j's execution, type and context test cases, and its defects as regression tests.

use python4r::{Context, Error, Value};

#[test]
fn string_concatenation() {
    let ctx = Context::new();
    let out = ctx
        .exec_io("z = x + y", &[("x", &"Hello "), ("y", &"World")], &["z"])
        .unwrap();
    assert_eq!(out.get::<String>("z").unwrap(), "Hello World");
}

#[test]
fn undefined_function_is_a_name_error() {
    let err = Context::new().exec("printx('Hello world')").unwrap_err();
    let exc = err.python_exception().expect("a Python exception");
    assert_eq!(exc.type_name(), "NameError");
    assert_eq!(exc.message(), "name 'printx' is not defined");
    assert_eq!(err.to_string(), "NameError: name 'printx' is not defined");
    assert!(
        exc.traceback().contains("File \"<string>\", line 1"),
        "{}",
        exc.traceback()
    );
}

#[test]
fn all_variables_in_order() {
    let ctx = Context::new();
    let vars = ctx
        .exec_and_return_all("a = 5\nb = '10'\nc = 20.0", &[])
        .unwrap();
    assert_eq!(
        vars,
        vec![
            ("a".to_owned(), Value::Int(5)),
            ("b".to_owned(), Value::from("10")),
            ("c".to_owned(), Value::Float(20.0)),
        ]
    );
    let ctx = Context::new();
    let vars = ctx
        .exec_and_return_all("b = '10'\nc = 20.0 + a", &[("a", &5)])
        .unwrap();
    assert_eq!(
        vars,
        vec![
            ("a".to_owned(), Value::Int(5)),
            ("b".to_owned(), Value::from("10")),
            ("c".to_owned(), Value::Float(25.0)),
        ]
    );
}

#[test]
fn scalar_round_trips() {
    let ctx = Context::new();
    let out = ctx
        .exec_io(
            "i2 = i1\ns2 = s1\nf2 = f1\nb2 = b1",
            &[("i1", &3), ("s1", &"abcd"), ("f1", &7.0), ("b1", &true)],
            &["i2", "s2", "f2", "b2"],
        )
        .unwrap();
    assert_eq!(out.get::<i64>("i2").unwrap(), 3);
    assert_eq!(out.get::<String>("s2").unwrap(), "abcd");
    assert_eq!(out.get::<f64>("f2").unwrap(), 7.0);
    assert!(out.get::<bool>("b2").unwrap());
}

#[test]
fn bytes_round_trip_every_byte() {
    let all: Vec<u8> = (0..=255).collect();
    let ctx = Context::new();
    let out = ctx
        .exec_io(
            "b2 = b1\nt = type(b1).__name__",
            &[("b1", &all)],
            &["b2", "t"],
        )
        .unwrap();
    assert_eq!(out.get::<Vec<u8>>("b2").unwrap(), all);
    assert_eq!(out.get::<String>("t").unwrap(), "bytes");
    let slice: &[u8] = &all;
    let kind = python4r::with_gil(|py| {
        use python4r::ToPython;
        use python4r::pyo3::prelude::*;
        let obj = slice.to_python(py)?;
        Ok(obj.get_type().name().unwrap().to_string())
    });
    assert_eq!(kind.unwrap(), "bytes");
}

#[test]
fn bytes_in_and_out() {
    let ctx = Context::new();
    let b1: Vec<u8> = vec![97, 98, 99];
    let out = ctx
        .exec_io(
            "s1 = ''.join(chr(c) for c in b1)\nb2 = b'def'",
            &[("b1", &b1)],
            &["s1", "b2"],
        )
        .unwrap();
    assert_eq!(out.get::<String>("s1").unwrap(), "abc");
    assert_eq!(out.get::<Vec<u8>>("b2").unwrap(), vec![100, 101, 102]);
}

#[test]
fn bytes_from_bytearray_and_memoryview() {
    let ctx = Context::new();
    assert_eq!(ctx.eval::<Vec<u8>>("bytearray(b'xyz')").unwrap(), b"xyz");
    assert_eq!(ctx.eval::<Vec<u8>>("memoryview(b'xyz')").unwrap(), b"xyz");
}

fn nested_map() -> Value {
    let inner = Value::Dict(vec![
        (Value::from("b"), Value::Int(2)),
        (Value::Int(2), Value::from("b")),
    ]);
    Value::Dict(vec![
        (Value::from("a"), Value::Int(1)),
        (Value::Int(1), Value::from("a")),
        (
            Value::from("list1"),
            Value::List(vec![
                Value::Int(1),
                Value::Float(2.0),
                Value::Int(3),
                Value::Float(4.0),
            ]),
        ),
        (Value::from("innermap"), inner.clone()),
        (
            Value::from("list2"),
            Value::List(vec![
                Value::Int(4),
                Value::from("5"),
                inner,
                Value::Bool(false),
                Value::Bool(true),
            ]),
        ),
    ])
}

#[test]
fn nested_map_round_trips_unchanged() {
    let ctx = Context::new();
    let map = nested_map();
    let out = ctx.exec_io("y = x", &[("x", &map)], &["y"]).unwrap();
    assert_eq!(out.get::<Value>("y").unwrap(), map);
    assert_eq!(
        ctx.eval::<String>("repr(x)").unwrap(),
        "{'a': 1, 1: 'a', 'list1': [1, 2.0, 3, 4.0], 'innermap': {'b': 2, 2: 'b'}, \
         'list2': [4, '5', {'b': 2, 2: 'b'}, False, True]}"
    );
    assert_eq!(map.to_string(), ctx.eval::<String>("repr(x)").unwrap());
}

#[test]
fn nested_list_round_trips_unchanged() {
    let ctx = Context::new();
    let list = Value::List(vec![
        Value::Int(1),
        Value::from("2"),
        nested_map(),
        Value::List(vec![Value::None]),
        Value::Float(3.5),
    ]);
    let out = ctx.exec_io("y = x", &[("x", &list)], &["y"]).unwrap();
    assert_eq!(out.get::<Value>("y").unwrap(), list);
}

#[test]
fn tuples_sets_and_numpy_free_scalars() {
    let ctx = Context::new();
    assert_eq!(
        ctx.eval::<(i64, String, bool)>("(1, 'x', True)").unwrap(),
        (1, "x".to_owned(), true)
    );
    assert_eq!(ctx.eval::<Vec<i64>>("(1, 2, 3)").unwrap(), vec![1, 2, 3]);
    assert_eq!(
        ctx.eval::<Value>("(1,)").unwrap(),
        Value::Tuple(vec![Value::Int(1)])
    );
    assert_eq!(
        ctx.eval::<Value>("frozenset([7])").unwrap(),
        Value::Set(vec![Value::Int(7)])
    );
    let twelve: (i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, String) = ctx
        .eval("(1, 2, 3, 4, 5, 6, 7, 8, 9.5, 10.5, True, 'twelve')")
        .unwrap();
    assert_eq!(twelve.11, "twelve");
    assert_eq!(twelve.8, 9.5);
}

#[test]
fn maps_and_options() {
    use std::collections::{BTreeMap, HashMap};
    let ctx = Context::new();
    let mut m = HashMap::new();
    m.insert("k".to_owned(), 1_i64);
    ctx.set("m", &m).unwrap();
    let back: BTreeMap<String, i64> = ctx.eval("{**m, 'j': 2}").unwrap();
    assert_eq!(
        back.into_iter().collect::<Vec<_>>(),
        vec![("j".to_owned(), 2), ("k".to_owned(), 1)]
    );
    assert_eq!(ctx.eval::<Option<i64>>("None").unwrap(), None);
    assert_eq!(ctx.eval::<Option<i64>>("4").unwrap(), Some(4));
    ctx.set("o", &None::<i64>).unwrap();
    assert!(ctx.eval::<bool>("o is None").unwrap());
}

#[test]
fn integer_out_of_range_is_an_error_not_a_wrap() {
    let ctx = Context::new();
    ctx.exec("big = 300\nneg = -1\nhuge = 2**70").unwrap();
    let err = ctx.get::<u8>("big").unwrap_err();
    assert!(matches!(err, Error::Conversion { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("cannot convert Python variable `big` of type `int` to Rust `u8`"),
        "{err}"
    );
    assert!(ctx.get::<u32>("neg").is_err());
    assert!(ctx.get::<i64>("huge").is_err());
    assert!(ctx.get::<Value>("huge").is_err());
    assert_eq!(ctx.get::<i128>("huge").unwrap(), 1_i128 << 70);
}

#[test]
fn conversion_error_names_variable_and_types() {
    let ctx = Context::new();
    ctx.exec("s = 'text'").unwrap();
    let err = ctx.get::<i64>("s").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot convert Python variable `s` of type `str` to Rust `i64`"),
        "{msg}"
    );
    let err = ctx
        .exec_io("x = object()", &[], &["x"])
        .unwrap()
        .get::<Value>("x")
        .unwrap_err();
    assert!(err.to_string().contains("`x` of type `object`"), "{err}");
}

#[test]
fn undefined_output_is_an_error() {
    let err = Context::new().exec_io("a = 1", &[], &["b"]).unwrap_err();
    assert!(matches!(err, Error::UndefinedVariable { ref name } if name == "b"));
    assert!(err.to_string().contains("`b` is not defined"), "{err}");
}

#[test]
fn eval_and_set_get() {
    let ctx = Context::new();
    ctx.set("x", &20_i64).unwrap();
    assert_eq!(ctx.eval::<i64>("x * 2 + 2").unwrap(), 42);
    assert_eq!(ctx.get::<i64>("x").unwrap(), 20);
}

// ---- python4j's defects, as regression tests ----

#[test]
fn assert_false_is_an_error() {
    let err = Context::new().exec("assert False").unwrap_err();
    let exc = err.python_exception().unwrap();
    assert_eq!(exc.type_name(), "AssertionError");
    assert_eq!(exc.message(), "");
    assert_eq!(err.to_string(), "AssertionError");
}

#[test]
fn exception_with_empty_message_is_an_error() {
    let err = Context::new().exec("raise ValueError()").unwrap_err();
    assert_eq!(err.python_exception().unwrap().type_name(), "ValueError");
}

#[test]
fn system_exit_does_not_exit_the_process() {
    for code in ["import sys\nsys.exit(3)", "raise SystemExit", "exit(0)"] {
        let err = Context::new().exec(code).unwrap_err();
        assert_eq!(
            err.python_exception().unwrap().type_name(),
            "SystemExit",
            "{code}"
        );
    }
    let err = Context::new().exec("raise KeyboardInterrupt").unwrap_err();
    assert_eq!(
        err.python_exception().unwrap().type_name(),
        "KeyboardInterrupt"
    );
    // Still alive and usable.
    assert_eq!(python4r::eval::<i64>("1 + 1").unwrap(), 2);
}

#[test]
fn code_text_is_never_rewritten() {
    let code = "s = '''line one\n    indented line\n\ttab'''\nn = 1";
    let ctx = Context::new();
    ctx.exec(code).unwrap();
    assert_eq!(
        ctx.get::<String>("s").unwrap(),
        "line one\n    indented line\n\ttab"
    );
}

#[test]
fn syntax_error_keeps_line_and_column() {
    let err = Context::new().exec("a = 1\nb = (2 +\nc = 3\n").unwrap_err();
    let exc = err.python_exception().unwrap();
    assert_eq!(exc.type_name(), "SyntaxError");
    let (line, col) = exc.syntax_location().unwrap();
    // Python 3.9's parser reports the line where it gave up; 3.10+ the unclosed bracket.
    let expected_line = if cfg!(Py_3_10) { 2 } else { 3 };
    assert_eq!(line, expected_line);
    if cfg!(Py_3_10) {
        assert!(col >= 5, "column {col}");
    }
}

#[test]
fn tracebacks_reach_the_caller_with_line_numbers() {
    let err = Context::new()
        .exec("x = 1\n\ndef f():\n    return 1 / 0\nf()")
        .unwrap_err();
    let exc = err.python_exception().unwrap();
    assert_eq!(exc.type_name(), "ZeroDivisionError");
    let tb = exc.traceback();
    assert!(tb.contains("line 5, in <module>"), "{tb}");
    assert!(tb.contains("line 4, in f"), "{tb}");
    assert!(tb.ends_with("ZeroDivisionError: division by zero"), "{tb}");
}

#[test]
fn exceptions_match_by_type_and_expose_their_chain() {
    use python4r::pyo3::exceptions::{PyArithmeticError, PyKeyError, PyLookupError};
    let err = Context::new()
        .exec("try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('wrapped') from e")
        .unwrap_err();
    let exc = err.python_exception().unwrap();
    python4r::with_gil(|py| {
        let cause = exc.cause(py).expect("a cause");
        assert!(cause.is_instance_of::<PyKeyError>(py));
        assert!(cause.is_instance_of::<PyLookupError>(py));
        assert!(!cause.is_instance_of::<PyArithmeticError>(py));
        assert_eq!(exc.context(py).unwrap().type_name(), "KeyError");
        Ok(())
    })
    .unwrap();
}

#[test]
fn user_exception_types_are_qualified_and_str_failures_survive() {
    let ctx = Context::new();
    ctx.exec("import json").unwrap();
    let err = ctx.exec("json.loads('{')").unwrap_err();
    assert_eq!(
        err.python_exception().unwrap().type_name(),
        "json.decoder.JSONDecodeError"
    );
    let err = ctx
        .exec("class Bad(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise Bad()")
        .unwrap_err();
    let exc = err.python_exception().unwrap();
    assert_eq!(exc.type_name(), "Bad");
    assert!(exc.message().contains("str() failed"), "{}", exc.message());
    let err = ctx
        .exec("raise ValueError('\\udcff lone surrogate')")
        .unwrap_err();
    assert!(
        err.python_exception()
            .unwrap()
            .message()
            .contains("lone surrogate")
    );
}

#[test]
fn code_cache_is_bounded() {
    let ctx = Context::new();
    for i in 0..(python4r::__private::CODE_CACHE_CAPACITY + 100) {
        ctx.exec(&format!("v = {i}")).unwrap();
    }
    assert!(python4r::__private::cached_code_count() <= python4r::__private::CODE_CACHE_CAPACITY);
    assert_eq!(
        ctx.get::<usize>("v").unwrap(),
        python4r::__private::CODE_CACHE_CAPACITY + 99
    );
}

#[test]
fn mutable_vec_is_read_back() {
    use python4r::ToPythonMut;
    use python4r::pyo3::prelude::*;
    let mut v = vec![1_i64, 2, 3];
    python4r::with_gil(|py| {
        let obj = v.to_python_mut(py)?;
        let ctx = Context::new();
        ctx.globals(py).set_item("v", &obj).unwrap();
        ctx.exec("v.append(4)\nv[0] = 10")?;
        v.after_call(&obj)
    })
    .unwrap();
    assert_eq!(v, vec![10, 2, 3, 4]);
}

#[test]
fn numpy_scalars_convert_to_rust_scalars() {
    let ctx = Context::new();
    ctx.exec("import numpy as np").unwrap();
    assert_eq!(ctx.eval::<f64>("np.float64(1.25)").unwrap(), 1.25);
    assert_eq!(ctx.eval::<f64>("np.float32(1.5)").unwrap(), 1.5);
    assert_eq!(ctx.eval::<i64>("np.int32(-7)").unwrap(), -7);
    assert_eq!(ctx.eval::<u8>("np.uint8(200)").unwrap(), 200);
    assert!(ctx.eval::<bool>("np.bool_(True)").unwrap());
    assert!(
        ctx.eval::<u8>("np.int64(300)").is_err(),
        "out of range stays an error"
    );
    assert_eq!(ctx.eval::<Value>("np.int16(5)").unwrap(), Value::Int(5));
    assert_eq!(
        ctx.eval::<Value>("np.float32(0.5)").unwrap(),
        Value::Float(0.5)
    );
    assert_eq!(
        ctx.eval::<Value>("np.bool_(False)").unwrap(),
        Value::Bool(false)
    );
    let v = ctx.eval::<Value>("{'x': np.zeros(2)}").unwrap();
    match v.get(&Value::from("x")) {
        Some(Value::Tensor(t)) => assert_eq!(t.to_vec::<f64>().unwrap(), vec![0.0, 0.0]),
        other => panic!("expected a tensor, got {other:?}"),
    }
    let tensor = python4r::Tensor::from_vec(vec![1.5_f64, 2.5], &[2]).unwrap();
    let nested = Value::List(vec![Value::Tensor(tensor), Value::Int(1)]);
    ctx.set("nested", &nested).unwrap();
    assert_eq!(ctx.eval::<f64>("float(nested[0].sum())").unwrap(), 4.0);
    assert_eq!(ctx.eval::<Value>("nested").unwrap(), nested);
}

#[test]
fn subclasses_of_builtin_types_convert() {
    let ctx = Context::new();
    ctx.exec(
        "from collections import OrderedDict, defaultdict\n\
         class MyInt(int): pass\n\
         class MyStr(str): pass\n\
         class MyList(list): pass\n\
         d = OrderedDict([('b', 1), ('a', 2)])\n\
         dd = defaultdict(int, {'k': 3})",
    )
    .unwrap();
    assert_eq!(ctx.eval::<i64>("MyInt(4)").unwrap(), 4);
    assert_eq!(ctx.eval::<String>("MyStr('s')").unwrap(), "s");
    assert_eq!(ctx.eval::<Vec<i64>>("MyList([1, 2])").unwrap(), vec![1, 2]);
    assert_eq!(ctx.eval::<Value>("MyInt(4)").unwrap(), Value::Int(4));
    assert_eq!(
        ctx.get::<Value>("d").unwrap(),
        Value::Dict(vec![
            (Value::from("b"), Value::Int(1)),
            (Value::from("a"), Value::Int(2))
        ])
    );
    assert_eq!(
        ctx.get::<Value>("dd").unwrap(),
        Value::Dict(vec![(Value::from("k"), Value::Int(3))])
    );
    let set: std::collections::HashSet<i64> = ctx.eval("{1, 2, 3}").unwrap();
    assert_eq!(set.len(), 3);
}

#[test]
fn nested_gil_on_one_thread_does_not_hang() {
    let n = python4r::with_gil(|_| {
        let inner = python4r::with_gil(|_| python4r::eval::<i64>("1 + 1"))?;
        let guard = python4r::Gil::acquire()?;
        let again = python4r::with_gil(|_| python4r::eval::<i64>("2 + 2"))?;
        drop(guard);
        Ok(inner + again)
    })
    .unwrap();
    assert_eq!(n, 6);
}
