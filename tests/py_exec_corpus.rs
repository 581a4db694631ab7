//! A corpus of valid `#[py_exec]` bodies, each compared with CPython running the same code as a
//! module (in a fresh namespace holding what `setup` defined plus the inputs).
//!
//! Every scoping construct is here: `global`, nested functions, closures, class bodies,
//! comprehensions and generator expressions, lambdas, `exec`, `eval`, `locals()`, star imports,
//! walrus, `match`, `try`/`except`, decorators, `del`, annotations, docstrings and future imports.
//! Each body also compiles through the macro's name checks, so the corpus doubles as a
//! false-positive test for them.

use std::ffi::CString;

use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{ToPython, py_exec, with_gil};

fn repr(obj: &Py<PyAny>) -> String {
    with_gil(|py| Ok(obj.bind(py).repr()?.to_string())).unwrap()
}

/// Runs `code` as module code: `setup` in a fresh namespace, then `code` in a copy of it with the
/// inputs, and returns `repr(result)`.
fn reference(
    name: &str,
    setup: Option<&str>,
    code: &str,
    inputs: &[(&str, &dyn ToPython)],
) -> String {
    with_gil(|py| {
        let namespace = PyDict::new(py);
        namespace.set_item("__builtins__", py.import("builtins")?)?;
        namespace.set_item("__name__", name)?;
        namespace.set_item("__doc__", py.None())?;
        if let Some(setup) = setup {
            py.run(&CString::new(setup).unwrap(), Some(&namespace), None)?;
        }
        let namespace = namespace.copy()?;
        for (input, value) in inputs {
            namespace.set_item(*input, value.to_python(py)?)?;
        }
        py.run(&CString::new(code).unwrap(), Some(&namespace), None)?;
        let result = namespace
            .get_item("result")?
            .expect("the corpus code sets `result`");
        Ok(result.repr()?.to_string())
    })
    .unwrap()
}

macro_rules! corpus {
    ($($(#[$attr:meta])* $name:ident ( $($arg:ident : $ty:ty = $value:expr),* ) $(setup $setup:tt $(per_call $per_call:tt)?)? => $code:tt ;)*) => {$(
        #[test]
        $(#[$attr])*
        fn $name() {
            #[py_exec($(setup = $setup, $(per_call = $per_call,)?)? code = $code)]
            fn under_test($($arg: $ty),*) -> Py<PyAny>;

            let setup: Option<&str> = None $(.or(Some($setup)))?;
            let expected = reference(
                concat!(module_path!(), "::under_test"),
                setup,
                $code,
                &[$((stringify!($arg), &$value as &dyn ToPython)),*],
            );
            // Twice: the second call must not see the first one's leftovers.
            assert_eq!(repr(&under_test($($value),*)), expected);
            assert_eq!(repr(&under_test($($value),*)), expected);
        }
    )*};
}

corpus! {
    arithmetic(a: i64 = 6, b: i64 = 7) => "result = a * b + 1";

    string_methods(text: String = "Hello World".to_owned()) => r#"
words = text.lower().split()
result = "-".join(reversed(words)) + f"{len(words):03d}"
"#;

    for_while_else(n: i64 = 10) => r#"
primes = []
for candidate in range(2, n * 3):
    for p in primes:
        if candidate % p == 0:
            break
    else:
        primes.append(candidate)
i = 0
while i < 3:
    i += 1
else:
    i *= 10
result = (primes, i)
"#;

    nested_function_reads_body_names(n: i64 = 4) => r#"
scale = 3
def times(x):
    return x * scale + n
result = [times(i) for i in range(n)]
"#;

    recursion_and_mutual_recursion(n: i64 = 10) => r#"
def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)
def is_even(k):
    return True if k == 0 else is_odd(k - 1)
def is_odd(k):
    return False if k == 0 else is_even(k - 1)
result = (fib(n), is_even(n), is_odd(n))
"#;

    closures_late_binding(n: i64 = 3) => r#"
fns = [lambda: i for i in range(n)]
bound = [lambda i=i: i for i in range(n)]
def counter():
    count = 0
    def bump():
        nonlocal count
        count += 1
        return count
    return bump
c = counter()
c(); c()
result = ([f() for f in fns], [f() for f in bound], c())
"#;

    class_body_reads_inputs(factor: i64 = 5) => r#"
class Scaled:
    k = factor
    doubled = k * 2
    pairs = [x * factor for x in range(3)]
    def apply(self, v):
        return v * self.k + factor
result = (Scaled.k, Scaled.doubled, Scaled.pairs, Scaled().apply(2))
"#;

    class_names_and_reprs(x: i64 = 1) => r#"
class Point:
    def __init__(self, x):
        self.x = x
    def __repr__(self):
        return f"{type(self).__qualname__}({self.x})"
def make():
    class Inner:
        pass
    return Inner
result = (repr(Point(x)), Point.__qualname__, Point.__module__, make().__qualname__,
          make.__qualname__, (lambda: 0).__qualname__)
"#;

    inheritance_and_super(x: i64 = 2) => r#"
class Base:
    def value(self):
        return x
class Child(Base):
    def value(self):
        return super().value() * 10 + len(__class__.__name__)
result = Child().value()
"#;

    generator_expressions(n: i64 = 5) => r#"
offset = 100
gen = (i + offset for i in range(n) if i % 2 == 0)
def squares():
    for i in range(n):
        yield i * i
total = sum(x for x in squares())
nested = [[j + n for j in range(i)] for i in range(3)]
result = (list(gen), total, nested, {k: v for k, v in zip("ab", range(n))}, {v % 2 for v in range(n)})
"#;

    global_statement(n: i64 = 3) => r#"
total = 0
def add(k):
    global total
    total += k
for i in range(n):
    add(i)
global unused_name
result = total
"#;

    global_defines_new_name(n: i64 = 3) => r#"
def define():
    global defined_later
    defined_later = n * 2
define()
result = defined_later
"#;

    exec_and_eval(x: i64 = 4) => r#"
exec("y = x + 1")
z = eval("y * 2")
result = (y, z, eval("x", {"x": 99}))
"#;

    locals_globals_vars(x: i64 = 4) => r#"
a = 1
names = sorted(k for k in locals() if not k.startswith("__"))
same = globals() is locals() and vars() is locals()
globals()["b"] = 2
result = (names, same, b, sorted(k for k in dir() if not k.startswith("__")))
"#;

    star_import(x: f64 = 2.5) => r#"
from math import *
result = (floor(x), ceil(x), round(pi, 3))
"#;

    walrus_everywhere(data: Vec<i64> = vec![3, 8, 1, 9]) => r#"
if (n := len(data)) > 2:
    big = [y for x in data if (y := x * 2) > 5]
result = (n, big, y)
"#;

    // `match` is Python 3.10 syntax: the macro rejects it on 3.9.
    #[cfg(Py_3_10)]
    match_statement(value: Vec<i64> = vec![1, 2, 3]) => r#"
match value:
    case [first, *rest] if first > 0:
        shape = ("list", first, rest)
    case _:
        shape = None
match {"k": 1, "other": 2}:
    case {"k": k, **others}:
        mapped = (k, others)
result = (shape, mapped)
"#;

    try_except_finally(x: i64 = 0) => r#"
log = []
try:
    1 / x
except ZeroDivisionError as error:
    log.append(type(error).__name__)
else:
    log.append("no error")
finally:
    log.append("finally")
try:
    error
except NameError:
    log.append("except name deleted")
result = log
"#;

    maybe_unbound(flag: bool = false) => r#"
if flag:
    value = 1
try:
    value
except NameError as e:
    result = (type(e).__name__, str(e))
"#;

    read_in_function_before_binding(x: i64 = 1) => r#"
def get():
    return later
try:
    get()
except NameError as e:
    first = (type(e).__name__, str(e))
later = x
result = (first, get())
"#;

    // `except*` is Python 3.11 syntax.
    #[cfg(Py_3_11)]
    except_star(x: i64 = 1) => r#"
log = []
try:
    raise ExceptionGroup("g", [ValueError(x)])
except* ValueError as group:
    log.append(len(group.exceptions))
result = log
"#;

    with_statement(x: i64 = 3) => r#"
import contextlib
events = []
@contextlib.contextmanager
def tracked(name):
    events.append("enter " + name)
    yield name.upper()
    events.append("exit " + name)
with tracked("a") as a, tracked("b") as b:
    events.append(a + b)
result = events
"#;

    decorators(x: i64 = 2) => r#"
import functools
def twice(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs) * 2
    return wrapper
@twice
def add(a, b=10, *, c=100):
    return a + b + c
class C:
    @staticmethod
    def s():
        return x
    @classmethod
    def k(cls):
        return cls.__name__
    @property
    def p(self):
        return x * 3
result = (add(x), add.__name__, C.s(), C.k(), C().p)
"#;

    delete_statement(x: i64 = 1) => r#"
a = [1, 2, 3]
b = 5
del a[0], b
try:
    b
except NameError as e:
    missing = str(e)
result = (a, missing)
"#;

    module_level_annotations(x: i64 = 1) => r#"
count: int = x + 1
label: str
result = (count, __annotations__)
"#;

    docstring_sets_doc(x: i64 = 1) => r#"
"""The body's docstring."""
result = (__doc__, x)
"#;

    future_import(x: i64 = 1) => r#"
from __future__ import annotations
def f(a: UndefinedType) -> AlsoUndefined:
    return a
result = (f(x), f.__annotations__)
"#;

    rebinds_a_builtin(text: String = "abc".to_owned()) => r#"
n = len(text)
len = lambda s: 42
result = (n, len(text))
"#;

    shadows_an_input(x: i64 = 5) => r#"
before = x
x = x * 2
result = (before, x)
"#;

    dunder_name_and_module(x: i64 = 1) => r#"
class K:
    pass
result = (__name__, K.__module__, x)
"#;

    rebinds_setup_name(x: i64 = 1) setup "count = 10\nitems = []" per_call ["count"] => r#"
items.append(x)
count = count + x
result = (count, len(items) > 0)
"#;

    setup_functions_and_imports(x: f64 = 2.0) setup "import math\ndef area(r):\n    return math.pi * r * r" => r#"
result = round(area(x), 6)
"#;

    imports_in_body(x: i64 = 3) => r#"
import os.path
import collections as co
from itertools import chain as ch, repeat
result = (os.path.join("a", "b"), co.Counter("aab")["a"], list(ch([x], repeat(x, 2))))
"#;

    async_definitions(x: i64 = 3) => r#"
import asyncio
async def double(v):
    await asyncio.sleep(0)
    return v * 2
async def main():
    values = [await double(i) async for i in agen()]
    return values
async def agen():
    for i in range(x):
        yield i
result = asyncio.run(main())
"#;

    conditional_definitions(flag: bool = true) => r#"
if flag:
    def pick():
        return "first"
else:
    def pick():
        return "second"
result = pick()
"#;

    comprehension_scoping(n: i64 = 3) => r#"
x = "outer"
squares = [x * x for x in range(n)]
result = (x, squares, [[(i, j) for j in range(i)] for i in range(n)])
"#;

    lambda_defaults_and_keywords(n: i64 = 3) => r#"
f = lambda a, *args, k=n, **kw: (a, args, k, sorted(kw))
result = f(1, 2, 3, z=4, y=5)
"#;

    string_literals_untouched(n: i64 = 1) => r#"
text = """line one
    indented line
	tab line"""
raw = r"\n stays"
result = (text, raw, "a\tb", n)
"#;

    type_annotations_in_functions(n: i64 = 3) => r#"
def typed(a: int, b: "list[int]" = None) -> "int":
    local: int = a + 1
    return local
result = typed(n)
"#;
}

#[py_exec(code = r#"
    class Point:
        def __init__(self, x):
            self.x = x
    result = (Point.__qualname__, Point(x).x)
"#)]
fn indented_class(x: i64) -> (String, i64);

#[test]
fn indented_bodies_behave_like_module_code() {
    assert_eq!(indented_class(3), ("Point".to_owned(), 3));
}
