//! `alpr admin init` (the catalog and its first administrator) and
//! `alpr users ...` (accounts, passwords, training).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Days, NaiveDate, Utc};
use clap::Subcommand;

use super::login::{Login, read_new_password};
use crate::audit::Access;
use crate::audit::access::{Action, Role};
use crate::audit::catalog::Catalog;
use crate::audit::log::Outcome;
use crate::audit::users::{self, NewUser};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the store's catalog and its first administrator.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Store directory (created if missing).
    #[arg(long)]
    pub store: PathBuf,
    /// The administrator's user name.
    #[arg(long)]
    pub user: String,
    /// The administrator's organisation.
    #[arg(long)]
    pub organisation: String,
    /// Day the administrator completed ALPR training (YYYY-MM-DD).
    #[arg(long)]
    pub trained_on: NaiveDate,
    /// Day that training expires (default: one year later).
    #[arg(long)]
    pub training_expires: Option<NaiveDate>,
    /// Read the new password from this file (else ALPR_NEW_PASSWORD, else a
    /// prompt).
    #[arg(long)]
    pub new_password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user (administrators only).
    Add {
        #[command(flatten)]
        login: Login,
        /// The new user's name.
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        organisation: String,
        /// Day the user completed ALPR training; without it the user cannot
        /// log in until `alpr users train`.
        #[arg(long)]
        trained_on: Option<NaiveDate>,
        /// Day that training expires (default: one year after it).
        #[arg(long)]
        training_expires: Option<NaiveDate>,
        #[arg(long)]
        new_password_file: Option<PathBuf>,
    },
    /// Disable a user (or enable again with --enable).
    Disable {
        #[command(flatten)]
        login: Login,
        name: String,
        #[arg(long)]
        enable: bool,
    },
    /// Change a password: your own, or (administrators) anyone's.
    Passwd {
        #[command(flatten)]
        login: Login,
        /// Whose password (default: yours).
        name: Option<String>,
        #[arg(long)]
        new_password_file: Option<PathBuf>,
    },
    /// Record that a user completed ALPR training.
    Train {
        #[command(flatten)]
        login: Login,
        name: String,
        #[arg(long)]
        on: NaiveDate,
        /// Default: one year after --on.
        #[arg(long)]
        expires: Option<NaiveDate>,
    },
    /// List users (administrators only).
    List {
        #[command(flatten)]
        login: Login,
    },
}

/// `admin init` makes the first administrator only.
fn refuse_users(store: &Store) -> anyhow::Result<()> {
    if Catalog::exists(store) {
        anyhow::bail!(crate::Error::bad_input(format!(
            "store {} already has users; add more with `alpr users add`",
            store.root().display()
        )));
    }
    Ok(())
}

fn expiry(on: NaiveDate, expires: Option<NaiveDate>) -> NaiveDate {
    expires.unwrap_or_else(|| on.checked_add_days(Days::new(365)).unwrap_or(on))
}

pub fn init(args: &InitArgs) -> anyhow::Result<ExitCode> {
    // Everything that can refuse comes before the store is made, so that a
    // refusal leaves no empty store behind.
    if let Ok(existing) = Store::open(&args.store) {
        refuse_users(&existing)?;
    }
    let password = read_new_password(args.new_password_file.as_deref(), &args.user)?;
    users::check_password_policy(&args.user, &password)?;
    // (Should another init make users meanwhile, `Catalog::create` refuses.)
    let store = Store::create(&args.store)?;
    let user = NewUser {
        name: args.user.clone(),
        organisation: args.organisation.clone(),
        role: Role::Administrator,
        trained_on: Some(args.trained_on),
        training_expires: Some(expiry(args.trained_on, args.training_expires)),
    };
    users::initialise(&store, &[(user, password.as_str())])?;
    println!(
        "Initialised {} with administrator '{}'.",
        store.root().display(),
        args.user
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: &UsersCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UsersCommand::Add {
            login,
            name,
            role,
            organisation,
            trained_on,
            training_expires,
            new_password_file,
        } => {
            let (_, access) = login.access(Action::ManageUsers)?;
            let password = read_new_password(new_password_file.as_deref(), name)?;
            let user = NewUser {
                name: name.clone(),
                organisation: organisation.clone(),
                role: *role,
                trained_on: *trained_on,
                training_expires: trained_on.map(|on| expiry(on, *training_expires)),
            };
            let detail = serde_json::json!({
                "added": name, "role": role.as_str(), "organisation": organisation,
                "trained_on": trained_on.map(|d| d.to_string()),
            });
            access.change(Action::ManageUsers, detail, |tx| {
                users::add_in(tx, &user, &password, &access.principal.name, Utc::now())
            })?;
            println!("Added {} '{name}'.", role.as_str());
        }
        UsersCommand::Disable {
            login,
            name,
            enable,
        } => {
            let (_, access) = login.access(Action::ManageUsers)?;
            let detail = serde_json::json!({ "user": name, "disabled": !enable });
            access.change(Action::ManageUsers, detail, |tx| {
                users::set_disabled_in(tx, name, !enable)
            })?;
            println!("{} '{name}'.", if *enable { "Enabled" } else { "Disabled" });
        }
        UsersCommand::Passwd {
            login,
            name,
            new_password_file,
        } => {
            let target = name.clone().unwrap_or_else(|| login.user.clone());
            let own = target == login.user;
            let action = if own {
                Action::Login
            } else {
                Action::ManageUsers
            };
            let (_, access) = login.access(action)?;
            let password = read_new_password(new_password_file.as_deref(), &target)?;
            let detail = serde_json::json!({ "password_changed_for": target });
            access.change(Action::ManageUsers, detail, |tx| {
                users::set_password_in(tx, &target, &password)
            })?;
            println!("Password of '{target}' changed.");
        }
        UsersCommand::Train {
            login,
            name,
            on,
            expires,
        } => {
            let (_, access) = login.access(Action::ManageUsers)?;
            let until = expiry(*on, *expires);
            let detail = serde_json::json!({
                "user": name, "trained_on": on.to_string(), "training_expires": until.to_string(),
            });
            access.change(Action::ManageUsers, detail, |tx| {
                users::set_training_in(tx, name, *on, until)
            })?;
            println!("Training of '{name}' recorded: {on} until {until}.");
        }
        UsersCommand::List { login } => {
            let (_, access) = login.access(Action::ManageUsers)?;
            let all = users::list(&access.catalog)?;
            access.record(
                Action::ManageUsers,
                Outcome::Ok,
                serde_json::json!({ "listed_users": all.len() }),
            )?;
            println!(
                "{:<20} {:<14} {:<24} {:<11} {:<11} state",
                "user", "role", "organisation", "trained", "expires"
            );
            for u in all {
                println!(
                    "{:<20} {:<14} {:<24} {:<11} {:<11} {}",
                    u.name,
                    u.role,
                    u.organisation,
                    u.trained_on.unwrap_or_else(|| "-".into()),
                    u.training_expires.unwrap_or_else(|| "-".into()),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs in for a maintenance command (synthetic data, benchmarks) if the
/// store has users; a store without a catalog has nobody to protect yet.
pub fn maintain(
    store: &Store,
    user: Option<&str>,
    password_file: Option<&std::path::Path>,
) -> anyhow::Result<Option<Access>> {
    if !Catalog::exists(store) {
        return Ok(None);
    }
    let Some(user) = user else {
        anyhow::bail!(crate::Error::Refused(format!(
            "store {} has users: log in as an administrator with --user",
            store.root().display()
        )));
    };
    let login = Login {
        store: store.root().to_path_buf(),
        user: user.to_string(),
        password_file: password_file.map(|p| p.to_path_buf()),
    };
    let (_, access) = login.access(Action::Maintain)?;
    Ok(Some(access))
}
