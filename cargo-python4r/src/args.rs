//! The command line: `cargo python4r bundle --bin NAME | --example NAME [options]`.

use std::path::PathBuf;

/// The help text.
pub(crate) const USAGE: &str = "\
cargo python4r bundle: a folder holding a python4r program, its libpython, the standard
library and its managed environment's packages, that runs without an installed Python.

Usage: cargo python4r bundle (--bin NAME | --example NAME) [options]

Options:
  --bin NAME            the binary to bundle
  --example NAME        the example to bundle
  -p, --package SPEC    the package that has it (in a workspace)
  --release             build with the release profile
  --out DIR             where to write the bundle (default: target/python4r-bundle/NAME)
  --strip               strip libpython and the standard library's extension modules
  --zip-stdlib          put the pure-Python standard library in python3X.zip
  --no-tests            leave out the test folders of the installed packages
  -h, --help            this text
";

/// What to bundle and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) target: Target,
    pub(crate) package: Option<String>,
    pub(crate) release: bool,
    pub(crate) out: Option<PathBuf>,
    pub(crate) strip: bool,
    pub(crate) zip_stdlib: bool,
    pub(crate) no_tests: bool,
}

/// The executable target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Target {
    #[default]
    None,
    Bin(String),
    Example(String),
}

impl Target {
    pub(crate) fn name(&self) -> &str {
        match self {
            Target::Bin(n) | Target::Example(n) => n,
            Target::None => "",
        }
    }
}

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Bundle(Options),
}

/// Parses the arguments after `cargo python4r`.
pub(crate) fn parse(args: &[String]) -> Result<Command, String> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some("bundle") => {}
        Some(other) => {
            return Err(format!(
                "unknown command `{other}`; the command is `cargo python4r bundle` (see --help)"
            ));
        }
    }
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("`{name}` needs a value (see --help)"))
        };
        match arg.as_str() {
            "--bin" | "--example" if options.target != Target::None => {
                return Err("give one of `--bin NAME` or `--example NAME`, once".to_owned());
            }
            "--bin" => options.target = Target::Bin(value("--bin")?),
            "--example" => options.target = Target::Example(value("--example")?),
            "-p" | "--package" => options.package = Some(value("--package")?),
            "--release" => options.release = true,
            "--out" => options.out = Some(PathBuf::from(value("--out")?)),
            "--strip" => options.strip = true,
            "--zip-stdlib" => options.zip_stdlib = true,
            "--no-tests" => options.no_tests = true,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    if options.target == Target::None {
        return Err("say what to bundle: `--bin NAME` or `--example NAME`".to_owned());
    }
    Ok(Command::Bundle(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_the_bundle_options() {
        let Command::Bundle(o) =
            parse_strs(&["bundle", "--example", "quickstart", "--release", "--strip"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.target, Target::Example("quickstart".into()));
        assert!(o.release && o.strip && !o.zip_stdlib);
        assert!(parse_strs(&["bundle"]).unwrap_err().contains("--bin NAME"));
        assert!(
            parse_strs(&["bundle", "--bin"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(parse_strs(&["bundle", "--bin", "a", "--example", "b"]).is_err());
        assert!(
            parse_strs(&["bundel"])
                .unwrap_err()
                .contains("unknown command")
        );
        assert_eq!(parse_strs(&[]).unwrap(), Command::Help);
    }
}
