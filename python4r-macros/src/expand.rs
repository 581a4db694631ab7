//! Generates the function body: conversions, the cached Python function, and output extraction.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, Ident};

use crate::ast::{Function, Passing, Returns};
use crate::valid::{Checked, Code};

fn hidden(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
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

fn code_tokens(code: &Code) -> TokenStream {
    let indented = code.indented;
    match &code.path {
        None => {
            let lit = &code.lit;
            let span = lit.span();
            let file = quote_spanned!(span=> ::core::file!());
            let line = quote_spanned!(span=> ::core::line!());
            quote! {
                ::python4r::__private::Code {
                    text: #lit,
                    file: #file,
                    line: #line,
                    indented: #indented,
                }
            }
        }
        Some(path) => quote! {
            ::python4r::__private::Code {
                text: ::core::include_str!(#path),
                file: #path,
                line: 1,
                indented: #indented,
            }
        },
    }
}

/// The function with its generated body.
pub fn expand(func: &Function, checked: &Checked) -> TokenStream {
    let Checked {
        py_token,
        inputs,
        returns,
        result,
        outputs,
        code,
        setup,
        module_frame,
    } = checked;
    let Function {
        attrs, vis, sig, ..
    } = func;

    let state = hidden("__PYTHON4R_FUNCTION");
    let py = hidden("__py");
    let call = hidden("__call");
    let outs = hidden("__outputs");
    let outcome = hidden("__outcome");
    let value = hidden("__value");
    let error = hidden("__error");

    let fn_name = sig.ident.unraw().to_string();
    let code = code_tokens(code);
    let setup = match setup {
        Some(setup) => {
            let setup = code_tokens(setup);
            quote!(::core::option::Option::Some(#setup))
        }
        None => quote!(::core::option::Option::None),
    };
    let input_names = inputs.iter().map(|input| &input.name);

    // Conversions: shared inputs first, then writable ones, which must be released again
    // (`after_call`) whatever happens next.
    let mut converts = Vec::new();
    let mut args = Vec::new();
    let mut muts: Vec<(TokenStream, Ident, String)> = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let ident = &input.ident;
        let name = &input.name;
        let ty = &input.ty;
        let obj = numbered("__arg", index);
        args.push(obj.clone());
        let with_variable =
            quote!(|#error: ::python4r::__private::Error| #error.with_variable(#name));
        match input.passing {
            Passing::Value | Passing::Ref => {
                let reference = if input.passing == Passing::Value {
                    quote!(&#ident)
                } else {
                    quote!(#ident)
                };
                let convert = quote_spanned! {ty.span()=>
                    <#ty as ::python4r::__private::Input>::to_python
                };
                converts.push(quote! {
                    let #obj = ::core::result::Result::map_err(#convert(#reference, #py), #with_variable)?;
                });
            }
            Passing::RefMut => {
                let trait_path = quote_spanned! {ty.span()=>
                    <#ty as ::python4r::__private::InputMut>
                };
                muts.push((trait_path, obj, name.clone()));
                let _ = ident;
            }
        }
    }
    let mut_inputs: Vec<_> = inputs
        .iter()
        .enumerate()
        .filter(|(_, input)| input.passing == Passing::RefMut)
        .collect();
    for (position, ((trait_path, obj, name), (_, input))) in
        muts.iter().zip(mut_inputs.iter()).enumerate()
    {
        let ident = &input.ident;
        let release = muts[..position].iter().zip(mut_inputs.iter()).map(
            |((earlier_trait, earlier_obj, _), (_, earlier))| {
                let earlier_ident = &earlier.ident;
                quote! {
                    let _ = #earlier_trait::after_call(&mut *#earlier_ident, &#earlier_obj);
                }
            },
        );
        converts.push(quote! {
            let #obj = match #trait_path::to_python_mut(&mut *#ident, #py) {
                ::core::result::Result::Ok(#obj) => #obj,
                ::core::result::Result::Err(#error) => {
                    #(#release)*
                    return ::core::result::Result::Err(#error.with_variable(#name));
                }
            };
        });
    }
    let releases: Vec<_> = muts
        .iter()
        .zip(mut_inputs.iter())
        .enumerate()
        .map(|(position, ((trait_path, obj, name), (_, input)))| {
            let ident = &input.ident;
            let done = numbered("__released", position);
            quote! {
                let #done = ::core::result::Result::map_err(
                    #trait_path::after_call(&mut *#ident, &#obj),
                    |#error: ::python4r::__private::Error| #error.with_variable(#name),
                );
            }
        })
        .collect();
    let released: Vec<_> = (0..muts.len())
        .map(|position| numbered("__released", position))
        .collect();

    // Each output as a `Result`, its conversion error naming the variable.
    let extract = |ty: &syn::Type, index: usize, name: &str| {
        let from = quote_spanned! {ty.span()=>
            <#ty as ::python4r::__private::Output>::from_python
        };
        quote! {
            ::core::result::Result::map_err(
                #from(&::python4r::__private::output(&#outs, #index)),
                |#error: ::python4r::__private::Error| #error.with_variable(#name),
            )
        }
    };
    let produce = match returns {
        Returns::Unit => quote!(::core::result::Result::Ok(())),
        Returns::Value(ty) => extract(ty, 0, &outputs[0]),
        Returns::Tuple(types) => {
            let elements = types
                .iter()
                .zip(outputs)
                .enumerate()
                .map(|(index, (ty, name))| extract(ty, index, name));
            quote!(::core::result::Result::Ok((#(#elements?,)*)))
        }
    };

    let run = match py_token {
        Some(token) => quote!(#call(#token)),
        None => quote!(::python4r::__private::with_gil(#call)),
    };
    let finish = match result {
        Some(span) => quote_spanned! {*span=>
            ::core::result::Result::map_err(#outcome, ::core::convert::From::from)
        },
        None => quote! {
            match #outcome {
                ::core::result::Result::Ok(#value) => #value,
                ::core::result::Result::Err(#error) => ::python4r::__private::fail(#fn_name, #error),
            }
        },
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            static #state: ::python4r::__private::PyFunction =
                ::python4r::__private::PyFunction::new(::python4r::__private::Spec {
                    name: #fn_name,
                    module: ::core::module_path!(),
                    code: #code,
                    setup: #setup,
                    inputs: &[#(#input_names),*],
                    outputs: &[#(#outputs),*],
                    module_frame: #module_frame,
                });
            let #call = |#py: ::python4r::__private::Python<'_>| -> ::python4r::__private::Result<_> {
                #(#converts)*
                let #outcome = (|| -> ::python4r::__private::Result<_> {
                    let #outs = #state.call(#py, &[#(&#args),*])?;
                    #produce
                })();
                #(#releases)*
                let #value = #outcome?;
                #(#released?;)*
                ::core::result::Result::Ok(#value)
            };
            let #outcome = #run;
            #finish
        }
    }
}
