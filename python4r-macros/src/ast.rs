//! The annotated function as written: attributes, signature and (empty) body.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{
    Attribute, Block, FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature, Token,
    Type, Visibility,
};

/// A function item whose body may be missing (`fn f();`), as `#[py_exec]` expects it.
pub struct Function {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// The body if one was written, `None` for `;`.
    pub body: Option<Block>,
}

impl Parse for Function {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body = if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
            None
        } else {
            Some(input.parse()?)
        };
        Ok(Function {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// How a parameter reaches Python.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Passing {
    /// `x: T`: converted from a reference to the value.
    Value,
    /// `x: &T`: converted from the reference, read-only.
    Ref,
    /// `x: &mut T`: converted writable, written back after the call.
    RefMut,
}

/// A parameter that becomes a Python variable.
pub struct Input {
    pub ident: syn::Ident,
    /// The Python variable name: `#[py(name = "...")]`, else the identifier without `r#`.
    pub name: String,
    /// The type converted: `T` for `T`, `&T` and `&mut T`.
    pub ty: Type,
    pub passing: Passing,
}

/// Whether `ty` is `Python<'_>` (any path ending in `Python`), the attached-interpreter token.
pub fn is_python_token(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Python"),
        _ => false,
    }
}

/// The referent and passing of a parameter type.
pub fn passing(ty: &Type) -> (Type, Passing) {
    match ty {
        Type::Reference(reference) if reference.mutability.is_some() => {
            ((*reference.elem).clone(), Passing::RefMut)
        }
        Type::Reference(reference) => ((*reference.elem).clone(), Passing::Ref),
        Type::Paren(paren) => passing(&paren.elem),
        Type::Group(group) => passing(&group.elem),
        other => (other.clone(), Passing::Value),
    }
}

/// What the function returns, seen through an optional `Result`.
pub enum Returns {
    /// `()` or nothing: no output is read.
    Unit,
    /// A single converted value (possibly a tuple read from one Python tuple).
    Value(Type),
    /// A tuple whose elements are read from one variable each (`output = [...]`).
    Tuple(Vec<Type>),
}

/// The return type split into its Python-facing part and whether it is a `Result`.
pub struct ReturnShape {
    /// The type of the value that comes from Python (the `T` of `Result<T>`).
    pub value: Option<Type>,
    /// `Some(span)` when the function returns `Result<T, E>`.
    pub result: Option<Span>,
}

impl ReturnShape {
    pub fn of(output: &ReturnType) -> ReturnShape {
        let ty = match output {
            ReturnType::Default => {
                return ReturnShape {
                    value: None,
                    result: None,
                };
            }
            ReturnType::Type(_, ty) => ty,
        };
        if let Type::Path(path) = ty.as_ref()
            && let Some(last) = path.path.segments.last()
            && last.ident == "Result"
            && let PathArguments::AngleBracketed(args) = &last.arguments
            && let Some(GenericArgument::Type(ok)) = args.args.first()
        {
            return ReturnShape {
                value: non_unit(ok),
                result: Some(ty.span()),
            };
        }
        ReturnShape {
            value: non_unit(ty),
            result: None,
        }
    }
}

fn non_unit(ty: &Type) -> Option<Type> {
    match ty {
        Type::Tuple(tuple) if tuple.elems.is_empty() => None,
        Type::Paren(paren) => non_unit(&paren.elem),
        other => Some(other.clone()),
    }
}

/// The parameter's identifier, if it is a plain identifier pattern (`x`, `mut x`).
pub fn plain_ident(arg: &FnArg) -> Option<&syn::Ident> {
    match arg {
        FnArg::Typed(typed) => match typed.pat.as_ref() {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                Some(&ident.ident)
            }
            _ => None,
        },
        FnArg::Receiver(_) => None,
    }
}
