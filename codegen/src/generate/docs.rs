//! Rustdoc text from the spec: summaries, syntax lines and history, made safe for rustdoc
//! (`RUSTDOCFLAGS=-D warnings`).

use proc_macro2::TokenStream;
use quote::quote;

use super::model::{Kind, Node};

/// `#[doc = "…"]` attributes, one per line.
pub(crate) fn attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
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
    let one = one_syntax(node);
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
    if node.optional {
        format!("[{repeated}]")
    } else {
        repeated
    }
}

fn one_syntax(node: &Node) -> String {
    let body = match &node.kind {
        Kind::Flag => return node.token.clone().unwrap_or_default(),
        Kind::Value(_) | Kind::Count => node.display.clone(),
        Kind::OneOf(choices) => {
            let inner = choices
                .iter()
                .map(node_syntax)
                .collect::<Vec<_>>()
                .join(" | ");
            if node.optional {
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

/// A short description of an argument for setter and parameter docs: syntax, summary, since,
/// deprecation.
pub(crate) fn argument(node: &Node) -> String {
    let mut text = format!("`{}`", code(&node_syntax(node)));
    if let Some(summary) = &node.summary {
        text.push_str(": ");
        text.push_str(&prose(summary));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
