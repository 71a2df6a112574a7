//! The generator over the real spec: every command gets a metadata entry, and blocking commands
//! say where their timeout is.

use std::path::Path;

use codegen::generate::generate;
use codegen::spec::load_dir;

fn generated_meta() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../commands");
    let commands = load_dir(&dir).expect("the spec loads");
    let files = generate(&commands).expect("the spec generates");
    files
        .into_iter()
        .find(|f| f.name == "meta.rs")
        .expect("meta.rs is generated")
        .source
}

/// The generated `CommandMeta { … }` entry of command `name`.
fn entry_of(meta: &str, name: &str) -> String {
    let start = meta
        .find(&format!("name : \"{name}\""))
        .unwrap_or_else(|| panic!("{name} in meta.rs"));
    let end = meta[start..].find("} ,").map_or(meta.len(), |e| start + e);
    meta[start..end].to_string()
}

#[test]
fn meta_has_every_command_sorted() {
    let meta = generated_meta();
    let names: Vec<&str> = meta
        .split("name : \"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(names.len(), 421);
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(names, sorted, "the runtime binary-searches this table");
    assert!(names.contains(&"CLIENT KILL"));
    assert!(names.contains(&"SENTINEL MASTERS"));
}

#[test]
fn blocking_timeouts_are_located() {
    let meta = generated_meta();
    let entry = |name: &str| entry_of(&meta, name);
    assert!(
        entry("BLPOP").contains("TimeoutPosition :: Last"),
        "{}",
        entry("BLPOP")
    );
    assert!(entry("BLPOP").contains("TimeUnit :: Seconds"));
    assert!(entry("BLMPOP").contains("TimeoutPosition :: First"));
    assert!(entry("XREAD").contains("TimeoutPosition :: AfterToken (\"BLOCK\")"));
    assert!(entry("XREAD").contains("TimeUnit :: Milliseconds"));
    assert!(entry("WAIT").contains("TimeoutPosition :: Last"));
    assert!(entry("GET").contains("blocking_timeout : None"));
}

#[test]
fn connection_state_comes_from_the_spec() {
    let meta = generated_meta();
    let entry = |name: &str| entry_of(&meta, name);
    for name in [
        "SELECT",
        "MULTI",
        "WATCH",
        "SUBSCRIBE",
        "CLIENT REPLY",
        "HELLO",
    ] {
        assert!(
            entry(name).contains("connection_state : true"),
            "{}",
            entry(name)
        );
    }
    for name in ["GET", "CLIENT", "CLIENT LIST", "PUBLISH"] {
        assert!(
            entry(name).contains("connection_state : false"),
            "{}",
            entry(name)
        );
    }
    assert_eq!(meta.matches("connection_state : true").count(), 32);
}
