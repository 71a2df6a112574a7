//! `Server`: a `redis-server` or `valkey-server` on a free loopback port, stopped on drop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::binaries::{version_of, Binary};
use crate::error::Result;
use crate::ports::{free_cluster_port, free_port, CLUSTER_BUS_OFFSET};
use crate::process::{ServerProcess, StartError};
use crate::stream::Endpoint;
use crate::tls::{ServerCert, TlsFiles};
use crate::workspace::TempDir;

/// How many times a start is retried when another process grabbed the chosen port first.
const PORT_ATTEMPTS: usize = 5;

/// Which server program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `redis-server`.
    Redis,
    /// `valkey-server`.
    Valkey,
}

impl ServerKind {
    /// The binary that runs this kind.
    pub fn binary(self) -> Binary {
        match self {
            ServerKind::Redis => Binary::RedisServer,
            ServerKind::Valkey => Binary::ValkeyServer,
        }
    }

    /// The lower-case name used in server ids: `redis` or `valkey`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis",
            ServerKind::Valkey => "valkey",
        }
    }
}

/// Whether a TLS server asks clients for a certificate (`tls-auth-clients`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsAuthClients {
    /// Clients must not present one.
    No,
    /// Clients may present one, which is then verified.
    #[default]
    Optional,
    /// Clients must present one signed by the harness CA.
    Yes,
}

impl TlsAuthClients {
    fn config_word(self) -> &'static str {
        match self {
            TlsAuthClients::No => "no",
            TlsAuthClients::Optional => "optional",
            TlsAuthClients::Yes => "yes",
        }
    }
}

/// Whether and how a server runs in cluster mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ClusterMode {
    #[default]
    Off,
    /// Owns all 16384 slots once started.
    AllSlots,
    /// Cluster-enabled, owning no slots (to be joined to another node by the test).
    Empty,
}

/// TLS settings of a builder.
#[derive(Clone, Copy, Debug, Default)]
struct TlsOptions {
    auth_clients: TlsAuthClients,
    cert: ServerCert,
}

/// Configures a [`Server`] before spawning it.
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    kind: ServerKind,
    ip: IpAddr,
    password: Option<String>,
    acl_users: Vec<String>,
    unix_socket: bool,
    tls: Option<TlsOptions>,
    cluster: ClusterMode,
    replica_of: Option<(SocketAddr, Option<String>)>,
    extra: Vec<String>,
}

impl ServerBuilder {
    /// A builder for `kind` with the defaults: `127.0.0.1`, no password, plain TCP.
    pub fn new(kind: ServerKind) -> ServerBuilder {
        ServerBuilder {
            kind,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            password: None,
            acl_users: Vec::new(),
            unix_socket: false,
            tls: None,
            cluster: ClusterMode::Off,
            replica_of: None,
            extra: Vec::new(),
        }
    }

    /// Binds `::1` instead of `127.0.0.1`.
    pub fn ipv6(mut self) -> Self {
        self.ip = IpAddr::V6(Ipv6Addr::LOCALHOST);
        self
    }

    /// Appends a raw config line (`maxmemory 10mb`); it comes after the harness's own lines, so it wins.
    pub fn config(mut self, line: impl Into<String>) -> Self {
        self.extra.push(line.into());
        self
    }

    /// Sets `requirepass`; the default user then needs this password.
    pub fn requirepass(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Adds an ACL user with full access: `user NAME on >PASSWORD ~* &* +@all`.
    pub fn user(self, name: &str, password: &str) -> Self {
        self.acl_user(format!("{name} on >{password} ~* &* +@all"))
    }

    /// Adds an ACL user from its rules, written as after `user ` in a config file (`bob on >pw ~app:* +get`).
    pub fn acl_user(mut self, rules: impl Into<String>) -> Self {
        self.acl_users.push(rules.into());
        self
    }

    /// Also listens on `<temp dir>/redis.sock` (`unixsocketperm 700`); see [`Server::unix_path`].
    pub fn unix_socket(mut self) -> Self {
        self.unix_socket = true;
        self
    }

    /// Serves TLS only (`port 0`, `tls-port`), with certificates made for this server; see [`Server::tls`].
    ///
    /// Client certificates are optional by default; see [`ServerBuilder::tls_auth_clients`].
    pub fn tls(mut self) -> Self {
        self.tls.get_or_insert_with(TlsOptions::default);
        self
    }

    /// Sets `tls-auth-clients` (implies [`ServerBuilder::tls`]).
    pub fn tls_auth_clients(mut self, mode: TlsAuthClients) -> Self {
        self.tls
            .get_or_insert_with(TlsOptions::default)
            .auth_clients = mode;
        self
    }

    /// Chooses the certificate the server presents (implies [`ServerBuilder::tls`]).
    pub fn tls_server_cert(mut self, cert: ServerCert) -> Self {
        self.tls.get_or_insert_with(TlsOptions::default).cert = cert;
        self
    }

    /// Runs a single-node cluster owning all 16384 slots; spawning waits for `cluster_state:ok`.
    ///
    /// The bus port is the default, port + 10000, so `CLUSTER MEET 127.0.0.1 <port>` reaches it.
    pub fn cluster(mut self) -> Self {
        self.cluster = ClusterMode::AllSlots;
        self
    }

    /// Runs a cluster-enabled node that owns no slots, for a test to `CLUSTER MEET` and
    /// `CLUSTER REPLICATE` into another node's cluster.
    pub fn cluster_empty(mut self) -> Self {
        self.cluster = ClusterMode::Empty;
        self
    }

    /// Starts as a replica of `master` (`replicaof`, and `masterauth` when the master has a password).
    pub fn replica_of(mut self, master: &Server) -> Self {
        self.replica_of = Some((master.addr(), master.password().map(str::to_string)));
        self
    }

    /// Spawns the server and waits until it answers PING (and, for a cluster, until the cluster is ok).
    pub fn spawn(&self) -> Result<Server> {
        let binary = self.kind.binary().find()?;
        let version = version_of(&binary)?;
        let mut attempt = 1;
        loop {
            match self.try_spawn(&binary, &version) {
                Ok(server) => return Ok(server),
                Err(StartError::PortTaken(_)) if attempt < PORT_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e.into_error()),
            }
        }
    }

    /// Like [`ServerBuilder::spawn`], but panics with the reason; for tests.
    #[track_caller]
    pub fn start(&self) -> Server {
        self.spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.kind.name()))
    }

    fn try_spawn(&self, binary: &Path, version: &str) -> Result<Server, StartError> {
        let dir = TempDir::new(self.kind.name())?;
        let (port, cluster_port) = if self.cluster == ClusterMode::Off {
            (free_port(self.ip)?, None)
        } else {
            let port = free_cluster_port(self.ip)?;
            (port, Some(port + CLUSTER_BUS_OFFSET))
        };
        let tls = match self.tls {
            Some(options) => Some((TlsFiles::generate(dir.path())?, options)),
            None => None,
        };
        let unix_path = self.unix_socket.then(|| dir.path().join("redis.sock"));
        let config = self.render_config(dir.path(), port, cluster_port, &unix_path, &tls);
        let what = format!(
            "{} {version} on {}",
            self.kind.name(),
            SocketAddr::new(self.ip, port)
        );
        let process = ServerProcess::spawn(binary, dir, "server.conf", &config, what)?;
        let mut server = Server {
            kind: self.kind,
            version: version.to_string(),
            ip: self.ip,
            port,
            cluster_port,
            unix_path,
            tls: tls.map(|(files, options)| ServerTls {
                files,
                cert: options.cert,
                auth_clients: options.auth_clients,
            }),
            password: self.password.clone(),
            process,
        };
        let endpoint = server.endpoint().map_err(StartError::Fatal)?;
        server.process.wait_ready(&endpoint)?;
        if self.cluster == ClusterMode::AllSlots {
            crate::cluster::assign_all_slots(&server)?;
        }
        Ok(server)
    }

    fn render_config(
        &self,
        dir: &Path,
        port: u16,
        cluster_port: Option<u16>,
        unix_path: &Option<PathBuf>,
        tls: &Option<(TlsFiles, TlsOptions)>,
    ) -> String {
        let mut c = String::new();
        let mut line = |text: String| {
            c.push_str(&text);
            c.push('\n');
        };
        line(format!("bind {}", self.ip));
        match tls {
            Some((files, options)) => {
                let (cert, key) = files.server_pair(options.cert);
                line("port 0".into());
                line(format!("tls-port {port}"));
                line(format!("tls-cert-file {}", quote(&cert)));
                line(format!("tls-key-file {}", quote(&key)));
                line(format!("tls-ca-cert-file {}", quote(&files.ca_cert())));
                line(format!(
                    "tls-auth-clients {}",
                    options.auth_clients.config_word()
                ));
            }
            None => line(format!("port {port}")),
        }
        line(format!("dir {}", quote(dir)));
        line("daemonize no".into());
        line("logfile \"\"".into());
        line("save \"\"".into());
        line("appendonly no".into());
        // DEBUG SLEEP and friends let client tests provoke timeouts; loopback-only access keeps it harmless.
        line("enable-debug-command local".into());
        // The default 5 s wait for more replicas before a diskless full sync would slow every replica start.
        line("repl-diskless-sync-delay 0".into());
        if let Some(password) = &self.password {
            line(format!("requirepass {}", quote_str(password)));
        }
        for rules in &self.acl_users {
            line(format!("user {rules}"));
        }
        if let Some(path) = unix_path {
            line(format!("unixsocket {}", quote(path)));
            line("unixsocketperm 700".into());
        }
        if let Some(bus_port) = cluster_port {
            line("cluster-enabled yes".into());
            line(format!(
                "cluster-config-file {}",
                quote(&dir.join("nodes.conf"))
            ));
            // Written out although it is the default, so the config shows which port was checked free.
            line(format!("cluster-port {bus_port}"));
        }
        if let Some((master, master_password)) = &self.replica_of {
            line(format!("replicaof {} {}", master.ip(), master.port()));
            if let Some(password) = master_password {
                line(format!("masterauth {}", quote_str(password)));
            }
        }
        for extra in &self.extra {
            line(extra.clone());
        }
        c
    }
}

/// Quotes a path for a redis config file.
fn quote(path: &Path) -> String {
    quote_str(&path.to_string_lossy())
}

fn quote_str(text: &str) -> String {
    let mut quoted = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(ch);
            }
            _ => quoted.push(ch),
        }
    }
    quoted.push('"');
    quoted
}

#[derive(Debug)]
struct ServerTls {
    files: TlsFiles,
    cert: ServerCert,
    auth_clients: TlsAuthClients,
}

/// A running `redis-server` or `valkey-server`; killed, reaped and its temp dir removed on drop.
#[derive(Debug)]
pub struct Server {
    kind: ServerKind,
    version: String,
    ip: IpAddr,
    port: u16,
    cluster_port: Option<u16>,
    unix_path: Option<PathBuf>,
    tls: Option<ServerTls>,
    password: Option<String>,
    process: ServerProcess,
}

impl Server {
    /// A builder for `kind`.
    pub fn builder(kind: ServerKind) -> ServerBuilder {
        ServerBuilder::new(kind)
    }

    /// Spawns a default server of `kind`.
    pub fn spawn(kind: ServerKind) -> Result<Server> {
        ServerBuilder::new(kind).spawn()
    }

    /// Starts a default `redis-server`; panics with the reason (including what to install) on failure.
    #[track_caller]
    pub fn redis() -> Server {
        ServerBuilder::new(ServerKind::Redis).start()
    }

    /// Starts a default `valkey-server`; panics with the reason (including what to install) on failure.
    #[track_caller]
    pub fn valkey() -> Server {
        ServerBuilder::new(ServerKind::Valkey).start()
    }

    /// Which program runs.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The server's version, e.g. `7.0.15`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `kind-version`, e.g. `redis-7.0.15` or `valkey-9.1.2`.
    pub fn server_id(&self) -> String {
        format!("{}-{}", self.kind.name(), self.version)
    }

    /// The loopback address the server binds.
    pub fn host(&self) -> IpAddr {
        self.ip
    }

    /// The port clients connect to (the TLS port for a TLS server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host():port()`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// `redis://127.0.0.1:PORT` (`rediss://` for TLS, `[::1]` for IPv6); no credentials.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://{}", self.addr())
    }

    /// The Unix socket path, when built with [`ServerBuilder::unix_socket`].
    pub fn unix_path(&self) -> Option<&Path> {
        self.unix_path.as_deref()
    }

    /// The certificates, when built with [`ServerBuilder::tls`].
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref().map(|t| &t.files)
    }

    /// The hostname the presented certificate is valid for, when TLS is on.
    pub fn tls_hostname(&self) -> Option<&'static str> {
        self.tls.as_ref().map(|t| t.cert.hostname())
    }

    /// The `tls-auth-clients` mode, when TLS is on.
    pub fn tls_auth_clients(&self) -> Option<TlsAuthClients> {
        self.tls.as_ref().map(|t| t.auth_clients)
    }

    /// The `requirepass` password, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The cluster bus port, for a cluster node.
    pub fn cluster_port(&self) -> Option<u16> {
        self.cluster_port
    }

    /// How the harness reaches the server: TCP, or TLS trusting the harness CA.
    pub fn endpoint(&self) -> Result<Endpoint> {
        Ok(match &self.tls {
            Some(tls) => Endpoint::Tls {
                addr: self.addr(),
                domain: tls.cert.hostname().to_string(),
                connector: tls.files.connector()?,
            },
            None => Endpoint::Tcp(self.addr()),
        })
    }

    /// The server's temp dir (config, log, sockets, certificates).
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// The generated config file.
    pub fn config_path(&self) -> &Path {
        self.process.config_path()
    }

    /// The file receiving the server's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// The OS process id, unless killed.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Kills the server now (SIGKILL) and reaps it; the temp dir stays until drop.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Kills the server if running, starts it again on the same port and config, and waits for PING.
    ///
    /// Data is lost (persistence is off); a cluster node keeps its `nodes.conf` and so its slots.
    pub fn restart(&mut self) -> Result<()> {
        self.process.restart()?;
        let endpoint = self.endpoint()?;
        self.process
            .wait_ready(&endpoint)
            .map_err(StartError::into_error)
    }
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.server_id(), self.addr())?;
        match &self.unix_path {
            Some(path) => write!(f, " and {}", path.display()),
            None => Ok(()),
        }
    }
}
