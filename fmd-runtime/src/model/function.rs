//! Compile-time descriptors of annotated functions and their registry.
//!
//! `#[monitored]` and `#[capture]` emit one `static FnInfo` per function, holding its
//! location and verbatim source, and register it with [`inventory`]. The registry is read
//! at start-up (to apply stored levels) and by the dashboard; the request path only ever
//! touches the `&'static FnInfo` it was handed.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// What the attribute on a function was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    /// `#[monitored(level = N)]`: a request handler, an endpoint of its own.
    Monitored {
        /// The level written in the attribute; `None` means "the configured default".
        level: Option<u8>,
    },
    /// `#[capture]`: a function whose frames appear in traces and call trees.
    Capture,
}

/// Marker for "no level set at run time".
const NO_OVERRIDE: u8 = u8::MAX;

/// The descriptor of one annotated function, built at compile time.
#[derive(Debug)]
pub struct FnInfo {
    /// The function's name as written (`forecast`).
    pub name: &'static str,
    /// The endpoint name given with `#[monitored(name = "..")]`, if any.
    pub endpoint: Option<&'static str>,
    /// `module_path!()` at the function.
    pub module: &'static str,
    /// The source file, relative to the workspace root for workspace members.
    pub file: &'static str,
    /// First line of the function, attributes and doc comments included.
    pub start_line: u32,
    /// Last line of the function (its closing brace).
    pub end_line: u32,
    /// The function's source text.
    pub source: &'static str,
    /// `false` when `source` was rebuilt from tokens (macro-generated functions).
    pub verbatim: bool,
    /// A stable hash of `source` (xxh3-64).
    pub code_hash: u64,
    /// Which attribute produced this descriptor.
    pub kind: FnKind,
    /// `CARGO_PKG_NAME` of the crate the function is in.
    pub crate_name: &'static str,
    /// `CARGO_PKG_VERSION` of the crate the function is in.
    pub crate_version: &'static str,
    /// `CARGO_MANIFEST_DIR` of the crate the function is in, when it was built.
    pub manifest_dir: &'static str,
    /// The git commit the crate was built from, if the build could tell (`#[monitored]`
    /// only; empty otherwise).
    pub build_commit: &'static str,
    /// A method: its name takes its type once the first call tells it.
    pub method: bool,
    #[doc(hidden)]
    pub level_override: AtomicU8,
    endpoint_name: OnceLock<Box<str>>,
    /// A method's type (`Timestamp`), set by its first call.
    owner: OnceLock<&'static str>,
    /// `Type::name` once the type is known.
    typed_name: OnceLock<Box<str>>,
    /// A method's endpoint name before its type is known.
    untyped_endpoint: OnceLock<Box<str>>,
}

/// What the attribute knows of a function at compile time; [`FnInfo::new`] makes the
/// descriptor from it. A struct literal, so the generated code names every field.
#[derive(Debug, Clone, Copy)]
pub struct FnSite {
    /// The function's name as written.
    pub name: &'static str,
    /// The endpoint name given with `#[monitored(name = "..")]`, if any.
    pub endpoint: Option<&'static str>,
    /// `module_path!()` at the function.
    pub module: &'static str,
    /// `file!()` at the function.
    pub file: &'static str,
    /// First line, attributes and doc comments included.
    pub start_line: u32,
    /// Last line (the closing brace).
    pub end_line: u32,
    /// The source text.
    pub source: &'static str,
    /// `false` when `source` was rebuilt from tokens.
    pub verbatim: bool,
    /// xxh3-64 of `source`.
    pub code_hash: u64,
    /// Which attribute it was.
    pub kind: FnKind,
    /// `CARGO_PKG_NAME`, or empty.
    pub crate_name: &'static str,
    /// `CARGO_PKG_VERSION`, or empty.
    pub crate_version: &'static str,
    /// `CARGO_MANIFEST_DIR`, or empty.
    pub manifest_dir: &'static str,
    /// The git commit of the build, or empty.
    pub build_commit: &'static str,
    /// A method (it has a receiver or names `Self`): its type is learned on the first call
    /// ([`FnInfo::set_owner`]), since an attribute on a method cannot see its impl.
    pub method: bool,
}

impl FnInfo {
    /// Builds a descriptor; used by the generated code.
    #[doc(hidden)]
    pub const fn new(site: FnSite) -> Self {
        let FnSite {
            name,
            endpoint,
            module,
            file,
            start_line,
            end_line,
            source,
            verbatim,
            code_hash,
            kind,
            crate_name,
            crate_version,
            manifest_dir,
            build_commit,
            method,
        } = site;
        FnInfo {
            name,
            endpoint,
            module,
            file,
            start_line,
            end_line,
            source,
            verbatim,
            code_hash,
            kind,
            crate_name,
            crate_version,
            manifest_dir,
            build_commit,
            method,
            level_override: AtomicU8::new(NO_OVERRIDE),
            endpoint_name: OnceLock::new(),
            owner: OnceLock::new(),
            typed_name: OnceLock::new(),
            untyped_endpoint: OnceLock::new(),
        }
    }

    /// Tells a method its type, from `std::any::type_name::<Self>()` in its body (called by
    /// the generated code on every call; only the first one does anything). The path and
    /// generic arguments are dropped: `app::api::Wrapper<u8>` is `Wrapper`.
    #[doc(hidden)]
    #[inline]
    pub fn set_owner(&self, type_name: &'static str) {
        if self.owner.get().is_none() {
            let _ = self.owner.set(short_type(type_name));
        }
    }

    /// The function's name with its type for a method once known (`Timestamp::now`), else
    /// as written (`now`).
    pub fn fn_name(&self) -> &str {
        match self.owner.get() {
            Some(owner) => self
                .typed_name
                .get_or_init(|| format!("{owner}::{}", self.name).into()),
            None => self.name,
        }
    }

    /// The endpoint name of a `#[monitored]` function: the `name = ".."` argument, else
    /// `module::function`.
    pub fn endpoint_name(&self) -> &str {
        match self.endpoint {
            Some(name) => name,
            // Not cached before the type is known: the name is `module::Type::function`.
            None if self.method && self.owner.get().is_none() => self
                .untyped_endpoint
                .get_or_init(|| format!("{}::{}", self.module, self.name).into()),
            None => self
                .endpoint_name
                .get_or_init(|| format!("{}::{}", self.module, self.fn_name()).into()),
        }
    }

    /// `module::function` (`module::Type::method`), the identity used for grouping.
    pub fn qualified_name(&self) -> String {
        format!("{}::{}", self.module, self.fn_name())
    }

    /// Whether `line` lies inside this function.
    pub fn contains_line(&self, line: u32) -> bool {
        (self.start_line..=self.end_line).contains(&line)
    }

    /// The level set at run time (dashboard or stored), if any.
    pub fn level_override(&self) -> Option<u8> {
        match self.level_override.load(Ordering::Relaxed) {
            NO_OVERRIDE => None,
            level => Some(level),
        }
    }

    pub(crate) fn set_level_override(&self, level: Option<u8>) {
        self.level_override
            .store(level.unwrap_or(NO_OVERRIDE), Ordering::Relaxed);
    }

    /// The level the attribute asked for, `None` for the configured default.
    pub fn declared_level(&self) -> Option<u8> {
        match self.kind {
            FnKind::Monitored { level } => level,
            FnKind::Capture => None,
        }
    }
}

/// The last path segment of a type's name, without generic arguments:
/// `app::api::Wrapper<alloc::string::String>` → `Wrapper`; `&app::Api` → `Api`.
fn short_type(type_name: &'static str) -> &'static str {
    let plain = type_name.split('<').next().unwrap_or(type_name);
    let plain = plain
        .trim_start_matches(['&', '*'])
        .trim_start_matches("mut ");
    plain.rsplit("::").next().unwrap_or(plain)
}

/// What the generated code submits to [`inventory`].
#[doc(hidden)]
pub struct Registration(pub &'static FnInfo);

inventory::collect!(Registration);

/// Every annotated function linked into this program, each once.
///
/// A function can register more than once (`#[axum::debug_handler]` copies it): duplicates
/// by file, start line and name are removed.
pub mod registry {
    use super::{FnInfo, Registration};
    use once_cell::sync::Lazy;

    static FUNCTIONS: Lazy<Vec<&'static FnInfo>> = Lazy::new(|| {
        let mut all: Vec<&'static FnInfo> = inventory::iter::<Registration>
            .into_iter()
            .map(|r| r.0)
            .collect();
        all.sort_by(|a, b| (a.file, a.start_line, a.name).cmp(&(b.file, b.start_line, b.name)));
        all.dedup_by(|a, b| (a.file, a.start_line, a.name) == (b.file, b.start_line, b.name));
        all
    });

    /// All registered functions, deduplicated, ordered by file and line.
    pub fn functions() -> impl Iterator<Item = &'static FnInfo> {
        FUNCTIONS.iter().copied()
    }

    /// Every registration, duplicates included (all must see a live level change).
    pub(crate) fn all_registrations() -> impl Iterator<Item = &'static FnInfo> {
        inventory::iter::<Registration>.into_iter().map(|r| r.0)
    }
}
