//! Short paths and one `use` block per generated file.
//!
//! The emitters write full paths (`crate::command::Command`, `bytes::Bytes`), which are
//! unambiguous wherever the code lands. Here each file's paths that start with one of [`PATHS`]
//! are cut to that path's last segment (`Command`, `Bytes`, `cmd::Set::new`) and the file gets
//! the `use` items that bring those names in — only the ones it uses, so no import is unused.
//! A name the file defines itself (COMMAND's struct `Command` in `cmd/server.rs`) keeps its full
//! path for the other item of that name.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use proc_macro2::{Group, Ident, Spacing, TokenStream, TokenTree};
use quote::{quote, ToTokens};

/// Paths generated code may name by their last segment once imported.
const PATHS: &[&str] = &[
    "bytes::Bytes",
    "std::collections::HashMap",
    "crate::cmd",
    "crate::command::time::FloatSeconds",
    "crate::command::time::Milliseconds",
    "crate::command::time::Seconds",
    "crate::command::time::UnixMilliseconds",
    "crate::command::time::UnixSeconds",
    "crate::command::empty_argument",
    "crate::command::Arg",
    "crate::command::Command",
    "crate::command::Dedicated",
    "crate::command::Executor",
    "crate::command_meta::lookup",
    "crate::command_meta::CommandMeta",
    "crate::generated::meta",
    "crate::resp::ArgWriter",
    "crate::resp::Cmd",
    "crate::shape::ReplyShape",
    "crate::Result",
    "crate::ToArgs",
    "crate::Value",
];

/// The source of a generated file after its inner attributes: its `use` block (the file's own
/// `use` items and the imports of the paths cut short, grouped `std`, other crates, `crate`),
/// then its other items.
pub(crate) fn with_imports(file: &syn::File) -> String {
    let mut own_uses = Vec::new();
    let mut items = Vec::new();
    let mut defined = HashSet::new();
    for item in &file.items {
        if let syn::Item::Use(u) = item {
            use_names(&u.tree, &mut defined);
            own_uses.push(u.to_token_stream().to_string());
        } else {
            if let Some(name) = item_name(item) {
                defined.insert(name);
            }
            items.push(item);
        }
    }
    let mut used = BTreeSet::new();
    let body = shorten(quote!(#(#items)*), &defined, &mut used);
    let attrs = &file.attrs;
    let parts = [
        quote!(#(#attrs)*).to_string(),
        use_block(own_uses, &used),
        body.to_string(),
    ];
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    parts.join("\n\n")
}

/// The `use` items, one per line, in groups separated by a blank line (rustfmt sorts each
/// group and keeps the blank lines).
fn use_block(own: Vec<String>, used: &BTreeSet<&'static str>) -> String {
    let mut by_parent: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for path in used {
        let (parent, name) = path
            .rsplit_once("::")
            .expect("imported paths have a parent");
        by_parent.entry(parent).or_default().push(name);
    }
    let mut lines = own;
    for (parent, names) in by_parent {
        lines.push(match names.as_slice() {
            [one] => format!("use {parent}::{one};"),
            many => format!("use {parent}::{{{}}};", many.join(", ")),
        });
    }
    let mut groups: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for line in lines {
        let root = line
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .trim_start_matches("use ")
            .split([':', ' ', ';'])
            .next()
            .unwrap_or_default()
            .to_string();
        let rank = match root.as_str() {
            "std" | "core" | "alloc" => 0,
            "crate" | "self" | "super" => 2,
            _ => 1,
        };
        groups.entry(rank).or_default().push(line);
    }
    groups
        .into_values()
        .map(|mut lines| {
            lines.sort();
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The names a `use` tree brings into scope.
fn use_names(tree: &syn::UseTree, out: &mut HashSet<String>) {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree, out),
        syn::UseTree::Name(n) => {
            out.insert(n.ident.to_string());
        }
        syn::UseTree::Rename(r) => {
            out.insert(r.rename.to_string());
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
    }
}

/// The name an item defines in its module, if any.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// `tokens` with every path that starts with one of [`PATHS`] (and is not the name of
/// something in `defined`) cut to the path's last segment; the paths cut are added to `used`.
fn shorten(
    tokens: TokenStream,
    defined: &HashSet<String>,
    used: &mut BTreeSet<&'static str>,
) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let TokenTree::Group(g) = &trees[i] {
            let mut group = Group::new(g.delimiter(), shorten(g.stream(), defined, used));
            group.set_span(g.span());
            out.push(TokenTree::Group(group));
            i += 1;
            continue;
        }
        if !continues_path(&trees[..i]) {
            if let Some((path, len)) = matching_path(&trees[i..]) {
                let name = path.rsplit("::").next().expect("a path has segments");
                if !defined.contains(name) {
                    used.insert(path);
                    out.push(TokenTree::Ident(Ident::new(name, trees[i].span())));
                    i += len;
                    continue;
                }
            }
        }
        out.push(trees[i].clone());
        i += 1;
    }
    out.into_iter().collect()
}

/// Whether the tokens before a position end in `::` (the position is inside a path).
fn continues_path(before: &[TokenTree]) -> bool {
    matches!(
        before,
        [.., TokenTree::Punct(a), TokenTree::Punct(b)]
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

/// The longest of [`PATHS`] that the tokens start with, and how many tokens it spans (each
/// segment one ident, each `::` two puncts); a path is matched only as a whole segment run.
fn matching_path(trees: &[TokenTree]) -> Option<(&'static str, usize)> {
    let mut best: Option<(&'static str, usize)> = None;
    for path in PATHS {
        let mut at = 0;
        let mut matched = true;
        for (n, segment) in path.split("::").enumerate() {
            if n > 0 {
                let sep = matches!(
                    (trees.get(at), trees.get(at + 1)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                        if a.as_char() == ':' && b.as_char() == ':'
                );
                if !sep {
                    matched = false;
                    break;
                }
                at += 2;
            }
            match trees.get(at) {
                Some(TokenTree::Ident(id)) if id == segment => at += 1,
                _ => {
                    matched = false;
                    break;
                }
            }
        }
        if matched && !matches!(best, Some((_, len)) if len >= at) {
            best = Some((path, at));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(tokens: TokenStream) -> String {
        let file: syn::File = syn::parse2(tokens).unwrap();
        with_imports(&file)
    }

    #[test]
    fn full_paths_are_cut_and_imported_once() {
        let out = imported(quote! {
            //! Doc.
            impl<K: crate::ToArgs> crate::ToArgs for Get<K> {
                fn write_args(&self, out: &mut crate::resp::ArgWriter<'_>) {
                    crate::ToArgs::num_args(&self.key);
                }
            }
            fn f() -> crate::Result<Option<bytes::Bytes>> { todo!() }
        });
        let (head, body) = out.split_once("\n\nimpl").unwrap();
        assert_eq!(
            head,
            "# ! [doc = r\" Doc.\"]\n\nuse bytes::Bytes;\n\n\
             use crate::resp::ArgWriter;\nuse crate::{Result, ToArgs};"
        );
        assert!(body.contains("K : ToArgs > ToArgs for Get"), "{body}");
        assert!(body.contains("ArgWriter < '_ >"), "{body}");
        assert!(body.contains("ToArgs :: num_args"), "{body}");
        assert!(body.contains("Result < Option < Bytes >"), "{body}");
    }

    #[test]
    fn modules_keep_their_name_as_the_path_start() {
        let out = imported(quote! {
            fn set() { run(crate::cmd::Set::new("k", "v"), &crate::generated::meta::SET); }
        });
        assert!(
            out.starts_with("use crate::cmd;\nuse crate::generated::meta;"),
            "{out}"
        );
        assert!(out.contains("cmd :: Set :: new"), "{out}");
        assert!(out.contains("& meta :: SET"), "{out}");
    }

    #[test]
    fn a_name_the_file_defines_keeps_the_full_path() {
        let out = imported(quote! {
            pub struct Command {}
            impl crate::command::Command for Command {}
            impl crate::command::Command for Other {}
        });
        assert!(!out.contains("use crate::command::Command"), "{out}");
        assert_eq!(out.matches("crate :: command :: Command for").count(), 2);
    }

    #[test]
    fn paths_inside_other_paths_and_partial_matches_are_left_alone() {
        let out = imported(quote! {
            fn f(x: other::crate_like::Value, y: crate::ValueX, z: crate::command::Args) {
                x.crate_value();
            }
        });
        assert!(!out.contains("use "), "{out}");
    }

    #[test]
    fn own_use_items_join_the_block() {
        let out = imported(quote! {
            use std::marker::PhantomData;
            use super::{run, Entry};
            fn f(_: PhantomData<crate::Value>) {}
        });
        assert!(
            out.starts_with(
                "use std :: marker :: PhantomData ;\n\nuse crate::Value;\nuse super :: { run , Entry } ;"
            ),
            "{out}"
        );
    }
}
