//! `cargo python4r bundle`: builds a binary that embeds Python with python4r and writes a folder
//! that runs on a machine with no Python installed (see the `bundle` module and python4r's
//! README, "Python environments and bundles").

mod args;
mod build;
mod bundle;
mod python;
mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo python4r ...` runs `cargo-python4r python4r ...`.
    let args = match args.first().map(String::as_str) {
        Some("python4r") => &args[1..],
        _ => &args[..],
    };
    match args::parse(args).and_then(|command| match command {
        args::Command::Help => {
            print!("{}", args::USAGE);
            Ok(())
        }
        args::Command::Bundle(options) => bundle::run(&options),
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
