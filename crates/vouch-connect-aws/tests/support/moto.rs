//! A local AWS API emulator (moto, `pip install 'moto[server]'`) for integration tests.
//!
//! [`Moto::start`] runs `moto_server -H 127.0.0.1 -p <free port>` as a child process (killed
//! when the `Moto` is dropped) and waits until it answers. When `moto_server` is not
//! installed it prints a note and returns `None`, so the test can return early, unless the
//! environment variable `CI` is `true`: on CI a missing emulator is a failure, not a skip.
//!
//! [`Moto::seed`] runs the seed script (`tests/fixtures/seed_moto.py`, compiled in) with
//! `python3` against the server; the script prints one JSON document (the credentials it made
//! and what it created), which `seed` returns.
//!
//! This file is this crate's test helper and, behind the feature `test-moto`, the public
//! module `vouch_connect_aws::testing` for other crates' tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The seed script, as shipped in `tests/fixtures/`.
pub const SEED_SCRIPT: &str = include_str!("../fixtures/seed_moto.py");

/// A running moto server.
pub struct Moto {
    child: Child,
    port: u16,
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

impl Moto {
    /// Starts a server on a free loopback port; `None` (with a note on stderr) when moto is
    /// not installed and this is not CI.
    pub fn start() -> Option<Moto> {
        let program = std::env::var("VOUCH_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        if !installed(&program) && !std::path::Path::new(&program).is_file() {
            if on_ci() {
                panic!(
                    "moto_server is not installed (CI=true, so this fails instead of skipping): pip install 'moto[server]'"
                );
            }
            eprintln!(
                "note: skipping an AWS emulator test: moto_server is not installed (pip install 'moto[server]')"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // AWS's managed policies (AdministratorAccess, ReadOnlyAccess), which the seed
            // attaches.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {program}: {e}"));
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = moto.child.try_wait().expect("moto_server's status") {
                panic!("moto_server exited before answering ({status})");
            }
            if moto.get("/").is_some_and(|s| s.starts_with("HTTP/1.")) {
                return Some(moto);
            }
            if Instant::now() > deadline {
                panic!("moto_server did not answer on port {port} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs the seed script with these arguments (after the endpoint) and returns the JSON it
    /// prints. Panics with the script's stderr when it fails.
    pub fn seed(&self, script_args: &[&str]) -> serde_json::Value {
        let python = std::env::var("VOUCH_MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .arg("-")
            .arg(self.endpoint())
            .args(script_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {python}: {e}"));
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(SEED_SCRIPT.as_bytes())
            .expect("the seed script written to python");
        let out = child.wait_with_output().expect("the seed script's output");
        assert!(
            out.status.success(),
            "the moto seed script failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "the moto seed script did not print JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// A plain HTTP GET on the server; the raw response, or `None` when it does not answer.
    fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf).into_owned())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
