//! Checks of the function's form (no `async`, `self`, generics, Rust body) and of its parameters,
//! each of which becomes a Python variable.

use proc_macro2::Span;
use python4r_analysis::names::{is_identifier, is_keyword};
use syn::spanned::Spanned;
use syn::{FnArg, GenericParam};

use super::Errors;
use crate::ast::{self, Function, Input};
use crate::attr::ParamArgs;

/// The parameters that passed their checks.
pub struct Params {
    /// The user's `Python<'_>` parameter, if the signature starts with one.
    pub py_token: Option<syn::Ident>,
    pub inputs: Vec<Input>,
    /// Whether every parameter passed (else some are missing from `inputs`).
    pub ok: bool,
}

/// Reports what a `#[py_exec]` function cannot be.
pub fn check(func: &Function, errors: &mut Errors) {
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

/// Checks each parameter and its Python name (the identifier, or `#[py(name = "...")]`).
pub fn params(func: &Function, errors: &mut Errors) -> Params {
    let before = errors.count();
    let mut py_token = None;
    let mut inputs: Vec<Input> = Vec::new();
    for (index, arg) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = arg else { continue };
        let mut attr_errors = Vec::new();
        let attrs = ParamArgs::parse(&typed.attrs, &mut attr_errors);
        let attrs_ok = attr_errors.is_empty();
        attr_errors.into_iter().for_each(|error| errors.push(error));
        let Some(ident) = ast::plain_ident(arg) else {
            errors.error(
                typed.pat.span(),
                "a `#[py_exec]` parameter must be a plain identifier, which becomes the Python \
                 variable of the same name; destructure inside the Python code instead",
            );
            continue;
        };
        if ast::is_python_token(&typed.ty) {
            if let Some(name) = &attrs.name {
                errors.error(
                    name.span(),
                    "the `Python<'_>` token is not a Python variable: remove `#[py(name = ...)]`",
                );
            }
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
        if !attrs_ok {
            continue;
        }
        let Some((name, name_span)) = python_name(ident, &attrs, errors) else {
            continue;
        };
        if let Some(other) = inputs.iter().find(|input| input.name == name) {
            errors.error(
                name_span,
                format!(
                    "parameters `{}` and `{}` are both named `{name}` in Python; give each its \
                     own name with `#[py(name = \"...\")]`",
                    other.ident, ident
                ),
            );
            continue;
        }
        let function = match ast::closure_type(&typed.ty) {
            Some(Ok(function)) => Some(function),
            Some(Err(error)) => {
                errors.push(error);
                continue;
            }
            None => None,
        };
        let (ty, mut passing) = ast::passing(&typed.ty);
        if function.is_some() {
            // A function is lent by its own guard, never written back.
            passing = ast::Passing::Value;
        }
        inputs.push(Input {
            ident: ident.clone(),
            name,
            ty,
            passing,
            function,
        });
    }
    Params {
        py_token,
        inputs,
        ok: errors.count() == before,
    }
}

/// The parameter's Python name and the span to blame for it, if it can name a variable.
fn python_name(
    ident: &syn::Ident,
    attrs: &ParamArgs,
    errors: &mut Errors,
) -> Option<(String, Span)> {
    let Some(lit) = &attrs.name else {
        let name = syn::ext::IdentExt::unraw(ident).to_string();
        if is_keyword(&name) {
            errors.error(
                ident.span(),
                format!(
                    "`{name}` is a Python keyword or constant and cannot name a Python variable; \
                     rename the parameter, or give it a Python name with \
                     `#[py(name = \"...\")]`"
                ),
            );
            return None;
        }
        return Some((name, ident.span()));
    };
    let name = lit.value();
    let problem = if !is_identifier(&name) {
        "is not a Python identifier (a letter or `_`, then letters, digits and `_`)"
    } else if is_keyword(&name) {
        "is a Python keyword or constant and cannot name a Python variable"
    } else {
        return Some((name, lit.span()));
    };
    errors.error(
        lit.span(),
        format!("`{name}` {problem}; choose another name in `#[py(name = \"...\")]`"),
    );
    None
}
