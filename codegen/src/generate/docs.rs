//! Rustdoc text from the spec: summaries, syntax lines and history, made safe for rustdoc
//! (`RUSTDOCFLAGS=-D warnings`).

use proc_macro2::TokenStream;
use quote::quote;

#[cfg(test)]
use super::model::Scalar;
use super::model::{Kind, Node};

/// The widest a doc line's text gets before it is wrapped: with `/// ` and up to four columns
/// of indentation the line stays within rustfmt's 100.
const DOC_WIDTH: usize = 92;

/// `#[doc = "…"]` attributes, one per line of `text` wrapped at [`DOC_WIDTH`] (the generated
/// files show them as `///` comments).
pub(crate) fn attrs(text: &str) -> TokenStream {
    let lines = wrap(text, DOC_WIDTH).into_iter().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// Markdown text with its long lines broken at spaces, outside fenced code blocks. A list
/// item's continuation lines are indented under its text, and no line is made to start with
/// what Markdown would read as the start of a list, heading, quote or block.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push(line.trim_end().to_string());
            continue;
        }
        if fenced {
            out.push(line.to_string());
            continue;
        }
        let indent = if line.starts_with("- ") { "  " } else { "" };
        let mut rest = line.trim_end();
        let mut prefix = "";
        while prefix.len() + rest.len() > width {
            let Some(at) = break_at(rest, width - prefix.len()) else {
                break;
            };
            out.push(format!("{prefix}{}", &rest[..at]));
            rest = &rest[at + 1..];
            prefix = indent;
        }
        out.push(format!("{prefix}{rest}"));
    }
    out
}

/// Where to break `line` (the index of a space): the last space that leaves at most `width`
/// columns before it, else the first one after, preferring spaces outside code spans (Markdown
/// reads a line break inside one as a space, but the source reads worse); never where the next
/// line would start like a Markdown block.
fn break_at(line: &str, width: usize) -> Option<usize> {
    let mut in_code = false;
    let mut outside = Vec::new();
    let mut inside = Vec::new();
    for (i, c) in line.char_indices() {
        match c {
            '`' => in_code = !in_code,
            ' ' if i > 0 && in_code => inside.push(i),
            ' ' if i > 0 => outside.push(i),
            _ => {}
        }
    }
    let safe = |at: &&usize| !starts_block(&line[**at + 1..]);
    let fitting = |spaces: &[usize]| {
        spaces
            .iter()
            .rev()
            .filter(|&&at| at <= width)
            .find(safe)
            .copied()
    };
    let beyond = |spaces: &[usize]| spaces.iter().filter(|&&at| at > width).find(safe).copied();
    fitting(&outside)
        .or_else(|| fitting(&inside))
        .or_else(|| beyond(&outside))
        .or_else(|| beyond(&inside))
}

/// Whether a line starting with `text` would open a Markdown block instead of continuing a
/// paragraph.
fn starts_block(text: &str) -> bool {
    let ordered = text
        .find(|c: char| !c.is_ascii_digit())
        .is_some_and(|end| end > 0 && text[end..].starts_with(['.', ')']));
    ordered
        || ["- ", "* ", "+ ", "#", ">", "=", "|", "```", "~~~", "<"]
            .iter()
            .any(|marker| text.starts_with(marker))
}

/// Spec prose as Markdown rustdoc accepts without warnings: outside code spans, `<`, `>`, `[`
/// and `]` are escaped (they would read as HTML tags or links) and URLs are made links.
pub(crate) fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            in_code = !in_code;
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        if !in_code && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == ')' || c == '>')
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
            continue;
        }
        match c {
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '[' | ']' | '*' | '_' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    if in_code {
        // An unbalanced backtick would swallow the following text.
        out.push('`');
    }
    out
}

/// Text inside a code span: backticks removed.
pub(crate) fn code(text: &str) -> String {
    text.replace('`', "'")
}

/// The syntax of a list of arguments, as the server's help writes it:
/// `key value [NX | XX] [GET] [EX seconds | PX milliseconds]`.
pub(crate) fn syntax(nodes: &[Node]) -> String {
    nodes.iter().map(node_syntax).collect::<Vec<_>>().join(" ")
}

/// The syntax of one argument.
pub(crate) fn node_syntax(node: &Node) -> String {
    syntax_with(node, false)
}

/// The syntax of one argument as given: an optional one without its `[…]`, a required oneof
/// without its `<…>` (its choices keep theirs).
pub(crate) fn bare_syntax(node: &Node) -> String {
    syntax_with(node, true)
}

fn syntax_with(node: &Node, bare: bool) -> String {
    let one = one_syntax(node, bare);
    let repeated = if node.multiple {
        if node.multiple_token {
            format!("{one} [{one} ...]")
        } else if let Some(token) = node
            .token
            .as_deref()
            .filter(|_| !matches!(node.kind, Kind::Flag))
        {
            let bare = one
                .strip_prefix(&format!("{token} "))
                .unwrap_or(&one)
                .to_string();
            format!("{token} {bare} [{bare} ...]")
        } else {
            format!("{one} [{one} ...]")
        }
    } else {
        one
    };
    if node.optional && !bare {
        format!("[{repeated}]")
    } else {
        repeated
    }
}

fn one_syntax(node: &Node, bare: bool) -> String {
    let body = match &node.kind {
        Kind::Flag => return node.token.clone().unwrap_or_default(),
        Kind::Value(_) | Kind::Count => node.display.clone(),
        Kind::OneOf(choices) => {
            let inner = choices
                .iter()
                .map(node_syntax)
                .collect::<Vec<_>>()
                .join(" | ");
            if node.optional || bare {
                inner
            } else {
                format!("<{inner}>")
            }
        }
        Kind::Block(children) | Kind::Zip(children) => syntax(children),
    };
    match &node.token {
        Some(token) if !token.is_empty() => format!("{token} {body}"),
        Some(_) => format!("\"\" {body}"),
        None => body,
    }
}

/// The longest syntax docs quote; a longer one (CLIENT KILL's filters) is named instead, and
/// its parts are documented where they are generated.
const SYNTAX_WIDTH: usize = 60;

/// The argument's syntax as given, when it is short enough to quote.
pub(crate) fn short_syntax(node: &Node) -> Option<String> {
    Some(code(&bare_syntax(node))).filter(|s| s.len() <= SYNTAX_WIDTH)
}

/// How docs name an argument: its syntax without the brackets that mark it optional or a
/// required choice (its token and name when the syntax is long), and when it was added or
/// deprecated (`` `EX seconds` (since 2.6.12) ``).
pub(crate) fn argument(node: &Node) -> String {
    let shown = short_syntax(node).unwrap_or_else(|| match &node.token {
        Some(token) if !token.is_empty() => code(&format!("{token} {}", node.name)),
        _ => code(&node.name),
    });
    format!("`{shown}`{}", facts(node))
}

/// When an argument was added or deprecated, as a parenthesis after its name (or nothing).
pub(crate) fn facts(node: &Node) -> String {
    let mut text = String::new();
    let mut facts = Vec::new();
    if let Some(since) = &node.since {
        facts.push(format!("since {since}"));
    }
    if let Some(since) = &node.deprecated_since {
        facts.push(format!("deprecated since {since}"));
    }
    if !facts.is_empty() {
        text.push_str(&format!(" ({})", facts.join(", ")));
    }
    text
}

/// `text` followed by the argument's summary as a paragraph of its own, if the spec has one.
pub(crate) fn with_summary(text: String, node: &Node) -> String {
    match &node.summary {
        Some(summary) => format!("{text}\n\n{}", sentence(&prose(summary))),
        None => text,
    }
}

/// Text ending as a sentence does.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, kind: Kind, token: Option<&str>, optional: bool) -> Node {
        Node {
            id: 0,
            name: name.to_string(),
            path: name.to_string(),
            kind,
            token: token.map(str::to_string),
            optional,
            multiple: false,
            multiple_token: false,
            display: name.to_string(),
            summary: None,
            since: None,
            deprecated_since: None,
            ident: name.replace('-', "_"),
            servers: Vec::new(),
            label: name.replace('-', "_"),
        }
    }

    fn condition() -> Node {
        let nx = node("nx", Kind::Flag, Some("NX"), false);
        let mut ifeq = node(
            "comparison-value",
            Kind::Value(Scalar::Str),
            Some("IFEQ"),
            false,
        );
        ifeq.summary = Some("Sets the key's value only if it matches".to_string());
        ifeq.since = Some("8.1.0".to_string());
        node("condition", Kind::OneOf(vec![nx, ifeq]), None, true)
    }

    #[test]
    fn arguments_are_named_by_their_syntax_as_given() {
        let oneof = condition();
        assert_eq!(node_syntax(&oneof), "[NX | IFEQ comparison-value]");
        assert_eq!(argument(&oneof), "`NX | IFEQ comparison-value`");
        let required = Node {
            optional: false,
            ..condition()
        };
        assert_eq!(node_syntax(&required), "<NX | IFEQ comparison-value>");
        assert_eq!(bare_syntax(&required), "NX | IFEQ comparison-value");
        let ifeq = &oneof.children()[1];
        assert_eq!(argument(ifeq), "`IFEQ comparison-value` (since 8.1.0)");
        // The summary is a paragraph of its own, ending as a sentence.
        assert_eq!(
            with_summary(format!("Chooses {}.", argument(ifeq)), ifeq),
            "Chooses `IFEQ comparison-value` (since 8.1.0).\n\nSets the key's value only if it matches."
        );
    }

    #[test]
    fn long_syntax_is_named_by_token_and_name() {
        let choices = (0..12)
            .map(|i| node(&format!("choice{i}"), Kind::Flag, Some("CHOICE"), false))
            .collect();
        let filter = node("filter", Kind::OneOf(choices), Some("NOT-TYPE"), true);
        assert_eq!(short_syntax(&filter), None);
        assert_eq!(argument(&filter), "`NOT-TYPE filter`");
    }

    #[test]
    fn long_lines_wrap_at_spaces_outside_code_and_fences() {
        let text = "- Reply: `array<text?>` \u{2014} the 11-character geohash of each member, nil for a member that does not exist\n```text\nA B C D E F G H I J K L M N O P Q R S T U V W X Y Z A B C D E F\n```";
        assert_eq!(
            wrap(text, 40),
            [
                "- Reply: `array<text?>` \u{2014} the",
                "  11-character geohash of each member,",
                "  nil for a member that does not exist",
                "```text",
                "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z A B C D E F",
                "```",
            ]
        );
        // A break inside a code span only when there is no other.
        assert_eq!(wrap("see `a b c d e f`", 8), ["see", "`a b c d", "e f`"]);
    }

    #[test]
    fn wrapped_lines_never_start_a_markdown_block() {
        for (text, width) in [
            ("scores - 1 and more", 7),
            ("at most 10. items here", 8),
            ("a # heading", 2),
            ("a > quote", 2),
        ] {
            for line in wrap(text, width).iter().skip(1) {
                assert!(!starts_block(line), "{text:?} wrapped to {line:?}");
            }
        }
        assert_eq!(
            wrap("scores - 1 and more", 7),
            ["scores -", "1 and", "more"]
        );
        assert_eq!(sentence("No period"), "No period.");
        assert_eq!(sentence("Done."), "Done.");
    }

    #[test]
    fn prose_is_escaped_outside_code() {
        assert_eq!(prose("a <b> [c] `<d>`"), "a &lt;b&gt; \\[c\\] `<d>`");
        assert_eq!(
            prose("see https://redis.io/x."),
            "see <https://redis.io/x>."
        );
        assert_eq!(prose("odd `tick"), "odd `tick`");
    }
}
