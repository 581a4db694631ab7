//! Makes the workspace's tests, examples and benches load the libpython python4r was built for.

fn main() {
    python4r_build::configure();
}
