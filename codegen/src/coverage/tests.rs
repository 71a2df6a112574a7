use super::*;
use crate::spec::{ArgType, Argument};

fn arg(name: &str, ty: ArgType) -> Argument {
    Argument {
        name: name.into(),
        ty,
        display_text: None,
        key_spec_index: None,
        token: None,
        since: None,
        deprecated_since: None,
        optional: false,
        multiple: false,
        multiple_token: false,
        summary: None,
        servers: Vec::new(),
        arguments: Vec::new(),
    }
}

fn tokened(mut a: Argument, token: &str) -> Argument {
    a.token = Some(token.into());
    a
}

fn optional(mut a: Argument) -> Argument {
    a.optional = true;
    a
}

fn command(name: &str, servers: &[&str], arguments: Vec<Argument>) -> Command {
    Command {
        name: name.into(),
        group: Some("string".into()),
        arity: -2,
        servers: servers.iter().map(|s| s.to_string()).collect(),
        arguments,
        ..Command::default()
    }
}

fn limit(name: &str) -> Argument {
    let mut block = optional(tokened(arg(name, ArgType::Block), "LIMIT"));
    block.arguments = vec![
        arg("offset", ArgType::Integer),
        arg("count", ArgType::Integer),
    ];
    block
}

fn audit_one(spec: Command, server: Command) -> CommandReport {
    let name = server.name.clone();
    let report = audit(&[spec], "redis-7.0.15", &[name], &[server]).unwrap();
    report.commands.into_iter().next().unwrap()
}

#[test]
fn a_renamed_twin_is_covered_and_said_so() {
    let spec = command(
        "FOO",
        &["valkey-9.1.2"],
        vec![arg("key", ArgType::Key), limit("limit")],
    );
    let server = command(
        "FOO",
        &["redis-7.0.15"],
        vec![arg("key", ArgType::Key), limit("offset_count")],
    );
    let report = audit_one(spec, server);
    assert_eq!(report.status, Status::Covered);
    assert!(
        report.notes.iter().any(|n| n.contains("FOO offset_count")
            && n.contains("`limit`")
            && n.contains("renamed twin")),
        "{:?}",
        report.notes
    );
}

#[test]
fn an_argument_the_builder_cannot_produce_is_a_mismatch() {
    let spec = command("FOO", &["valkey-9.1.2"], vec![arg("key", ArgType::Key)]);
    let server = command(
        "FOO",
        &["redis-7.0.15"],
        vec![
            arg("key", ArgType::Key),
            optional(tokened(arg("frob", ArgType::PureToken), "FROB")),
        ],
    );
    let report = audit_one(spec, server);
    let Status::Mismatch(problems) = report.status else {
        panic!("not a mismatch: {report:?}");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].path, "frob");
    assert!(problems[0].message.contains("token FROB"), "{problems:?}");
}

#[test]
fn flags_and_types_are_compared() {
    let spec = command(
        "FOO",
        &["valkey-9.1.2"],
        vec![arg("key", ArgType::Key), arg("n", ArgType::Integer)],
    );
    let mut many = optional(arg("key", ArgType::Key));
    many.multiple = true;
    let server = command(
        "FOO",
        &["redis-7.0.15"],
        vec![many, arg("n", ArgType::Double)],
    );
    let Status::Mismatch(problems) = audit_one(spec, server).status else {
        panic!("not a mismatch");
    };
    let messages: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("key:") && m.contains("left out")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("key:") && m.contains("takes one")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("n:") && m.contains("an i64")),
        "{messages:?}"
    );
}

#[test]
fn missing_commands_and_containers_are_told_apart() {
    let spec = command("FOO", &["redis-7.0.15"], vec![]);
    let mut container = command("CONT", &["redis-7.0.15"], vec![]);
    container.arity = -2;
    let mut sub = command("CONT SUB", &["redis-7.0.15"], vec![]);
    sub.container = Some("CONT".into());
    let listed = [
        "cont".to_string(),
        "cont|sub".to_string(),
        "bar".to_string(),
    ];
    let report = audit(&[spec], "redis-7.0.15", &listed, &[container, sub]).unwrap();
    let status = |name: &str| {
        report
            .commands
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status.clone())
    };
    assert_eq!(status("CONT"), Some(Status::Container));
    assert_eq!(status("CONT SUB"), Some(Status::Missing));
    assert_eq!(status("BAR"), Some(Status::Missing));
    assert_eq!(report.unlisted, vec!["FOO".to_string()]);
    assert_eq!(report.totals().gaps(), 2);
}
