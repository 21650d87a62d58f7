//! `fmd users`: dashboard accounts over the store's user methods. Passwords come from
//! `FMD_PASSWORD` or one line of standard input, never from an argument, and only their
//! argon2 hash is stored.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, bail};
use clap::Subcommand;
use fmd_dashboard::auth::password;
use fmd_runtime::Database;
use fmd_runtime::config::MIN_PASSWORD_LEN;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::check::open_read_only;

/// The longest login name the dashboard accepts.
const MAX_USERNAME: usize = 64;

/// What to do with accounts.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Creates an account (a viewer unless --admin); the password comes from FMD_PASSWORD
    /// or one line of standard input. Creates the database if it does not exist.
    Add {
        /// Login name.
        name: String,
        /// May change levels, delete groups, prune and manage accounts.
        #[arg(long)]
        admin: bool,
    },
    /// Sets a new password (from FMD_PASSWORD or one line of standard input).
    Passwd {
        /// Login name.
        name: String,
    },
    /// Deletes an account (never the last admin).
    Remove {
        /// Login name.
        name: String,
    },
    /// Lists the accounts and their roles.
    List,
}

/// Runs one account action on `database`.
pub fn run(database: &Database, action: Action) -> anyhow::Result<()> {
    if !matches!(action, Action::Add { .. }) {
        crate::require_existing(database)?;
    }
    if let Action::List = action {
        let mut store =
            open_read_only(database).with_context(|| format!("cannot open {database}"))?;
        let users = store.users().context("cannot read the accounts")?;
        if users.is_empty() {
            println!("no accounts (the dashboard creates the first admin at its first start)");
        }
        for user in users {
            println!("{}\t{}", user.username, user.role);
        }
        return Ok(());
    }
    let mut store = AnyReader::open(database).with_context(|| format!("cannot open {database}"))?;
    match action {
        Action::Add { name, admin } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.len() > MAX_USERNAME {
                bail!("a login name has 1 to {MAX_USERNAME} bytes");
            }
            let hash = hash(&read_password()?)?;
            let role = if admin { "admin" } else { "viewer" };
            if !store
                .create_user(&name, &hash, role, crate::now_ms())
                .context("cannot create the account")?
            {
                bail!("an account named {name:?} already exists (use `fmd users passwd`)");
            }
            println!("created {role} {name:?}");
        }
        Action::Passwd { name } => {
            if store
                .user(&name)
                .context("cannot read the account")?
                .is_none()
            {
                bail!("no account named {name:?}");
            }
            let hash = hash(&read_password()?)?;
            if !store
                .set_password_hash(&name, &hash)
                .context("cannot change the password")?
            {
                bail!("no account named {name:?}");
            }
            println!("changed the password of {name:?}");
        }
        Action::Remove { name } => {
            let users = store.users().context("cannot read the accounts")?;
            let Some(user) = users.iter().find(|u| u.username == name) else {
                bail!("no account named {name:?}");
            };
            let admins = users.iter().filter(|u| u.role == "admin").count();
            if user.role == "admin" && admins <= 1 {
                bail!(
                    "{name:?} is the last admin: add another admin first \
                     (`fmd users add <name> --admin`)"
                );
            }
            if !store
                .delete_user(&name)
                .context("cannot delete the account")?
            {
                bail!("no account named {name:?}");
            }
            println!("removed {name:?}");
        }
        Action::List => {}
    }
    Ok(())
}

fn hash(secret: &str) -> anyhow::Result<String> {
    password::hash(secret).context("cannot hash the password (no system randomness)")
}

/// The new password: `FMD_PASSWORD`, else one line of standard input.
fn read_password() -> anyhow::Result<String> {
    let secret = match std::env::var("FMD_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                // The line is echoed: prefer FMD_PASSWORD or a pipe where others can see.
                eprint!("password (at least {MIN_PASSWORD_LEN} characters): ");
                std::io::stderr().flush().ok();
            }
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if secret.chars().count() < MIN_PASSWORD_LEN {
        bail!(
            "the password needs at least {MIN_PASSWORD_LEN} characters \
             (from FMD_PASSWORD or one line of standard input)"
        );
    }
    Ok(secret)
}
