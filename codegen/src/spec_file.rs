//! Writes a command's file text, carrying the project-owned fields (`reply`, `rust`) over from
//! the file's previous text byte for byte, so re-import never touches what people wrote.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::spec::{Command, SpecError};

/// The project-owned fields of an existing file, as their exact text.
#[derive(Deserialize)]
struct ProjectOwned<'a> {
    #[serde(borrow, default)]
    reply: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rust: Option<&'a RawValue>,
}

/// The file text for `command`: pretty JSON with two-space indent and a trailing newline.
///
/// `reply` and `rust` are copied verbatim from `previous` (the file's current text, named
/// `file` in errors) when it has them; otherwise `command`'s own values are written.
pub fn render(command: &Command, previous: Option<&str>, file: &str) -> Result<String, SpecError> {
    let parse_error = |err: serde_json::Error| SpecError::Parse {
        file: file.to_string(),
        message: err.to_string(),
    };
    let kept = match previous {
        Some(text) => Some(serde_json::from_str::<ProjectOwned>(text).map_err(parse_error)?),
        None => None,
    };
    let mut facts = command.clone();
    facts.reply = None;
    facts.rust = None;
    let mut text = serde_json::to_string_pretty(&facts).map_err(parse_error)?;
    // The serializer ends an object with "\n}"; project-owned fields go before that brace.
    text.truncate(text.len() - "\n}".len());
    let reply = match kept.as_ref().and_then(|kept| kept.reply) {
        Some(raw) => Some(raw.get().to_string()),
        None => command
            .reply
            .as_ref()
            .map(pretty_nested)
            .transpose()
            .map_err(parse_error)?,
    };
    let rust = match kept.as_ref().and_then(|kept| kept.rust) {
        Some(raw) => Some(raw.get().to_string()),
        None => command
            .rust
            .as_ref()
            .map(pretty_nested)
            .transpose()
            .map_err(parse_error)?,
    };
    for (key, value) in [("reply", reply), ("rust", rust)] {
        if let Some(value) = value {
            text.push_str(&format!(",\n  \"{key}\": {value}"));
        }
    }
    text.push_str("\n}\n");
    Ok(text)
}

/// Pretty JSON for a value written one level deep in the file.
fn pretty_nested<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(value)?.replace('\n', "\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse_file, RustHints};

    fn command() -> Command {
        Command {
            name: "TYPE".into(),
            arity: 2,
            servers: vec!["redis-7.0.15".into()],
            ..Command::default()
        }
    }

    #[test]
    fn keeps_project_owned_fields_verbatim() {
        let previous = "{\n  \"name\": \"TYPE\",\n  \"arity\": 3,\n  \"servers\": [],\n  \"reply\": {\"type\":   \"status\"},\n  \"rust\": {\n    \"name\": \"key_type\"\n  }\n}\n";
        let text = render(&command(), Some(previous), "commands/type.json").unwrap();
        assert_eq!(
            text,
            "{\n  \"name\": \"TYPE\",\n  \"arity\": 2,\n  \"servers\": [\n    \"redis-7.0.15\"\n  ],\n  \"reply\": {\"type\":   \"status\"},\n  \"rust\": {\n    \"name\": \"key_type\"\n  }\n}\n"
        );
        assert_eq!(render(&command(), Some(&text), "x").unwrap(), text);
    }

    #[test]
    fn writes_own_hints_when_the_file_is_new() {
        let mut command = command();
        command.rust = Some(RustHints {
            name: Some("key_type".into()),
            ..RustHints::default()
        });
        let text = render(&command, None, "commands/type.json").unwrap();
        assert!(
            text.ends_with(",\n  \"rust\": {\n    \"name\": \"key_type\"\n  }\n}\n"),
            "{text}"
        );
        let back = parse_file("commands/type.json", &text).unwrap();
        assert_eq!(back.rust, command.rust);
    }

    #[test]
    fn a_broken_previous_file_is_named() {
        let err = render(&command(), Some("{\"reply\": "), "commands/type.json").unwrap_err();
        assert!(err.to_string().starts_with("commands/type.json: "), "{err}");
    }
}
