//! [`BuildInfo`]: the interpreter python4r was compiled against, recorded by its build script.

/// What python4r was compiled against: the build interpreter (`PYO3_PYTHON`, else `python3` on
/// `PATH`, when python4r was built).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// `major.minor` of the build interpreter.
    pub version: &'static str,
    /// The build interpreter's executable (resolved: not a pyenv shim).
    pub executable: &'static str,
    /// The folder holding its libpython.
    pub lib_dir: &'static str,
    /// Its libpython's name (`python3.11`).
    pub lib_name: &'static str,
    /// Whether libpython is a shared library (else it is linked statically).
    pub shared: bool,
}

impl BuildInfo {
    /// The build information recorded when python4r was compiled.
    pub const fn get() -> BuildInfo {
        BuildInfo {
            version: env!("PYTHON4R_BUILD_VERSION"),
            executable: env!("PYTHON4R_BUILD_EXECUTABLE"),
            lib_dir: env!("PYTHON4R_BUILD_LIB_DIR"),
            lib_name: env!("PYTHON4R_BUILD_LIB_NAME"),
            shared: matches!(env!("PYTHON4R_BUILD_SHARED").as_bytes(), b"true"),
        }
    }
}
