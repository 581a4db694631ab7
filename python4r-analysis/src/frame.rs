//! Whether a body runs as a Python function or as module code: the one place that decides.
//!
//! A function is the fast path (locals in slots, no namespace copy per call), and it behaves
//! exactly like module code run in a fresh namespace unless the code observes the difference:
//! `global`, `exec`/`locals()`, star imports, module-level annotations, docstrings and `del`, a
//! name read where it may be unbound (a function raises `UnboundLocalError` where module code
//! raises `NameError`), or a rebound builtin or `setup` name (a function would make it local
//! everywhere in the body, including reads before the rebinding).

use std::collections::{BTreeSet, HashMap};

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use crate::Program;
use crate::names::is_builtin;
use crate::scope::Scopes;
use crate::walk::Collector;

/// How a body runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// As a Python function of the inputs, returning the outputs.
    Function,
    /// As module code in a fresh copy of the namespace, for the reason given.
    Module(&'static str),
}

/// Chooses the frame of `code`, given the Python names of the inputs and what `setup` defines.
pub fn choose(code: &Program, setup: Option<&Program>, inputs: &[&str]) -> Frame {
    if let Some(why) = code.module_only {
        return Frame::Module(why);
    }
    if code
        .maybe_unbound
        .iter()
        .any(|name| !inputs.contains(&name.as_str()))
    {
        return Frame::Module("a name may be read before it is bound");
    }
    if setup.is_some_and(|setup| setup.dynamic.is_some()) {
        return Frame::Module("`setup` defines names at run time");
    }
    if code.module_bound.iter().any(|name| is_builtin(name)) {
        return Frame::Module("it rebinds a builtin");
    }
    if let Some(setup) = setup
        && code
            .module_bound
            .iter()
            .any(|name| setup.module_bound.contains(name))
    {
        return Frame::Module("it rebinds a name `setup` defined");
    }
    Frame::Function
}

/// The first construct of the code that only module code runs as written, if any.
pub(crate) fn module_only(body: &[Stmt], collector: &Collector) -> Option<&'static str> {
    if except_name_escapes(collector) {
        return Some("it reads an `except ... as` name outside its handler");
    }
    if let Some(why) = collector.module_only {
        return Some(why);
    }
    if let Some(Stmt::Expr(first)) = body.first()
        && first.value.is_string_literal_expr()
    {
        return Some("a module docstring sets `__doc__`");
    }
    None
}

/// Whether a read of an `except E as e` name may happen outside its handler: Python deletes `e`
/// after the handler, and a read elsewhere that finds it unbound fails differently in a function.
fn except_name_escapes(collector: &Collector) -> bool {
    let scopes = &collector.scopes;
    scopes.iter().any(|(index, scope)| {
        scope.reads.iter().any(|(name, range)| {
            let mut handlers = collector
                .except_names
                .iter()
                .filter(|(n, _)| n == name)
                .peekable();
            if handlers.peek().is_none() || scopes.resolves_locally(name, index) {
                return false;
            }
            let inside = index == Scopes::MODULE
                && handlers.any(|(_, handler)| handler.contains_range(*range));
            !inside
        })
    })
}

/// Names the code binds at module level that some read may reach before they are bound: a read
/// before the first top-level statement that binds the name whatever happens, or with no such
/// statement. Unless each is an input, the code runs as module code.
pub(crate) fn maybe_unbound(body: &[Stmt], scopes: &Scopes) -> BTreeSet<String> {
    let mut bound_by: HashMap<&str, TextSize> = HashMap::new();
    for stmt in body {
        for name in unconditional_bindings(stmt) {
            bound_by.entry(name).or_insert(stmt.range().end());
        }
    }
    let module_bound = &scopes.module().bound;
    scopes
        .module_reads()
        .filter(|(name, _)| module_bound.contains(*name))
        .filter(|(name, range)| bound_by.get(*name).is_none_or(|end| range.start() < *end))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// The names a top-level statement binds whenever it completes: assignment targets, `def` and
/// `class` names, imports, `with ... as` targets. Bindings inside compound statements (`if`,
/// loops, `try`, a `with` body a context manager may cut short) and walrus targets are not
/// counted.
fn unconditional_bindings(stmt: &Stmt) -> Vec<&str> {
    fn targets<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) {
        stacker::maybe_grow(64 * 1024, 1 << 20, || match expr {
            Expr::Name(name) => out.push(name.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| targets(e, out)),
            Expr::List(l) => l.elts.iter().for_each(|e| targets(e, out)),
            Expr::Starred(s) => targets(&s.value, out),
            _ => {}
        });
    }
    let mut out = Vec::new();
    match stmt {
        Stmt::Assign(assign) => assign.targets.iter().for_each(|t| targets(t, &mut out)),
        Stmt::AugAssign(assign) => targets(&assign.target, &mut out),
        Stmt::AnnAssign(assign) if assign.value.is_some() => targets(&assign.target, &mut out),
        Stmt::FunctionDef(def) => out.push(def.name.as_str()),
        Stmt::ClassDef(class) => out.push(class.name.as_str()),
        Stmt::Import(import) => {
            for alias in &import.names {
                out.push(match &alias.asname {
                    Some(asname) => asname.as_str(),
                    None => alias.name.as_str().split('.').next().unwrap_or_default(),
                });
            }
        }
        Stmt::ImportFrom(import) => {
            for alias in &import.names {
                out.push(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
            }
        }
        Stmt::With(with) => {
            for item in &with.items {
                if let Some(vars) = &item.optional_vars {
                    targets(vars, &mut out);
                }
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PythonVersion, analyze};

    fn frame(code: &str, setup: Option<&str>, inputs: &[&str]) -> Frame {
        let code = analyze(code, PythonVersion::PY311);
        let setup = setup.map(|s| analyze(s, PythonVersion::PY311));
        choose(&code, setup.as_ref(), inputs)
    }

    #[test]
    fn a_function_where_it_behaves_the_same() {
        assert_eq!(frame("x = 1", None, &[]), Frame::Function);
        assert_eq!(
            frame("x = 1\ndef f():\n    return x\nr = f()", None, &[]),
            Frame::Function
        );
        assert_eq!(frame("x = a + 1", Some("a = 1"), &[]), Frame::Function);
        assert_eq!(
            frame("if c:\n    x = 1\nr = x", None, &["x"]),
            Frame::Function
        );
    }

    #[test]
    fn module_code_where_a_function_differs() {
        for code in [
            "global x\nx = 1",
            "def f():\n    global x\n    x = 1",
            "from os import *",
            "x = locals()",
            "exec('y = 1')",
            "x: int = 1",
            "from __future__ import annotations",
            "'''doc'''\nx = __doc__",
            "x = 1\ndel x",
            "try:\n    pass\nexcept E as e:\n    pass\nprint(e)",
            "if c:\n    x = 1\nr = x",
            "len = 3",
        ] {
            assert!(matches!(frame(code, None, &[]), Frame::Module(_)), "{code}");
        }
        assert!(matches!(
            frame("a = 2", Some("a = 1"), &[]),
            Frame::Module(_)
        ));
        assert!(matches!(
            frame("x = 1", Some("from os import *"), &[]),
            Frame::Module(_)
        ));
    }

    #[test]
    fn except_names_read_inside_their_handler_are_no_module_construct() {
        let inside = "try:\n    pass\nexcept E as e:\n    print(e)\n";
        assert_eq!(analyze(inside, PythonVersion::PY311).module_only, None);
        let outside = "try:\n    pass\nexcept E as e:\n    pass\nprint(e)\n";
        assert!(analyze(outside, PythonVersion::PY311).module_only.is_some());
    }

    #[test]
    fn names_read_before_a_sure_binding_are_maybe_unbound() {
        let unbound = |code: &str| {
            analyze(code, PythonVersion::PY311)
                .maybe_unbound
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert!(unbound("x = 1\ny = x + 1").is_empty());
        assert!(unbound("import math\nr = math.pi").is_empty());
        assert!(unbound("x = 1\ndef f():\n    return x\nr = f()").is_empty());
        assert!(unbound("a, (b, *c) = 1, (2, 3)\nr = a + b").is_empty());
        assert!(unbound("with open('f') as fh:\n    pass\nr = fh").is_empty());
        assert!(unbound("r = [i for i in range(3)]").is_empty());
        assert_eq!(unbound("if c:\n    x = 1\nr = x"), ["x"]);
        assert_eq!(unbound("for i in []:\n    pass\nr = i"), ["i"]);
        assert_eq!(
            unbound("try:\n    x = f()\nexcept E:\n    pass\nr = x"),
            ["x"]
        );
        assert_eq!(unbound("def f():\n    return x\nr = f()\nx = 1"), ["x"]);
        assert_eq!(unbound("x += 1"), ["x"]);
        assert_eq!(unbound("r = (y := 1) and y"), ["y"]);
    }
}
