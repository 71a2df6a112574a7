//! Reply types of the spec as Rust: the static `ReplyShape` the runtime normalizes replies with,
//! and the output type a reply converts into.

use proc_macro2::TokenStream;
use quote::quote;

use crate::reply::ReplyType;

/// The most elements a tuple output may have (the runtime's `FromValue` tuples stop at 12);
/// longer tuples come out as `Value`.
const MAX_TUPLE: usize = 12;

/// A `ReplyShape` constant expression for `ty` (usable in a `static`).
pub(crate) fn shape(ty: &ReplyType) -> TokenStream {
    let list = |items: &[ReplyType]| {
        let items = items.iter().map(shape);
        quote!(&[#(#items),*])
    };
    match ty {
        ReplyType::Ok => quote!(crate::shape::ReplyShape::Ok),
        ReplyType::Status => quote!(crate::shape::ReplyShape::Status),
        ReplyType::Integer => quote!(crate::shape::ReplyShape::Integer),
        ReplyType::Double => quote!(crate::shape::ReplyShape::Double),
        ReplyType::Float => quote!(crate::shape::ReplyShape::Float),
        ReplyType::Bool => quote!(crate::shape::ReplyShape::Bool),
        ReplyType::Bulk => quote!(crate::shape::ReplyShape::Bulk),
        ReplyType::Text => quote!(crate::shape::ReplyShape::Text),
        ReplyType::Nil => quote!(crate::shape::ReplyShape::Nil),
        ReplyType::Any => quote!(crate::shape::ReplyShape::Any),
        ReplyType::Optional(inner) => {
            let inner = shape(inner);
            quote!(crate::shape::ReplyShape::Optional(&#inner))
        }
        ReplyType::Array(inner) => {
            let inner = shape(inner);
            quote!(crate::shape::ReplyShape::Array(&#inner))
        }
        ReplyType::Set(inner) => {
            let inner = shape(inner);
            quote!(crate::shape::ReplyShape::Set(&#inner))
        }
        ReplyType::Map(k, v) => {
            let (k, v) = (shape(k), shape(v));
            quote!(crate::shape::ReplyShape::Map(&#k, &#v))
        }
        ReplyType::Pairs(k, v) => {
            let (k, v) = (shape(k), shape(v));
            quote!(crate::shape::ReplyShape::Pairs(&#k, &#v))
        }
        ReplyType::Flat(k, v) => {
            let (k, v) = (shape(k), shape(v));
            quote!(crate::shape::ReplyShape::Flat(&#k, &#v))
        }
        ReplyType::Tuple(items) => {
            let items = list(items);
            quote!(crate::shape::ReplyShape::Tuple(#items))
        }
        ReplyType::OneOf(items) => {
            let items = list(items);
            quote!(crate::shape::ReplyShape::OneOf(#items))
        }
        ReplyType::Push(items) => {
            let items = list(items);
            quote!(crate::shape::ReplyShape::Push(#items))
        }
    }
}

/// The Rust output type of `ty`: `ok`/`nil` → `()`, `status`/`text` → `String`, `integer` →
/// `i64`, `double`/`float` → `f64`, `bool`, `bulk` → `Bytes`, `any`/`oneof` → `Value`, `T?` →
/// `Option<T>`, `array`/`set` → `Vec`, `map` → `HashMap` when the key is `bulk`, `text`,
/// `status` or `integer` (else `Vec` of pairs), `pairs`/`flat` → `Vec` of pairs,
/// `tuple`/`push` → a tuple (up to 12 elements, else `Value`).
pub(crate) fn rust(ty: &ReplyType) -> TokenStream {
    match ty {
        ReplyType::Ok | ReplyType::Nil => quote!(()),
        ReplyType::Status | ReplyType::Text => quote!(String),
        ReplyType::Integer => quote!(i64),
        ReplyType::Double | ReplyType::Float => quote!(f64),
        ReplyType::Bool => quote!(bool),
        ReplyType::Bulk => quote!(bytes::Bytes),
        ReplyType::Any | ReplyType::OneOf(_) => quote!(crate::Value),
        ReplyType::Optional(inner) => {
            let inner = rust(inner);
            quote!(Option<#inner>)
        }
        ReplyType::Array(inner) | ReplyType::Set(inner) => {
            let inner = rust(inner);
            quote!(Vec<#inner>)
        }
        ReplyType::Map(k, v) if hashable(k) => {
            let (k, v) = (rust(k), rust(v));
            quote!(std::collections::HashMap<#k, #v>)
        }
        ReplyType::Map(k, v) | ReplyType::Pairs(k, v) | ReplyType::Flat(k, v) => {
            let (k, v) = (rust(k), rust(v));
            quote!(Vec<(#k, #v)>)
        }
        ReplyType::Tuple(items) | ReplyType::Push(items) if items.len() <= MAX_TUPLE => {
            let items = items.iter().map(rust);
            if items.len() == 1 {
                quote!((#(#items,)*))
            } else {
                quote!((#(#items),*))
            }
        }
        ReplyType::Tuple(_) | ReplyType::Push(_) => quote!(crate::Value),
    }
}

/// Map keys that become `HashMap` keys.
fn hashable(key: &ReplyType) -> bool {
    matches!(
        key,
        ReplyType::Bulk | ReplyType::Text | ReplyType::Status | ReplyType::Integer
    )
}
