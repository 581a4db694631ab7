use python4r::py_exec;

struct S;

impl S {
    #[py_exec(code = "result = 1")]
    fn f(&self) -> i64;
}

fn main() {}
