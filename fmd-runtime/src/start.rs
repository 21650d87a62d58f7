//! Starting fmd: the monitor (queue and writer thread) and the panic hook, together.
//!
//! Every entry point goes through here — the wrappers, `capture!`, the framework layer,
//! [`init`] and [`init_from_env`] — so the hook is in place wherever fmd runs, while the
//! monitor itself knows nothing of the request path above it.

use crate::config::{Config, ConfigError};
use crate::pipeline::monitor::{self, InitError, Monitor};
use crate::request::panic;

/// The monitor, started with the defaults and `fmd.toml` / `FMD_*` if not started yet.
///
/// A malformed configuration found this way is reported on stderr and leaves monitoring
/// off; call [`init`] or [`init_from_env`] at start-up to get it as an error instead.
pub fn monitor() -> &'static Monitor {
    panic::install();
    monitor::monitor()
}

/// Starts fmd on first use; cheap afterwards.
#[inline]
pub fn ensure_started() {
    panic::install();
    monitor::ensure_started();
}

/// Starts fmd with `config`. Fails if the configuration is malformed or fmd already runs.
pub fn init(config: Config) -> Result<&'static Monitor, InitError> {
    let started = monitor::init(config)?;
    panic::install();
    Ok(started)
}

/// Starts fmd from `fmd.toml` and `FMD_*` variables, or returns the running monitor.
/// A malformed option is an error naming it.
pub fn init_from_env() -> Result<&'static Monitor, ConfigError> {
    let started = monitor::init_from_env()?;
    panic::install();
    Ok(started)
}
