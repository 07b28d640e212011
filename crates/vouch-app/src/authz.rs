//! Who may do what: the one table of permissions, enforced by [`crate::App::authorize`] for
//! the UI, the API and the CLI alike.
use serde::Serialize;
use vouch_domain::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ViewDashboard,
    ViewCriteria,
    ViewUsers,
    ManageUsers,
    ViewRoles,
    ViewAuditLog,
    ManageSettings,
    /// Change one's own password and second factor.
    ManageOwnAccount,
    /// Create and revoke one's own API tokens (never above one's own role).
    ManageOwnTokens,
    ViewAllTokens,
    RevokeAnyToken,
    /// Read the control matrix, the scope and readiness.
    ViewControls,
    /// Adopt, create, edit, map, assign and import controls.
    ManageControls,
    /// Define the system under audit.
    ManageScope,
    /// Read every evidence record and download its files.
    ViewEvidence,
    /// Read the evidence records one added oneself.
    ViewOwnEvidence,
    /// Upload evidence and correct it with new revisions.
    AddEvidence,
    /// Re-hash the vault and compare it with the index.
    VerifyEvidence,
    /// Apply the retention policy (the only way a blob is ever deleted).
    PurgeEvidence,
    /// Read collected resources, their history, collection runs, integrations and account
    /// links.
    ViewResources,
    /// Import files, run integrations, and link accounts to people.
    CollectResources,
    /// Add, change and remove integrations (their credentials included).
    ManageIntegrations,
    /// Read control tests, their results, history and exceptions.
    ViewTests,
    /// Evaluate the tests now.
    RunTests,
    /// Ask for a test or one of its entities to be excused.
    RequestException,
    /// Approve or revoke an exception (someone other than who asked).
    ApproveException,
}

/// How an action touches state: reading, changing one's own credentials, or changing the
/// organisation's state. Auditors may do only the first two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Read,
    SelfService,
    Write,
}

impl Action {
    pub const ALL: [Action; 26] = [
        Action::ViewDashboard,
        Action::ViewCriteria,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::ViewRoles,
        Action::ViewAuditLog,
        Action::ManageSettings,
        Action::ManageOwnAccount,
        Action::ManageOwnTokens,
        Action::ViewAllTokens,
        Action::RevokeAnyToken,
        Action::ViewControls,
        Action::ManageControls,
        Action::ManageScope,
        Action::ViewEvidence,
        Action::ViewOwnEvidence,
        Action::AddEvidence,
        Action::VerifyEvidence,
        Action::PurgeEvidence,
        Action::ViewResources,
        Action::CollectResources,
        Action::ManageIntegrations,
        Action::ViewTests,
        Action::RunTests,
        Action::RequestException,
        Action::ApproveException,
    ];

    pub fn effect(self) -> Effect {
        use Action::*;
        match self {
            ViewDashboard | ViewCriteria | ViewUsers | ViewRoles | ViewAuditLog | ViewAllTokens
            | ViewControls | ViewEvidence | ViewOwnEvidence | VerifyEvidence | ViewResources
            | ViewTests => Effect::Read,
            ManageOwnAccount | ManageOwnTokens => Effect::SelfService,
            ManageUsers | ManageSettings | RevokeAnyToken | ManageControls | ManageScope
            | AddEvidence | PurgeEvidence | CollectResources | ManageIntegrations | RunTests
            | RequestException | ApproveException => Effect::Write,
        }
    }

    pub fn describe(self) -> &'static str {
        use Action::*;
        match self {
            ViewDashboard => "view the dashboard",
            ViewCriteria => "view the criteria",
            ViewUsers => "view users",
            ManageUsers => "create or change users",
            ViewRoles => "view roles",
            ViewAuditLog => "read the audit log",
            ManageSettings => "change settings",
            ManageOwnAccount => "manage their own account",
            ManageOwnTokens => "manage their own API tokens",
            ViewAllTokens => "view everyone's API tokens",
            RevokeAnyToken => "revoke other people's API tokens",
            ViewControls => "view controls, scope and readiness",
            ManageControls => "adopt, edit, assign and import controls",
            ManageScope => "define the system in scope",
            ViewEvidence => "read all evidence",
            ViewOwnEvidence => "read the evidence they added",
            AddEvidence => "add or correct evidence",
            VerifyEvidence => "verify the evidence vault",
            PurgeEvidence => "purge evidence under the retention policy",
            ViewResources => "view collected resources and integrations",
            CollectResources => "import files, run integrations and link accounts",
            ManageIntegrations => "add, change or remove integrations",
            ViewTests => "view control tests, results and exceptions",
            RunTests => "run the control tests",
            RequestException => "ask for a test exception",
            ApproveException => "approve or revoke test exceptions",
        }
    }
}

/// The permission table. Read it as: row = action, columns = admin, compliance lead,
/// control owner, employee, auditor.
pub fn permits(role: Role, action: Action) -> bool {
    use Action::*;
    #[rustfmt::skip]
    let [admin, lead, owner, employee, auditor] = match action {
        //                  admin  lead   owner  employee auditor
        ViewDashboard    => [true, true,  true,  true,  true ],
        ViewCriteria     => [true, true,  true,  true,  true ],
        ViewUsers        => [true, true,  false, false, true ],
        ManageUsers      => [true, false, false, false, false],
        ViewRoles        => [true, true,  true,  true,  true ],
        ViewAuditLog     => [true, true,  false, false, true ],
        ManageSettings   => [true, false, false, false, false],
        ManageOwnAccount => [true, true,  true,  true,  true ],
        ManageOwnTokens  => [true, true,  true,  false, true ],
        ViewAllTokens    => [true, false, false, false, true ],
        RevokeAnyToken   => [true, false, false, false, false],
        ViewControls     => [true, true,  true,  false, true ],
        ManageControls   => [true, true,  false, false, false],
        ManageScope      => [true, true,  false, false, false],
        ViewEvidence     => [true, true,  true,  false, true ],
        ViewOwnEvidence  => [true, true,  true,  true,  true ],
        AddEvidence      => [true, true,  true,  true,  false],
        VerifyEvidence   => [true, true,  false, false, true ],
        PurgeEvidence    => [true, false, false, false, false],
        ViewResources    => [true, true,  true,  false, true ],
        CollectResources => [true, true,  false, false, false],
        ManageIntegrations => [true, true, false, false, false],
        ViewTests        => [true, true,  true,  false, true ],
        RunTests         => [true, true,  false, false, false],
        RequestException => [true, true,  true,  false, false],
        ApproveException => [true, true,  false, false, false],
    };
    match role {
        Role::Admin => admin,
        Role::ComplianceLead => lead,
        Role::ControlOwner => owner,
        Role::Employee => employee,
        Role::Auditor => auditor,
    }
}

/// Whether a token of role `granted` gives nothing beyond what `holder` may do.
pub fn role_within(granted: Role, holder: Role) -> bool {
    Action::ALL
        .iter()
        .all(|&a| !permits(granted, a) || permits(holder, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_are_read_only_by_construction() {
        for a in Action::ALL {
            if permits(Role::Auditor, a) {
                assert_ne!(a.effect(), Effect::Write, "auditor may {a:?}");
            }
        }
    }

    #[test]
    fn administrators_may_do_everything() {
        assert!(Action::ALL.iter().all(|&a| permits(Role::Admin, a)));
    }

    #[test]
    fn tokens_never_exceed_their_holder() {
        assert!(role_within(Role::Auditor, Role::Admin));
        assert!(role_within(Role::Employee, Role::ControlOwner));
        assert!(!role_within(Role::Admin, Role::ComplianceLead));
        assert!(!role_within(Role::Auditor, Role::Employee));
        for r in Role::ALL {
            assert!(role_within(r, r));
        }
    }
}
