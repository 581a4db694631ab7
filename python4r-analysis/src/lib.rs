//! The compile-time reading of Python code behind python4r's `#[py_exec]`: syntax errors, the
//! names code binds and reads, and whether it can run as a function.
//!
//! A crate of its own (as pyo3's macro backend is) so that it can be tested and fuzzed without
//! the proc-macro machinery; it has no stable API. [`analyze`] reads one piece of code into a
//! [`Program`]; [`check`] compares a body with its signature and `setup`; [`frame::choose`]
//! decides how the body runs.
//!
//! The analysis is flow-insensitive on purpose: a name counts as bound in a scope if *any*
//! statement of that scope binds it, so the name check never rejects code that could run. It
//! resolves reads the way CPython's symbol table does (the `scope` module). It never panics nor
//! overflows the stack, whatever text it is given (see [`analyze`]; the `fuzz/` crate checks it).

pub mod check;
pub mod frame;
pub mod names;
mod scope;
mod walk;

#[cfg(test)]
mod corpus_tests;

use std::collections::BTreeSet;

pub use ruff_python_ast::PythonVersion;
use ruff_python_ast::Stmt;
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::TextRange;

use crate::walk::Collector;

/// Text put before indented code so it parses as the body of a block, leaving every line and column
/// of the user's text unchanged except for one line of offset.
pub const INDENT_PREFIX: &str = "if True:\n";

/// A problem in the Python text, located inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// 1-based line inside the text.
    pub line: usize,
    /// 1-based column (in characters) inside the text.
    pub column: usize,
}

/// A name the code reads, and where it reads it.
#[derive(Debug, Clone)]
pub struct Read {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// A binding of a name in the module namespace: at the body's top level, or in a nested scope
/// through `global`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub line: usize,
    pub column: usize,
    pub kind: BindingKind,
}

/// How a statement binds a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingKind {
    /// `x = ...`, `x: T = ...`, `for x in`, `with ... as x`, `x := ...`, `except ... as x`, a
    /// `match` capture.
    Assignment,
    /// `x += ...`: a mutable object changes in place (and the name is bound to it again).
    Augmented,
    /// `del x`.
    Deletion,
    /// `import x`, `from m import x`.
    Import,
    /// `def x`, `class x`, `type x = ...`.
    Definition,
}

/// Everything the macro needs to know about one piece of Python code.
#[derive(Debug, Default)]
pub struct Program {
    /// Names the code binds in the module namespace, in any way.
    pub module_bound: BTreeSet<String>,
    /// Every binding in the module namespace, in the order of the text.
    pub module_bindings: Vec<Binding>,
    /// Every name bound anywhere (any scope), for "did you mean" suggestions.
    pub all_bound: BTreeSet<String>,
    /// Module-level reads, and reads in nested scopes that resolve to the module namespace.
    pub global_reads: Vec<Read>,
    /// Why names cannot be known at compile time (star import, `exec`, ...), if they cannot.
    pub dynamic: Option<&'static str>,
    /// Errors Python would raise when compiling the code as a module.
    pub problems: Vec<Problem>,
    /// The first construct that only module code runs as written (see [`frame`]).
    pub(crate) module_only: Option<&'static str>,
    /// Module names some read may reach before they are bound (see [`frame`]).
    pub(crate) maybe_unbound: BTreeSet<String>,
}

/// Whether the text starts (at its first line with code) with indentation.
pub fn is_indented(text: &str) -> bool {
    text.lines()
        .find(|line| {
            let trimmed = line.trim_start();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .is_some_and(|line| line.starts_with([' ', '\t', '\x0c']))
}

/// Messages of problems that are python4r's fault, not the code's, start with this.
pub const INTERNAL_ERROR: &str = "python4r's Python analysis failed on this code";

/// Parses `text` as module code for Python `version` and analyses its names.
///
/// It never panics and never overflows the stack, whatever the text: the parser's recursion is
/// bounded by the text's length, so a long text is parsed on a thread whose stack grows with the
/// length; the walk over the tree grows its stack as it needs (`stacker`); a panic of the parser
/// becomes a [`Problem`] whose message starts with [`INTERNAL_ERROR`].
pub fn analyze(text: &str, version: PythonVersion) -> Program {
    // The parser's offsets are `u32`.
    if text.len() > u32::MAX as usize - INDENT_PREFIX.len() {
        return Program::with_problem(
            "the code is longer than 4 GiB, the most the Python parser reads; split it".to_owned(),
        );
    }
    match with_stack_for(text, || analyze_here(text, version)) {
        Ok(program) => program,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Program::with_problem(format!(
                "{INTERNAL_ERROR} (please report it to python4r with the code): {message}"
            ))
        }
    }
}

impl Program {
    fn with_problem(message: String) -> Program {
        Program {
            problems: vec![Problem {
                message,
                line: 1,
                column: 1,
            }],
            ..Program::default()
        }
    }
}

/// Runs `run` where the stack fits the parser's recursion over `text` (measured at under 300
/// bytes per nesting level, with at most one level per byte, in an unoptimised build such as a
/// proc macro's): here if enough is left, else on a thread with that much; and returns what it
/// returned or how it panicked.
fn with_stack_for<T: Send>(text: &str, run: impl FnOnce() -> T + Send) -> std::thread::Result<T> {
    const PER_BYTE: usize = 512;
    const MARGIN: usize = 1 << 20;
    let needed = text.len().saturating_mul(PER_BYTE).saturating_add(MARGIN);
    if stacker::remaining_stack().is_some_and(|left| left >= needed) {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    }
    let run = std::sync::Mutex::new(Some(run));
    let take = || run.lock().ok().and_then(|mut run| run.take());
    let spawned = std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("python4r-analysis".to_owned())
            .stack_size(needed)
            .spawn_scoped(scope, || take().map(|run| run()));
        thread.ok().map(|thread| thread.join())
    });
    match spawned {
        Some(Ok(Some(value))) => Ok(value),
        Some(Err(panic)) => Err(panic),
        // No thread could be made: the closure is still here (a text this long is anyway more
        // than a `#[py_exec]` body).
        _ => match take() {
            Some(run) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)),
            None => unreachable!("the thread ran the analysis or did not start"),
        },
    }
}

fn analyze_here(text: &str, version: PythonVersion) -> Program {
    let indented = is_indented(text);
    let (source, offset) = if indented {
        (format!("{INDENT_PREFIX}{text}"), INDENT_PREFIX.len())
    } else {
        (text.to_owned(), 0)
    };
    let lines = Lines::of(text);
    let locate = |range: TextRange| -> (usize, usize) {
        lines.locate(usize::from(range.start()).saturating_sub(offset))
    };
    let problem = |message: String, range: TextRange| {
        let (line, column) = locate(range);
        Problem {
            message,
            line,
            column,
        }
    };

    let options = ParseOptions::from(Mode::Module).with_target_version(version);
    let parsed = ruff_python_parser::parse_unchecked(&source, options);
    let mut program = Program::default();
    for error in parsed.errors() {
        program
            .problems
            .push(problem(error.error.to_string(), error.location));
    }
    for error in parsed.unsupported_syntax_errors() {
        program
            .problems
            .push(problem(error.to_string(), error.range));
    }
    if !program.problems.is_empty() {
        return program;
    }
    let Some(module) = parsed.syntax().as_module() else {
        return program;
    };
    let mut body: &[Stmt] = &module.body;
    if indented && let Some(Stmt::If(block)) = body.first() {
        body = &block.body;
    }

    let mut collector = Collector::new();
    ruff_python_ast::visitor::Visitor::visit_body(&mut collector, body);
    let scopes = &collector.scopes;

    for (message, range) in &collector.errors {
        program.problems.push(problem(message.clone(), *range));
    }
    for (index, scope) in scopes.iter() {
        for (name, range) in &scope.nonlocals {
            if !scopes.nonlocal_has_binding(name, index) {
                let message = format!(
                    "no binding for nonlocal `{name}` found: module-level names are reached with `global`, not `nonlocal`"
                );
                program.problems.push(problem(message, *range));
            }
        }
    }
    program.module_bound = scopes.module().bound.iter().cloned().collect();
    program.module_bindings = collector
        .module_bindings
        .iter()
        .map(|binding| {
            let (line, column) = locate(binding.range);
            Binding {
                name: binding.name.clone(),
                line,
                column,
                kind: binding.kind,
            }
        })
        .collect();
    program
        .module_bindings
        .sort_by_key(|binding| (binding.line, binding.column));
    program.all_bound = scopes
        .iter()
        .flat_map(|(_, scope)| scope.bound.iter().cloned())
        .collect();
    program.global_reads = scopes
        .module_reads()
        .map(|(name, range)| {
            let (line, column) = locate(range);
            Read {
                name: name.to_owned(),
                line,
                column,
            }
        })
        .collect();
    program
        .global_reads
        .sort_by_key(|read| (read.line, read.column));
    program.dynamic = collector.dynamic;
    program.module_only = frame::module_only(body, &collector);
    program.maybe_unbound = frame::maybe_unbound(body, scopes);
    program
}

/// 1-based line and character column of byte offset `at` in `text` (an offset past the end or
/// inside a character counts as the nearest character start before it).
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    Lines::of(text).locate(at)
}

/// Where each line of a text starts, so that locating many places costs one pass over the text.
struct Lines<'a> {
    text: &'a str,
    /// Byte offset of each line's first character.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn of(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// See [`line_column`].
    fn locate(&self, at: usize) -> (usize, usize) {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|start| *start <= at);
        let start = self.starts[line - 1];
        (line, self.text[start..at].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::is_builtin;

    fn v() -> PythonVersion {
        PythonVersion::PY311
    }

    fn unresolved(code: &str, known: &[&str]) -> Vec<String> {
        let program = analyze(code, v());
        assert!(program.problems.is_empty(), "{:?}", program.problems);
        program
            .global_reads
            .iter()
            .filter(|read| {
                !program.module_bound.contains(&read.name)
                    && !known.contains(&read.name.as_str())
                    && !is_builtin(&read.name)
            })
            .map(|read| read.name.clone())
            .collect()
    }

    #[test]
    fn indentation_is_detected() {
        assert!(is_indented("\n    x = 1\n    y = 2\n"));
        assert!(is_indented("# c\n  x = 1"));
        assert!(!is_indented("x = 1\n"));
    }

    #[test]
    fn indented_code_keeps_lines() {
        let program = analyze("\n    x = 1\n    y = z\n", v());
        assert!(program.problems.is_empty());
        assert_eq!(program.global_reads[0].name, "z");
        assert_eq!(program.global_reads[0].line, 3);
        assert_eq!(program.global_reads[0].column, 9);
    }

    #[test]
    fn syntax_errors_are_located() {
        let program = analyze("x = 1\ny = )\n", v());
        assert_eq!(program.problems[0].line, 2);
    }

    #[test]
    fn new_syntax_is_judged_by_version() {
        let program = analyze("type X = int\n", PythonVersion::PY311);
        assert!(!program.problems.is_empty());
        let program = analyze("type X = int\n", PythonVersion::PY312);
        assert!(program.problems.is_empty());
    }

    #[test]
    fn top_level_return_and_yield_are_errors() {
        assert!(!analyze("return 1", v()).problems.is_empty());
        assert!(!analyze("x = yield", v()).problems.is_empty());
        assert!(!analyze("class A:\n    return 1", v()).problems.is_empty());
        assert!(
            analyze("def f():\n    yield 1\n    return 2", v())
                .problems
                .is_empty()
        );
        assert!(analyze("f = lambda: (yield)", v()).problems.is_empty());
    }

    #[test]
    fn nonlocal_needs_an_enclosing_function() {
        assert!(
            !analyze("x = 1\ndef f():\n    nonlocal x\n", v())
                .problems
                .is_empty()
        );
        let ok = "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2\n";
        assert!(analyze(ok, v()).problems.is_empty());
    }

    #[test]
    fn scoping_constructs_bind() {
        let code = r#"
import os.path
import numpy as np
from math import sqrt as root, pi
a = b = 1
c, (d, *e) = 1, (2, 3)
f += 1
g: int = 2
for h in []: pass
with open("x") as i, open("y") as (j, k): pass
try: pass
except Exception as l: pass
def m(): pass
class n: pass
(o := 1)
[p := q for q in []]
match 1:
    case [r, *s]: pass
    case {"k": t, **u}: pass
    case v if v: pass
def w():
    global x
    x = 1
del y
"#;
        let program = analyze(code, v());
        assert!(program.problems.is_empty(), "{:?}", program.problems);
        for name in [
            "os", "np", "root", "pi", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
            "m", "n", "o", "p", "r", "s", "t", "u", "v", "w", "x", "y",
        ] {
            assert!(program.module_bound.contains(name), "{name} not bound");
        }
        assert!(!program.module_bound.contains("q"));
        assert!(!program.module_bound.contains("sqrt"));
    }

    #[test]
    fn annotation_without_value_does_not_bind() {
        assert!(!analyze("x: int\n", v()).module_bound.contains("x"));
    }

    #[test]
    fn reads_resolve_through_scopes() {
        assert_eq!(unresolved("y = x + 1", &[]), ["x"]);
        assert!(unresolved("y = x + 1", &["x"]).is_empty());
        assert!(unresolved("def f(a):\n    return a + b\nb = 1\n", &[]).is_empty());
        assert!(
            unresolved("def f():\n    a = 1\n    def g():\n        return a\n", &[]).is_empty()
        );
        assert!(unresolved("r = [i * j for i in range(3) for j in range(i)]", &[]).is_empty());
        assert!(unresolved("class A:\n    xs = [1]\n    ys = [y for y in xs]\n", &[]).is_empty());
        assert_eq!(
            unresolved(
                "class A:\n    k = 1\n    def f(self):\n        return k\n",
                &[]
            ),
            ["k"]
        );
        assert!(unresolved("class A:\n    k = 1\n    z = k + 1\n", &[]).is_empty());
        assert!(unresolved("f = lambda a, *b, c=1, **d: a + b + c + d", &[]).is_empty());
        assert!(
            unresolved(
                "class A:\n    def f(self):\n        return __class__\n",
                &[]
            )
            .is_empty()
        );
        assert!(unresolved("x: Undefined = 1\n", &[]).is_empty());
    }

    #[test]
    fn dynamic_code_switches_the_check_off() {
        assert!(analyze("from os import *", v()).dynamic.is_some());
        assert!(analyze("exec('x = 1')", v()).dynamic.is_some());
        assert!(analyze("g = globals()", v()).dynamic.is_some());
        assert!(analyze("import builtins", v()).dynamic.is_some());
        assert!(analyze("x = 1", v()).dynamic.is_none());
    }

    /// Found while fuzzing's corpus grew (the fuzzer's inputs are too short to reach it): code
    /// nested thousands of levels deep overflowed the stack, first in the walk (about 1.6 KiB per
    /// level unoptimised: 5,000 levels on 8 MiB), then in the parser (100,000 levels). Test
    /// threads have 2 MiB of stack: each of these overflowed them.
    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let n = 20_000;
        for code in [
            format!("x = 1{}", "+1".repeat(n)),
            format!("x = {}1{}", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1", "-".repeat(n)),
            format!("x = {}1", "not ".repeat(n)),
            format!("x = {}1", "lambda: ".repeat(n)),
            format!("x = f{}", "(1)".repeat(n)),
            format!("{}b{} = 1", "(a, ".repeat(n), ")".repeat(n)),
        ] {
            let program = analyze(&code, v());
            assert!(program.problems.is_empty(), "{:?}", program.problems);
        }
    }

    #[test]
    fn a_panic_of_the_parser_comes_back_as_a_value() {
        // A short text runs here; a long one (4 MiB of stack and more) on a thread of its own.
        for text in [String::new(), "x".repeat(8 << 10)] {
            let panic = with_stack_for(&text, || panic!("parser bug")).expect_err("a panic");
            assert_eq!(panic.downcast_ref::<&str>(), Some(&"parser bug"));
            assert_eq!(with_stack_for(&text, || 7).ok(), Some(7));
        }
    }

    #[test]
    fn places_are_found_on_their_lines() {
        let text = "ab\n\nné x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 4), (3, 1));
        assert_eq!(line_column(text, 7), (3, 3), "columns count characters");
        assert_eq!(
            line_column(text, 6),
            (3, 2),
            "inside a character: its start"
        );
        assert_eq!(line_column(text, 99), (4, 1), "past the end: the end");
    }

    #[test]
    fn module_bindings_are_located_and_kinded() {
        let program = analyze(
            "import os\nx = 1\nx += 2\ndel x\ndef f():\n    global y\n    y = 3\n",
            v(),
        );
        let found: Vec<(&str, usize, BindingKind)> = program
            .module_bindings
            .iter()
            .map(|b| (b.name.as_str(), b.line, b.kind))
            .collect();
        assert_eq!(
            found,
            [
                ("os", 1, BindingKind::Import),
                ("x", 2, BindingKind::Assignment),
                ("x", 3, BindingKind::Augmented),
                ("x", 4, BindingKind::Deletion),
                ("f", 5, BindingKind::Definition),
                ("y", 7, BindingKind::Assignment),
            ]
        );
    }
}
