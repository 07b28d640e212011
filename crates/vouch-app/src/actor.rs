//! Who is asking: a signed-in person, an API token, or the operator at the command line.
use vouch_domain::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A person in a browser session.
    User,
    /// An API token (its id), acting for its user with the token's role.
    Token(String),
    /// The operator running the `vouch` command on the server (has the data folder, so has
    /// the administrator's powers).
    Cli,
    /// Vouch itself (start-up, scheduled work).
    System,
}

#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: ActorKind,
    pub user_id: Option<String>,
    /// Readable name for the audit log: an email address, `cli` or `system`.
    pub label: String,
    pub role: Role,
    pub request_id: Option<String>,
}

impl Actor {
    /// The operator at the command line, without a name.
    pub fn cli() -> Actor {
        Actor::cli_as("operator")
    }

    /// The operator at the command line, named for the audit log (`cli (NAME)`). The binary
    /// passes the login name from its environment: the app reads no environment itself
    /// (configuration is a value passed down).
    pub fn cli_as(operator: &str) -> Actor {
        Actor {
            kind: ActorKind::Cli,
            user_id: None,
            label: format!("cli ({operator})"),
            role: Role::Admin,
            request_id: None,
        }
    }

    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            user_id: None,
            label: "system".into(),
            role: Role::Admin,
            request_id: None,
        }
    }

    pub fn with_request_id(mut self, id: Option<String>) -> Actor {
        self.request_id = id;
        self
    }

    /// The id recorded in audit events.
    pub fn audit_id(&self) -> String {
        match &self.kind {
            ActorKind::User => format!("user:{}", self.user_id.as_deref().unwrap_or("?")),
            ActorKind::Token(id) => format!("token:{id}"),
            ActorKind::Cli => "cli".into(),
            ActorKind::System => "system".into(),
        }
    }

    pub fn is_user(&self, id: &str) -> bool {
        self.user_id.as_deref() == Some(id)
    }
}
