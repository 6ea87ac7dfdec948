//! A real PostgreSQL server for the tests: a cluster made afresh in a temporary directory,
//! listening on a Unix socket there only (no TCP), stopped and deleted when the handle drops.
//!
//! The server's binaries come from `$MANDATE_PG_BIN`, else the newest
//! `/usr/lib/postgresql/<version>/bin` (Debian's `postgresql` package, which `.ci/run` installs
//! when it is missing), else `PATH`. PostgreSQL refuses to run as root: as root, the cluster is
//! made and run as `nobody` (`runuser`), its directory handed to that user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running PostgreSQL server; see the module docs.
pub struct Postgres {
    dir: tempfile::TempDir,
    server: Child,
    /// The `postgres://` URL of its `postgres` database, through the socket.
    pub url: String,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").field("dir", &self.dir.path()).finish_non_exhaustive()
    }
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MANDATE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `program` from the binaries' directory, run as `nobody` when this process is root.
fn command(bin: Option<&Path>, program: &str, as_nobody: bool) -> Command {
    let program = bin.map_or_else(|| PathBuf::from(program), |b| b.join(program));
    if as_nobody {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// Makes a cluster and starts its server; panics (naming what failed) if PostgreSQL is
    /// not installed or does not start.
    pub fn start() -> Self {
        let bin = bin_dir();
        let root = is_root();
        let dir = tempfile::Builder::new().prefix("mandate-pg-").tempdir().expect("temp dir");
        let data = dir.path().join("data");
        if root {
            let status = Command::new("chown")
                .args(["nobody"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of the cluster directory to nobody");
        }
        let init = command(bin.as_deref(), "initdb", root)
            .args(["-A", "trust", "-U", "mandate", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "initdb ({bin:?}): {e}: install PostgreSQL (Debian: apt-get install postgresql)"
                )
            });
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        let server = command(bin.as_deref(), "postgres", root)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=50"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let socket = dir.path().join(".s.PGSQL.5432");
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "postgres did not open its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The socket appears a moment before the server accepts; a short wait for readiness.
        loop {
            let ready = command(bin.as_deref(), "pg_isready", false)
                .arg("-h")
                .arg(dir.path())
                .arg("-q")
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "postgres is not ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        let url = format!("postgres://mandate@localhost/postgres?host={}", dir.path().display());
        Self { dir, server, url }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT to the postmaster (its pid heads postmaster.pid; under runuser the child is
        // runuser): a fast shutdown, clients disconnected.
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next().map(str::to_owned))
            .unwrap_or_else(|| self.server.id().to_string());
        let _ = Command::new("kill").arg("-INT").arg(pid.trim()).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.server.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
