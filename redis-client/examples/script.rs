//! Lua scripts and Redis functions: EVALSHA with automatic loading, scripts in pipelines, and
//! FUNCTION LOAD / FCALL through the generated surface.
//!
//! `cargo run -p redis-client --example script -- redis://127.0.0.1:6379/15` (it writes keys
//! under `example:script:` and loads a function library named `example_lib`).

use redis_client::{cmd, Client, Commands, Executor, FromValue, Result};

fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379/15".to_string());
    if let Err(e) = run(&url) {
        eprintln!("script example failed: {e}");
        std::process::exit(1);
    }
}

const CAPPED_INCR: &str = r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[2])
  return tonumber(ARGV[2])
end
return n";

fn run(url: &str) -> Result<()> {
    let client = Client::open(url)?;

    println!("== a Script knows its SHA-1 before anything is sent");
    let capped = client.register_script(CAPPED_INCR);
    println!("sha1 {}", capped.sha());

    println!("\n== calling it sends EVALSHA; NOSCRIPT makes the client load it and retry");
    client.execute(["SCRIPT", "FLUSH"])?;
    for _ in 0..3 {
        let n: i64 = capped
            .key("example:script:n")
            .arg(4)
            .arg(10)
            .call(&client)?;
        println!("capped incr -> {n}");
    }

    println!("\n== in a pipeline the scripts are loaded before the pipeline is sent");
    client.execute(["SCRIPT", "FLUSH"])?;
    let mut pipe = client.pipeline();
    capped
        .key("example:script:m")
        .arg(7)
        .arg(10)
        .queue(&mut pipe);
    capped
        .key("example:script:m")
        .arg(7)
        .arg(10)
        .queue(&mut pipe);
    let (first, second): (i64, i64) = pipe.execute_typed()?;
    println!("two queued calls -> {first}, {second}");

    println!("\n== functions: FUNCTION LOAD, FCALL and FCALL_RO from the generated surface");
    let library = "#!lua name=example_lib\n\
        redis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)\n\
        redis.register_function{function_name='peek', \
            callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}";
    let name = client.run(cmd::FunctionLoad::new(library).replace())?;
    println!("loaded library {name}");
    let greeting = client.run(cmd::Fcall::new("hello").arg(["world"]))?;
    println!("FCALL hello world -> {}", String::from_value(greeting)?);
    let peek = client.run(cmd::FcallRo::new("peek").key(["example:script:n"]))?;
    println!("FCALL_RO peek -> {peek}");
    for library in client.function_list()? {
        println!("library: {:?}", library.get("library_name"));
    }
    client.function_delete("example_lib")?;

    client.del(["example:script:n", "example:script:m"])?;
    Ok(())
}
