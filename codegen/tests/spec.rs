//! Loads and validates every file in `commands/`.
//!
//! Fails until every command has a valid `reply`; the commands still missing one are listed in
//! one line so annotators can see what is left.

use std::path::Path;

use codegen::validate::{validate_dir, ProblemKind};

#[test]
fn every_command_file_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../commands");
    let problems = match validate_dir(&dir) {
        Ok(commands) => {
            assert!(
                !commands.is_empty(),
                "no command files in {}",
                dir.display()
            );
            return;
        }
        Err(problems) => problems,
    };
    let (missing, other): (Vec<_>, Vec<_>) = problems
        .iter()
        .partition(|problem| problem.kind == ProblemKind::MissingReply);
    let mut report = String::new();
    for problem in &other {
        report.push_str(&format!("{problem}\n"));
    }
    if !missing.is_empty() {
        let names: Vec<&str> = missing
            .iter()
            .map(|problem| {
                let file = problem.file.rsplit('/').next().unwrap_or(&problem.file);
                file.trim_end_matches(".json")
            })
            .collect();
        report.push_str(&format!(
            "{} commands have no reply: {}\n",
            names.len(),
            names.join(" ")
        ));
    }
    panic!("{} problems in commands/:\n{report}", problems.len());
}
