//! The `routing` field of each `meta.rs` entry: the runtime's `Routing` value built from
//! [`crate::routing`] (key specs, request and response policies, the named special handler).

use heck::ToUpperCamelCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::routing::{self, Begin, Find, Keys, Request, Response};
use crate::spec::Command;

/// The `Routing { … }` expression of `command` (`Routing::DEFAULT` for a keyless command
/// without tips).
pub(super) fn routing(command: &Command) -> Result<TokenStream, String> {
    let keys = routing::keys(command)?;
    let policies = routing::policies(command)?;
    let special =
        match (routing::special(command), policies.is_special()) {
            (Some(name), true) if routing::SPECIAL_HANDLERS.contains(&name) => {
                let variant = format_ident!("{}", name.to_upper_camel_case());
                Some(quote!(Special::#variant))
            }
            (None, false) => None,
            _ => return Err(
                "rust.cluster_special must name a known handler exactly when a tip says `special`"
                    .into(),
            ),
        };
    if keys.is_empty()
        && policies.request == Request::ByKey
        && policies.response == Response::Default
    {
        return Ok(quote!(Routing::DEFAULT));
    }
    let request = match policies.request {
        Request::ByKey => quote!(RequestPolicy::ByKey),
        Request::AllNodes => quote!(RequestPolicy::AllNodes),
        Request::AllShards => quote!(RequestPolicy::AllShards),
        Request::MultiShard => quote!(RequestPolicy::MultiShard),
        Request::Special => quote!(RequestPolicy::Special(#special)),
    };
    let response = match policies.response {
        Response::Default => quote!(ResponsePolicy::Default),
        Response::AllSucceeded => quote!(ResponsePolicy::AllSucceeded),
        Response::OneSucceeded => quote!(ResponsePolicy::OneSucceeded),
        Response::AggLogicalAnd => quote!(ResponsePolicy::AggLogicalAnd),
        Response::AggLogicalOr => quote!(ResponsePolicy::AggLogicalOr),
        Response::AggMin => quote!(ResponsePolicy::AggMin),
        Response::AggMax => quote!(ResponsePolicy::AggMax),
        Response::AggSum => quote!(ResponsePolicy::AggSum),
        Response::Special => quote!(ResponsePolicy::Special(#special)),
    };
    let keys = keys
        .iter()
        .map(key_spec)
        .collect::<Result<Vec<_>, String>>()?;
    Ok(quote! {
        Routing {
            keys: &[#(#keys),*],
            request: #request,
            response: #response,
        }
    })
}

fn key_spec(keys: &Keys) -> Result<TokenStream, String> {
    let usize_of = |n: i64, what: &str| {
        usize::try_from(n)
            .map(Literal::usize_unsuffixed)
            .map_err(|_| format!("key_specs: {what} {n} is negative"))
    };
    let i32_of = |n: i64, what: &str| {
        i32::try_from(n)
            .map(Literal::i32_unsuffixed)
            .map_err(|_| format!("key_specs: {what} {n} is out of range"))
    };
    let begin = match &keys.begin {
        Begin::Index(index) => {
            let index = usize_of(*index, "begin_search index")?;
            quote!(BeginSearch::Index(#index))
        }
        Begin::Keyword { keyword, startfrom } => {
            let startfrom = i32_of(*startfrom, "startfrom")?;
            quote!(BeginSearch::Keyword { keyword: #keyword, startfrom: #startfrom })
        }
        Begin::Token { token, from, skip } => {
            let from = Literal::usize_unsuffixed(*from);
            let skip = skip.iter().map(|(word, n)| {
                let n = Literal::usize_unsuffixed(*n);
                quote!((#word, #n))
            });
            quote!(BeginSearch::Token { token: #token, from: #from, skip: &[#(#skip),*] })
        }
        Begin::FromData => quote!(BeginSearch::FromData),
    };
    let find = match &keys.find {
        Find::Range {
            lastkey,
            step,
            limit,
        } => {
            let lastkey = i32_of(*lastkey, "lastkey")?;
            let step = usize_of(*step, "keystep")?;
            let limit = usize_of(*limit, "limit")?;
            quote!(FindKeys::Range { lastkey: #lastkey, step: #step, limit: #limit })
        }
        Find::Keynum {
            keynumidx,
            firstkey,
            step,
        } => {
            let keynumidx = usize_of(*keynumidx, "keynumidx")?;
            let firstkey = usize_of(*firstkey, "firstkey")?;
            let step = usize_of(*step, "keystep")?;
            quote!(FindKeys::Keynum { keynumidx: #keynumidx, firstkey: #firstkey, step: #step })
        }
    };
    let not_key = keys.not_key;
    let absent_if = match &keys.absent_if {
        Some(word) => quote!(Some(#word)),
        None => quote!(None),
    };
    Ok(quote! {
        KeySpec { begin: #begin, find: #find, not_key: #not_key, absent_if: #absent_if }
    })
}
