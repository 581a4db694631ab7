//! The checks of a body against its signature and `setup`: syntax, undefined names, outputs never
//! assigned, `&mut` parameters rebound (an error) and `setup` names rebound (a warning).
//!
//! Findings carry their message and a [`Place`]; the macro turns the place into a span.

use std::collections::BTreeSet;

use crate::names::{BUILTINS, is_builtin, suggest};
use crate::{Binding, BindingKind, Program};

/// One analysed piece of code and how messages name it.
pub struct Source<'a> {
    pub program: &'a Program,
    /// The code's text, for quoting a line of it.
    pub text: &'a str,
    /// How messages name it: "`code`", "`setup`" or "`src/score.py`".
    pub label: &'a str,
}

/// A parameter as Python sees it.
#[derive(Debug, Clone, Copy)]
pub struct Param<'a> {
    /// Its Python name.
    pub name: &'a str,
    /// `&mut`: Python changes the caller's value in place.
    pub writable: bool,
}

/// The function the body belongs to.
pub struct Signature<'a> {
    pub params: &'a [Param<'a>],
    /// The variables the function returns.
    pub outputs: &'a [&'a str],
    /// Whether `output = ...` names them (otherwise the output is the default `result`).
    pub outputs_named: bool,
    /// The `setup` names the body rebinds on purpose (`per_call = [...]`).
    pub per_call: &'a [&'a str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// What a finding points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Code,
    Setup,
    /// Output `i` (its name in `output`, or the code when the output is the default).
    Output(usize),
    /// Entry `i` of `per_call`.
    PerCall(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub place: Place,
    pub message: String,
}

impl Finding {
    fn error(place: Place, message: String) -> Finding {
        Finding {
            severity: Severity::Error,
            place,
            message,
        }
    }
}

/// The first syntax problem of the code, as a message. Only the first: after a syntax error the
/// parser's recovery guesses, and its further errors are usually consequences of the first.
pub fn syntax(source: &Source) -> Option<String> {
    let problem = source.program.problems.first()?;
    Some(format!(
        "Python syntax error in {} at line {}, column {}: {}",
        source.label, problem.line, problem.column, problem.message
    ))
}

/// Names `setup` reads that nothing defines. `setup` must have parsed.
pub fn setup(setup: &Source) -> Vec<Finding> {
    let program = setup.program;
    if program.dynamic.is_some() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let mut reported = BTreeSet::new();
    for read in &program.global_reads {
        if program.module_bound.contains(&read.name)
            || is_builtin(&read.name)
            || !reported.insert(read.name.as_str())
        {
            continue;
        }
        let candidates = program.module_bound.iter().map(String::as_str);
        findings.push(Finding::error(
            Place::Setup,
            undefined(read, candidates, setup.label),
        ));
    }
    findings
}

/// Checks the body against the signature and what `setup` defines. The body and `setup` must
/// have parsed.
pub fn body(code: &Source, setup: Option<&Program>, signature: &Signature) -> Vec<Finding> {
    let mut findings = Vec::new();
    let dynamic = code.program.dynamic.is_some() || setup.is_some_and(|s| s.dynamic.is_some());
    if !dynamic {
        names(code, setup, signature, &mut findings);
    }
    writable_rebound(code, signature, &mut findings);
    setup_rebound(code, setup, signature, &mut findings);
    findings
}

/// Undefined names, and outputs the code never assigns.
fn names(code: &Source, setup: Option<&Program>, signature: &Signature, out: &mut Vec<Finding>) {
    let program = code.program;
    let mut defined: BTreeSet<&str> = program.module_bound.iter().map(String::as_str).collect();
    defined.extend(signature.params.iter().map(|param| param.name));
    if let Some(setup) = setup {
        defined.extend(setup.module_bound.iter().map(String::as_str));
    }

    let mut reported = BTreeSet::new();
    for read in &program.global_reads {
        if defined.contains(read.name.as_str())
            || is_builtin(&read.name)
            || !reported.insert(read.name.as_str())
        {
            continue;
        }
        let candidates = defined
            .iter()
            .copied()
            .chain(program.all_bound.iter().map(String::as_str))
            .chain(BUILTINS.iter().copied().filter(|b| !b.starts_with('_')));
        out.push(Finding::error(
            Place::Code,
            undefined(read, candidates, code.label),
        ));
    }

    for (index, output) in signature.outputs.iter().enumerate() {
        if defined.contains(output) {
            continue;
        }
        let hint = if signature.outputs_named {
            format!("assign it (`{output} = ...`) or fix the name in `output`")
        } else {
            format!(
                "assign it (`{output} = ...`) or name the variable to return with `output = \"...\"`"
            )
        };
        out.push(Finding::error(
            Place::Output(index),
            format!("the code never assigns `{output}`, which the function returns; {hint}"),
        ));
    }
}

fn undefined<'a>(
    read: &crate::Read,
    candidates: impl IntoIterator<Item = &'a str>,
    label: &str,
) -> String {
    let mut message = format!("name `{}` is not defined", read.name);
    if let Some(suggestion) = suggest(&read.name, candidates) {
        message.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    message.push_str(&format!(
        " (line {}, column {} of {label}); names come from the parameters, `setup`, the code itself \
         and Python's builtins",
        read.line, read.column,
    ));
    message
}

/// A `&mut` parameter's name bound anew: Python's changes would go to the new object, and the
/// caller's value would stay as it was. `x += ...` stays allowed: it changes the object in place.
fn writable_rebound(code: &Source, signature: &Signature, out: &mut Vec<Finding>) {
    for param in signature.params.iter().filter(|param| param.writable) {
        let Some(binding) = code
            .program
            .module_bindings
            .iter()
            .find(|b| b.name == param.name && b.kind != BindingKind::Augmented)
        else {
            continue;
        };
        let name = param.name;
        out.push(Finding::error(
            Place::Code,
            format!(
                "{} rebinds `{name}`, a `&mut` parameter: the caller's value would not see the \
                 change; change it in place instead (`{name} *= 2`, `{name}[...] = {name} * 2` for \
                 an array, `{name}[:] = ...` for a list), or bind a new name \
                 (`flat = {name}.reshape(-1); flat *= 2`)",
                where_(code, binding)
            ),
        ));
    }
}

/// A `setup` name the body assigns or deletes: every call starts again from what `setup` left,
/// so the change is lost. Imports and definitions make the same value on every call: not lost.
fn setup_rebound(
    code: &Source,
    setup: Option<&Program>,
    signature: &Signature,
    out: &mut Vec<Finding>,
) {
    let Some(setup) = setup else {
        for index in 0..signature.per_call.len() {
            out.push(Finding::error(
                Place::PerCall(index),
                "`per_call` lists names that `setup` defines and the code rebinds, but there is \
                 no `setup`; remove `per_call`"
                    .to_owned(),
            ));
        }
        return;
    };
    let is_param = |name: &str| signature.params.iter().any(|param| param.name == name);
    let state_like = |binding: &&Binding| {
        matches!(
            binding.kind,
            BindingKind::Assignment | BindingKind::Augmented | BindingKind::Deletion
        )
    };
    let mut rebound: Vec<&Binding> = Vec::new();
    for binding in code.program.module_bindings.iter().filter(state_like) {
        if setup.module_bound.contains(&binding.name)
            && !is_param(&binding.name)
            && !rebound.iter().any(|b| b.name == binding.name)
        {
            rebound.push(binding);
        }
    }
    for binding in &rebound {
        let name = binding.name.as_str();
        if signature.per_call.contains(&name) {
            continue;
        }
        out.push(Finding {
            severity: Severity::Warning,
            place: Place::Code,
            message: format!(
                "{} rebinds `{name}`, which `setup` defined: each call starts again from what \
                 `setup` left, so the new value is lost when the call returns; to keep state, \
                 mutate an object that `setup` made (`state[\"{name}\"] += 1`) or return the \
                 value; if a fresh start on every call is what you mean, add \
                 `per_call = [\"{name}\"]` to `#[py_exec]`",
                where_(code, binding)
            ),
        });
    }
    for (index, name) in signature.per_call.iter().enumerate() {
        if rebound.iter().any(|b| b.name == *name) {
            continue;
        }
        let why = if setup.module_bound.contains(*name) || setup.dynamic.is_some() {
            "the code never assigns or deletes it at its top level".to_owned()
        } else {
            let candidates = rebound.iter().map(|b| b.name.as_str());
            match suggest(name, candidates) {
                Some(suggestion) => {
                    format!("`setup` does not define it (did you mean `{suggestion}`?)")
                }
                None => "`setup` does not define it".to_owned(),
            }
        };
        out.push(Finding::error(
            Place::PerCall(index),
            format!(
                "`per_call` lists `{name}`, but {why}; list only the `setup` names the code \
                 rebinds on purpose"
            ),
        ));
    }
}

/// "line 3 of `code` (`x = 1`)": where a binding is, quoting its line.
fn where_(code: &Source, binding: &Binding) -> String {
    const LONGEST: usize = 60;
    let line = code
        .text
        .lines()
        .nth(binding.line.saturating_sub(1))
        .unwrap_or_default()
        .trim();
    let quoted = if line.chars().count() > LONGEST {
        let cut: String = line.chars().take(LONGEST).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    };
    format!("line {} of {} (`{quoted}`)", binding.line, code.label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PythonVersion, analyze};

    fn findings(
        code: &str,
        setup: Option<&str>,
        params: &[Param],
        per_call: &[&str],
    ) -> Vec<Finding> {
        let program = analyze(code, PythonVersion::PY311);
        assert!(program.problems.is_empty(), "{:?}", program.problems);
        let setup = setup.map(|s| analyze(s, PythonVersion::PY311));
        let source = Source {
            program: &program,
            text: code,
            label: "`code`",
        };
        let signature = Signature {
            params,
            outputs: &[],
            outputs_named: false,
            per_call,
        };
        body(&source, setup.as_ref(), &signature)
    }

    const ARR: Param = Param {
        name: "arr",
        writable: true,
    };

    #[test]
    fn rebinding_a_writable_parameter_is_an_error() {
        for code in [
            "arr = arr * 2",
            "arr: object = arr * 2",
            "for arr in []:\n    pass",
            "with open('f') as arr:\n    pass",
            "del arr",
            "(arr := 1)",
            "import arr",
            "from m import arr",
            "def arr():\n    pass",
            "class arr:\n    pass",
            "def f():\n    global arr\n    arr = 1",
            "try:\n    pass\nexcept Exception as arr:\n    pass",
        ] {
            let found = findings(code, None, &[ARR], &[]);
            assert_eq!(found.len(), 1, "{code}: {found:?}");
            assert_eq!(found[0].severity, Severity::Error);
            assert!(
                found[0].message.contains("`arr`, a `&mut` parameter"),
                "{found:?}"
            );
            assert!(found[0].message.starts_with("line "), "{found:?}");
        }
    }

    #[test]
    fn writing_through_a_writable_parameter_is_fine() {
        for code in [
            "arr *= 2",
            "arr += 1",
            "arr[...] = arr * 2",
            "flat = arr.reshape(-1)\nflat *= 2",
            "def f():\n    arr = 1",
            "class A:\n    arr = 1",
            "r = [arr for arr in range(3)]",
        ] {
            assert_eq!(findings(code, None, &[ARR], &[]), [], "{code}");
        }
        let read_only = Param {
            name: "arr",
            writable: false,
        };
        assert_eq!(findings("arr = arr * 2", None, &[read_only], &[]), []);
    }

    #[test]
    fn the_message_quotes_the_line() {
        let found = findings("x = 1\n\narr   =  arr * 2  \n", None, &[ARR], &[]);
        assert!(
            found[0]
                .message
                .starts_with("line 3 of `code` (`arr   =  arr * 2`) rebinds `arr`"),
            "{found:?}"
        );
    }

    #[test]
    fn rebinding_a_setup_name_warns() {
        for code in [
            "calls += 1",
            "calls = 5",
            "del calls",
            "def bump():\n    global calls\n    calls = calls + 1\nbump()",
        ] {
            let found = findings(code, Some("calls = 0"), &[], &[]);
            assert_eq!(found.len(), 1, "{code}: {found:?}");
            assert_eq!(found[0].severity, Severity::Warning);
            assert!(
                found[0]
                    .message
                    .contains("rebinds `calls`, which `setup` defined")
            );
            assert!(found[0].message.contains("per_call = [\"calls\"]"));
        }
        let found = findings("calls += 1\ncalls += 1", Some("calls = 0"), &[], &[]);
        assert_eq!(found.len(), 1, "one warning per name: {found:?}");
    }

    #[test]
    fn imports_definitions_mutation_and_opt_outs_do_not_warn() {
        let setup = Some("import math\ncalls = 0\nseen = []\ndef f():\n    pass");
        for code in [
            "import math",
            "def f():\n    pass",
            "seen.append(1)",
            "x = calls + 1",
        ] {
            assert_eq!(findings(code, setup, &[], &[]), [], "{code}");
        }
        assert_eq!(findings("calls += 1", setup, &[], &["calls"]), []);
        let param = Param {
            name: "calls",
            writable: false,
        };
        assert_eq!(findings("calls += 1", setup, &[param], &[]), []);
    }

    #[test]
    fn per_call_entries_must_be_rebound_setup_names() {
        let found = findings("calls += 1", Some("calls = 0"), &[], &["cals"]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[1].place, Place::PerCall(0));
        assert_eq!(
            found[1].message,
            "`per_call` lists `cals`, but `setup` does not define it (did you mean `calls`?); list \
             only the `setup` names the code rebinds on purpose"
        );
        let found = findings("x = calls", Some("calls = 0"), &[], &["calls"]);
        assert!(found[0].message.contains("never assigns or deletes it"));
        let found = findings("calls = 1", None, &[], &["calls"]);
        assert!(found[0].message.contains("there is no `setup`"));
    }
}
