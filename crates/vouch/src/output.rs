//! Printing results for people or, with `--json`, for scripts. Exit codes are part of the
//! interface: see [`Exit`].
use serde::Serialize;
use std::process::ExitCode;

/// Exit codes scripts can rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done.
    Ok = 0,
    /// A check found a problem (a broken audit log, a server that is not ready).
    CheckFailed = 1,
    /// The command or the configuration is wrong.
    Usage = 2,
    /// The database, a file or the network could not be used.
    Unavailable = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// A failure with the exit code it deserves and a message for the person.
#[derive(Debug)]
pub struct Failure(pub Exit, pub String);

impl Failure {
    pub fn usage(m: impl Into<String>) -> Failure {
        Failure(Exit::Usage, m.into())
    }
    pub fn unavailable(m: impl Into<String>) -> Failure {
        Failure(Exit::Unavailable, m.into())
    }
}

impl From<vouch_app::AppError> for Failure {
    fn from(e: vouch_app::AppError) -> Self {
        use vouch_app::AppError::*;
        let code = match &e {
            Store(_) | Vault(_) => Exit::Unavailable,
            Validation(_)
            | Conflict(_)
            | NotFound(_)
            | Gone(_)
            | TooLarge { .. }
            | Forbidden { .. } => Exit::Usage,
            _ => Exit::CheckFailed,
        };
        Failure(code, e.to_string())
    }
}

pub fn json<T: Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialisable"));
}
