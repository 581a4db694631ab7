//! Checks of the return type against `output`: which variables are read, and into what.

use python4r_analysis::names::is_variable_name;
use syn::spanned::Spanned;
use syn::{LitStr, Type};

use super::Errors;
use crate::ast::{Function, ReturnShape, Returns};
use crate::attr::{Args, Output};

/// What the function returns and the Python variables it reads for it.
pub fn check(
    args: &Args,
    shape: &ReturnShape,
    func: &Function,
    errors: &mut Errors,
) -> (Returns, Vec<String>) {
    let return_span = match &func.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => func.sig.ident.span(),
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
        // `output = []` and `()`: nothing to read, said explicitly.
        (Some(Output::Many { names, .. }), None) if names.is_empty() => (Returns::Unit, Vec::new()),
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
            let name = variable_name(lit, errors);
            (Returns::Value(ty.clone()), vec![name])
        }
        (Some(Output::Many { names, span }), Some(ty)) => {
            let outputs: Vec<String> = names.iter().map(|lit| variable_name(lit, errors)).collect();
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

/// The name in `lit`, reported if it cannot name a Python variable.
fn variable_name(lit: &LitStr, errors: &mut Errors) -> String {
    let name = lit.value();
    if !is_variable_name(&name) {
        errors.error(
            lit.span(),
            format!(
                "`{name}` is not a Python variable name; `output` names the variables to return"
            ),
        );
    }
    name
}
