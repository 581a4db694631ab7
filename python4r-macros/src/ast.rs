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
    /// Set when the parameter is a Rust function that Python calls.
    pub function: Option<FnParam>,
}

/// Who may call a Rust function lent to Python, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    /// `&dyn Fn`, `impl Fn`: from the lending thread, re-entrantly.
    Local,
    /// `&(dyn Fn + Sync)`, `impl Fn + Sync`: from any thread.
    Sync,
    /// `&mut dyn FnMut`, `impl FnMut`: one call at a time, from the lending thread.
    Mut,
}

/// A parameter of type `&dyn Fn(A, ..) -> R` (or one of its forms), recognised by its syntax.
pub struct FnParam {
    pub kind: FnKind,
    /// Each argument as written, and the type converted from Python (`T` for `&T`, `String`
    /// for `&str`, `Vec<T>` for `&[T]`) with whether it is passed by reference.
    pub args: Vec<FnArgType>,
    /// The `T` of `-> T` or `-> Result<T>`; `None` for `()`.
    pub output: Option<Type>,
    /// The return type is a `Result`.
    pub result: bool,
    /// `impl Fn` (owned, called as `f(..)`) rather than a reference to one (`(*f)(..)`).
    pub owned: bool,
}

/// An argument of a Rust function lent to Python.
pub struct FnArgType {
    /// The type extracted from the Python argument.
    pub owned: Type,
    /// Whether the function takes it by reference.
    pub by_ref: bool,
}

/// The closure parameter `ty` stands for, if its syntax is one: `None` for any other type,
/// `Some(Err)` for a closure type that cannot be lent (`FnOnce`, `&dyn FnMut`, `&mut` arguments).
pub fn closure_type(ty: &Type) -> Option<syn::Result<FnParam>> {
    let (bounds, reference) = match ty {
        Type::Paren(paren) => return closure_type(&paren.elem),
        Type::Group(group) => return closure_type(&group.elem),
        Type::ImplTrait(imp) => (&imp.bounds, None),
        Type::Reference(reference) => match strip(&reference.elem) {
            Type::TraitObject(object) => (&object.bounds, Some(reference.mutability.is_some())),
            Type::ImplTrait(imp) => (&imp.bounds, Some(reference.mutability.is_some())),
            _ => return None,
        },
        _ => return None,
    };
    let mut family = None;
    let mut sync = false;
    for bound in bounds {
        let syn::TypeParamBound::Trait(trait_bound) = bound else {
            continue;
        };
        let Some(last) = trait_bound.path.segments.last() else {
            continue;
        };
        match (last.ident.to_string().as_str(), &last.arguments) {
            ("Fn" | "FnMut" | "FnOnce", PathArguments::Parenthesized(args)) => {
                family = Some((last.ident.clone(), args.clone()));
            }
            ("Sync", _) => sync = true,
            _ => {}
        }
    }
    let (family, args) = family?;
    Some(fn_param(ty, &family, &args, sync, reference))
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(paren) => strip(&paren.elem),
        Type::Group(group) => strip(&group.elem),
        other => other,
    }
}

fn fn_param(
    ty: &Type,
    family: &syn::Ident,
    args: &syn::ParenthesizedGenericArguments,
    sync: bool,
    reference: Option<bool>,
) -> syn::Result<FnParam> {
    let kind = match (family.to_string().as_str(), reference) {
        ("FnOnce", _) => {
            return Err(syn::Error::new(
                family.span(),
                "an `FnOnce` cannot be passed to Python: Python may call a function any number \
                 of times; take `&dyn Fn(..)` or `&mut dyn FnMut(..)`",
            ));
        }
        ("FnMut", Some(false)) => {
            return Err(syn::Error::new_spanned(
                ty,
                "an `FnMut` behind `&` cannot be called; take `&mut dyn FnMut(..)`, or \
                 `&dyn Fn(..)` if it needs no `mut`",
            ));
        }
        ("FnMut", _) => FnKind::Mut,
        _ if sync => FnKind::Sync,
        _ => FnKind::Local,
    };
    let mut arg_types = Vec::new();
    for arg in &args.inputs {
        arg_types.push(fn_arg(arg)?);
    }
    let (output, result) = match &args.output {
        ReturnType::Default => (None, false),
        output => {
            let shape = ReturnShape::of(output);
            (shape.value, shape.result.is_some())
        }
    };
    Ok(FnParam {
        kind,
        args: arg_types,
        output,
        result,
        owned: reference.is_none(),
    })
}

fn fn_arg(ty: &Type) -> syn::Result<FnArgType> {
    let Type::Reference(reference) = strip(ty) else {
        return Ok(FnArgType {
            owned: ty.clone(),
            by_ref: false,
        });
    };
    if reference.mutability.is_some() {
        return Err(syn::Error::new_spanned(
            ty,
            "a Rust function called from Python cannot take `&mut` arguments: Python's values \
             are shared; take `&T` or `T`",
        ));
    }
    let owned = match strip(&reference.elem) {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            syn::parse_quote!(::std::string::String)
        }
        Type::Slice(slice) => {
            let elem = &slice.elem;
            syn::parse_quote!(::std::vec::Vec<#elem>)
        }
        other => other.clone(),
    };
    Ok(FnArgType {
        owned,
        by_ref: true,
    })
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
