//! A spawned server process: its temp dir, its log, readiness polling, and kill-on-drop.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};
use crate::stream::Endpoint;
use crate::workspace::TempDir;

/// How long a server gets to answer its first PING.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(10);
const LOG_TAIL_LINES: usize = 30;

/// A running server process; killed and reaped, and its directory removed, on drop.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Option<Child>,
    program: PathBuf,
    config: PathBuf,
    log: PathBuf,
    what: String,
    // Declared last so the directory outlives the process that writes into it.
    dir: TempDir,
}

/// Why a start attempt failed: a port someone else took is worth a retry, anything else is not.
pub(crate) enum StartError {
    PortTaken(Error),
    Fatal(Error),
}

impl StartError {
    pub(crate) fn into_error(self) -> Error {
        match self {
            StartError::PortTaken(e) | StartError::Fatal(e) => e,
        }
    }
}

impl From<Error> for StartError {
    fn from(e: Error) -> StartError {
        StartError::Fatal(e)
    }
}

impl ServerProcess {
    /// Writes `config` to `<dir>/<config_name>` and starts `program <config>` with output into `server.log`.
    pub(crate) fn spawn(
        program: &Path,
        dir: TempDir,
        config_name: &str,
        config: &str,
        what: String,
    ) -> Result<ServerProcess> {
        let config_path = dir.path().join(config_name);
        fs::write(&config_path, config).context(|| format!("writing {}", config_path.display()))?;
        let mut process = ServerProcess {
            child: None,
            program: program.to_path_buf(),
            config: config_path,
            log: dir.path().join("server.log"),
            what,
            dir,
        };
        process.start()?;
        Ok(process)
    }

    fn start(&mut self) -> Result<()> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .context(|| format!("opening {}", self.log.display()))?;
        let log_err = log
            .try_clone()
            .context(|| format!("cloning {}", self.log.display()))?;
        let child = Command::new(&self.program)
            .arg(&self.config)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .context(|| {
                format!(
                    "spawning {} {}",
                    self.program.display(),
                    self.config.display()
                )
            })?;
        self.child = Some(child);
        Ok(())
    }

    /// Polls `endpoint` with PING until the server answers, exits, or the deadline passes.
    pub(crate) fn wait_ready(&mut self, endpoint: &Endpoint) -> Result<(), StartError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                let tail = self.log_tail();
                let error = self.startup_error(format!("exited with {status}"), tail.clone());
                return Err(if tail.contains("Address already in use") {
                    StartError::PortTaken(error)
                } else {
                    StartError::Fatal(error)
                });
            }
            let last = match crate::probe::ping(endpoint) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if started.elapsed() > STARTUP_DEADLINE {
                let reason = format!(
                    "no PING answer on {endpoint} within {} s (last: {last})",
                    STARTUP_DEADLINE.as_secs()
                );
                return Err(StartError::Fatal(
                    self.startup_error(reason, self.log_tail()),
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// A startup failure carrying the end of the log.
    pub(crate) fn startup_error(&self, reason: String, log_tail: String) -> Error {
        Error::Startup {
            what: self.what.clone(),
            reason,
            log: self.log.clone(),
            log_tail,
        }
    }

    fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Kills the process now and waits for it; the directory stays until drop.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine: kill only fails then, and wait still reaps it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the same program and config again (after [`ServerProcess::kill`]).
    pub(crate) fn restart(&mut self) -> Result<()> {
        self.kill();
        if let Ok(mut log) = File::options().append(true).open(&self.log) {
            let _ = writeln!(log, "--- restarted by the test harness ---");
        }
        self.start()
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        self.child.is_some() && self.exit_status().is_none()
    }

    /// The OS process id, while running.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    pub(crate) fn config_path(&self) -> &Path {
        &self.config
    }

    /// The last lines of the server's log.
    /// The whole log.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_else(|e| format!("(no log at {}: {e})", self.log.display()))
    }

    pub(crate) fn log_tail(&self) -> String {
        let Ok(file) = File::open(&self.log) else {
            return format!("(no log at {})", self.log.display());
        };
        let lines: Vec<String> = BufReader::new(file).lines().map_while(|l| l.ok()).collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        lines[start..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
