//! The commands that make a virtual environment and install into it: pip (the default) or uv
//! (`PYTHON4R_INSTALLER=uv`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::python::Interpreter;

/// The variables that choose and configure the installer.
pub(crate) const VARIABLES: &[&str] = &[
    "PYTHON4R_INSTALLER",
    "PYTHON4R_UV",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CERT",
    "PIP_NO_INDEX",
];

/// Which tool installs the packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Installer {
    /// `python -m venv`, then the environment's own `python -m pip install`.
    Pip,
    /// `uv venv --seed` and `uv pip install`, with pip's settings mapped onto uv's.
    Uv(PathBuf),
}

impl Installer {
    /// From `PYTHON4R_INSTALLER` (`pip`, the default, or `uv`).
    pub(crate) fn from_env() -> Result<Installer> {
        match std::env::var("PYTHON4R_INSTALLER").as_deref() {
            Err(_) | Ok("") | Ok("pip") => Ok(Installer::Pip),
            Ok("uv") => {
                let uv = std::env::var_os("PYTHON4R_UV")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("uv"));
                match Command::new(&uv).arg("--version").output() {
                    Ok(out) if out.status.success() => Ok(Installer::Uv(uv)),
                    _ => Err(Error::Interpreter(format!(
                        "PYTHON4R_INSTALLER=uv but `{} --version` does not run; install uv \
                         (`pip install uv`, or see https://docs.astral.sh/uv/), point PYTHON4R_UV \
                         at it, or unset PYTHON4R_INSTALLER to use pip",
                        uv.display()
                    ))),
                }
            }
            Ok(other) => Err(Error::Interpreter(format!(
                "PYTHON4R_INSTALLER={other:?} is not an installer python4r knows; use `pip` \
                 (the default) or `uv`"
            ))),
        }
    }

    /// Makes a virtual environment with pip at `dir` from `python`.
    pub(crate) fn create(&self, python: &Interpreter, dir: &Path) -> Result<()> {
        let mut command = match self {
            Installer::Pip => {
                let mut c = Command::new(&python.executable);
                c.args(["-m", "venv"]).arg(dir);
                c
            }
            Installer::Uv(uv) => {
                let mut c = self.uv_command(uv);
                c.args(["venv", "--seed", "--python"])
                    .arg(&python.executable)
                    .arg(dir);
                c
            }
        };
        run(&mut command, "creating the virtual environment")
    }

    /// Installs the requirements listed in `requirements_file` into the environment at `dir`.
    pub(crate) fn install(&self, dir: &Path, requirements_file: &Path) -> Result<()> {
        let python = env_python(dir);
        let mut command = match self {
            Installer::Pip => {
                let mut c = Command::new(&python);
                c.args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                ])
                .arg(requirements_file);
                c
            }
            Installer::Uv(uv) => {
                let mut c = self.uv_command(uv);
                c.args(["pip", "install", "--python"])
                    .arg(&python)
                    .arg("-r")
                    .arg(requirements_file);
                c
            }
        };
        run(&mut command, "installing the Python requirements")
    }

    /// uv, never downloading a Python, with pip's index, link and certificate settings as uv's.
    fn uv_command(&self, uv: &Path) -> Command {
        let mut c = Command::new(uv);
        c.env("UV_PYTHON_DOWNLOADS", "never");
        for (pip, uv_name) in [
            ("PIP_INDEX_URL", "UV_DEFAULT_INDEX"),
            ("PIP_EXTRA_INDEX_URL", "UV_INDEX"),
            ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
            ("PIP_CERT", "SSL_CERT_FILE"),
        ] {
            if let Some(value) = std::env::var_os(pip).filter(|v| !v.is_empty()) {
                c.env(uv_name, value);
            }
        }
        if std::env::var("PIP_NO_INDEX").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false")) {
            c.env("UV_NO_INDEX", "1");
        }
        c
    }
}

/// The Python executable of the environment at `dir`.
pub(crate) fn env_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

/// `name==version` of every distribution in the environment at `dir` except pip, sorted.
pub(crate) fn freeze(dir: &Path) -> Result<Vec<String>> {
    let mut command = Command::new(env_python(dir));
    command.args([
        "-m",
        "pip",
        "freeze",
        "--all",
        "--disable-pip-version-check",
    ]);
    let output = output(&mut command, "listing the installed packages")?;
    let mut packages: Vec<String> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.to_ascii_lowercase().starts_with("pip=="))
        .map(str::to_owned)
        .collect();
    packages.sort_by_key(|p| p.to_ascii_lowercase());
    Ok(packages)
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    output(command, what).map(|_| ())
}

fn output(command: &mut Command, what: &str) -> Result<String> {
    let line = command_line(command);
    let out = command
        .output()
        .map_err(|e| Error::io(format!("{what}: starting `{line}`"), e))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    Err(Error::Command {
        what: what.to_owned(),
        command: line,
        output: format!("{}\n{tail}", out.status),
    })
}

fn command_line(command: &Command) -> String {
    let mut parts: Vec<OsString> = vec![command.get_program().to_owned()];
    parts.extend(command.get_args().map(|a| a.to_owned()));
    parts
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
