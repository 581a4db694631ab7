//! The Python code: where it comes from (`code` or `file`), and the analysis's findings about it
//! (syntax, names, rebindings, frame) turned into errors and warnings on the user's tokens.

use proc_macro2::Span;
use python4r_analysis::check::{self, Finding, Param, Place, Severity, Signature, Source};
use python4r_analysis::{Program, PythonVersion, analyze, frame, is_indented};
use syn::LitStr;

use super::signature::Params;
use super::{Errors, Warning};
use crate::ast::Passing;
use crate::attr::{Args, Output};

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

impl Code {
    /// Code written in the attribute.
    pub fn inline(lit: &LitStr) -> Code {
        let text = lit.value();
        Code {
            indented: is_indented(&text),
            text,
            lit: lit.clone(),
            path: None,
        }
    }

    /// How messages name the code: by its key, or by the file's path as written.
    fn label(&self, key: &str) -> String {
        match &self.path {
            Some(_) => format!("`{}`", self.lit.value()),
            None => format!("`{key}`"),
        }
    }
}

/// The body from `code` or `file`; `None` (with the error reported) if there is none.
pub fn load_code(args: &Args, errors: &mut Errors) -> Option<Code> {
    match (&args.code, &args.file) {
        // A misspelled or mistyped `code` was reported already.
        (None, None)
            if args.unknown_key || args.seen.contains(&"code") || args.seen.contains(&"file") =>
        {
            None
        }
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
        (Some(lit), None) => Some(Code::inline(lit)),
        (None, Some(lit)) => {
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
            let path = std::path::Path::new(&dir).join(lit.value());
            match std::fs::read_to_string(&path) {
                Ok(text) => Some(Code {
                    indented: is_indented(&text),
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

/// The Python version syntax is checked against (the interpreter the workspace builds for).
fn target_version() -> PythonVersion {
    let version = env!("PYTHON4R_TARGET_PYTHON");
    let mut parts = version
        .split('.')
        .map(|p| p.parse::<u8>().unwrap_or(u8::MAX));
    PythonVersion {
        major: parts.next().unwrap_or(3),
        minor: parts.next().unwrap_or(u8::MAX),
    }
}

/// What the analysis decided beyond errors.
pub struct Analysis {
    pub module_frame: bool,
    pub warnings: Vec<Warning>,
}

/// One analysed piece of code with its label.
struct Analysed<'a> {
    code: &'a Code,
    program: Program,
    label: String,
}

impl Analysed<'_> {
    fn source(&self) -> Source<'_> {
        Source {
            program: &self.program,
            text: &self.code.text,
            label: &self.label,
        }
    }

    fn parsed(&self) -> bool {
        self.program.problems.is_empty()
    }
}

/// Analyses one piece of code, reporting its first syntax error.
fn analyse<'a>(code: &'a Code, key: &str, errors: &mut Errors) -> Analysed<'a> {
    let analysed = Analysed {
        code,
        program: analyze(&code.text, target_version()),
        label: code.label(key),
    };
    if let Some(message) = check::syntax(&analysed.source()) {
        errors.error(code.lit.span(), message);
    }
    analysed
}

/// Analyses the body and `setup` and checks them against the signature.
pub fn check(
    args: &Args,
    code: Option<&Code>,
    setup: Option<&Code>,
    params: &Params,
    outputs: &[String],
    errors: &mut Errors,
) -> Analysis {
    let code = code.map(|code| analyse(code, "code", errors));
    let setup = setup.map(|setup| analyse(setup, "setup", errors));
    let setup_parsed = setup.as_ref().filter(|setup| setup.parsed());
    if let Some(setup) = setup_parsed {
        for finding in check::setup(&setup.source()) {
            errors.error(setup.code.lit.span(), finding.message);
        }
    }
    let mut analysis = Analysis {
        module_frame: false,
        warnings: Vec::new(),
    };
    let Some(code) = code.as_ref().filter(|code| code.parsed()) else {
        return analysis;
    };
    let inputs: Vec<Param> = params
        .inputs
        .iter()
        .map(|input| Param {
            name: &input.name,
            writable: input.passing == Passing::RefMut,
        })
        .collect();
    let names: Vec<&str> = inputs.iter().map(|param| param.name).collect();
    analysis.module_frame = matches!(
        frame::choose(&code.program, setup.as_ref().map(|s| &s.program), &names),
        frame::Frame::Module(_)
    );
    // A parameter that failed its check is missing from `inputs`: checking names would then
    // report its uses as undefined.
    if params.ok && (setup.is_none() || setup_parsed.is_some()) {
        let setup = setup_parsed.map(|setup| &setup.program);
        check_body(args, code, setup, &inputs, outputs, errors, &mut analysis);
    }
    analysis
}

/// The body's findings against the signature, as errors and warnings on the user's tokens.
fn check_body(
    args: &Args,
    code: &Analysed,
    setup: Option<&Program>,
    inputs: &[Param],
    outputs: &[String],
    errors: &mut Errors,
    analysis: &mut Analysis,
) {
    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    let per_call: &[LitStr] = args.per_call.as_deref().unwrap_or_default();
    let per_call_names: Vec<String> = per_call.iter().map(LitStr::value).collect();
    let per_call_names: Vec<&str> = per_call_names.iter().map(String::as_str).collect();
    let signature = Signature {
        params: inputs,
        outputs: &outputs,
        outputs_named: args.output.is_some(),
        per_call: &per_call_names,
    };
    for finding in check::body(&code.source(), setup, &signature) {
        let Finding {
            severity,
            place,
            message,
        } = finding;
        let span = match place {
            // `check::body` reports on the body, not on `setup`.
            Place::Code | Place::Setup => code.code.lit.span(),
            Place::Output(index) => match &args.output {
                Some(Output::One(lit)) => lit.span(),
                Some(Output::Many { names, .. }) => names[index].span(),
                None => code.code.lit.span(),
            },
            Place::PerCall(index) => per_call[index].span(),
        };
        match severity {
            Severity::Error => errors.error(span, message),
            Severity::Warning => analysis.warnings.push(Warning { span, message }),
        }
    }
}
