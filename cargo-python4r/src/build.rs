//! Building the target with cargo and reading, from its JSON messages, the executable and the
//! managed environment its package's build script prepared.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::args::{Options, Target};

/// What the build produced.
#[derive(Debug)]
pub(crate) struct Built {
    /// The executable.
    pub(crate) executable: PathBuf,
    /// The managed environment (from `python4r_build::configure()`).
    pub(crate) environment: PathBuf,
}

/// Runs `cargo build` for the target and returns what it made.
pub(crate) fn build(options: &Options) -> Result<Built, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["build", "--message-format=json-render-diagnostics"]);
    match &options.target {
        Target::Bin(name) => command.args(["--bin", name]),
        Target::Example(name) => command.args(["--example", name]),
        Target::None => unreachable!("parse() requires a target"),
    };
    if let Some(package) = &options.package {
        command.args(["--package", package]);
    }
    if options.release {
        command.arg("--release");
    }
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let mut executable = None;
    let mut environments: Vec<(String, PathBuf)> = Vec::new();
    let mut package_of_executable = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let target = &message["target"];
                let kinds: Vec<&str> = target["kind"]
                    .as_array()
                    .map(|k| k.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let wanted_kind = match &options.target {
                    Target::Bin(_) => "bin",
                    _ => "example",
                };
                if target["name"].as_str() == Some(options.target.name())
                    && kinds.contains(&wanted_kind)
                    && let Some(exe) = message["executable"].as_str()
                {
                    executable = Some(PathBuf::from(exe));
                    package_of_executable = message["package_id"].as_str().map(str::to_owned);
                }
            }
            Some("build-script-executed") => {
                let env = message["env"].as_array().cloned().unwrap_or_default();
                for pair in env {
                    if pair[0].as_str() == Some("PYTHON4R_MANAGED_ENVIRONMENT")
                        && let (Some(path), Some(package)) =
                            (pair[1].as_str(), message["package_id"].as_str())
                    {
                        environments.push((package.to_owned(), PathBuf::from(path)));
                    }
                }
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build failed ({status})"));
    }
    let executable = executable.ok_or_else(|| {
        format!(
            "cargo built no executable named `{}`; check the name (and --package in a \
             workspace)",
            options.target.name()
        )
    })?;
    let environment = environments
        .into_iter()
        .find(|(package, _)| Some(package) == package_of_executable.as_ref())
        .map(|(_, path)| path)
        .ok_or_else(|| {
            "the package that builds this executable declares no Python environment: add \
             `python4r_build::configure()` to its build.rs and the packages it imports to its \
             Cargo.toml under [package.metadata.python4r] dependencies = [...]"
                .to_owned()
        })?;
    Ok(Built {
        executable,
        environment,
    })
}
