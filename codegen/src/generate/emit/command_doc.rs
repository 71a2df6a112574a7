//! The doc comment of a command struct: summary, syntax, facts, replies and history.

use super::Emitter;
use crate::generate::docs::{self, code, prose};
use crate::generate::layout::ReplyVariant;

impl Emitter<'_> {
    pub(super) fn command_doc(&self) -> String {
        let spec = self.l.model.spec;
        let mut text = format!("`{}`", self.command_name());
        if let Some(summary) = &spec.summary {
            text.push_str(": ");
            text.push_str(&prose(summary));
        }
        text.push_str("\n\n```text\n");
        text.push_str(self.command_name());
        let syntax = docs::syntax(&self.l.model.args);
        if !syntax.is_empty() {
            text.push(' ');
            text.push_str(&syntax);
        }
        text.push_str("\n```\n\n");
        if let Some(since) = &spec.since {
            text.push_str(&format!("- Since: {since}\n"));
        }
        if let Some(group) = &spec.group {
            text.push_str(&format!("- Group: {group}\n"));
        }
        if let Some(complexity) = &spec.complexity {
            text.push_str(&format!("- Complexity: {}\n", prose(complexity)));
        }
        text.push_str(&format!("- Reply: {}\n", self.reply_doc(&self.l.reply)));
        for v in &self.l.variants {
            let when = v
                .paths
                .iter()
                .map(|p| format!("`{}`", code(p)))
                .collect::<Vec<_>>()
                .join(" and ");
            text.push_str(&format!("- Reply with {when}: {}\n", self.reply_doc(v)));
        }
        if !spec.history.is_empty() {
            text.push_str("\nHistory:\n");
            for (version, change) in &spec.history {
                text.push_str(&format!("- {version}: {}\n", prose(change)));
            }
        }
        if let Some(note) = &self.l.model.deprecated {
            text.push_str(&format!(
                "\n{}\n",
                docs::sentence(&capitalized(&prose(note)))
            ));
        }
        // Deprecated only by a server ranked after the one generated from: a note, not an
        // attribute (Valkey keeps GETSET, GEORADIUS and friends; Redis deprecates them).
        for (server, diff) in &spec.per_server {
            let flagged = diff
                .doc_flags
                .as_ref()
                .is_some_and(|f| f.iter().any(|f| f == "deprecated"));
            let since = diff.deprecated_since.clone().flatten();
            if self.l.model.deprecated.is_some() || !(flagged || since.is_some()) {
                continue;
            }
            let mut line = format!("\n{} marks it deprecated", server_name(server));
            if let Some(since) = since {
                line.push_str(&format!(" since {since}"));
            }
            if let Some(by) = diff.replaced_by.clone().flatten() {
                line.push_str(&format!("; use {} instead", prose(&by)));
            }
            text.push_str(&line);
            text.push_str(".\n");
        }
        text
    }

    pub(super) fn reply_doc(&self, v: &ReplyVariant) -> String {
        let mut text = format!("`{}`", v.ty);
        if let Some(note) = &v.note {
            text.push_str(&format!(" — {}", prose(note)));
        }
        text
    }
}

/// A server of the spec (`redis-7.0.15`) as prose names it (`Redis 7.0.15`).
fn server_name(server: &str) -> String {
    match server.split_once('-') {
        Some((name, version)) => format!("{} {version}", capitalized(name)),
        None => capitalized(server),
    }
}

/// Text with its first letter in upper case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn the_command_doc_has_summary_syntax_facts_and_replies() {
        with_emitter(SET, |e| {
            assert_eq!(
                e.command_doc(),
                "`SET`: Sets the string value of a key.\n\
                 \n\
                 ```text\n\
                 SET key value [NX | IFEQ comparison-value] [GET] [EX seconds | KEEPTTL]\n\
                 ```\n\
                 \n\
                 - Since: 1.0.0\n\
                 - Group: string\n\
                 - Complexity: O(1)\n\
                 - Reply: `ok`\n\
                 - Reply with `get`: `bulk?` — the old value\n\
                 - Reply with `condition`: `ok?`\n"
            );
        });
    }

    #[test]
    fn a_later_servers_deprecation_is_a_sentence_naming_it() {
        with_emitter(LINSERT, |e| {
            assert!(
                e.command_doc().ends_with(
                    "\nRedis 7.0.15 marks it deprecated since 6.2.0; use `LMOVE` instead.\n"
                ),
                "{}",
                e.command_doc()
            );
        });
        assert_eq!(server_name("valkey-9.1.2"), "Valkey 9.1.2");
        assert_eq!(
            capitalized("deprecated since 5.0.0"),
            "Deprecated since 5.0.0"
        );
    }
}
