//! `SentinelServer` (one `redis-sentinel` watching a master) and `SentinelSetup` (master, replicas, sentinels).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::binaries::{version_of, Binary};
use crate::error::{Error, IoContext, Result};
use crate::ports::free_port;
use crate::process::{ServerProcess, StartError, STARTUP_DEADLINE};
use crate::raw::RawConnection;
use crate::reply::{field, fields, info_field, text};
use crate::server::{Server, ServerKind};
use crate::stream::Endpoint;
use crate::wait::wait_until;
use crate::workspace::TempDir;

/// The name every harness sentinel monitors its master under.
pub const MASTER_NAME: &str = "mymaster";

const PORT_ATTEMPTS: usize = 5;
/// Sentinels find each other through hello messages every 2 s; give them a few rounds.
const TOPOLOGY_DEADLINE: Duration = Duration::from_secs(20);

/// Configures a [`SentinelServer`] before spawning it.
#[derive(Clone, Debug)]
pub struct SentinelBuilder {
    master: SocketAddr,
    master_password: Option<String>,
    quorum: u32,
    down_after: Duration,
    failover_timeout: Duration,
    extra: Vec<String>,
}

impl SentinelBuilder {
    /// A sentinel for `master`: quorum 1, down after 1000 ms, failover timeout 2000 ms, and the
    /// master's password as `auth-pass`.
    pub fn new(master: &Server) -> SentinelBuilder {
        SentinelBuilder {
            master_password: master.password().map(str::to_string),
            ..SentinelBuilder::for_addr(master.addr())
        }
    }

    /// A sentinel for a master at `addr` that is not a harness [`Server`].
    pub fn for_addr(addr: SocketAddr) -> SentinelBuilder {
        SentinelBuilder {
            master: addr,
            master_password: None,
            quorum: 1,
            down_after: Duration::from_millis(1000),
            failover_timeout: Duration::from_millis(2000),
            extra: Vec::new(),
        }
    }

    /// How many sentinels must agree the master is down.
    pub fn quorum(mut self, quorum: u32) -> Self {
        self.quorum = quorum;
        self
    }

    /// `down-after-milliseconds`: how long the master may not answer before it counts as down.
    pub fn down_after(mut self, after: Duration) -> Self {
        self.down_after = after;
        self
    }

    /// `failover-timeout`.
    pub fn failover_timeout(mut self, timeout: Duration) -> Self {
        self.failover_timeout = timeout;
        self
    }

    /// `sentinel auth-pass`: the password the sentinel uses towards master and replicas.
    pub fn master_password(mut self, password: impl Into<String>) -> Self {
        self.master_password = Some(password.into());
        self
    }

    /// Appends a raw config line; it comes after the harness's own lines.
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.extra.push(line.into());
        self
    }

    /// Spawns the sentinel and waits until it answers PING and has reached its master.
    pub fn spawn(&self) -> Result<SentinelServer> {
        let binary = Binary::RedisSentinel.find()?;
        let version = version_of(&binary)?;
        let mut attempt = 1;
        loop {
            match self.try_spawn(&binary, &version) {
                Ok(sentinel) => return Ok(sentinel),
                Err(StartError::PortTaken(_)) if attempt < PORT_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e.into_error()),
            }
        }
    }

    /// Like [`SentinelBuilder::spawn`], but panics with the reason; for tests.
    #[track_caller]
    pub fn start(&self) -> SentinelServer {
        self.spawn()
            .unwrap_or_else(|e| panic!("starting redis-sentinel: {e}"))
    }

    fn try_spawn(&self, binary: &Path, version: &str) -> Result<SentinelServer, StartError> {
        let ip = self.master.ip();
        let dir = TempDir::new("sentinel")?;
        let port = free_port(ip)?;
        let config = self.render_config(dir.path(), ip, port);
        let what = format!("redis-sentinel {version} on {}", SocketAddr::new(ip, port));
        // Sentinel rewrites its config file (ids, discovered peers), so it must be a writable file.
        let process = ServerProcess::spawn(binary, dir, "sentinel.conf", &config, what)?;
        let mut sentinel = SentinelServer {
            version: version.to_string(),
            ip,
            port,
            master: self.master,
            process,
        };
        sentinel.process.wait_ready(&sentinel.endpoint())?;
        sentinel.wait_for_master()?;
        Ok(sentinel)
    }

    fn render_config(&self, dir: &Path, ip: IpAddr, port: u16) -> String {
        let master = self.master;
        let mut lines = vec![
            format!("bind {ip}"),
            format!("port {port}"),
            format!("dir \"{}\"", dir.display()),
            "daemonize no".to_string(),
            "logfile \"\"".to_string(),
            format!(
                "sentinel monitor {MASTER_NAME} {} {} {}",
                master.ip(),
                master.port(),
                self.quorum
            ),
            format!(
                "sentinel down-after-milliseconds {MASTER_NAME} {}",
                self.down_after.as_millis()
            ),
            format!(
                "sentinel failover-timeout {MASTER_NAME} {}",
                self.failover_timeout.as_millis()
            ),
            format!("sentinel parallel-syncs {MASTER_NAME} 1"),
        ];
        if let Some(password) = &self.master_password {
            lines.push(format!("sentinel auth-pass {MASTER_NAME} {password}"));
        }
        lines.extend(self.extra.iter().cloned());
        lines.join("\n") + "\n"
    }
}

/// A running `redis-sentinel` monitoring one master as [`MASTER_NAME`]; stopped and cleaned up on drop.
#[derive(Debug)]
pub struct SentinelServer {
    version: String,
    ip: IpAddr,
    port: u16,
    master: SocketAddr,
    process: ServerProcess,
}

impl SentinelServer {
    /// A builder for a sentinel monitoring `master`.
    pub fn builder(master: &Server) -> SentinelBuilder {
        SentinelBuilder::new(master)
    }

    /// Spawns a sentinel with the defaults (quorum 1, down after 1000 ms) monitoring `master`.
    pub fn monitor(master: &Server) -> Result<SentinelServer> {
        SentinelBuilder::new(master).spawn()
    }

    /// Like [`SentinelServer::monitor`], but panics with the reason; for tests.
    #[track_caller]
    pub fn monitoring(master: &Server) -> SentinelServer {
        SentinelBuilder::new(master).start()
    }

    /// The sentinel's version, e.g. `7.0.15`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `sentinel-<version>`, e.g. `sentinel-7.0.15`.
    pub fn sentinel_id(&self) -> String {
        format!("sentinel-{}", self.version)
    }

    /// The loopback address the sentinel binds.
    pub fn host(&self) -> IpAddr {
        self.ip
    }

    /// The sentinel's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host():port()`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// `redis://HOST:PORT` of the sentinel.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    /// How the harness reaches the sentinel.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Tcp(self.addr())
    }

    /// The name the master is monitored under, [`MASTER_NAME`].
    pub fn master_name(&self) -> &'static str {
        MASTER_NAME
    }

    /// The master address the sentinel was configured with (failovers may move it; see
    /// [`SentinelServer::reported_master`]).
    pub fn configured_master(&self) -> SocketAddr {
        self.master
    }

    /// `SENTINEL MASTER mymaster` as name/value pairs.
    pub fn master_state(&self) -> Result<Vec<(String, String)>> {
        let mut conn = self.connect()?;
        let reply = conn.call_ok(&["SENTINEL", "MASTER", MASTER_NAME])?;
        Ok(fields(&reply))
    }

    /// The master address the sentinel currently reports (`SENTINEL GET-MASTER-ADDR-BY-NAME`).
    pub fn reported_master(&self) -> Result<SocketAddr> {
        let mut conn = self.connect()?;
        let command = ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME];
        let reply = conn.call_ok(&command)?;
        let unexpected = || Error::UnexpectedReply {
            context: command.join(" "),
            reply: format!("{reply:?}"),
        };
        let parts: Vec<String> = reply
            .as_array()
            .ok_or_else(unexpected)?
            .iter()
            .filter_map(text)
            .collect();
        match parts.as_slice() {
            [ip, port] => {
                let ip: IpAddr = ip.parse().map_err(|_| unexpected())?;
                let port: u16 = port.parse().map_err(|_| unexpected())?;
                Ok(SocketAddr::new(ip, port))
            }
            _ => Err(unexpected()),
        }
    }

    fn connect(&self) -> Result<RawConnection> {
        RawConnection::connect_to_sentinel(self)
            .context(|| format!("connecting to {} at {}", self.sentinel_id(), self.addr()))
    }

    /// The sentinel's temp dir.
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// The sentinel's (rewritten) config file.
    pub fn config_path(&self) -> &Path {
        self.process.config_path()
    }

    /// The file receiving the sentinel's output.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// The last lines of the log.
    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// The whole log.
    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// The OS process id, unless killed.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Kills the sentinel now and reaps it; the temp dir stays until drop.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts the sentinel again on the same port with its rewritten config, and waits for PING.
    pub fn restart(&mut self) -> Result<()> {
        self.process.restart()?;
        self.process
            .wait_ready(&self.endpoint())
            .map_err(StartError::into_error)
    }

    /// Waits until the sentinel has talked to its master: flags exactly `master` and a known run id.
    fn wait_for_master(&self) -> Result<()> {
        wait_until(
            &format!("{} to reach its master {}", self.sentinel_id(), self.master),
            STARTUP_DEADLINE,
            || {
                let state = self.master_state().map_err(|e| e.to_string())?;
                let flags = field(&state, "flags").unwrap_or("");
                let runid = field(&state, "runid").unwrap_or("");
                if flags == "master" && !runid.is_empty() {
                    Ok(())
                } else {
                    Err(format!("flags={flags:?} runid={runid:?}"))
                }
            },
        )
    }
}

/// Configures a [`SentinelSetup`].
#[derive(Clone, Debug)]
pub struct SentinelSetupBuilder {
    kind: ServerKind,
    replicas: usize,
    sentinels: usize,
    quorum: u32,
    down_after: Duration,
    failover_timeout: Duration,
    password: Option<String>,
}

impl Default for SentinelSetupBuilder {
    fn default() -> Self {
        SentinelSetupBuilder {
            kind: ServerKind::Redis,
            replicas: 2,
            sentinels: 3,
            quorum: 2,
            down_after: Duration::from_millis(1000),
            failover_timeout: Duration::from_millis(2000),
            password: None,
        }
    }
}

impl SentinelSetupBuilder {
    /// Which server runs master and replicas (`redis-server` by default).
    pub fn kind(mut self, kind: ServerKind) -> Self {
        self.kind = kind;
        self
    }

    /// How many replicas (default 2).
    pub fn replicas(mut self, n: usize) -> Self {
        self.replicas = n;
        self
    }

    /// How many sentinels (default 3).
    pub fn sentinels(mut self, n: usize) -> Self {
        self.sentinels = n;
        self
    }

    /// The quorum (default 2).
    pub fn quorum(mut self, quorum: u32) -> Self {
        self.quorum = quorum;
        self
    }

    /// `down-after-milliseconds` (default 1000 ms).
    pub fn down_after(mut self, after: Duration) -> Self {
        self.down_after = after;
        self
    }

    /// `failover-timeout` (default 2000 ms).
    pub fn failover_timeout(mut self, timeout: Duration) -> Self {
        self.failover_timeout = timeout;
        self
    }

    /// Puts `requirepass` (and `masterauth`) on master and replicas, and `auth-pass` on the sentinels.
    pub fn requirepass(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Spawns master, replicas and sentinels, and waits until every sentinel sees the master, all
    /// replicas and all other sentinels.
    pub fn spawn(&self) -> Result<SentinelSetup> {
        let server = || {
            let builder = Server::builder(self.kind);
            match &self.password {
                Some(password) => builder.requirepass(password.clone()),
                None => builder,
            }
        };
        let master = server().spawn()?;
        let replicas = (0..self.replicas)
            .map(|_| server().replica_of(&master).spawn())
            .collect::<Result<Vec<_>>>()?;
        wait_for_replicas(&master, self.replicas)?;
        let sentinels = (0..self.sentinels)
            .map(|_| {
                SentinelBuilder::new(&master)
                    .quorum(self.quorum)
                    .down_after(self.down_after)
                    .failover_timeout(self.failover_timeout)
                    .spawn()
            })
            .collect::<Result<Vec<_>>>()?;
        for sentinel in &sentinels {
            wait_for_topology(sentinel, self.replicas, self.sentinels - 1)?;
        }
        Ok(SentinelSetup {
            master,
            replicas,
            sentinels,
        })
    }

    /// Like [`SentinelSetupBuilder::spawn`], but panics with the reason; for tests.
    #[track_caller]
    pub fn start(&self) -> SentinelSetup {
        self.spawn()
            .unwrap_or_else(|e| panic!("starting a sentinel setup: {e}"))
    }
}

/// Waits until the master lists `n` replicas in state `online`.
fn wait_for_replicas(master: &Server, n: usize) -> Result<()> {
    let mut conn =
        RawConnection::connect_to(master).context(|| format!("connecting to {master}"))?;
    wait_until(
        &format!("{n} online replicas of {}", master.addr()),
        STARTUP_DEADLINE,
        || {
            let info = conn.info("replication").map_err(|e| e.to_string())?;
            let online = info
                .lines()
                .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                .count();
            let connected = info_field(&info, "connected_slaves").unwrap_or("?");
            if online == n {
                Ok(())
            } else {
                Err(format!("connected_slaves:{connected}, {online} online"))
            }
        },
    )
}

/// Waits until `sentinel` knows `replicas` replicas and `others` other sentinels.
fn wait_for_topology(sentinel: &SentinelServer, replicas: usize, others: usize) -> Result<()> {
    let (want_replicas, want_others) = (replicas.to_string(), others.to_string());
    wait_until(
        &format!(
            "{} at {} to see {replicas} replicas and {others} other sentinels",
            sentinel.sentinel_id(),
            sentinel.addr()
        ),
        TOPOLOGY_DEADLINE,
        || {
            let state = sentinel.master_state().map_err(|e| e.to_string())?;
            let seen_replicas = field(&state, "num-slaves").unwrap_or("?");
            let seen_others = field(&state, "num-other-sentinels").unwrap_or("?");
            let flags = field(&state, "flags").unwrap_or("?");
            if seen_replicas == want_replicas && seen_others == want_others && flags == "master" {
                Ok(())
            } else {
                Err(format!(
                    "flags={flags} num-slaves={seen_replicas} num-other-sentinels={seen_others}"
                ))
            }
        },
    )
}

/// One master, its replicas and the sentinels watching them, all stopped on drop.
#[derive(Debug)]
pub struct SentinelSetup {
    // Sentinels first: dropped before the servers, so they do not start failovers during teardown.
    sentinels: Vec<SentinelServer>,
    replicas: Vec<Server>,
    master: Server,
}

impl SentinelSetup {
    /// A builder with the defaults: redis, 2 replicas, 3 sentinels, quorum 2, down after 1000 ms.
    pub fn builder() -> SentinelSetupBuilder {
        SentinelSetupBuilder::default()
    }

    /// Starts the default setup; panics with the reason on failure.
    #[track_caller]
    pub fn start() -> SentinelSetup {
        SentinelSetupBuilder::default().start()
    }

    /// The name the master is monitored under, [`MASTER_NAME`].
    pub fn master_name(&self) -> &'static str {
        MASTER_NAME
    }

    /// The initial master.
    pub fn master(&self) -> &Server {
        &self.master
    }

    /// The initial master, to kill or restart it.
    pub fn master_mut(&mut self) -> &mut Server {
        &mut self.master
    }

    /// The initial replicas.
    pub fn replicas(&self) -> &[Server] {
        &self.replicas
    }

    /// The initial replicas, to kill or restart them.
    pub fn replicas_mut(&mut self) -> &mut [Server] {
        &mut self.replicas
    }

    /// The sentinels.
    pub fn sentinels(&self) -> &[SentinelServer] {
        &self.sentinels
    }

    /// The sentinels, to kill or restart them.
    pub fn sentinels_mut(&mut self) -> &mut [SentinelServer] {
        &mut self.sentinels
    }

    /// The sentinels' addresses, as a client would be configured with them.
    pub fn sentinel_addrs(&self) -> Vec<SocketAddr> {
        self.sentinels.iter().map(SentinelServer::addr).collect()
    }

    /// The master address the first answering sentinel reports.
    pub fn current_master(&self) -> Result<SocketAddr> {
        let mut last = None;
        for sentinel in &self.sentinels {
            match sentinel.reported_master() {
                Ok(addr) => return Ok(addr),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::UnexpectedReply {
            context: "current master".into(),
            reply: "the setup has no sentinels".into(),
        }))
    }

    /// Waits until every running sentinel reports a master other than `old`, and returns it.
    pub fn wait_for_failover(&mut self, old: SocketAddr, timeout: Duration) -> Result<SocketAddr> {
        let sentinels = &mut self.sentinels;
        wait_until(
            &format!("sentinels to fail over away from {old}"),
            timeout,
            || {
                let mut reported = Vec::new();
                for sentinel in sentinels.iter_mut() {
                    if !sentinel.is_running() {
                        continue;
                    }
                    reported.push(sentinel.reported_master().map_err(|e| e.to_string())?);
                }
                match reported.first() {
                    Some(&new) if new != old && reported.iter().all(|&a| a == new) => Ok(new),
                    _ => Err(format!("sentinels report {reported:?}")),
                }
            },
        )
    }
}
