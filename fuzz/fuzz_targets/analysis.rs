//! Fuzz target: any text, as a `#[py_exec]` body (and optional `setup`), through everything the
//! macro asks of the analysis. It must never panic, and never report an internal error (the
//! analysis turns a parser panic into one, so that the macro itself never panics).
//!
//! Input: the body, then optionally a NUL byte and the `setup` code. The Python version syntax is
//! judged against comes from the input's length, so every supported version gets exercised.

#![no_main]

use libfuzzer_sys::fuzz_target;
use python4r_analysis::check::{self, Param, Signature, Source};
use python4r_analysis::{INTERNAL_ERROR, Program, PythonVersion, frame, is_indented, line_column};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (code, setup) = match text.split_once('\0') {
        Some((code, setup)) => (code, Some(setup)),
        None => (text, None),
    };
    let version = PythonVersion {
        major: 3,
        minor: 9 + (data.len() % 7) as u8,
    };
    run(code, setup, version);
});

fn analyze(text: &str, version: PythonVersion) -> Program {
    let program = python4r_analysis::analyze(text, version);
    for problem in &program.problems {
        assert!(!problem.message.starts_with(INTERNAL_ERROR), "{problem:?}");
    }
    program
}

fn run(code: &str, setup: Option<&str>, version: PythonVersion) {
    let _ = is_indented(code);
    let _ = line_column(code, code.len() / 2);
    let program = analyze(code, version);
    let source = Source {
        program: &program,
        text: code,
        label: "`code`",
    };
    let _ = check::syntax(&source);
    let setup_program = setup.map(|setup| analyze(setup, version));
    let setup_source = setup
        .zip(setup_program.as_ref())
        .map(|(text, program)| Source {
            program,
            text,
            label: "`setup`",
        });
    if let Some(setup) = &setup_source {
        let _ = check::syntax(setup);
        if setup.program.problems.is_empty() {
            let _ = check::setup(setup);
        }
    }
    if !program.problems.is_empty()
        || setup_program
            .as_ref()
            .is_some_and(|s| !s.problems.is_empty())
    {
        return;
    }

    // A signature made of the names the code uses: some read names become (writable) inputs,
    // the first names bound become outputs and `per_call` entries.
    let params: Vec<Param> = program
        .global_reads
        .iter()
        .take(4)
        .enumerate()
        .map(|(index, read)| Param {
            name: &read.name,
            writable: index % 2 == 1,
        })
        .collect();
    let mut outputs: Vec<&str> = vec!["result"];
    outputs.extend(program.module_bound.iter().take(2).map(String::as_str));
    let per_call: Vec<&str> = setup_program
        .iter()
        .flat_map(|s| s.module_bound.iter().take(1).map(String::as_str))
        .chain(
            program
                .module_bindings
                .iter()
                .take(1)
                .map(|b| b.name.as_str()),
        )
        .collect();
    let signature = Signature {
        params: &params,
        outputs: &outputs,
        outputs_named: outputs.len() > 1,
        per_call: &per_call,
    };
    for finding in check::body(&source, setup_program.as_ref(), &signature) {
        assert!(!finding.message.is_empty());
    }
    let inputs: Vec<&str> = params.iter().map(|p| p.name).collect();
    let _ = frame::choose(&program, setup_program.as_ref(), &inputs);
}
