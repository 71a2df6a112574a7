//! Runs every reply sample in `commands/` against real servers, in RESP2 and RESP3, and holds each
//! reply against the type the spec states for it.
//!
//! Narrow a run while annotating with `SPEC_REPLY_ONLY=set,client-kill` (file stems) or
//! `SPEC_REPLY_GROUP=list,string`. A sample argument may hold `{own-addr}`, the sample connection's
//! own address as the server sees it (for CLIENT KILL's old form).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use codegen::reply::{Reply, ReplyType, Sample};
use codegen::spec::{file_stem, load_dir};
use redis_client::Value;
use redis_test_harness::reply_check::{check, short, Protocol};
use redis_test_harness::{
    field, fields, workspace_root, RawConnection, SentinelServer, SentinelSetup, Server,
    ServerKind, TempDir, MASTER_NAME,
};

const REDIS: &str = "redis-7.0.15";
const VALKEY: &str = "valkey-9.1.2";
const SENTINEL: &str = "sentinel-7.0.15";

/// One command file's facts the runner needs.
struct CommandFile {
    stem: String,
    group: String,
    servers: Vec<String>,
    reply: Option<Reply>,
}

/// One sample, with the shape it must produce.
struct Job {
    stem: String,
    shape: String,
    resp3: ReplyType,
    resp2: ReplyType,
    sample: Sample,
    mode: Mode,
    servers: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Standalone,
    Isolated,
    Replicated,
    Sentinel,
    Cluster,
    ClusterReplica,
}

impl Mode {
    fn parse(text: Option<&str>, servers: &[String]) -> Result<Mode, String> {
        Ok(match text {
            None if servers.iter().all(|s| s == SENTINEL) => Mode::Sentinel,
            None | Some("standalone") => Mode::Standalone,
            Some("isolated") => Mode::Isolated,
            Some("replicated") => Mode::Replicated,
            Some("sentinel") => Mode::Sentinel,
            Some("cluster") => Mode::Cluster,
            Some("cluster-replica") => Mode::ClusterReplica,
            Some(other) => return Err(format!("unknown sample mode `{other}`")),
        })
    }

    fn servers(self) -> &'static [&'static str] {
        match self {
            Mode::Sentinel => &[SENTINEL],
            // An isolated sentinel sample gets a fresh master, replica and sentinel of its own.
            Mode::Isolated => &[REDIS, VALKEY, SENTINEL],
            _ => &[REDIS, VALKEY],
        }
    }
}

fn commands_dir() -> PathBuf {
    workspace_root().join("commands")
}

/// Every command file, through the spec model the generator uses.
fn load_files() -> Vec<CommandFile> {
    let commands = load_dir(&commands_dir()).unwrap_or_else(|e| panic!("commands/: {e}"));
    commands
        .into_iter()
        .map(|command| CommandFile {
            stem: file_stem(&command.name),
            group: command.group.unwrap_or_default(),
            servers: command.servers,
            reply: command.reply,
        })
        .collect()
}

/// The files selected by `SPEC_REPLY_ONLY` / `SPEC_REPLY_GROUP`, or all of them.
fn selected_files() -> Vec<CommandFile> {
    let list = |var: &str| -> Option<BTreeSet<String>> {
        std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
    };
    let only = list("SPEC_REPLY_ONLY");
    let groups = list("SPEC_REPLY_GROUP");
    load_files()
        .into_iter()
        .filter(|f| only.as_ref().is_none_or(|o| o.contains(&f.stem)))
        .filter(|f| groups.as_ref().is_none_or(|g| g.contains(&f.group)))
        .collect()
}

fn parse_type(stem: &str, what: &str, text: &str) -> ReplyType {
    ReplyType::parse(text).unwrap_or_else(|e| panic!("commands/{stem}.json: {what}: {e}"))
}

fn jobs(files: &[CommandFile]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for file in files {
        let Some(reply) = &file.reply else { continue };
        let mut shapes = vec![("type".to_string(), &reply.ty, &reply.resp2, &reply.samples)];
        for (i, v) in reply.variants.iter().enumerate() {
            shapes.push((
                format!("variants[{i}] (when {})", v.when.join(" + ")),
                &v.ty,
                &v.resp2,
                &v.samples,
            ));
        }
        for (shape, ty, resp2, samples) in shapes {
            let resp3 = parse_type(&file.stem, &shape, ty);
            let resp2 = resp2
                .as_deref()
                .map(|t| parse_type(&file.stem, &shape, t))
                .unwrap_or_else(|| resp3.clone());
            for sample in samples {
                let mode = Mode::parse(sample.mode.as_deref(), &file.servers)
                    .unwrap_or_else(|e| panic!("commands/{}.json: {shape}: {e}", file.stem));
                let servers: Vec<String> = if sample.servers.is_empty() {
                    file.servers
                        .iter()
                        .filter(|s| mode.servers().contains(&s.as_str()))
                        .cloned()
                        .collect()
                } else {
                    sample.servers.clone()
                };
                jobs.push(Job {
                    stem: file.stem.clone(),
                    shape: shape.clone(),
                    resp3: resp3.clone(),
                    resp2: resp2.clone(),
                    sample: sample.clone(),
                    mode,
                    servers,
                });
            }
        }
    }
    jobs
}

/// Runs one sample on `target` in one protocol; `flush` is where FLUSHALL goes (a replica refuses it).
fn run_sample(
    job: &Job,
    protocol: Protocol,
    target: &dyn Fn() -> std::io::Result<RawConnection>,
    flush: Option<&dyn Fn() -> std::io::Result<RawConnection>>,
) -> Result<(), String> {
    if let Some(flush) = flush {
        let mut conn = flush().map_err(|e| format!("connect for FLUSHALL: {e}"))?;
        expect_ok(&conn.call(&["FLUSHALL"]), "FLUSHALL")?;
    }
    let mut conn = target().map_err(|e| format!("connect: {e}"))?;
    if protocol == Protocol::Resp3 {
        expect_ok(&conn.call(&["HELLO", "3"]), "HELLO 3")?;
    }
    let mut setup_replies = Vec::new();
    for setup in &job.sample.setup {
        let args: Vec<&str> = setup.iter().map(String::as_str).collect();
        let reply = conn.call(&args);
        expect_ok(&reply, &setup.join(" "))?;
        setup_replies.push(reply.expect("checked by expect_ok"));
    }
    // Kept open until the sample's reply is in: its commands may still be running.
    let _background = if job.sample.background.is_empty() {
        None
    } else {
        let mut busy = target().map_err(|e| format!("connect for background: {e}"))?;
        for command in &job.sample.background {
            busy.send(command)
                .map_err(|e| format!("background `{}`: {e}", command.join(" ")))?;
        }
        std::thread::sleep(BACKGROUND_HEAD_START);
        Some(busy)
    };
    let args = with_own_addr(&job.sample.args, &mut conn)?;
    let args = with_setup_replies(&args, &setup_replies)?;
    let reply = conn.call(&args).map_err(|e| format!("I/O error: {e}"))?;
    if let Value::Error(e) = &reply {
        return Err(format!("server error: {}", String::from_utf8_lossy(e)));
    }
    let ty = match protocol {
        Protocol::Resp2 => &job.resp2,
        Protocol::Resp3 => &job.resp3,
    };
    check(ty, protocol, &reply).map_err(|m| format!("{m} (reply: {})", render(&reply)))
}

/// How long background commands get to reach the server before the sample is sent.
const BACKGROUND_HEAD_START: std::time::Duration = std::time::Duration::from_millis(100);

/// Replaces each argument written `{setup-reply:N}` with the bytes of setup command N's reply.
fn with_setup_replies(args: &[String], replies: &[Value]) -> Result<Vec<Vec<u8>>, String> {
    args.iter()
        .map(|arg| {
            let Some(index) = arg
                .strip_prefix("{setup-reply:")
                .and_then(|rest| rest.strip_suffix('}'))
            else {
                return Ok(arg.clone().into_bytes());
            };
            let reply = index
                .parse::<usize>()
                .ok()
                .and_then(|i| replies.get(i))
                .ok_or_else(|| format!("`{arg}` names no setup command"))?;
            reply
                .as_bytes()
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("`{arg}`: the reply is not a string but {}", short(reply)))
        })
        .collect()
}

/// Stands for the sample connection's own address (as the server sees it) in sample arguments.
const OWN_ADDR: &str = "{own-addr}";

/// Replaces [`OWN_ADDR`] in `args` with the connection's `addr` from CLIENT INFO: CLIENT KILL's
/// old form needs the address of a live client, which no fixed sample can know.
fn with_own_addr(args: &[String], conn: &mut RawConnection) -> Result<Vec<String>, String> {
    if !args.iter().any(|a| a.contains(OWN_ADDR)) {
        return Ok(args.to_vec());
    }
    let info = conn
        .call(&["CLIENT", "INFO"])
        .map_err(|e| format!("CLIENT INFO for {OWN_ADDR}: I/O error: {e}"))?;
    let addr = info
        .as_bytes()
        .map(String::from_utf8_lossy)
        .and_then(|text| {
            text.split_whitespace()
                .find_map(|field| field.strip_prefix("addr="))
                .map(String::from)
        })
        .ok_or_else(|| format!("CLIENT INFO for {OWN_ADDR} gave no addr: {}", short(&info)))?;
    Ok(args.iter().map(|a| a.replace(OWN_ADDR, &addr)).collect())
}

fn expect_ok(reply: &std::io::Result<Value>, what: &str) -> Result<(), String> {
    match reply {
        Ok(Value::Error(e)) => Err(format!(
            "setup `{what}` failed: {}",
            String::from_utf8_lossy(e)
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("setup `{what}` I/O error: {e}")),
    }
}

/// A compact rendering of a whole reply for failure messages.
fn render(value: &Value) -> String {
    let mut out = String::new();
    render_into(value, &mut out);
    if out.len() > 300 {
        let cut = out.floor_char_boundary(300);
        out.truncate(cut);
        out.push('…');
    }
    out
}

fn render_into(value: &Value, out: &mut String) {
    let list = |items: &[Value], open: &str, close: &str, out: &mut String| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            render_into(item, out);
        }
        out.push_str(close);
    };
    match value {
        Value::Array(items) => list(items, "[", "]", out),
        Value::Set(items) => list(items, "~[", "]", out),
        Value::Push(items) => list(items, ">[", "]", out),
        Value::Map(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(k, out);
                out.push_str(": ");
                render_into(v, out);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{}", short(other));
        }
    }
}

/// Runs `jobs` against one server kind in one mode, in both protocols; returns failure lines.
fn run_jobs(
    jobs: &[&Job],
    server_id: &str,
    mut run: impl FnMut(&Job, Protocol) -> Result<(), String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for job in jobs {
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            if let Err(e) = run(job, protocol) {
                failures.push(format!(
                    "commands/{}.json {} on {server_id} RESP{}: `{}`: {e}",
                    job.stem,
                    job.shape,
                    protocol.number(),
                    job.sample.args.join(" ")
                ));
            }
        }
    }
    failures
}

fn jobs_for<'a>(all: &'a [Job], mode: Mode, server_id: &str) -> Vec<&'a Job> {
    all.iter()
        .filter(|j| j.mode == mode && j.servers.iter().any(|s| s == server_id))
        .collect()
}

fn kind_of(server_id: &str) -> ServerKind {
    match server_id {
        REDIS => ServerKind::Redis,
        VALKEY => ServerKind::Valkey,
        other => panic!("no standalone server kind for {other}"),
    }
}

fn finish(what: &str, total: usize, failures: Vec<String>) {
    eprintln!("{what}: {total} sample runs, {} failures", failures.len());
    if !failures.is_empty() {
        panic!(
            "{what}: {} of {total} sample runs failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Samples on a server shared by every sample of this kind (FLUSHALL between samples).
fn standalone(server_id: &str) {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::Standalone, server_id);
    if jobs.is_empty() {
        return;
    }
    let server = Server::builder(kind_of(server_id)).start();
    assert_eq!(server.server_id(), server_id, "unexpected server version");
    let connect = || RawConnection::connect_to(&server);
    let failures = run_jobs(&jobs, server_id, |job, protocol| {
        run_sample(job, protocol, &connect, Some(&connect))
    });
    finish(&format!("{server_id} standalone"), jobs.len() * 2, failures);
}

/// Samples that each need a throwaway server of their own.
fn isolated(server_id: &str) {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::Isolated, server_id);
    let failures = run_jobs(&jobs, server_id, |job, protocol| {
        if server_id == SENTINEL {
            // A replica, so that SENTINEL FAILOVER has one to promote.
            let setup = SentinelSetup::builder()
                .replicas(1)
                .sentinels(1)
                .quorum(1)
                .spawn()
                .map_err(|e| format!("sentinel setup: {e}"))?;
            let sentinel = &setup.sentinels()[0];
            wait_for_replica_info(sentinel)?;
            let connect = || RawConnection::connect_to_sentinel(sentinel);
            return run_sample(job, protocol, &connect, None);
        }
        let files = TempDir::new("sample-files").map_err(|e| e.to_string())?;
        let mut builder = Server::builder(kind_of(server_id));
        for (name, content) in &job.sample.files {
            std::fs::write(files.path().join(name), content)
                .map_err(|e| format!("cannot write sample file {name}: {e}"))?;
        }
        for line in &job.sample.config {
            let dir = files.path().display().to_string();
            builder = builder.config(line.replace("{files}", &dir));
        }
        let server = builder
            .spawn()
            .map_err(|e| format!("server with the sample's config: {e}"))?;
        let connect = || RawConnection::connect_to(&server);
        run_sample(job, protocol, &connect, Some(&connect))
    });
    finish(&format!("{server_id} isolated"), jobs.len() * 2, failures);
}

/// Waits until the sentinel has heard from the replica itself, not only of it through the
/// master's INFO: until then SENTINEL FAILOVER finds no replica it may promote.
fn wait_for_replica_info(sentinel: &SentinelServer) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mut conn = RawConnection::connect_to_sentinel(sentinel).map_err(|e| e.to_string())?;
        let reply = conn
            .call(&["SENTINEL", "REPLICAS", MASTER_NAME])
            .map_err(|e| e.to_string())?;
        let Value::Array(replicas) = &reply else {
            return Err(format!("SENTINEL REPLICAS gave {}", short(&reply)));
        };
        // The link status comes from the replica's own INFO.
        if replicas
            .iter()
            .any(|r| field(&fields(r), "master-link-status") == Some("ok"))
        {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err("the sentinel never got INFO from the replica".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Samples run on a fresh master that has one replica attached.
fn replicated(server_id: &str) {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::Replicated, server_id);
    let failures = run_jobs(&jobs, server_id, |job, protocol| {
        let master = Server::builder(kind_of(server_id)).start();
        let replica = Server::builder(kind_of(server_id))
            .replica_of(&master)
            .start();
        wait_for_replica(&master)?;
        let connect = || RawConnection::connect_to(&master);
        let result = run_sample(job, protocol, &connect, Some(&connect));
        drop(replica);
        result
    });
    finish(&format!("{server_id} replicated"), jobs.len() * 2, failures);
}

fn wait_for_replica(master: &Server) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let mut conn = RawConnection::connect_to(master).map_err(|e| e.to_string())?;
        if let Ok(Value::Bulk(info)) = conn.call(&["INFO", "replication"]) {
            let info = String::from_utf8_lossy(&info);
            if info.contains("connected_slaves:1") && info.contains("state=online") {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err("the replica never came online".into())
}

/// Samples on a one-node cluster that owns every slot.
fn cluster(server_id: &str) {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::Cluster, server_id);
    if jobs.is_empty() {
        return;
    }
    let node = Server::builder(kind_of(server_id)).cluster().start();
    let connect = || RawConnection::connect_to(&node);
    let failures = run_jobs(&jobs, server_id, |job, protocol| {
        run_sample(job, protocol, &connect, Some(&connect))
    });
    finish(&format!("{server_id} cluster"), jobs.len() * 2, failures);
}

/// Samples on the replica of a fresh two-node cluster.
fn cluster_replica(server_id: &str) {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::ClusterReplica, server_id);
    let failures = run_jobs(&jobs, server_id, |job, protocol| {
        let master = Server::builder(kind_of(server_id)).cluster().start();
        let replica = Server::builder(kind_of(server_id)).cluster_empty().start();
        join_as_replica(&master, &replica)?;
        let on_replica = || RawConnection::connect_to(&replica);
        let on_master = || RawConnection::connect_to(&master);
        run_sample(job, protocol, &on_replica, Some(&on_master))
    });
    finish(
        &format!("{server_id} cluster-replica"),
        jobs.len() * 2,
        failures,
    );
}

fn join_as_replica(master: &Server, replica: &Server) -> Result<(), String> {
    let call = |server: &Server, args: &[&str]| -> Result<Value, String> {
        let mut conn = RawConnection::connect_to(server).map_err(|e| e.to_string())?;
        match conn.call(args).map_err(|e| e.to_string())? {
            Value::Error(e) => Err(format!(
                "{}: {}",
                args.join(" "),
                String::from_utf8_lossy(&e)
            )),
            v => Ok(v),
        }
    };
    let master_id = match call(master, &["CLUSTER", "MYID"])? {
        Value::Bulk(id) => String::from_utf8_lossy(&id).into_owned(),
        other => return Err(format!("CLUSTER MYID gave {}", short(&other))),
    };
    let port = master.port().to_string();
    call(replica, &["CLUSTER", "MEET", "127.0.0.1", &port])?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        // The replica must learn the master's id through the bus before it can follow it.
        if call(replica, &["CLUSTER", "REPLICATE", &master_id]).is_ok() {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err("the replica never learned the master through the cluster bus".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    while std::time::Instant::now() < deadline {
        if let Value::Bulk(info) = call(replica, &["INFO", "replication"])? {
            if String::from_utf8_lossy(&info).contains("master_link_status:up") {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err("the cluster replica never synced".into())
}

#[test]
fn every_reply_shape_has_a_sample() {
    let files = selected_files();
    let mut missing = Vec::new();
    let mut unsampled_shapes = Vec::new();
    for file in &files {
        let Some(reply) = &file.reply else {
            missing.push(format!("{}: no reply", file.stem));
            continue;
        };
        let mut shapes = vec![("type".to_string(), &reply.samples, &reply.unsampled)];
        for (i, v) in reply.variants.iter().enumerate() {
            shapes.push((format!("variants[{i}]"), &v.samples, &v.unsampled));
        }
        for (shape, samples, unsampled) in shapes {
            match (samples.is_empty(), unsampled) {
                (true, None) => missing.push(format!("{}: {shape} has no sample", file.stem)),
                (true, Some(why)) => {
                    unsampled_shapes.push(format!("{}: {shape}: {why}", file.stem))
                }
                (false, Some(_)) => missing.push(format!(
                    "{}: {shape} has samples, so it must not claim `unsampled`",
                    file.stem
                )),
                (false, None) => {}
            }
            for sample in samples.iter() {
                let isolated = sample.mode.as_deref() == Some("isolated");
                let configures_server = !sample.config.is_empty() || !sample.files.is_empty();
                if configures_server && !isolated {
                    missing.push(format!(
                        "{}: {shape}: `config` and `files` need mode isolated",
                        file.stem
                    ));
                }
            }
        }
    }
    // Shapes checked by hand are reported on every run, so they stay visible.
    eprintln!(
        "{} reply shapes no sample can produce (checked by hand):\n{}",
        unsampled_shapes.len(),
        unsampled_shapes.join("\n")
    );
    assert!(
        missing.is_empty(),
        "{} of {} files lack a reply or samples:\n{}",
        missing.len(),
        files.len(),
        missing.join("\n")
    );
}

#[test]
fn redis_standalone() {
    standalone(REDIS);
}

#[test]
fn valkey_standalone() {
    standalone(VALKEY);
}

#[test]
fn redis_isolated() {
    isolated(REDIS);
}

#[test]
fn valkey_isolated() {
    isolated(VALKEY);
}

#[test]
fn sentinel_isolated() {
    isolated(SENTINEL);
}

#[test]
fn redis_replicated() {
    replicated(REDIS);
}

#[test]
fn valkey_replicated() {
    replicated(VALKEY);
}

#[test]
fn redis_cluster() {
    cluster(REDIS);
}

#[test]
fn valkey_cluster() {
    cluster(VALKEY);
}

#[test]
fn redis_cluster_replica() {
    cluster_replica(REDIS);
}

#[test]
fn valkey_cluster_replica() {
    cluster_replica(VALKEY);
}

/// Sentinel samples, against one of two sentinels monitoring a live master named `mymaster`
/// that has one replica.
#[test]
fn sentinel() {
    let all = jobs(&selected_files());
    let jobs = jobs_for(&all, Mode::Sentinel, SENTINEL);
    if jobs.is_empty() {
        return;
    }
    // A replica and a second sentinel, so that SENTINEL REPLICAS, SENTINELS and INFO-CACHE have
    // entries to show.
    let setup = SentinelSetup::builder().replicas(1).sentinels(2).start();
    let connect = || RawConnection::connect_to_sentinel(&setup.sentinels()[0]);
    let failures = run_jobs(&jobs, SENTINEL, |job, protocol| {
        run_sample(job, protocol, &connect, None)
    });
    finish("sentinel", jobs.len() * 2, failures);
}
