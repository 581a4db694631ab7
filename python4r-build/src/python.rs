//! The build interpreter, found the way pyo3 finds it, and what identifies it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// The Python a managed environment is made from.
#[derive(Clone, Debug)]
pub(crate) struct Interpreter {
    /// Its `sys.executable` (a pyenv shim resolved to the real file).
    pub(crate) executable: PathBuf,
    /// `platform.python_version()`, e.g. `3.11.7`.
    pub(crate) version: String,
    /// `major.minor`.
    pub(crate) major_minor: String,
    /// `sys.base_prefix`.
    pub(crate) base_prefix: String,
}

/// The variables that choose the build interpreter.
pub(crate) const VARIABLES: &[&str] = &["PYO3_PYTHON", "VIRTUAL_ENV", "CONDA_PREFIX"];

impl Interpreter {
    /// The interpreter pyo3 builds for: `explicit` (python4r's own record of it, when visible),
    /// else `PYO3_PYTHON`, the active virtualenv's or conda environment's Python, else `python3`.
    pub(crate) fn find(explicit: Option<&Path>) -> Result<Interpreter> {
        let env_python = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(|prefix| Path::new(&prefix).join("bin/python"))
        };
        let candidate = explicit
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .or_else(|| {
                std::env::var_os("PYO3_PYTHON")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| env_python("VIRTUAL_ENV"))
            .or_else(|| env_python("CONDA_PREFIX"))
            .unwrap_or_else(|| PathBuf::from("python3"));
        Interpreter::query(&candidate)
    }

    fn query(python: &Path) -> Result<Interpreter> {
        const SCRIPT: &str = "import sys, platform\n\
                              print(sys.executable)\n\
                              print(platform.python_version())\n\
                              print('%d.%d' % sys.version_info[:2])\n\
                              print(sys.base_prefix)";
        let output = Command::new(python)
            .args(["-c", SCRIPT])
            .output()
            .map_err(|e| {
                Error::Interpreter(format!(
                    "cannot run the build interpreter {}: {e}; install Python 3 or point \
                     PYO3_PYTHON at one",
                    python.display()
                ))
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text.lines().collect();
        if !output.status.success() || lines.len() < 4 {
            return Err(Error::Interpreter(format!(
                "the build interpreter {} did not report its version: {}",
                python.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(Interpreter {
            executable: PathBuf::from(lines[0]),
            version: lines[1].to_owned(),
            major_minor: lines[2].to_owned(),
            base_prefix: lines[3].to_owned(),
        })
    }

    /// What an environment made from this interpreter depends on.
    pub(crate) fn identity(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.executable.display(),
            self.version,
            self.base_prefix
        )
    }

    /// Checks each requirement string with the PEP 508 parser pip carries, before anything is
    /// installed.
    pub(crate) fn validate_requirements(&self, requirements: &[String]) -> Result<()> {
        const SCRIPT: &str = "import sys\n\
            try:\n    from packaging.requirements import Requirement, InvalidRequirement\n\
            except ImportError:\n    from pip._vendor.packaging.requirements import Requirement, InvalidRequirement\n\
            for r in sys.argv[1:]:\n    try:\n        Requirement(r)\n\
            \x20   except InvalidRequirement as e:\n        print(r); print(str(e).replace('\\n', ' ')); sys.exit(3)\n";
        let output = Command::new(&self.executable)
            .args(["-c", SCRIPT])
            .args(requirements)
            .output()
            .map_err(|e| Error::io(format!("running {}", self.executable.display()), e))?;
        match output.status.code() {
            Some(0) => Ok(()),
            Some(3) => {
                let text = String::from_utf8_lossy(&output.stdout);
                let mut lines = text.lines();
                Err(Error::InvalidRequirement {
                    requirement: lines.next().unwrap_or_default().to_owned(),
                    message: lines.next().unwrap_or_default().to_owned(),
                })
            }
            _ => Err(Error::Interpreter(format!(
                "cannot check the requirement strings with {} (it needs pip): {}",
                self.executable.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ))),
        }
    }
}
