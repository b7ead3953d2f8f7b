//! The login every data command takes: the store, a user name and a
//! password from a file, the environment or a prompt (never a flag, which
//! would land in shell history and `ps`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::audit::Access;
use crate::audit::access::Action;
use crate::audit::users::Credentials;
use crate::error::{Error, Result};
use crate::store::Store;

/// Environment variable holding the password for scripted jobs.
pub const PASSWORD_ENV: &str = "ALPR_PASSWORD";
/// Environment variable holding a new user's password for scripted jobs.
pub const NEW_PASSWORD_ENV: &str = "ALPR_NEW_PASSWORD";

#[derive(Debug, Clone, clap::Args)]
pub struct Login {
    /// Store directory.
    #[arg(long)]
    pub store: PathBuf,
    /// Your user name.
    #[arg(long, env = "ALPR_USER")]
    pub user: String,
    /// Read your password from this file's first line (else the
    /// ALPR_PASSWORD variable, else a prompt on the terminal).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

impl Login {
    /// Opens the store and logs in for `action` (refusals are audited).
    pub fn access(&self, action: Action) -> Result<(Store, Access)> {
        let store = Store::open(&self.store)?;
        let creds = Credentials {
            user: self.user.clone(),
            password: read_password(
                self.password_file.as_deref(),
                PASSWORD_ENV,
                &format!("Password for {}: ", self.user),
            )?,
        };
        let access = Access::login(&store, &creds, action)?;
        Ok((store, access))
    }
}

/// A password from `file`, the variable `env`, or a prompt.
pub fn read_password(file: Option<&Path>, env: &str, prompt: &str) -> Result<String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        return Ok(text.lines().next().unwrap_or_default().to_string());
    }
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt)
            .map_err(|e| Error::io(PathBuf::from("/dev/tty"), e));
    }
    Err(Error::bad_input(format!(
        "no password: give --password-file, set {env}, or run on a terminal"
    )))
}

/// A new password from `file`, ALPR_NEW_PASSWORD, or typed twice.
pub fn read_new_password(file: Option<&Path>, user: &str) -> Result<String> {
    if file.is_some() || std::env::var(NEW_PASSWORD_ENV).is_ok() {
        return read_password(file, NEW_PASSWORD_ENV, "");
    }
    let first = read_password(
        None,
        NEW_PASSWORD_ENV,
        &format!("New password for {user}: "),
    )?;
    let again = read_password(None, NEW_PASSWORD_ENV, "Again: ")?;
    if first != again {
        return Err(Error::bad_input("the two passwords differ"));
    }
    Ok(first)
}
