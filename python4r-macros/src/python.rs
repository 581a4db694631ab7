//! Compile-time reading of Python code: syntax errors, bound and read names, and execution mode.
//!
//! The analysis is flow-insensitive on purpose: a name counts as bound in a scope if *any* statement
//! of that scope binds it, so the name check never rejects code that could run. It resolves reads the
//! way CPython's symbol table does: function scopes see enclosing function scopes, class scopes are
//! skipped by nested scopes, comprehensions are scopes of their own whose first iterable is evaluated
//! outside.

use std::collections::{BTreeSet, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as past, Expr, ExprContext, Parameters, Pattern, PythonVersion, Stmt, TypeParam,
    TypeParams,
};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextRange};

/// Text put before indented code so it parses as the body of a block, leaving every line and column
/// of the user's text unchanged except for one line of offset.
pub const INDENT_PREFIX: &str = "if True:\n";

/// Names every module sees without defining them (`dir(builtins)` of CPython 3.11 to 3.14).
pub const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "PythonFinalizationError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "_IncompleteInputError",
    "__build_class__",
    "__debug__",
    "__doc__",
    "__import__",
    "__loader__",
    "__name__",
    "__package__",
    "__spec__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Names the runtime namespace or the class machinery provides in addition to the builtins.
const IMPLICIT: &[&str] = &["__builtins__", "__class__", "__module__", "__qualname__"];

/// Python's keywords and constants: none of them can name a variable.
pub const KEYWORDS: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "__debug__",
];

/// Calls that read or write a namespace by name at run time: the name check cannot see through them.
const DYNAMIC_NAMES: &[&str] = &["exec", "eval", "globals", "locals", "vars", "__builtins__"];

/// Reads that observe the frame itself, so a function frame would behave differently.
const FRAME_NAMES: &[&str] = &["exec", "eval", "globals", "locals", "vars", "dir"];

/// A problem in the Python text, located inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// 1-based line inside the text.
    pub line: usize,
    /// 1-based column (in characters) inside the text.
    pub column: usize,
}

impl Problem {
    /// A problem found at `range` of the parsed source.
    fn at(
        message: String,
        range: TextRange,
        locate: &dyn Fn(TextRange) -> (usize, usize),
    ) -> Problem {
        let (line, column) = locate(range);
        Problem {
            message,
            line,
            column,
        }
    }
}

/// A name the code reads, where it reads it, and the names it could have meant.
#[derive(Debug, Clone)]
pub struct Read {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// Everything the macro needs to know about one piece of Python code.
#[derive(Debug, Default)]
pub struct Program {
    /// Names the code binds in the module namespace, in any way.
    pub module_bound: BTreeSet<String>,
    /// Every name bound anywhere (any scope), for "did you mean" suggestions.
    pub all_bound: BTreeSet<String>,
    /// Module-level reads, and reads in nested scopes that resolve to the module namespace.
    pub global_reads: Vec<Read>,
    /// Why names cannot be known at compile time (star import, `exec`, ...), if they cannot.
    pub dynamic: Option<&'static str>,
    /// Why the code must run as module code rather than as a function, if it must.
    pub needs_module_frame: Option<&'static str>,
    /// Names the code binds at module level that some read may reach before they are bound (a
    /// read before the first top-level statement that binds the name whatever happens, or with no
    /// such statement). Unless each is an input, the code runs as module code: a function would
    /// raise `UnboundLocalError` (or a free-variable `NameError`) where module code raises
    /// `NameError: name 'x' is not defined`.
    pub maybe_unbound: BTreeSet<String>,
    /// Errors Python would raise when compiling the code as a module.
    pub problems: Vec<Problem>,
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

/// Parses `text` as module code for Python `version` and analyses its names.
pub fn analyze(text: &str, version: PythonVersion) -> Program {
    let indented = is_indented(text);
    let (source, offset) = if indented {
        (format!("{INDENT_PREFIX}{text}"), INDENT_PREFIX.len())
    } else {
        (text.to_owned(), 0)
    };
    let locate = |range: TextRange| -> (usize, usize) {
        let at = usize::from(range.start())
            .saturating_sub(offset)
            .min(text.len());
        line_column(text, at)
    };

    let options = ParseOptions::from(Mode::Module).with_target_version(version);
    let parsed = ruff_python_parser::parse_unchecked(&source, options);
    let mut program = Program::default();
    for error in parsed.errors() {
        let problem = Problem::at(error.error.to_string(), error.location, &locate);
        program.problems.push(problem);
    }
    for error in parsed.unsupported_syntax_errors() {
        program
            .problems
            .push(Problem::at(error.to_string(), error.range, &locate));
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

    let mut scopes = Scopes::new();
    scopes.visit_body(body);
    if let Some(Stmt::Expr(first)) = body.first()
        && first.value.is_string_literal_expr()
    {
        scopes.module_frame("a module docstring sets `__doc__`");
    }
    let bound: BTreeSet<String> = scopes.scopes[0].bound.iter().cloned().collect();
    program.maybe_unbound = maybe_unbound(body, &scopes, &bound);
    scopes.finish(&mut program, &locate);
    program
}

/// See [`Program::maybe_unbound`].
fn maybe_unbound(
    body: &[Stmt],
    scopes: &Scopes,
    module_bound: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut bound_by: std::collections::HashMap<&str, ruff_text_size::TextSize> =
        Default::default();
    for stmt in body {
        for name in unconditional_bindings(stmt) {
            bound_by.entry(name).or_insert(stmt.range().end());
        }
    }
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
        match expr {
            Expr::Name(name) => out.push(name.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| targets(e, out)),
            Expr::List(l) => l.elts.iter().for_each(|e| targets(e, out)),
            Expr::Starred(s) => targets(&s.value, out),
            _ => {}
        }
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

/// 1-based line and character column of byte offset `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module,
    Function,
    Class,
    Comprehension,
}

#[derive(Debug)]
struct Scope {
    kind: Kind,
    parent: Option<usize>,
    bound: HashSet<String>,
    globals: HashSet<String>,
    nonlocals: Vec<(String, TextRange)>,
    reads: Vec<(String, TextRange)>,
}

struct Scopes {
    scopes: Vec<Scope>,
    current: usize,
    dynamic: Option<&'static str>,
    module_frame: Option<&'static str>,
    errors: Vec<(String, TextRange)>,
    /// Module-level `except ... as name` handlers: the name, and the handler's range.
    except_names: Vec<(String, TextRange)>,
}

impl Scopes {
    fn new() -> Self {
        Scopes {
            scopes: vec![Scope::new(Kind::Module, None)],
            current: 0,
            dynamic: None,
            module_frame: None,
            errors: Vec::new(),
            except_names: Vec::new(),
        }
    }

    fn module_frame(&mut self, why: &'static str) {
        self.module_frame.get_or_insert(why);
    }

    fn kind(&self) -> Kind {
        self.scopes[self.current].kind
    }

    fn bind(&mut self, name: &str) {
        let scope = &mut self.scopes[self.current];
        if scope.globals.contains(name) {
            self.scopes[0].bound.insert(name.to_owned());
        } else {
            scope.bound.insert(name.to_owned());
        }
    }

    /// Walrus targets bind in the nearest scope that is not a comprehension.
    fn bind_named(&mut self, name: &str) {
        let saved = self.current;
        while self.kind() == Kind::Comprehension {
            self.current = self.scopes[self.current].parent.unwrap_or(0);
        }
        self.bind(name);
        self.current = saved;
    }

    fn read(&mut self, name: &str, range: TextRange) {
        if DYNAMIC_NAMES.contains(&name) {
            self.dynamic
                .get_or_insert("it calls `exec`, `eval`, `globals()`, `locals()` or `vars()`");
        }
        if FRAME_NAMES.contains(&name) {
            self.module_frame("it inspects its own frame");
        }
        self.scopes[self.current]
            .reads
            .push((name.to_owned(), range));
    }

    fn enter(&mut self, kind: Kind) -> usize {
        let saved = self.current;
        self.scopes.push(Scope::new(kind, Some(saved)));
        self.current = self.scopes.len() - 1;
        saved
    }

    fn leave(&mut self, saved: usize) {
        self.current = saved;
    }

    fn bind_target(&mut self, target: &Expr) {
        // Targets are expressions with a Store context; visiting them binds the names and reads
        // the subexpressions (`a[i] = ...` reads `a` and `i`).
        self.visit_expr(target);
    }

    fn bind_parameters(&mut self, parameters: &Parameters) {
        for parameter in parameters.iter_non_variadic_params() {
            self.bind(parameter.parameter.name.as_str());
        }
        if let Some(vararg) = &parameters.vararg {
            self.bind(vararg.name.as_str());
        }
        if let Some(kwarg) = &parameters.kwarg {
            self.bind(kwarg.name.as_str());
        }
    }

    /// Defaults are evaluated where the function is defined; annotations are not read at all,
    /// since postponed or lazy evaluation makes them unreliable evidence.
    fn visit_defaults(&mut self, parameters: &Parameters) {
        for parameter in parameters.iter_non_variadic_params() {
            if let Some(default) = &parameter.default {
                self.visit_expr(default);
            }
        }
    }

    fn bind_type_params(&mut self, type_params: Option<&TypeParams>) {
        for param in type_params.into_iter().flat_map(|p| p.type_params.iter()) {
            let name = match param {
                TypeParam::TypeVar(p) => &p.name,
                TypeParam::TypeVarTuple(p) => &p.name,
                TypeParam::ParamSpec(p) => &p.name,
            };
            self.bind(name.as_str());
        }
    }

    fn visit_comprehension_scope(
        &mut self,
        generators: &[past::Comprehension],
        elements: &[&Expr],
    ) {
        let Some((first, rest)) = generators.split_first() else {
            return;
        };
        self.visit_expr(&first.iter);
        let saved = self.enter(Kind::Comprehension);
        self.bind_target(&first.target);
        for condition in &first.ifs {
            self.visit_expr(condition);
        }
        for generator in rest {
            self.visit_expr(&generator.iter);
            self.bind_target(&generator.target);
            for condition in &generator.ifs {
                self.visit_expr(condition);
            }
        }
        for element in elements {
            self.visit_expr(element);
        }
        self.leave(saved);
    }

    fn forbid_at_module(&mut self, what: &str, range: TextRange) {
        let mut at = self.current;
        while self.scopes[at].kind == Kind::Comprehension {
            at = self.scopes[at].parent.unwrap_or(0);
        }
        let kind = self.scopes[at].kind;
        if kind == Kind::Module || kind == Kind::Class {
            self.errors.push((
                format!("`{what}` outside a function: module code cannot use it; remove it or move it into a `def`"),
                range,
            ));
        }
    }

    /// Whether `name`, read in scope `at`, resolves in a function scope rather than the module.
    fn resolves_locally(&self, name: &str, at: usize) -> bool {
        let scope = &self.scopes[at];
        if scope.kind != Kind::Module
            && !scope.globals.contains(name)
            && (scope.bound.contains(name) || scope.nonlocals.iter().any(|(n, _)| n == name))
        {
            return true;
        }
        if scope.globals.contains(name) {
            return false;
        }
        let mut parent = scope.parent;
        while let Some(index) = parent {
            let enclosing = &self.scopes[index];
            match enclosing.kind {
                Kind::Module => return false,
                Kind::Class => {}
                Kind::Function | Kind::Comprehension => {
                    if enclosing.globals.contains(name) {
                        return false;
                    }
                    if enclosing.bound.contains(name)
                        || enclosing.nonlocals.iter().any(|(n, _)| n == name)
                    {
                        return true;
                    }
                }
            }
            parent = enclosing.parent;
        }
        false
    }

    fn finish(self, program: &mut Program, locate: &dyn Fn(TextRange) -> (usize, usize)) {
        for (message, range) in &self.errors {
            program
                .problems
                .push(Problem::at(message.clone(), *range, locate));
        }
        for (index, scope) in self.scopes.iter().enumerate() {
            for (name, range) in &scope.nonlocals {
                if !self.nonlocal_has_binding(name, index) {
                    let message = format!(
                        "no binding for nonlocal `{name}` found: module-level names are reached with `global`, not `nonlocal`"
                    );
                    program.problems.push(Problem::at(message, *range, locate));
                }
            }
        }
        program.module_bound = self.scopes[0].bound.iter().cloned().collect();
        program.all_bound = self
            .scopes
            .iter()
            .flat_map(|scope| scope.bound.iter().cloned())
            .collect();
        for (name, range) in self.module_reads() {
            let (line, column) = locate(range);
            program.global_reads.push(Read {
                name: name.to_owned(),
                line,
                column,
            });
        }
        // `except E as e` deletes `e` after the handler: a read elsewhere may find it unbound,
        // which a function reports differently from module code.
        for (index, scope) in self.scopes.iter().enumerate() {
            for (name, range) in &scope.reads {
                let mut handlers = self.except_names.iter().filter(|(n, _)| n == name);
                let Some(first) = handlers.next() else {
                    continue;
                };
                if self.resolves_locally(name, index) {
                    continue;
                }
                let inside = index == 0
                    && std::iter::once(first)
                        .chain(handlers)
                        .any(|(_, handler)| handler.contains_range(*range));
                if !inside {
                    program
                        .needs_module_frame
                        .get_or_insert("it reads an `except ... as` name outside its handler");
                }
            }
        }
        program
            .global_reads
            .sort_by_key(|read| (read.line, read.column));
        program.dynamic = self.dynamic;
        if program.needs_module_frame.is_none() {
            program.needs_module_frame = self.module_frame;
        }
    }

    /// Every read, in any scope, that resolves to the module namespace, with its place.
    fn module_reads(&self) -> impl Iterator<Item = (&str, TextRange)> + '_ {
        self.scopes
            .iter()
            .enumerate()
            .flat_map(move |(index, scope)| {
                scope
                    .reads
                    .iter()
                    .filter(move |(name, _)| {
                        let class_local = scope.kind == Kind::Class && scope.bound.contains(name);
                        !class_local && !self.resolves_locally(name, index)
                    })
                    .map(|(name, range)| (name.as_str(), *range))
            })
    }

    fn nonlocal_has_binding(&self, name: &str, at: usize) -> bool {
        let mut parent = self.scopes[at].parent;
        while let Some(index) = parent {
            let enclosing = &self.scopes[index];
            match enclosing.kind {
                Kind::Module => return false,
                Kind::Class => {}
                Kind::Function | Kind::Comprehension => {
                    if enclosing.bound.contains(name)
                        || enclosing.nonlocals.iter().any(|(n, _)| n == name)
                    {
                        return true;
                    }
                }
            }
            parent = enclosing.parent;
        }
        false
    }
}

impl Scope {
    fn new(kind: Kind, parent: Option<usize>) -> Self {
        Scope {
            kind,
            parent,
            bound: HashSet::new(),
            globals: HashSet::new(),
            nonlocals: Vec::new(),
            reads: Vec::new(),
        }
    }
}

impl<'a> Visitor<'a> for Scopes {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // `x += 1` reads `x` before binding it.
            Stmt::AugAssign(assign) if assign.target.is_name_expr() => {
                if let Expr::Name(name) = &*assign.target {
                    self.read(name.id.as_str(), name.range);
                }
                visitor::walk_stmt(self, stmt);
            }
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                self.visit_defaults(&def.parameters);
                self.bind(def.name.as_str());
                let saved = self.enter(Kind::Function);
                self.bind_type_params(def.type_params.as_deref());
                self.bind_parameters(&def.parameters);
                self.visit_body(&def.body);
                self.leave(saved);
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.bind(class.name.as_str());
                let saved = self.enter(Kind::Class);
                self.bind_type_params(class.type_params.as_deref());
                self.visit_body(&class.body);
                self.leave(saved);
            }
            Stmt::Return(ret) => {
                self.forbid_at_module("return", ret.range);
                if let Some(value) = &ret.value {
                    self.visit_expr(value);
                }
            }
            Stmt::Global(global) => {
                if self.current == 0 {
                    self.module_frame("it uses `global`");
                } else {
                    self.module_frame("a nested scope uses `global`");
                }
                for name in &global.names {
                    self.scopes[self.current]
                        .globals
                        .insert(name.as_str().to_owned());
                    self.scopes[0].bound.insert(name.as_str().to_owned());
                }
            }
            Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    self.scopes[self.current]
                        .nonlocals
                        .push((name.as_str().to_owned(), name.range));
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    if bound == "builtins" {
                        self.dynamic.get_or_insert("it imports `builtins`");
                    }
                    self.bind(bound);
                }
            }
            Stmt::ImportFrom(import) => {
                if import
                    .module
                    .as_ref()
                    .is_some_and(|m| m.as_str() == "__future__")
                {
                    self.module_frame("it has a `from __future__` import");
                }
                if import
                    .module
                    .as_ref()
                    .is_some_and(|m| m.as_str() == "builtins")
                {
                    self.dynamic.get_or_insert("it imports from `builtins`");
                }
                for alias in &import.names {
                    if alias.name.as_str() == "*" {
                        self.dynamic.get_or_insert("it uses `from ... import *`");
                        self.module_frame("it uses `from ... import *`");
                    } else {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        self.bind(bound.as_str());
                    }
                }
            }
            Stmt::AnnAssign(assign) => {
                if self.current == 0 {
                    self.module_frame("module-level annotations are evaluated and stored");
                    self.scopes[0].bound.insert("__annotations__".to_owned());
                }
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                    self.bind_target(&assign.target);
                } else if !assign.target.is_name_expr() {
                    // `a.b: int` evaluates `a`, binds nothing.
                    self.bind_target(&assign.target);
                }
            }
            Stmt::TypeAlias(alias) => {
                if let Expr::Name(name) = alias.name.as_ref() {
                    self.bind(name.id.as_str());
                }
                let saved = self.enter(Kind::Function);
                self.bind_type_params(alias.type_params.as_deref());
                self.visit_expr(&alias.value);
                self.leave(saved);
            }
            Stmt::Try(block) => {
                self.visit_body(&block.body);
                for handler in &block.handlers {
                    let past::ExceptHandler::ExceptHandler(handler) = handler;
                    if let Some(type_) = &handler.type_ {
                        self.visit_expr(type_);
                    }
                    if let Some(name) = &handler.name {
                        self.bind(name.as_str());
                        if self.current == 0 {
                            self.except_names
                                .push((name.as_str().to_owned(), handler.range));
                        }
                    }
                    self.visit_body(&handler.body);
                }
                self.visit_body(&block.orelse);
                self.visit_body(&block.finalbody);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_annotation(&mut self, _expr: &'a Expr) {}

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => match name.ctx {
                ExprContext::Load => self.read(name.id.as_str(), name.range),
                ExprContext::Store => self.bind(name.id.as_str()),
                ExprContext::Del => {
                    if self.current == 0 {
                        // Reading it afterwards raises `NameError` in module code but
                        // `UnboundLocalError` in a function.
                        self.module_frame("it deletes a module-level name");
                    }
                    self.bind(name.id.as_str());
                }
                ExprContext::Invalid => {}
            },
            Expr::Named(named) => {
                self.visit_expr(&named.value);
                if let Expr::Name(name) = named.target.as_ref() {
                    self.bind_named(name.id.as_str());
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_defaults(parameters);
                }
                let saved = self.enter(Kind::Function);
                if let Some(parameters) = &lambda.parameters {
                    self.bind_parameters(parameters);
                }
                self.visit_expr(&lambda.body);
                self.leave(saved);
            }
            Expr::ListComp(comp) => self.visit_comprehension_scope(&comp.generators, &[&comp.elt]),
            Expr::SetComp(comp) => self.visit_comprehension_scope(&comp.generators, &[&comp.elt]),
            Expr::Generator(comp) => {
                self.visit_comprehension_scope(&comp.generators, &[&comp.elt]);
            }
            Expr::DictComp(comp) => {
                let mut elements: Vec<&Expr> = comp.key.as_deref().into_iter().collect();
                elements.push(&comp.value);
                self.visit_comprehension_scope(&comp.generators, &elements);
            }
            Expr::Yield(yield_) => {
                self.forbid_at_module("yield", yield_.range);
                visitor::walk_expr(self, expr);
            }
            Expr::YieldFrom(yield_) => {
                self.forbid_at_module("yield from", yield_.range);
                visitor::walk_expr(self, expr);
            }
            Expr::Await(await_) => {
                self.forbid_at_module("await", await_.range);
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            Pattern::MatchStar(p) => {
                if let Some(name) = &p.name {
                    self.bind(name.as_str());
                }
            }
            Pattern::MatchMapping(p) => {
                if let Some(name) = &p.rest {
                    self.bind(name.as_str());
                }
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

/// Whether `name` is defined for module code without the code binding it.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name) || IMPLICIT.contains(&name)
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (edit_distance(name, candidate), candidate))
        // A distance as long as either name replaces it entirely: no resemblance.
        .filter(|(distance, candidate)| {
            *distance <= limit
                && *distance < name.chars().count()
                && *distance < candidate.chars().count()
        })
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn module_frame_is_required_where_a_function_differs() {
        assert!(analyze("x = 1", v()).needs_module_frame.is_none());
        assert!(
            analyze("def f():\n    return x\nx = 1", v())
                .needs_module_frame
                .is_none()
        );
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
        ] {
            assert!(analyze(code, v()).needs_module_frame.is_some(), "{code}");
        }
    }

    #[test]
    fn names_read_before_a_sure_binding_are_maybe_unbound() {
        let unbound = |code: &str| {
            analyze(code, v())
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

    #[test]
    fn suggestions_are_close_names() {
        assert_eq!(suggest("arrr", ["arr", "result"]), Some("arr"));
        assert_eq!(suggest("zzz", ["arr", "result"]), None);
        assert_eq!(suggest("lenn", ["len", "arr"]), Some("len"));
        assert_eq!(suggest("k", ["_", "x"]), None);
    }
}
