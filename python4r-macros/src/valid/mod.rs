//! Checks the keys, the signature and the Python code against each other, collecting every error:
//! `signature` the function's form and parameters, `outputs` its return, `python` the code.

mod outputs;
pub mod python;
mod signature;

use proc_macro2::Span;

use crate::ast::{Function, Input, ReturnShape, Returns};
use crate::attr::Args;
use python::Code;

/// A function that passed every check, ready to expand.
pub struct Checked {
    /// Where generated code reaches python4r: `::python4r`, or the `crate = "..."` path.
    pub krate: syn::Path,
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
    /// Mistakes that compile but probably do not do what was meant.
    pub warnings: Vec<Warning>,
}

/// A warning for the user's code (emitted as the use of a deprecated item at `span`).
pub struct Warning {
    pub span: Span,
    pub message: String,
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

/// Checks the parsed keys and function.
pub fn check(args: Args, func: &Function, errors: &mut Errors) -> Option<Checked> {
    let code = python::load_code(&args, errors);
    let setup = args.setup.as_ref().map(Code::inline);
    signature::check(func, errors);
    let params = signature::params(func, errors);
    let shape = ReturnShape::of(&func.sig.output);
    let (returns, outputs) = outputs::check(&args, &shape, func, errors);
    let analysis = python::check(
        &args,
        code.as_ref(),
        setup.as_ref(),
        &params,
        &outputs,
        errors,
    );
    let krate = args.krate.unwrap_or_else(|| syn::parse_quote!(::python4r));
    Some(Checked {
        krate,
        py_token: params.py_token,
        inputs: params.inputs,
        returns,
        result: shape.result,
        outputs,
        code: code?,
        setup,
        module_frame: analysis.module_frame,
        warnings: analysis.warnings,
    })
}
