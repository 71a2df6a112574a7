//! Text passes over rustfmt's output, for what `quote` cannot say: `///` and `//!` doc comments
//! instead of the `#[doc = "…"]` attributes quote writes for them, and a blank line between items.
//!
//! Both passes work on whole lines of formatted code and change nothing a compiler sees: the doc
//! pass rewrites only lines that are exactly one `#[doc = "…"]` or `#![doc = "…"]` attribute
//! whose text a line comment can hold, and the result is checked to lex to the same tokens as
//! the input (so a line inside a multi-line string, were there one, could not be rewritten
//! unnoticed). rustfmt keeps both: it does not touch comments and keeps single blank lines.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

/// Rewrites rustfmt's output of a generated file: doc attributes become doc comments, and items
/// (of the file, of impls and of traits) are separated by a blank line, except runs of
/// one-line items of one kind (`use` and `mod` lists, reply-shape statics, associated consts).
pub fn polish(formatted: &str) -> Result<String, String> {
    let docs = restore_doc_comments(formatted);
    if !same_tokens(formatted, &docs)? {
        return Err("restoring doc comments changed the tokens".to_string());
    }
    separate_items(&docs)
}

/// Rewrites every line that is exactly one doc attribute into the doc comment saying the same.
pub(crate) fn restore_doc_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        match doc_comment(body) {
            Some(comment) => {
                out.push_str(&comment);
                out.push_str(end);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The doc comment for a line holding only `#[doc = LIT]` or `#![doc = LIT]`, if a line comment
/// can say the same: one line of text, no carriage return, no bidirectional-override characters
/// (rustc refuses them in comments), and for an outer comment no leading `/` (`////` is a plain
/// comment).
fn doc_comment(line: &str) -> Option<String> {
    let rest = line.trim_start();
    let indent = &line[..line.len() - rest.len()];
    let (marker, rest) = if let Some(rest) = rest.strip_prefix("#![doc = ") {
        ("//!", rest)
    } else {
        ("///", rest.strip_prefix("#[doc = ")?)
    };
    let literal: syn::LitStr = syn::parse_str(rest.strip_suffix(']')?).ok()?;
    if !literal.suffix().is_empty() {
        return None;
    }
    let text = literal.value();
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if text.contains(['\n', '\r']) || text.contains(bidi) {
        return None;
    }
    if marker == "///" && text.starts_with('/') {
        return None;
    }
    Some(format!("{indent}{marker}{text}"))
}

/// Whether two sources lex to the same tokens, comparing string literals by value (a doc
/// comment lexes to a raw-string doc attribute).
fn same_tokens(a: &str, b: &str) -> Result<bool, String> {
    let lex = |text: &str| {
        text.parse::<TokenStream>()
            .map_err(|e| format!("the formatted code does not lex: {e}"))
    };
    Ok(same_streams(lex(a)?, lex(b)?))
}

fn same_streams(a: TokenStream, b: TokenStream) -> bool {
    let (a, b): (Vec<TokenTree>, Vec<TokenTree>) =
        (a.into_iter().collect(), b.into_iter().collect());
    a.len() == b.len() && a.into_iter().zip(b).all(|(x, y)| same_tree(x, y))
}

fn same_tree(a: TokenTree, b: TokenTree) -> bool {
    match (a, b) {
        (TokenTree::Group(x), TokenTree::Group(y)) => {
            x.delimiter() == y.delimiter() && same_streams(x.stream(), y.stream())
        }
        (TokenTree::Ident(x), TokenTree::Ident(y)) => x == y,
        (TokenTree::Punct(x), TokenTree::Punct(y)) => x.as_char() == y.as_char(),
        (TokenTree::Literal(x), TokenTree::Literal(y)) => {
            let string = |l: &proc_macro2::Literal| {
                syn::parse_str::<syn::LitStr>(&l.to_string())
                    .ok()
                    .map(|s| s.value())
            };
            match (string(&x), string(&y)) {
                (Some(x), Some(y)) => x == y,
                _ => x.to_string() == y.to_string(),
            }
        }
        _ => false,
    }
}

/// Inserts a blank line before every item of the file, of an impl block or of a trait that
/// follows another item, unless both are one-line items of the same kind, and before the file's
/// first item when inner attributes or doc comments precede it.
pub(crate) fn separate_items(text: &str) -> Result<String, String> {
    let file =
        syn::parse_file(text).map_err(|e| format!("the formatted code does not parse: {e}"))?;
    let mut before = BTreeSet::new();
    let top: Vec<Piece> = file.items.iter().map(Piece::item).collect();
    if let Some(first) = top.first() {
        if !file.attrs.is_empty() {
            before.insert(first.start);
        }
    }
    mark(&top, &mut before);
    for item in &file.items {
        let members: Vec<Piece> = match item {
            syn::Item::Impl(i) => i.items.iter().map(Piece::impl_item).collect(),
            syn::Item::Trait(t) => t.items.iter().map(Piece::trait_item).collect(),
            _ => continue,
        };
        mark(&members, &mut before);
    }
    let mut out = String::with_capacity(text.len() + before.len());
    let mut previous_blank = true;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let blank = line.trim().is_empty();
        if before.contains(&(index + 1)) && !previous_blank {
            out.push('\n');
        }
        out.push_str(line);
        previous_blank = blank;
    }
    Ok(out)
}

/// An item's lines and kind, for deciding where blank lines go.
struct Piece {
    /// First line (1-based), its attributes and doc comments included.
    start: usize,
    /// Last line.
    end: usize,
    /// What kind of item it is: one-line items of one kind stay together.
    kind: &'static str,
}

impl Piece {
    fn of(tokens: TokenStream, kind: &'static str) -> Piece {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let start = trees.first().map_or(0, |t| t.span().start().line);
        let end = trees.last().map_or(0, |t| t.span().end().line);
        Piece { start, end, kind }
    }

    fn item(item: &syn::Item) -> Piece {
        let kind = match item {
            syn::Item::Use(_) => "use",
            syn::Item::Mod(_) => "mod",
            syn::Item::Static(_) | syn::Item::Const(_) => "value",
            _ => "item",
        };
        Piece::of(item.to_token_stream(), kind)
    }

    fn impl_item(item: &syn::ImplItem) -> Piece {
        let kind = match item {
            syn::ImplItem::Const(_) | syn::ImplItem::Type(_) => "associated",
            _ => "item",
        };
        Piece::of(item.to_token_stream(), kind)
    }

    fn trait_item(item: &syn::TraitItem) -> Piece {
        let kind = match item {
            syn::TraitItem::Const(_) | syn::TraitItem::Type(_) => "associated",
            _ => "item",
        };
        Piece::of(item.to_token_stream(), kind)
    }

    fn one_line(&self) -> bool {
        self.start == self.end
    }
}

/// Marks the first line of every piece that a blank line should precede.
fn mark(pieces: &[Piece], before: &mut BTreeSet<usize>) {
    for pair in pieces.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let run = a.one_line() && b.one_line() && a.kind == b.kind && a.kind != "item";
        if !run {
            before.insert(b.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_attributes_become_doc_comments() {
        let text = "#![doc = r\" Module.\"]\n#[doc = \" An item.\"]\n#[doc = \"\"]\nfn f() {}\n";
        assert_eq!(
            polish_docs(text),
            "//! Module.\n/// An item.\n///\nfn f() {}\n"
        );
    }

    #[test]
    fn escapes_and_raw_strings_are_read_as_rustc_reads_them() {
        assert_eq!(
            polish_docs("    #[doc = \" say \\\"hi\\\" \\\\ \\u{e9}\"]\n"),
            "    /// say \"hi\" \\ \u{e9}\n"
        );
        assert_eq!(
            polish_docs("#[doc = r#\" a \"quoted\" word\"#]\n"),
            "/// a \"quoted\" word\n"
        );
        assert_eq!(polish_docs("#[doc = \" `x` ]\"]\n"), "/// `x` ]\n");
    }

    #[test]
    fn lines_a_comment_cannot_say_stay_attributes() {
        for line in [
            "#[doc = \" two\\n lines\"]",
            "#[doc = \"/ starts with a slash\"]",
            "#[doc = \" cr\\r\"]",
            "#[doc = \" x\"] fn f() {}",
            "#[doc = \" x\"suffix]",
            "#[doc = concat!(\"a\", \"b\")]",
            "let s = \"#[doc = \\\" x\\\"]\";",
        ] {
            let text = format!("{line}\n");
            assert_eq!(restore_doc_comments(&text), text, "{line}");
        }
        // An inner doc may start with a slash: `//!/` is still an inner doc comment.
        assert_eq!(polish_docs("#![doc = \"/x\"]\n"), "//!/x\n");
    }

    #[test]
    fn a_doc_attribute_inside_a_multi_line_string_is_caught() {
        let text = "const S: &str = r#\"\n#[doc = \" x\"]\n\"#;\n";
        // The line looks like an attribute only to a line-based pass; the token check sees
        // that rewriting it would change the string.
        let rewritten = restore_doc_comments(text);
        assert_ne!(rewritten, text);
        assert!(!same_tokens(text, &rewritten).unwrap());
        assert!(polish(text).is_err());
    }

    #[test]
    fn items_are_separated_by_blank_lines() {
        let text = "\
//! Module.
use a::b;
use c::d;
static A: u8 = 1;
static B: u8 = 2;
/// Doc.
pub struct S {
    x: u8,
}
impl S {
    const C: u8 = 1;
    const D: u8 = 2;
    fn f() {}
    fn g() {
        let x = 1;
        let y = 2;
    }
}
";
        let expected = "\
//! Module.

use a::b;
use c::d;

static A: u8 = 1;
static B: u8 = 2;

/// Doc.
pub struct S {
    x: u8,
}

impl S {
    const C: u8 = 1;
    const D: u8 = 2;

    fn f() {}

    fn g() {
        let x = 1;
        let y = 2;
    }
}
";
        assert_eq!(polish(text).unwrap(), expected);
        assert_eq!(polish(expected).unwrap(), expected, "idempotent");
    }

    fn polish_docs(text: &str) -> String {
        let out = restore_doc_comments(text);
        assert!(same_tokens(text, &out).unwrap(), "{out}");
        out
    }
}
