//! Parsing of the attribute's keys: `code`, `file`, `setup` and `output`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

mod kw {
    syn::custom_keyword!(code);
    syn::custom_keyword!(file);
    syn::custom_keyword!(setup);
    syn::custom_keyword!(output);
}

/// The allowed keys, as listed in error messages.
pub const KEYS: &str = "`code`, `file`, `setup` and `output`";

/// The variables the function returns.
pub enum Output {
    /// `output = "name"` (or the default `result`).
    One(LitStr),
    /// `output = ["a", "b"]`, one variable per element of a returned tuple.
    Many { names: Vec<LitStr>, span: Span },
}

/// The keys as written, before they are checked against each other and the signature.
#[derive(Default)]
pub struct Args {
    pub code: Option<LitStr>,
    pub file: Option<LitStr>,
    pub setup: Option<LitStr>,
    pub output: Option<Output>,
    /// Keys that were written, even with a value that failed to parse.
    pub seen: Vec<&'static str>,
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
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::code) {
            let key: kw::code = input.parse()?;
            self.seen.push("code");
            let value = string_value(input, "code", "code = \"result = x + 1\"")?;
            set_once(&mut self.code, value, "code", key.span)
        } else if lookahead.peek(kw::file) {
            let key: kw::file = input.parse()?;
            self.seen.push("file");
            let value = string_value(input, "file", "file = \"src/double.py\"")?;
            set_once(&mut self.file, value, "file", key.span)
        } else if lookahead.peek(kw::setup) {
            let key: kw::setup = input.parse()?;
            self.seen.push("setup");
            let value = string_value(input, "setup", "setup = \"import math\"")?;
            set_once(&mut self.setup, value, "setup", key.span)
        } else if lookahead.peek(kw::output) {
            let key: kw::output = input.parse()?;
            self.seen.push("output");
            input.parse::<Token![=]>()?;
            let value = output_value(input)?;
            set_once(&mut self.output, value, "output", key.span)
        } else if input.peek(syn::Ident) || input.peek(Token![type]) || input.peek(Token![fn]) {
            let key: proc_macro2::TokenTree = input.parse()?;
            Err(syn::Error::new(
                key.span(),
                format!("unknown key `{key}`; the keys are {KEYS}"),
            ))
        } else {
            Err(lookahead.error())
        }
    }
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

fn string_value(input: ParseStream, key: &str, example: &str) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    let value = ungroup(input.parse()?);
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes a string literal (raw strings work too), e.g. `{example}`"),
        )),
    }
}

fn output_value(input: ParseStream) -> syn::Result<Output> {
    const HINT: &str = "`output` takes a variable name, `output = \"q\"`, or a list of them for a \
                        tuple return, `output = [\"q\", \"r\"]`";
    let value = ungroup(input.parse()?);
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Output::One(lit)),
        Expr::Array(array) => {
            let span = array.bracket_token.span.join();
            let mut names = Vec::new();
            for element in array.elems {
                match ungroup(element) {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => names.push(lit),
                    other => return Err(syn::Error::new(other.span(), HINT)),
                }
            }
            Ok(Output::Many { names, span })
        }
        other => Err(syn::Error::new(other.span(), HINT)),
    }
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
        ));
        assert!(errors.is_empty());
        assert_eq!(args.code.unwrap().value(), "x");
        assert_eq!(args.setup.unwrap().value(), "import os");
        assert!(matches!(args.output, Some(Output::Many { ref names, .. }) if names.len() == 2));
    }

    #[test]
    fn every_bad_key_is_reported() {
        let found = errors(quote!(
            cod = "x",
            code = 42,
            code = "y",
            code = "z",
            output = 1
        ));
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("unknown key `cod`"));
        assert!(found[1].contains("`code` takes a string literal"));
        assert!(found[2].contains("`code` may only be specified once"));
        assert!(found[3].contains("`output` takes a variable name"));
    }
}
