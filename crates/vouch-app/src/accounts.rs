//! Who owns each account: accounts in every system, linked to the people of the HR roster.
//!
//! A link is decided in this order: a manual decision (a link to a person, or "service
//! account"), recorded with its audit event; else the account's `email` equals a person's
//! email; else its `username` equals a person's email, the part of it before `@`, or the
//! person's `username` or `github_username` attribute (from the roster's column). An account that none of these places is **unlinked**: an
//! account nobody owns is a finding, so the list of them is a first-class view.
//!
//! Links are computed when read, from the current roster and the manual decisions, so a new
//! roster import re-links everything without a migration of links.
use crate::{Action, Actor, App, AppError};
use serde::Serialize;
use std::collections::HashMap;
use vouch_domain::resource::ResourceKind;
use vouch_store::{AccountLinkRecord, ResourceFilter, ResourceRecord};

/// How an account's owner was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBasis {
    Manual,
    Email,
    Username,
}

/// Who owns an account.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Owner {
    Person {
        email: String,
        name: Option<String>,
        /// The roster's status for them (`active`, `terminated`, …), when it says.
        status: Option<String>,
        /// Whether the person is still on the roster.
        on_roster: bool,
        basis: LinkBasis,
    },
    Service {
        note: String,
    },
    Unlinked,
}

/// An account and its owner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountView {
    pub account: ResourceRecord,
    pub owner: Owner,
    /// The manual decision, if there is one (who made it and when).
    pub link: Option<AccountLinkRecord>,
}

/// Which accounts to list.
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    pub system: Option<String>,
    /// Only accounts nobody owns.
    pub unlinked: bool,
    pub include_deleted: bool,
}

struct Person {
    email: String,
    name: Option<String>,
    status: Option<String>,
    on_roster: bool,
}

fn text(r: &ResourceRecord, attr: &str) -> Option<String> {
    r.attrs
        .get(attr)
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
}

impl LinkBasis {
    /// How people read it: `manual`, `email`, `username`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LinkBasis::Manual => "manual",
            LinkBasis::Email => "email",
            LinkBasis::Username => "username",
        }
    }
}

impl App {
    /// Accounts with their owners.
    pub async fn accounts(
        &self,
        actor: &Actor,
        filter: &AccountFilter,
    ) -> Result<Vec<AccountView>, AppError> {
        self.authorize(actor, Action::ViewResources)?;
        let (people, _) = self
            .store
            .list_resources(&ResourceFilter {
                kind: Some(ResourceKind::Person.as_str().into()),
                include_deleted: true,
                ..ResourceFilter::default()
            })
            .await?;
        let mut by_email: HashMap<String, Person> = HashMap::new();
        let mut by_username: HashMap<String, String> = HashMap::new();
        for p in &people {
            let email = text(p, "email").unwrap_or_else(|| p.key.to_lowercase());
            if let Some((local, _)) = email.split_once('@') {
                by_username
                    .entry(local.to_string())
                    .or_insert(email.clone());
            }
            for attr in ["username", "github_username"] {
                if let Some(u) = text(p, attr) {
                    by_username.insert(u, email.clone());
                }
            }
            let person = Person {
                email: email.clone(),
                name: p
                    .attrs
                    .get("name")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                status: text(p, "status"),
                on_roster: p.deleted_at.is_none(),
            };
            // A current roster entry wins over one that has left the roster.
            match by_email.get(&email) {
                Some(existing) if existing.on_roster && !person.on_roster => {}
                _ => {
                    by_email.insert(email, person);
                }
            }
        }
        let links: HashMap<i64, AccountLinkRecord> = self
            .store
            .account_links()
            .await?
            .into_iter()
            .map(|l| (l.account_id, l))
            .collect();
        let (accounts, _) = self
            .store
            .list_resources(&ResourceFilter {
                kind: Some(ResourceKind::Account.as_str().into()),
                system: filter.system.clone(),
                include_deleted: filter.include_deleted,
                ..ResourceFilter::default()
            })
            .await?;
        let person_owner = |email: &str, basis: LinkBasis| match by_email.get(email) {
            Some(p) => Owner::Person {
                email: p.email.clone(),
                name: p.name.clone(),
                status: p.status.clone(),
                on_roster: p.on_roster,
                basis,
            },
            None => Owner::Person {
                email: email.to_string(),
                name: None,
                status: None,
                on_roster: false,
                basis,
            },
        };
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            let link = links.get(&account.id).cloned();
            let is_root = account.attrs.get("is_root").and_then(|v| v.as_bool()) == Some(true);
            let owner = match &link {
                // The AWS account's root user belongs to the company, not to a person; tests of
                // its use are the controls' business.
                None if is_root => Owner::Service {
                    note: "the AWS account's root user".into(),
                },
                Some(l) if l.service => Owner::Service {
                    note: l.note.clone(),
                },
                Some(l) => person_owner(
                    l.person_email.as_deref().unwrap_or_default(),
                    LinkBasis::Manual,
                ),
                None => {
                    let email = text(&account, "email").filter(|e| by_email.contains_key(e));
                    let username = text(&account, "username")
                        .or_else(|| Some(account.key.to_lowercase()))
                        .and_then(|u| {
                            if by_email.contains_key(&u) {
                                Some(u)
                            } else {
                                by_username.get(&u).cloned()
                            }
                        });
                    match (email, username) {
                        (Some(e), _) => person_owner(&e, LinkBasis::Email),
                        (None, Some(e)) => person_owner(&e, LinkBasis::Username),
                        (None, None) => Owner::Unlinked,
                    }
                }
            };
            if filter.unlinked && owner != Owner::Unlinked {
                continue;
            }
            out.push(AccountView {
                account,
                owner,
                link,
            });
        }
        Ok(out)
    }

    async fn account_resource(&self, id: i64) -> Result<ResourceRecord, AppError> {
        let r = self
            .store
            .resource(id)
            .await?
            .ok_or(AppError::NotFound(format!("resource {id}")))?;
        if r.kind != ResourceKind::Account.as_str() {
            return Err(AppError::field(
                "account",
                format!("resource {id} is a {}, not an account", r.kind),
            ));
        }
        Ok(r)
    }

    /// Links an account to a person of the roster by hand (the email must be on the roster,
    /// now or before), or marks it a service account (`person_email` `None`).
    pub async fn link_account(
        &self,
        actor: &Actor,
        account_id: i64,
        person_email: Option<&str>,
        note: &str,
    ) -> Result<AccountLinkRecord, AppError> {
        self.authorize(actor, Action::CollectResources)?;
        let account = self.account_resource(account_id).await?;
        let note = note.trim().to_string();
        let person_email = match person_email.map(|e| e.trim().to_lowercase()) {
            None => {
                if note.chars().count() < 3 {
                    return Err(AppError::field(
                        "note",
                        "say what the service account is for (at least 3 characters)",
                    ));
                }
                None
            }
            Some(e) => {
                // Any system's roster counts (`hr` from the roster CSV, or another people
                // source); the key match is exact.
                let on_roster = self
                    .store
                    .list_resources(&ResourceFilter {
                        kind: Some(ResourceKind::Person.as_str().into()),
                        key_contains: Some(e.clone()),
                        include_deleted: true,
                        limit: Some(50),
                        ..ResourceFilter::default()
                    })
                    .await?
                    .0
                    .iter()
                    .any(|p| p.key.eq_ignore_ascii_case(&e));
                if !on_roster {
                    return Err(AppError::field(
                        "person",
                        format!("{e} is not on the HR roster; import the roster first"),
                    ));
                }
                Some(e)
            }
        };
        let (mut tx, now) = self.write().await?;
        let link = AccountLinkRecord {
            account_id,
            service: person_email.is_none(),
            person_email,
            note,
            set_by: actor.label.clone(),
            set_at: now.clone(),
        };
        tx.put_account_link(&link).await?;
        let action = if link.service {
            "account.mark_service"
        } else {
            "account.link"
        };
        tx.append_event(
            Self::event(
                actor,
                action,
                "account",
                &format!("{}:{}", account.system, account.key),
                None,
                Some(serde_json::to_value(&link).unwrap_or_default()),
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(link)
    }

    /// Removes a manual decision; the account is linked automatically again, if it can be.
    pub async fn unlink_account(&self, actor: &Actor, account_id: i64) -> Result<(), AppError> {
        self.authorize(actor, Action::CollectResources)?;
        let account = self.account_resource(account_id).await?;
        let (mut tx, now) = self.write().await?;
        if !tx.remove_account_link(account_id).await? {
            return Err(AppError::NotFound(format!(
                "a manual link for account {}",
                account.key
            )));
        }
        tx.append_event(
            Self::event(
                actor,
                "account.unlink",
                "account",
                &format!("{}:{}", account.system, account.key),
                None,
                None,
            ),
            &now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
