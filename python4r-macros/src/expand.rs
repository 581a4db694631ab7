//! Generates the function body: conversions, the cached Python function, and output extraction.
//!
//! Generated code reaches python4r only through `<crate>::__private` (`::python4r` unless the
//! attribute says `crate = "..."`), and names its own variables with `Span::mixed_site()`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Signature};

use crate::ast::{FnKind, FnParam, Function, Input, Passing, Returns};
use crate::attr::is_param_attr;
use crate::valid::python::Code;
use crate::valid::{Checked, Warning};

fn hidden(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// `tokens` with every span moved to where `span` is, keeping each token's hygiene.
fn located_at(tokens: TokenStream, span: Span) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let mut moved = Group::new(group.delimiter(), located_at(group.stream(), span));
                moved.set_span(group.span().located_at(span));
                TokenTree::Group(moved)
            }
            mut other => {
                other.set_span(other.span().located_at(span));
                other
            }
        })
        .collect()
}

fn numbered(prefix: &str, index: usize) -> Ident {
    format_ident!("{}{}", prefix, index, span = Span::mixed_site())
}

/// The function with a body that never runs, emitted beside `compile_error!` so that one mistake
/// does not cascade into errors at every call site.
pub fn stub(func: &Function, errors: syn::Error) -> TokenStream {
    let Function {
        attrs, vis, sig, ..
    } = func;
    let mut sig = sig.clone();
    sig.variadic = None;
    sig.asyncness = None;
    sig.constness = None;
    for arg in sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = arg {
            typed.attrs.clear();
        }
    }
    let errors = errors.to_compile_error();
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables, clippy::diverging_sub_expression)]
        #vis #sig {
            ::core::unreachable!("`#[py_exec]` reported a compile error for this function")
        }
    }
}

/// The signature as written, without the `#[py(...)]` attributes of its parameters.
fn signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    for arg in sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = arg {
            typed.attrs.retain(|attr| !is_param_attr(attr));
        }
    }
    sig
}

fn code_tokens(krate: &syn::Path, code: &Code) -> TokenStream {
    let indented = code.indented;
    match &code.path {
        None => {
            let lit = &code.lit;
            let span = lit.span();
            let file = quote_spanned!(span=> ::core::file!());
            let line = quote_spanned!(span=> ::core::line!());
            quote! {
                #krate::__private::Code {
                    text: #lit,
                    file: #file,
                    line: #line,
                    indented: #indented,
                }
            }
        }
        Some(path) => quote! {
            #krate::__private::Code {
                text: ::core::include_str!(#path),
                file: #path,
                line: 1,
                indented: #indented,
            }
        },
    }
}

/// The function's compile-time description, `__private::Spec`.
fn spec(func: &Function, checked: &Checked) -> TokenStream {
    let krate = &checked.krate;
    let fn_name = func.sig.ident.unraw().to_string();
    let code = code_tokens(krate, &checked.code);
    let setup = match &checked.setup {
        Some(setup) => {
            let setup = code_tokens(krate, setup);
            quote!(::core::option::Option::Some(#setup))
        }
        None => quote!(::core::option::Option::None),
    };
    let inputs = checked.inputs.iter().map(|input| &input.name);
    let outputs = &checked.outputs;
    let module_frame = checked.module_frame;
    quote! {
        #krate::__private::Spec {
            name: #fn_name,
            module: ::core::module_path!(),
            code: #code,
            setup: #setup,
            inputs: &[#(#inputs),*],
            outputs: &[#(#outputs),*],
            module_frame: #module_frame,
        }
    }
}

/// The conversions of the parameters, each bound to a hidden variable, and the expressions that
/// pass them to the call in parameter order. Shared parameters convert first; `&mut` ones are
/// lent through a guard (`__private::Lent`) that releases them again whatever happens next.
struct Conversions {
    statements: Vec<TokenStream>,
    arguments: Vec<TokenStream>,
    /// The guards of the `&mut` parameters.
    lent: Vec<Ident>,
    /// The Rust functions lent to Python: each wraps the call (`__private::lend_fn`).
    functions: Vec<Lending>,
    /// Statements before the call closure (an owned `impl Fn` moved into a binding).
    outside: Vec<TokenStream>,
}

/// One Rust function parameter lent to Python for the call.
struct Lending {
    /// The `__private` function that lends it (`lend_fn`, `lend_sync`, `lend_mut`).
    lend: &'static str,
    name: String,
    /// The callable's variable inside the lending.
    callable: Ident,
    /// The closure Python calls: arguments tuple in, object out.
    adapter: TokenStream,
}

/// The closure Python calls for the Rust function `callee` (an expression that can be called):
/// checks the arity, converts each argument (`__private::Conv`, as parameters do, located at
/// its type), calls, and converts the value returned.
fn adapter(krate: &syn::Path, function: &FnParam, callee: TokenStream, name: &str) -> TokenStream {
    let args = hidden("__args");
    let py = hidden("__py");
    let error = hidden("__error");
    let value = hidden("__value");
    let count = function.args.len();
    let mut extracts = Vec::new();
    let mut passed = Vec::new();
    for (index, arg) in function.args.iter().enumerate() {
        let var = numbered("__a", index);
        let owned = &arg.owned;
        let extract = located_at(
            quote!((&#krate::__private::Conv::<#owned>::new()).argument(&#krate::__private::argument(#args, #index)?)),
            owned.span(),
        );
        extracts.push(quote! {
            let #var = ::core::result::Result::map_err(
                #extract,
                |#error: #krate::__private::Error| #krate::__private::argument_error(#py, #error, #name, #index),
            )?;
        });
        passed.push(if arg.by_ref {
            quote!(&#var)
        } else {
            quote!(#var)
        });
    }
    let unwrap = if function.result {
        quote!(let #value = #value?;)
    } else {
        quote!()
    };
    let give = match &function.output {
        None => quote!(#krate::__private::none(#py)),
        Some(ty) => {
            let convert = located_at(
                quote!((&#krate::__private::Conv::<#ty>::new()).to_python(&#value, #py)),
                ty.span(),
            );
            quote! {
                ::core::result::Result::map_err(
                    ::core::result::Result::map(#convert, #krate::__private::Bound::unbind),
                    |#error: #krate::__private::Error| #krate::__private::return_error(#py, #error, #name),
                )
            }
        }
    };
    quote! {
        |#args| {
            let #py = #args.py();
            #krate::__private::check_arity(#args, #count, #name)?;
            #(#extracts)*
            #[allow(clippy::let_unit_value)]
            let #value = (#callee)(#(#passed),*);
            #unwrap
            #give
        }
    }
}

fn conversions(checked: &Checked, py: &Ident) -> Conversions {
    let krate = &checked.krate;
    let error = hidden("__error");
    let mut shared = Vec::new();
    let mut writable = Vec::new();
    let mut arguments = Vec::new();
    let mut lent = Vec::new();
    let mut functions = Vec::new();
    let mut outside = Vec::new();
    for (index, input) in checked.inputs.iter().enumerate() {
        let Input {
            ident, name, ty, ..
        } = input;
        if let Some(function) = &input.function {
            let callable = numbered("__fn", index);
            let callee = if function.owned {
                let own = numbered("__own", index);
                outside.push(quote! {
                    #[allow(unused_mut)]
                    let mut #own = #ident;
                });
                quote!(#own)
            } else {
                quote!(*#ident)
            };
            let lend = match function.kind {
                FnKind::Local => "lend_fn",
                FnKind::Sync => "lend_sync",
                FnKind::Mut => "lend_mut",
            };
            functions.push(Lending {
                lend,
                name: name.clone(),
                callable: callable.clone(),
                adapter: adapter(krate, function, callee, name),
            });
            arguments.push(quote!(#callable));
            continue;
        }
        match input.passing {
            Passing::Value | Passing::Ref => {
                let arg = numbered("__arg", index);
                let reference = match input.passing {
                    Passing::Value => quote!(&#ident),
                    _ => quote!(#ident),
                };
                // python4r's own conversion of the type if it has one, else pyo3's traits
                // (`__private::Conv`), every token located at the type, where an error about
                // the type belongs (hygiene unchanged).
                let convert = located_at(
                    quote!((&#krate::__private::Conv::<#ty>::new()).to_python(#reference, #py)),
                    ty.span(),
                );
                shared.push(quote! {
                    let #arg = ::core::result::Result::map_err(
                        #convert,
                        |#error: #krate::__private::Error| #krate::__private::with_variable(#error, #name),
                    )?;
                });
                arguments.push(quote!(&#arg));
            }
            Passing::RefMut => {
                let guard = numbered("__lent", index);
                let lend = quote_spanned! {ty.span()=>
                    <#ty as #krate::__private::InputMut>::lend
                };
                writable.push(quote! {
                    let #guard = #lend(&mut *#ident, #py, #name)?;
                });
                arguments.push(quote!(#guard.object()));
                lent.push(guard);
            }
        }
    }
    shared.extend(writable);
    Conversions {
        statements: shared,
        arguments,
        lent,
        functions,
        outside,
    }
}

/// The function's value from the call's outputs, as a `Result` whose error names the variable.
fn produce(checked: &Checked, outs: &Ident) -> TokenStream {
    let krate = &checked.krate;
    let error = hidden("__error");
    // A single output is the call's value itself (`FunctionState::call_one`).
    let single = matches!(checked.returns, Returns::Value(_));
    let extract = |ty: &syn::Type, index: usize, name: &str| {
        let output = if single {
            quote!(&#outs)
        } else {
            quote!(&#krate::__private::output(&#outs, #index))
        };
        let from = located_at(
            quote!((&#krate::__private::Conv::<#ty>::new()).extract(#output)),
            ty.span(),
        );
        quote! {
            ::core::result::Result::map_err(
                #from,
                |#error: #krate::__private::Error| #krate::__private::with_variable(#error, #name),
            )
        }
    };
    match &checked.returns {
        Returns::Unit => quote!(::core::result::Result::Ok(())),
        Returns::Value(ty) => extract(ty, 0, &checked.outputs[0]),
        Returns::Tuple(types) => {
            let elements = types
                .iter()
                .zip(&checked.outputs)
                .enumerate()
                .map(|(index, (ty, name))| extract(ty, index, name));
            quote!(::core::result::Result::Ok((#(#elements?,)*)))
        }
    }
}

/// Turns the call's `Result` into the function's return: returned as it is (converted into the
/// user's error type), or a panic naming the function.
fn finish(func: &Function, checked: &Checked, outcome: &Ident) -> TokenStream {
    let krate = &checked.krate;
    let fn_name = func.sig.ident.unraw().to_string();
    let value = hidden("__value");
    let error = hidden("__error");
    match checked.result {
        Some(span) => quote_spanned! {span=>
            ::core::result::Result::map_err(#outcome, ::core::convert::From::from)
        },
        None => quote! {
            match #outcome {
                ::core::result::Result::Ok(#value) => #value,
                ::core::result::Result::Err(#error) => #krate::__private::fail(#fn_name, #error),
            }
        },
    }
}

/// Each warning as the use of a deprecated constant at the warning's span: the one warning a
/// stable proc macro can emit (the technique of the `proc-macro-warning` crate).
fn warnings(warnings: &[Warning]) -> TokenStream {
    let each = warnings.iter().map(|Warning { span, message }| {
        let name = Ident::new("py_exec_warning", *span);
        quote! {
            {
                #[deprecated(note = #message)]
                #[allow(non_upper_case_globals)]
                const #name: () = ();
                let _ = #name;
            }
        }
    });
    quote!(#(#each)*)
}

/// The function with its generated body.
pub fn expand(func: &Function, checked: &Checked) -> TokenStream {
    let krate = &checked.krate;
    let state = hidden("__PYTHON4R_FUNCTION");
    let py = hidden("__py");
    let call = hidden("__call");
    let outs = hidden("__outputs");
    let outcome = hidden("__outcome");

    let spec = spec(func, checked);
    let Conversions {
        statements,
        arguments,
        lent,
        functions,
        outside,
    } = conversions(checked, &py);
    let produce = produce(checked, &outs);
    let call_method = match checked.returns {
        Returns::Value(_) => quote!(call_one),
        _ => quote!(call),
    };
    let run = match &checked.py_token {
        Some(token) => quote!(#krate::__private::with_token(#token, #call)),
        None => quote!(#krate::__private::with_gil(#call)),
    };
    let mut lent_call = quote! {
        (|| -> #krate::__private::Result<_> {
            let #outs = #state.#call_method(#py, &[#(#arguments),*])?;
            #produce
        })()
    };
    for Lending {
        lend,
        name,
        callable,
        adapter,
    } in functions.iter().rev()
    {
        let lend = Ident::new(lend, Span::call_site());
        lent_call = quote! {
            #krate::__private::#lend(#py, #name, #adapter, |#callable| #lent_call)
        };
    }
    let finish = finish(func, checked, &outcome);
    let warnings = warnings(&checked.warnings);
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = signature(&func.sig);

    quote! {
        #(#attrs)*
        #vis #sig {
            #warnings
            #[allow(unused_imports)]
            use #krate::__private::{
                NativeArgument as _, NativeInput as _, NativeOutput as _, Pyo3Argument as _,
                Pyo3Input as _, Pyo3Output as _,
            };
            static #state: #krate::__private::FunctionState = #krate::__private::FunctionState::new(#spec);
            #(#outside)*
            let #call = |#py: #krate::__private::Python<'_>| -> #krate::__private::Result<_> {
                #(#statements)*
                let #outcome = #lent_call;
                #krate::__private::after_release(#outcome, [#(#lent.release()),*])
            };
            let #outcome = #run;
            #finish
        }
    }
}
