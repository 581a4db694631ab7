//! Makes the workspace's tests, examples and benches load the libpython python4r was built for,
//! and sets pyo3's `Py_3_10`, `Py_3_11`, ... cfgs (tests of syntax that older Pythons lack) from
//! the same interpreter configuration pyo3 itself uses (`PYO3_PYTHON`, `PYO3_CONFIG_FILE`, cross
//! builds).

fn main() {
    python4r_build::configure();
    pyo3_build_config::use_pyo3_cfgs();
}
