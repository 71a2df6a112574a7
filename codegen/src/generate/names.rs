//! Rust names from spec names: `unix-time-seconds` → `unix_time_seconds` / `UnixTimeSeconds`.

/// Words Rust reserves; a snake_case name equal to one gets a trailing `_` (`type_`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Whether `name` is a Rust keyword (strict, reserved or edition-2024).
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// The words of a spec name: split on anything not alphanumeric.
fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// `snake_case`, keywords suffixed with `_`, a leading digit prefixed with `n`.
pub(crate) fn snake(name: &str) -> String {
    let mut out = words(name)
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() {
        out.push_str("arg");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// `UpperCamelCase`; a leading digit is prefixed with `N`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::new();
    for word in words(name) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() {
        out.push_str("Arg");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// `UPPER_SNAKE_CASE`, for const generic parameters.
pub(crate) fn upper(name: &str) -> String {
    snake(name).trim_end_matches('_').to_ascii_uppercase()
}

/// The snake_case name of a token that reads as a word (`EX` → `ex`, `LIB-NAME` → `lib_name`);
/// `None` for symbols such as `=`, `~`, `*` or the empty token.
pub(crate) fn token_name(token: &str) -> Option<String> {
    let mut chars = token.chars();
    let first = chars.next()?;
    let wordy = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    wordy.then(|| snake(token))
}

/// Drops the `-block` suffix Valkey adds to tell a block from its first member
/// (`count-block` → `count`).
pub(crate) fn strip_block_suffix(name: &str) -> &str {
    name.strip_suffix("-block")
        .or_else(|| name.strip_suffix("_block"))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("unix-time-seconds"), "unix_time_seconds");
        assert_eq!(snake("ip:port"), "ip_port");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("RESTORE-ASKING"), "restore_asking");
        assert_eq!(camel("CLIENT KILL"), "ClientKill");
        assert_eq!(camel("georadius_ro"), "GeoradiusRo");
        assert_eq!(upper("options.withvalues"), "OPTIONS_WITHVALUES");
        assert_eq!(token_name("LIB-NAME").as_deref(), Some("lib_name"));
        assert_eq!(token_name("="), None);
        assert_eq!(token_name(""), None);
        assert_eq!(token_name("TYPE").as_deref(), Some("type_"));
        assert_eq!(strip_block_suffix("count-block"), "count");
        assert_eq!(strip_block_suffix("block"), "block");
    }
}
