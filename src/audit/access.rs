//! Who may do what: the four roles of the agency's ALPR policy and the
//! actions each may take. Least privilege: an analyst searches, a supervisor
//! also decides releases and hot lists, an administrator runs the system
//! (users, retention, holds) but searches no plates, an auditor reads the
//! audit log and nothing else.

use std::fmt;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Analyst,
    Supervisor,
    Administrator,
    Auditor,
}

/// Something a user asks to do; every one is checked and audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Run SQL or a saved query over reads.
    Query,
    /// List alerts (hot-list hits).
    ListHits,
    /// Record a disposition on an alert.
    DisposeHit,
    /// File a release request from another agency.
    RequestRelease,
    /// List release requests.
    ListReleases,
    /// Approve or deny a release request.
    DecideRelease,
    /// Export the data of an approved release.
    ExportRelease,
    /// Import a hot list (and find retro hits).
    ImportHotlist,
    /// Add, disable, re-password or record training of users.
    ManageUsers,
    /// Plan or apply retention; change the retention period.
    ManageRetention,
    /// Add, list or lift legal holds.
    ManageHolds,
    /// Verify the audit log and read audit reports.
    ReadAudit,
    /// Write synthetic reads or benchmark queries on a store.
    Maintain,
    /// Ingest photos, archives and video; import the camera registry.
    Ingest,
    /// Log in (the first step of every command).
    Login,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Supervisor => "supervisor",
            Role::Administrator => "administrator",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Analyst,
            Role::Supervisor,
            Role::Administrator,
            Role::Auditor,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether this role may take `action`.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Analyst => matches!(
                action,
                Login | Query | ListHits | DisposeHit | RequestRelease | ListReleases
            ),
            Role::Supervisor => matches!(
                action,
                Login
                    | Query
                    | ListHits
                    | DisposeHit
                    | RequestRelease
                    | ListReleases
                    | DecideRelease
                    | ExportRelease
                    | ImportHotlist
                    | Ingest
            ),
            Role::Administrator => matches!(
                action,
                Login
                    | ManageUsers
                    | ManageRetention
                    | ManageHolds
                    | ReadAudit
                    | ImportHotlist
                    | ListReleases
                    | Maintain
                    | Ingest
            ),
            Role::Auditor => matches!(action, Login | ReadAudit | ListReleases),
        }
    }

    /// The roles that may take `action`, for refusal messages.
    pub fn allowed_for(action: Action) -> Vec<&'static str> {
        [
            Role::Analyst,
            Role::Supervisor,
            Role::Administrator,
            Role::Auditor,
        ]
        .into_iter()
        .filter(|r| r.may(action))
        .map(Role::as_str)
        .collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Action {
    /// The name recorded in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Query => "query",
            Action::ListHits => "hits.list",
            Action::DisposeHit => "hits.dispose",
            Action::RequestRelease => "release.request",
            Action::ListReleases => "release.list",
            Action::DecideRelease => "release.decide",
            Action::ExportRelease => "release.export",
            Action::ImportHotlist => "hotlist.import",
            Action::ManageUsers => "users",
            Action::ManageRetention => "retention",
            Action::ManageHolds => "hold",
            Action::ReadAudit => "audit",
            Action::Maintain => "maintain",
            Action::Ingest => "ingest",
            Action::Login => "login",
        }
    }
}

/// Categories of purpose a search may be made for. There is deliberately
/// no "other": a search names the kind of case it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Purpose {
    /// A criminal investigation with a case number.
    Investigation,
    /// A stolen vehicle or stolen plate.
    StolenVehicle,
    /// A missing or endangered person (incl. AMBER / Silver alerts).
    MissingPerson,
    /// Service of a warrant.
    Warrant,
    /// Verifying a hot-list hit before any enforcement.
    HitVerification,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Investigation => "investigation",
            Purpose::StolenVehicle => "stolen-vehicle",
            Purpose::MissingPerson => "missing-person",
            Purpose::Warrant => "warrant",
            Purpose::HitVerification => "hit-verification",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege() {
        assert!(Role::Analyst.may(Action::Query));
        assert!(!Role::Analyst.may(Action::DecideRelease));
        assert!(!Role::Analyst.may(Action::ReadAudit));
        assert!(Role::Supervisor.may(Action::DecideRelease));
        assert!(
            !Role::Administrator.may(Action::Query),
            "admins run, not search"
        );
        assert!(Role::Administrator.may(Action::ManageHolds));
        assert!(!Role::Auditor.may(Action::Query), "auditors see no plates");
        assert!(Role::Auditor.may(Action::ReadAudit));
        assert_eq!(Role::allowed_for(Action::Query), ["analyst", "supervisor"]);
        for r in ["analyst", "supervisor", "administrator", "auditor"] {
            assert_eq!(Role::parse(r).unwrap().as_str(), r);
        }
    }
}
