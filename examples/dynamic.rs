//! The dynamic, python4j-style API: run code strings, pass inputs, read outputs and variables.

use python4r::{Tensor, Value};

fn main() -> python4r::Result<()> {
    // exec(code, inputs, outputs)
    let out = python4r::exec_io("z = x + y", &[("x", &"Hello "), ("y", &"World")], &["z"])?;
    println!("z = {:?}", out.get::<String>("z")?);

    // execAndReturnAllVariables
    for (name, value) in python4r::exec_and_return_all("b = '10'\nc = 20.0 + a", &[("a", &5)])? {
        println!("{name} = {value}");
    }

    // eval, set, get
    python4r::set("celsius", &vec![0.0, 37.0, 100.0])?;
    let fahrenheit: Vec<f64> = python4r::eval("[c * 9 / 5 + 32 for c in celsius]")?;
    println!("fahrenheit = {fahrenheit:?}");

    // Heterogeneous data: Value keeps order and mixed key types.
    let data: Value = python4r::eval("{'a': 1, 1: 'a', 'list': [1, 2.0, None, (True, b'x')]}")?;
    println!("data = {data}");

    // numpy arrays made in Python come back as tensors sharing their memory.
    python4r::exec("import numpy as np\nmatrix = np.eye(3, dtype=np.float32)")?;
    let identity: Tensor = python4r::get("matrix")?;
    println!("matrix = {identity}");

    // Errors keep the Python type, message and traceback.
    let err = python4r::exec("printx('Hello world')").unwrap_err();
    println!("error: {err}");
    Ok(())
}
