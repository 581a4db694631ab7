//! Parsing of the attribute's keys (`code`, `file`, `setup`, `output`, `per_call`, `crate`) and of
//! a parameter's `#[py(name = "...")]`.

use proc_macro2::{Span, TokenStream};
use python4r_analysis::names::suggest;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Token};

/// The keys of `#[py_exec(...)]`, each with an example of its value for error messages.
const KEYS: &[(&str, &str)] = &[
    ("code", "code = \"result = x + 1\""),
    ("file", "file = \"src/double.py\""),
    ("setup", "setup = \"import math\""),
    ("output", "output = \"total\""),
    ("per_call", "per_call = [\"calls\"]"),
    ("crate", "crate = \"my_crate::python4r\""),
];

/// The keys of a parameter's `#[py(...)]`.
const PARAM_KEYS: &[(&str, &str)] = &[("name", "#[py(name = \"X\")]")];

/// The variables the function returns.
pub enum Output {
    /// `output = "name"` (or the default `result`).
    One(LitStr),
    /// `output = ["a", "b"]`, one variable per element of a returned tuple (`[]`: none).
    Many { names: Vec<LitStr>, span: Span },
}

/// The keys as written, before they are checked against each other and the signature.
#[derive(Default)]
pub struct Args {
    pub code: Option<LitStr>,
    pub file: Option<LitStr>,
    pub setup: Option<LitStr>,
    pub output: Option<Output>,
    /// `per_call = ["a", ...]`: `setup` names the code rebinds on purpose.
    pub per_call: Option<Vec<LitStr>>,
    /// `crate = "path"`: where generated code reaches python4r.
    pub krate: Option<syn::Path>,
    /// Keys that were written, even with a value that failed to parse.
    pub seen: Vec<&'static str>,
    /// Whether a key was not one of [`KEYS`] (it may be the misspelled `code`).
    pub unknown_key: bool,
}

impl Args {
    /// Parses the attribute's tokens, reporting every bad key rather than the first.
    pub fn parse(tokens: TokenStream) -> (Args, Vec<syn::Error>) {
        let mut args = Args::default();
        let mut errors = Vec::new();
        let parser = |input: ParseStream| {
            while !input.is_empty() {
                if let Err(error) = args.parse_entry(input) {
                    errors.push(error);
                    skip_entry(input);
                }
                if input.is_empty() {
                    break;
                }
                if let Err(error) = input.parse::<Token![,]>() {
                    errors.push(error);
                    skip_entry(input);
                    let _ = input.parse::<Token![,]>();
                }
            }
            Ok(())
        };
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        (args, errors)
    }

    fn parse_entry(&mut self, input: ParseStream) -> syn::Result<()> {
        // `Ident::parse_any` also takes keywords: `crate`, and mistakes such as `type`.
        let key = input.call(Ident::parse_any).map_err(|error| {
            syn::Error::new(
                error.span(),
                format!(
                    "expected a key such as `code = \"...\"`; the keys are {}",
                    list(KEYS)
                ),
            )
        })?;
        let Some(&(name, example)) = KEYS.iter().find(|(name, _)| key == name) else {
            self.unknown_key = true;
            return Err(unknown_key(&key, KEYS));
        };
        self.seen.push(name);
        input.parse::<Token![=]>()?;
        let span = key.span();
        match name {
            "code" => set_once(
                &mut self.code,
                string_value(input, name, example)?,
                name,
                span,
            ),
            "file" => set_once(
                &mut self.file,
                string_value(input, name, example)?,
                name,
                span,
            ),
            "setup" => set_once(
                &mut self.setup,
                string_value(input, name, example)?,
                name,
                span,
            ),
            "output" => set_once(&mut self.output, output_value(input)?, name, span),
            "per_call" => set_once(&mut self.per_call, per_call_value(input)?, name, span),
            "crate" => set_once(&mut self.krate, crate_value(input, example)?, name, span),
            _ => unreachable!("every key of KEYS is parsed"),
        }
    }
}

/// A parameter's `#[py(...)]` keys.
#[derive(Default)]
pub struct ParamArgs {
    /// `name = "X"`: the parameter's Python name.
    pub name: Option<LitStr>,
}

/// Whether `attr` is python4r's parameter attribute, `#[py(...)]`.
pub fn is_param_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("py")
}

impl ParamArgs {
    /// Parses a parameter's `#[py(...)]` attributes, reporting every mistake.
    pub fn parse(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> ParamArgs {
        let mut args = ParamArgs::default();
        for attr in attrs.iter().filter(|attr| is_param_attr(attr)) {
            if !matches!(attr.meta, syn::Meta::List(_)) {
                errors.push(syn::Error::new(
                    attr.span(),
                    "`#[py]` takes the parameter's Python name: `#[py(name = \"X\")]`",
                ));
                continue;
            }
            let parsed = attr.parse_nested_meta(|meta| {
                let Some(key) = meta.path.get_ident() else {
                    return Err(
                        meta.error(format!("the keys of `#[py(...)]` are {}", list(PARAM_KEYS)))
                    );
                };
                if key != "name" {
                    return Err(unknown_key(key, PARAM_KEYS));
                }
                let value = meta.value()?.parse::<Expr>()?;
                match ungroup(value) {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => set_once(&mut args.name, lit, "name", key.span()),
                    other => Err(syn::Error::new(
                        other.span(),
                        "`name` takes a string literal, the parameter's Python name: \
                         `#[py(name = \"X\")]`",
                    )),
                }
            });
            if let Err(error) = parsed {
                errors.push(error);
            }
        }
        args
    }
}

/// "`a`, `b` and `c`".
fn list(keys: &[(&str, &str)]) -> String {
    let names: Vec<String> = keys.iter().map(|(name, _)| format!("`{name}`")).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn unknown_key(key: &Ident, keys: &[(&str, &str)]) -> syn::Error {
    let written = key.unraw().to_string();
    let message = match suggest(&written, keys.iter().map(|(name, _)| *name)) {
        Some(known) => format!("unknown key `{written}`; did you mean `{known}`?"),
        None if keys.len() == 1 => {
            format!("unknown key `{written}`; the only key is {}", list(keys))
        }
        None => format!("unknown key `{written}`; the keys are {}", list(keys)),
    };
    syn::Error::new(key.span(), message)
}

fn set_once<T>(slot: &mut Option<T>, value: T, key: &str, span: Span) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("`{key}` may only be specified once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// The value without the invisible groups `macro_rules!` puts around substituted fragments.
fn ungroup(value: Expr) -> Expr {
    match value {
        Expr::Group(group) => ungroup(*group.expr),
        other => other,
    }
}

/// The string literal, or (boxed, for the error's span or another reading) what was written.
fn string_literal(value: Expr) -> Result<LitStr, Box<Expr>> {
    match ungroup(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(Box::new(other)),
    }
}

fn string_value(input: ParseStream, key: &str, example: &str) -> syn::Result<LitStr> {
    string_literal(input.parse()?).map_err(|other| {
        syn::Error::new(
            other.span(),
            format!("`{key}` takes a string literal (raw strings work too), e.g. `{example}`"),
        )
    })
}

/// `["a", "b"]`: the literals and the span of the brackets.
fn string_list(value: Expr, hint: &str) -> syn::Result<(Vec<LitStr>, Span)> {
    match ungroup(value) {
        Expr::Array(array) => {
            let span = array.bracket_token.span.join();
            let names = array
                .elems
                .into_iter()
                .map(|element| {
                    string_literal(element).map_err(|other| syn::Error::new(other.span(), hint))
                })
                .collect::<syn::Result<Vec<_>>>()?;
            Ok((names, span))
        }
        other => Err(syn::Error::new(other.span(), hint)),
    }
}

fn output_value(input: ParseStream) -> syn::Result<Output> {
    const HINT: &str = "`output` takes a variable name, `output = \"q\"`, or a list of them for a \
                        tuple return, `output = [\"q\", \"r\"]`";
    match string_literal(input.parse()?) {
        Ok(lit) => Ok(Output::One(lit)),
        Err(other) => string_list(*other, HINT).map(|(names, span)| Output::Many { names, span }),
    }
}

fn per_call_value(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    const HINT: &str = "`per_call` takes a list of the `setup` names the code rebinds on purpose, \
                        e.g. `per_call = [\"calls\"]`";
    string_list(input.parse()?, HINT).map(|(names, _)| names)
}

fn crate_value(input: ParseStream, example: &str) -> syn::Result<syn::Path> {
    let hint = format!(
        "`crate` takes, as a string, the path at which python4r is reachable, e.g. `{example}`"
    );
    let value: Expr = input.parse()?;
    let lit = string_literal(value).map_err(|other| syn::Error::new(other.span(), &hint))?;
    lit.parse_with(syn::Path::parse_mod_style)
        .map_err(|_| syn::Error::new(lit.span(), &hint))
}

/// Skips the rest of a malformed entry, up to (not including) the next top-level comma.
fn skip_entry(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            if let proc_macro2::TokenTree::Punct(punct) = &tree
                && punct.as_char() == ','
            {
                return Ok(((), rest));
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(tokens: TokenStream) -> Vec<String> {
        Args::parse(tokens)
            .1
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn all_keys_parse() {
        let (args, errors) = Args::parse(quote!(
            code = r#"x"#,
            setup = "import os",
            output = ["a", "b"],
            per_call = ["c"],
            crate = "::my::python4r",
        ));
        assert!(errors.is_empty(), "{:?}", errors);
        assert_eq!(args.code.unwrap().value(), "x");
        assert_eq!(args.setup.unwrap().value(), "import os");
        assert!(matches!(args.output, Some(Output::Many { ref names, .. }) if names.len() == 2));
        assert_eq!(args.per_call.unwrap()[0].value(), "c");
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), ":: my :: python4r");
        assert!(!args.unknown_key);
    }

    #[test]
    fn every_bad_key_is_reported() {
        let found = errors(quote!(
            cod = "x",
            code = 42,
            code = "y",
            code = "z",
            output = 1,
            per_call = "x",
            crate = "not a path",
            body = "x",
        ));
        assert_eq!(found.len(), 7, "{found:?}");
        assert_eq!(found[0], "unknown key `cod`; did you mean `code`?");
        assert!(found[1].contains("`code` takes a string literal"));
        assert!(found[2].contains("`code` may only be specified once"));
        assert!(found[3].contains("`output` takes a variable name"));
        assert!(found[4].contains("`per_call` takes a list"));
        assert!(found[5].contains("`crate` takes, as a string, the path"));
        assert_eq!(
            found[6],
            "unknown key `body`; the keys are `code`, `file`, `setup`, `output`, `per_call` and \
             `crate`"
        );
    }

    #[test]
    fn an_empty_output_list_parses() {
        let (args, errors) = Args::parse(quote!(code = "x", output = []));
        assert!(errors.is_empty());
        assert!(matches!(args.output, Some(Output::Many { ref names, .. }) if names.is_empty()));
    }

    fn param(attrs: TokenStream) -> (Option<String>, Vec<String>) {
        let param: syn::FnArg = syn::parse2(quote!(#attrs x: i64)).unwrap();
        let syn::FnArg::Typed(typed) = param else {
            unreachable!()
        };
        let mut errors = Vec::new();
        let args = ParamArgs::parse(&typed.attrs, &mut errors);
        (
            args.name.map(|lit| lit.value()),
            errors.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn a_parameter_names_itself_in_python() {
        assert_eq!(
            param(quote!(#[py(name = "X")])),
            (Some("X".to_owned()), vec![])
        );
        assert_eq!(param(quote!(#[allow(unused)])), (None, vec![]));
        let (_, errors) = param(quote!(#[py(nme = "X")]));
        assert_eq!(errors, ["unknown key `nme`; did you mean `name`?"]);
        let (_, errors) = param(quote!(#[py(alias = "X")]));
        assert_eq!(errors, ["unknown key `alias`; the only key is `name`"]);
        let (_, errors) = param(quote!(#[py(name = X)]));
        assert!(
            errors[0].starts_with("`name` takes a string literal"),
            "{errors:?}"
        );
        let (_, errors) = param(quote!(#[py(name = "X", name = "Y")]));
        assert_eq!(errors, ["`name` may only be specified once"]);
        let (_, errors) = param(quote!(#[py]));
        assert!(errors[0].starts_with("`#[py]` takes the parameter's Python name"));
    }
}
