//! The types members are stored as and accepted as, and the conversions between them.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{field_init, ident, local, Emitter};
use crate::generate::layout::{EnumLayout, Member, Payload, Repr};
use crate::generate::model::Scalar;

impl Emitter<'_> {
    /// The stored type.
    pub(super) fn ty(&self, r: &Repr) -> TokenStream {
        match r {
            Repr::Generic(g) => {
                let g = ident(g);
                quote!(#g)
            }
            Repr::Arg => quote!(crate::command::Arg),
            Repr::Num(s) => scalar_ty(*s),
            Repr::Enum(n) => {
                let n = ident(n);
                quote!(#n)
            }
            Repr::Struct(n, args) => {
                let n = ident(n);
                let args = args.iter().map(|a| ident(a));
                if args.len() == 0 {
                    quote!(#n)
                } else {
                    quote!(#n<#(#args),*>)
                }
            }
            Repr::Tuple(ms) => self.tuple_ty(ms, |m| self.ty(&m.repr)),
            Repr::Opt(inner) => {
                let inner = self.ty(inner);
                quote!(Option<#inner>)
            }
            Repr::Many(inner) => {
                let inner = self.ty(inner);
                quote!(Vec<#inner>)
            }
            Repr::Bool => quote!(bool),
            Repr::Zip(ms) => {
                let tuple = self.tuple_ty(ms, |m| self.ty(&m.repr));
                quote!(Vec<#tuple>)
            }
        }
    }

    pub(super) fn tuple_ty(
        &self,
        ms: &[Member],
        f: impl Fn(&Member) -> TokenStream,
    ) -> TokenStream {
        match ms {
            [] => quote!(()),
            [one] => f(one),
            many => {
                let items = many.iter().map(f);
                quote!((#(#items),*))
            }
        }
    }

    /// The type callers pass for a value stored as `r`.
    pub(super) fn acc(&self, r: &Repr) -> TokenStream {
        match r {
            Repr::Arg => quote!(impl crate::ToArgs),
            Repr::Num(s) => scalar_acc(*s),
            Repr::Tuple(ms) => self.tuple_ty(ms, |m| self.acc(&m.repr)),
            Repr::Many(inner) => {
                let inner = self.acc(inner);
                quote!(impl IntoIterator<Item = #inner>)
            }
            Repr::Zip(ms) => {
                let tuple = self.tuple_ty(ms, |m| self.acc(&m.repr));
                quote!(impl IntoIterator<Item = #tuple>)
            }
            other => self.ty(other),
        }
    }

    /// Converts a value of the accepted type (`input`) into the stored one.
    pub(super) fn conv(&self, r: &Repr, input: TokenStream) -> TokenStream {
        match r {
            Repr::Arg => quote!(crate::command::Arg::new(#input)),
            Repr::Num(s) => scalar_conv(*s, input),
            Repr::Tuple(_) if is_identity(r) => input,
            Repr::Tuple(ms) if ms.len() > 1 => {
                let (names, convs) = self.tuple_conv(ms);
                quote!({ let (#(#names),*) = #input; (#(#convs),*) })
            }
            Repr::Tuple(ms) if ms.len() == 1 => self.conv(&ms[0].repr, input),
            Repr::Tuple(_) => quote!(()),
            Repr::Many(inner) => self.collect(inner, input),
            Repr::Zip(ms) => self.collect(&Repr::Tuple(ms.clone()), input),
            _ => input,
        }
    }

    /// Collects an iterator of accepted values into the stored list.
    pub(super) fn collect(&self, item: &Repr, input: TokenStream) -> TokenStream {
        match item {
            _ if is_identity(item) => quote!(#input.into_iter().collect()),
            Repr::Tuple(ms) if ms.len() > 1 => {
                let (names, convs) = self.tuple_conv(ms);
                quote!(#input.into_iter().map(|(#(#names),*)| (#(#convs),*)).collect())
            }
            _ => {
                let each = self.conv(item, quote!(item));
                quote!(#input.into_iter().map(|item| #each).collect())
            }
        }
    }

    /// The members of a tuple as locals named after them, and each one's conversion.
    fn tuple_conv(&self, ms: &[Member]) -> (Vec<Ident>, Vec<TokenStream>) {
        let names: Vec<Ident> = ms.iter().map(|m| local(&m.name)).collect();
        let convs = ms
            .iter()
            .zip(&names)
            .map(|(m, n)| self.conv(&m.repr, quote!(#n)))
            .collect();
        (names, convs)
    }

    /// The parameters and value of `enum_path::Variant` choosing `variant` of `e`: nothing for a
    /// unit choice, one slot for a value, one parameter per member for a block of fields.
    pub(super) fn variant_value(
        &self,
        e: &EnumLayout,
        variant: usize,
        enum_path: &TokenStream,
    ) -> (Vec<TokenStream>, TokenStream) {
        let v = &e.variants[variant];
        let vname = ident(&v.name);
        let choice = self.node(v.node);
        match &v.payload {
            Payload::Unit => (Vec::new(), quote!(#enum_path::#vname)),
            Payload::One(r) => {
                let (params, value) = self.slot(r, &choice.ident);
                (params, quote!(#enum_path::#vname(#value)))
            }
            Payload::Fields(ms) => {
                let (params, _) = self.slot(&Repr::Tuple(ms.clone()), &choice.ident);
                let fields = ms.iter().map(|m| {
                    let f = ident(&m.name);
                    field_init(&m.name, self.conv(&m.repr, quote!(#f)))
                });
                (params, quote!(#enum_path::#vname { #(#fields),* }))
            }
        }
    }

    /// Parameters for one occurrence of a value stored as `r` (a tuple block takes one parameter
    /// per member), and the expression building the stored value from them.
    pub(super) fn slot(&self, r: &Repr, name: &str) -> (Vec<TokenStream>, TokenStream) {
        match r {
            Repr::Tuple(ms) if ms.is_empty() => (Vec::new(), quote!(())),
            Repr::Tuple(ms) => {
                let params = ms
                    .iter()
                    .map(|m| {
                        let n = ident(&m.name);
                        let t = self.acc(&m.repr);
                        quote!(#n: #t)
                    })
                    .collect();
                let convs: Vec<TokenStream> = ms
                    .iter()
                    .map(|m| {
                        let n = ident(&m.name);
                        self.conv(&m.repr, quote!(#n))
                    })
                    .collect();
                let value = if convs.len() == 1 {
                    convs[0].clone()
                } else {
                    quote!((#(#convs),*))
                };
                (params, value)
            }
            other => {
                let n = ident(name);
                let t = self.acc(other);
                (vec![quote!(#n: #t)], self.conv(other, quote!(#n)))
            }
        }
    }
}

/// Whether a value is stored exactly as the caller passes it.
pub(super) fn is_identity(r: &Repr) -> bool {
    match r {
        Repr::Generic(_) | Repr::Enum(_) | Repr::Struct(..) => true,
        Repr::Num(s) => matches!(s, Scalar::Int | Scalar::Double),
        Repr::Tuple(ms) => ms.iter().all(|m| is_identity(&m.repr)),
        _ => false,
    }
}

pub(super) fn is_float(s: Scalar) -> bool {
    matches!(s, Scalar::Double | Scalar::FloatSeconds)
}

pub(super) fn scalar_ty(s: Scalar) -> TokenStream {
    if is_float(s) {
        quote!(f64)
    } else {
        quote!(i64)
    }
}

pub(super) fn scalar_acc(s: Scalar) -> TokenStream {
    match s {
        Scalar::Int => quote!(i64),
        Scalar::Double => quote!(f64),
        Scalar::Seconds => quote!(impl crate::command::time::Seconds),
        Scalar::Milliseconds => quote!(impl crate::command::time::Milliseconds),
        Scalar::FloatSeconds => quote!(impl crate::command::time::FloatSeconds),
        Scalar::UnixSeconds => quote!(impl crate::command::time::UnixSeconds),
        Scalar::UnixMilliseconds => quote!(impl crate::command::time::UnixMilliseconds),
        Scalar::Str => quote!(impl crate::ToArgs),
    }
}

pub(super) fn scalar_conv(s: Scalar, input: TokenStream) -> TokenStream {
    match s {
        Scalar::Seconds => quote!(crate::command::time::Seconds::to_seconds(#input)),
        Scalar::Milliseconds => {
            quote!(crate::command::time::Milliseconds::to_milliseconds(#input))
        }
        Scalar::FloatSeconds => {
            quote!(crate::command::time::FloatSeconds::to_float_seconds(#input))
        }
        Scalar::UnixSeconds => quote!(crate::command::time::UnixSeconds::to_unix_seconds(#input)),
        Scalar::UnixMilliseconds => {
            quote!(crate::command::time::UnixMilliseconds::to_unix_milliseconds(#input))
        }
        Scalar::Str => quote!(crate::command::Arg::new(#input)),
        Scalar::Int | Scalar::Double => input,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::generate::layout::Repr;

    #[test]
    fn values_are_stored_by_kind_and_accepted_as_callers_have_them() {
        with_emitter(EVAL, |e| {
            let key = &member(e, "key").repr;
            assert_tokens(&e.ty(key), "Vec<crate::command::Arg>");
            assert_tokens(&e.acc(key), "impl IntoIterator<Item = impl crate::ToArgs>");
            let (params, value) = e.slot(key, "key");
            assert_tokens(
                &params[0],
                "key: impl IntoIterator<Item = impl crate::ToArgs>",
            );
            assert_tokens(
                &value,
                "key.into_iter().map(|item| crate::command::Arg::new(item)).collect()",
            );
        });
        // Required strings are the caller's own type parameters, written as given.
        with_emitter(SET, |e| {
            assert!(matches!(&member(e, "key").repr, Repr::Generic(g) if g == "K"));
            assert_tokens(&e.ty(&member(e, "condition").repr), "Option<SetCondition>");
        });
    }

    #[test]
    fn tuples_convert_member_by_member_under_their_names() {
        with_emitter(GEORADIUS, |e| {
            let (_, value) = e.slot(&member(e, "pair").repr, "pair");
            assert_tokens(
                &value,
                "pair.into_iter().map(|(field, ttl)| (crate::command::Arg::new(field), ttl)).collect()",
            );
        });
        // A list of values stored as given is collected without a map.
        with_emitter(ZADD, |e| {
            let (_, value) = e.slot(&member(e, "data").repr, "data");
            assert_tokens(&value, "data.into_iter().collect()");
        });
    }

    #[test]
    fn a_chosen_variant_takes_its_payload_as_parameters() {
        with_emitter(BITFIELD, |e| {
            let en = e.enum_named("BitfieldOperation");
            let (params, value) = e.variant_value(en, 0, &quote::quote!(Self));
            let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
            assert_eq!(params, ["encoding : impl crate :: ToArgs", "offset : i64"]);
            assert_tokens(
                &value,
                "Self::Get { encoding: crate::command::Arg::new(encoding), offset }",
            );
        });
        // Time values accept a `Duration` and are converted in the unit the server reads.
        with_emitter(SET, |e| {
            let en = e.enum_named("SetExpiration");
            let (params, value) = e.variant_value(en, 0, &quote::quote!(SetExpiration));
            assert_tokens(&params[0], "seconds: impl crate::command::time::Seconds");
            assert_tokens(
                &value,
                "SetExpiration::Ex(crate::command::time::Seconds::to_seconds(seconds))",
            );
            let (params, value) = e.variant_value(en, 1, &quote::quote!(SetExpiration));
            assert!(params.is_empty());
            assert_tokens(&value, "SetExpiration::Keepttl");
        });
    }
}
