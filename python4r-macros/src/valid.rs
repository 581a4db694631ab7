//! Checks the keys, the signature and the Python code against each other, collecting every error.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam, LitStr, Type};

use crate::ast::{self, Function, Input, ReturnShape, Returns};
use crate::attr::{Args, Output};
use crate::python::{self, Program};

/// A piece of Python code and where it came from.
pub struct Code {
    /// The code's text (the literal's value, or the file's contents).
    pub text: String,
    /// The key's value: the code literal, or the file path literal.
    pub lit: LitStr,
    /// `Some(absolute path)` for `file = "..."`.
    pub path: Option<String>,
    pub indented: bool,
}

/// A function that passed every check, ready to expand.
pub struct Checked {
    /// The user's `Python<'_>` parameter, if the signature starts with one.
    pub py_token: Option<syn::Ident>,
    pub inputs: Vec<Input>,
    pub returns: Returns,
    /// The span of the `Result` return type, when errors are returned rather than panicked.
    pub result: Option<Span>,
    pub outputs: Vec<String>,
    pub code: Code,
    pub setup: Option<Code>,
    /// Whether the code must run as module code (exec in a fresh namespace) rather than as a function.
    pub module_frame: bool,
}

/// Collects errors so that one call reports every mistake.
#[derive(Default)]
pub struct Errors(Option<syn::Error>, usize);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        self.1 += 1;
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// How many errors were reported so far.
    pub fn count(&self) -> usize {
        self.1
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The Python version syntax is checked against (the interpreter the workspace builds for).
fn target_version() -> ruff_python_ast::PythonVersion {
    let version = env!("PYTHON4R_TARGET_PYTHON");
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u8>().unwrap_or(u8::MAX));
    ruff_python_ast::PythonVersion {
        major: parts.next().unwrap_or(3),
        minor: parts.next().unwrap_or(u8::MAX),
    }
}

/// Checks the parsed keys and function.
pub fn check(args: Args, func: &Function, errors: &mut Errors) -> Option<Checked> {
    let code = check_source(&args, errors);
    let setup = args.setup.as_ref().map(|lit| Code {
        text: lit.value(),
        lit: lit.clone(),
        path: None,
        indented: python::is_indented(&lit.value()),
    });
    check_signature(func, errors);
    let before = errors.count();
    let (py_token, inputs) = check_params(func, errors);
    let params_ok = errors.count() == before;
    let shape = ReturnShape::of(&func.sig.output);
    let (returns, outputs) = check_outputs(&args, &shape, func, errors);

    let version = target_version();
    let code_program = code.as_ref().map(|code| {
        let program = python::analyze(&code.text, version);
        report_problems(&program, code, "code", errors);
        program
    });
    let setup_program = setup.as_ref().map(|setup| {
        let program = python::analyze(&setup.text, version);
        report_problems(&program, setup, "setup", errors);
        program
    });

    let mut module_frame = false;
    if let Some(program) = code_program.as_ref().filter(|p| p.problems.is_empty()) {
        let code = code.as_ref().expect("analysed code exists");
        let setup_ok = setup_program.as_ref().filter(|p| p.problems.is_empty());
        // A parameter that failed its check is missing from `inputs`: checking names would then
        // report its uses as undefined.
        if params_ok && (setup_program.is_none() || setup_ok.is_some()) {
            check_names(program, setup_ok, &inputs, &outputs, &args, code, errors);
        }
        module_frame = program.needs_module_frame.is_some()
            || program
                .maybe_unbound
                .iter()
                .any(|name| !inputs.iter().any(|input| &input.name == name))
            || setup_program.as_ref().is_some_and(|s| s.dynamic.is_some())
            || program.module_bound.iter().any(|name| {
                python::is_builtin(name)
                    || setup_program
                        .as_ref()
                        .is_some_and(|s| s.module_bound.contains(name))
            });
    }
    if let (Some(program), Some(setup)) = (&setup_program, &setup)
        && program.problems.is_empty()
        && program.dynamic.is_none()
    {
        for read in &program.global_reads {
            if !program.module_bound.contains(&read.name) && !python::is_builtin(&read.name) {
                let candidates = program.module_bound.iter().map(String::as_str);
                undefined(read, candidates, setup, "setup", errors);
            }
        }
    }

    Some(Checked {
        py_token,
        inputs,
        returns,
        result: shape.result,
        outputs,
        code: code?,
        setup,
        module_frame,
    })
}

fn check_source(args: &Args, errors: &mut Errors) -> Option<Code> {
    match (&args.code, &args.file) {
        (None, None) if args.seen.contains(&"code") || args.seen.contains(&"file") => None,
        (None, None) => {
            errors.error(
                Span::call_site(),
                "missing the Python code: add `code = \"...\"` with the body, or `file = \"path.py\"` \
                 with a path relative to the crate's manifest directory",
            );
            None
        }
        (Some(_), Some(file)) => {
            errors.error(
                file.span(),
                "`code` and `file` cannot both be given: keep `code = \"...\"` for inline Python, \
                 or `file = \"...\"` for a script",
            );
            None
        }
        (Some(lit), None) => Some(Code {
            text: lit.value(),
            lit: lit.clone(),
            path: None,
            indented: python::is_indented(&lit.value()),
        }),
        (None, Some(lit)) => {
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
            let path = std::path::Path::new(&dir).join(lit.value());
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(Code {
                    indented: python::is_indented(&text),
                    text,
                    lit: lit.clone(),
                    path: Some(path.to_string_lossy().into_owned()),
                }),
                Err(error) => {
                    errors.error(
                        lit.span(),
                        format!(
                            "cannot read `{}`: {error}; `file` paths are relative to the crate's \
                             manifest directory ({dir})",
                            lit.value()
                        ),
                    );
                    None
                }
            }
        }
    }
}

fn check_signature(func: &Function, errors: &mut Errors) {
    let sig = &func.sig;
    if let Some(token) = &sig.constness {
        errors.error(
            token.span,
            "a `#[py_exec]` function cannot be `const`: it runs Python; remove `const`",
        );
    }
    if let Some(token) = &sig.asyncness {
        errors.error(
            token.span,
            "a `#[py_exec]` function cannot be `async`: it runs Python synchronously; remove \
             `async` (call it from a blocking task if needed)",
        );
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            other => errors.error(
                other.span(),
                "a `#[py_exec]` function cannot have type or const parameters: the conversions \
                 are fixed at compile time; use concrete types",
            ),
        }
    }
    if let Some(variadic) = &sig.variadic {
        errors.error(
            variadic.span(),
            "a `#[py_exec]` function cannot be variadic: declare one parameter per Python variable",
        );
    }
    for arg in &sig.inputs {
        if let FnArg::Receiver(receiver) = arg {
            errors.error(
                receiver.span(),
                "a `#[py_exec]` function cannot take `self`: make it an associated function and \
                 pass the values the code needs as parameters",
            );
        }
    }
    if let Some(body) = &func.body
        && !body.stmts.is_empty()
    {
        errors.error(
            body.span(),
            "a `#[py_exec]` function's body is its Python code: write `;` (or `{}`) instead \
                 of a Rust body",
        );
    }
}

fn check_params(func: &Function, errors: &mut Errors) -> (Option<syn::Ident>, Vec<Input>) {
    let mut py_token = None;
    let mut inputs = Vec::new();
    for (index, arg) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = arg else { continue };
        let Some(ident) = ast::plain_ident(arg) else {
            errors.error(
                typed.pat.span(),
                "a `#[py_exec]` parameter must be a plain identifier, which becomes the Python \
                 variable of the same name; destructure inside the Python code instead",
            );
            continue;
        };
        if ast::is_python_token(&typed.ty) {
            if index == 0 {
                py_token = Some(ident.clone());
            } else {
                errors.error(
                    typed.ty.span(),
                    "the `Python<'_>` token must be the first parameter; move it first",
                );
            }
            continue;
        }
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        if python::KEYWORDS.contains(&name.as_str()) {
            errors.error(
                ident.span(),
                format!(
                    "`{name}` is a Python keyword or constant and cannot name a Python variable; \
                     rename the parameter"
                ),
            );
            continue;
        }
        let (ty, passing) = ast::passing(&typed.ty);
        inputs.push(Input {
            ident: ident.clone(),
            name,
            ty,
            passing,
        });
    }
    (py_token, inputs)
}

fn check_outputs(
    args: &Args,
    shape: &ReturnShape,
    func: &Function,
    errors: &mut Errors,
) -> (Returns, Vec<String>) {
    let return_span = match &func.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => func.sig.ident.span(),
    };
    let check_name = |lit: &LitStr, errors: &mut Errors| {
        let name = lit.value();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphabetic())
            && name.chars().all(|c| c == '_' || c.is_alphanumeric());
        if !valid || python::KEYWORDS.contains(&name.as_str()) {
            errors.error(
                lit.span(),
                format!(
                    "`{name}` is not a Python variable name; `output` names the variables to return"
                ),
            );
        }
        name
    };
    match (&args.output, &shape.value) {
        (Some(Output::One(lit)), None) => {
            errors.error(
                lit.span(),
                "`output` names the variable to return, but the function returns nothing: add a \
                 return type or remove `output`",
            );
            (Returns::Unit, Vec::new())
        }
        (Some(Output::Many { span, .. }), None) => {
            errors.error(
                *span,
                "`output = [...]` names the elements of a returned tuple, but the function returns \
                 nothing: return a tuple with one element per name",
            );
            (Returns::Unit, Vec::new())
        }
        (None, None) => (Returns::Unit, Vec::new()),
        (None, Some(ty)) => (Returns::Value(ty.clone()), vec!["result".to_owned()]),
        (Some(Output::One(lit)), Some(ty)) => {
            let name = check_name(lit, errors);
            (Returns::Value(ty.clone()), vec![name])
        }
        (Some(Output::Many { names, span }), Some(ty)) => {
            let outputs: Vec<String> = names.iter().map(|lit| check_name(lit, errors)).collect();
            match ty {
                Type::Tuple(tuple) if tuple.elems.len() == names.len() => (
                    Returns::Tuple(tuple.elems.iter().cloned().collect()),
                    outputs,
                ),
                Type::Tuple(tuple) => {
                    errors.error(
                        *span,
                        format!(
                            "`output` names {} variables but the returned tuple has {} elements; \
                             give one name per element",
                            names.len(),
                            tuple.elems.len()
                        ),
                    );
                    (Returns::Unit, Vec::new())
                }
                _ => {
                    errors.error(
                        return_span,
                        format!(
                            "`output = [...]` needs a tuple return type with {} elements, one per \
                             name; to return one variable write `output = \"name\"`",
                            names.len()
                        ),
                    );
                    (Returns::Unit, Vec::new())
                }
            }
        }
    }
}

/// Reports the first problem only: after a syntax error the parser's recovery guesses, and its
/// further errors are usually consequences of the first.
fn report_problems(program: &Program, code: &Code, key: &str, errors: &mut Errors) {
    if let Some(problem) = program.problems.first() {
        errors.error(
            code.lit.span(),
            format!(
                "Python syntax error in {} at line {}, column {}: {}",
                describe(code, key),
                problem.line,
                problem.column,
                problem.message
            ),
        );
    }
}

fn describe(code: &Code, key: &str) -> String {
    match &code.path {
        Some(_) => format!("`{}`", code.lit.value()),
        None => format!("`{key}`"),
    }
}

fn undefined<'a>(
    read: &python::Read,
    candidates: impl IntoIterator<Item = &'a str>,
    code: &Code,
    key: &str,
    errors: &mut Errors,
) {
    let mut message = format!("name `{}` is not defined", read.name);
    if let Some(suggestion) = python::suggest(&read.name, candidates) {
        message.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    message.push_str(&format!(
        " (line {}, column {} of {}); names come from the parameters, `setup`, the code itself and \
         Python's builtins",
        read.line,
        read.column,
        describe(code, key)
    ));
    errors.error(code.lit.span(), message);
}

fn check_names(
    program: &Program,
    setup: Option<&Program>,
    inputs: &[Input],
    outputs: &[String],
    args: &Args,
    code: &Code,
    errors: &mut Errors,
) {
    if program.dynamic.is_some() || setup.is_some_and(|s| s.dynamic.is_some()) {
        return;
    }
    let mut defined: BTreeSet<&str> = program.module_bound.iter().map(String::as_str).collect();
    defined.extend(inputs.iter().map(|input| input.name.as_str()));
    if let Some(setup) = setup {
        defined.extend(setup.module_bound.iter().map(String::as_str));
    }

    let mut reported = BTreeSet::new();
    for read in &program.global_reads {
        if defined.contains(read.name.as_str()) || python::is_builtin(&read.name) {
            continue;
        }
        if !reported.insert(read.name.clone()) {
            continue;
        }
        let candidates = defined
            .iter()
            .copied()
            .chain(program.all_bound.iter().map(String::as_str))
            .chain(
                python::BUILTINS
                    .iter()
                    .copied()
                    .filter(|b| !b.starts_with('_')),
            );
        undefined(read, candidates, code, "code", errors);
    }

    for (index, output) in outputs.iter().enumerate() {
        if defined.contains(output.as_str()) {
            continue;
        }
        let span = match &args.output {
            Some(Output::One(lit)) => lit.span(),
            Some(Output::Many { names, .. }) => names[index].span(),
            None => code.lit.span(),
        };
        let hint = if args.output.is_none() {
            format!(
                "assign it (`{output} = ...`) or name the variable to return with `output = \"...\"`"
            )
        } else {
            format!("assign it (`{output} = ...`) or fix the name in `output`")
        };
        errors.error(
            span,
            format!("the code never assigns `{output}`, which the function returns; {hint}"),
        );
    }
}
