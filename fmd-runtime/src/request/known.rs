//! Naming errors behind a type-erasing wrapper.
//!
//! `anyhow::Error`, `eyre::Report` and `Box<dyn Error>` hide the type of what they hold:
//! through `&dyn Error` only a downcast to a type named in advance can tell it. The
//! standard library's error types are the ones every application meets (an I/O error at
//! the bottom of most chains), so those are named here; an application's own types behind
//! a wrapper stay unnamed (their messages are in the chain).

use std::borrow::Cow;
use std::error::Error;

type Probe = fn(&(dyn Error + 'static)) -> bool;

macro_rules! known {
    ($($t:ty),* $(,)?) => {
        &[$(((|e: &(dyn Error + 'static)| e.is::<$t>()) as Probe, stringify!($t))),*]
    };
}

/// The std error types recognized, by their public paths.
const KNOWN: &[(Probe, &str)] = known![
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::num::TryFromIntError,
    std::str::Utf8Error,
    std::str::ParseBoolError,
    std::string::FromUtf8Error,
    std::string::FromUtf16Error,
    std::char::ParseCharError,
    std::char::CharTryFromError,
    std::net::AddrParseError,
    std::time::SystemTimeError,
    std::time::TryFromFloatSecsError,
    std::env::VarError,
    std::array::TryFromSliceError,
    std::ffi::NulError,
    std::ffi::IntoStringError,
    std::sync::mpsc::RecvError,
    std::sync::mpsc::RecvTimeoutError,
    std::sync::mpsc::TryRecvError,
    std::cell::BorrowError,
    std::cell::BorrowMutError,
    std::alloc::LayoutError,
];

/// The public path of `err`'s type, if it is a std error type.
pub(crate) fn type_of(err: &(dyn Error + 'static)) -> Option<&'static str> {
    KNOWN.iter().find(|(is, _)| is(err)).map(|(_, name)| *name)
}

/// The type name of `err` held by `wrapper`: the outermost error's own type when known,
/// else the wrapper's; followed by the root cause's type when that is known too.
pub(crate) fn name(
    wrapper: &'static str,
    err: &(dyn Error + 'static),
    root: Option<&(dyn Error + 'static)>,
) -> Cow<'static, str> {
    let outer = type_of(err).unwrap_or(wrapper);
    match root.and_then(type_of) {
        Some(root) => Cow::Owned(format!("{outer} (caused by {root})")),
        None => Cow::Borrowed(outer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Context(std::io::Error);

    impl fmt::Display for Context {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("while loading")
        }
    }

    impl Error for Context {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn std_types_are_named_by_their_public_paths() {
        let io = std::io::Error::other("disk");
        assert_eq!(type_of(&io), Some("std::io::Error"));
        let parse = "x".parse::<u8>().unwrap_err();
        assert_eq!(type_of(&parse), Some("std::num::ParseIntError"));
        assert_eq!(type_of(&Context(std::io::Error::other("disk"))), None);
    }

    #[test]
    fn a_wrapper_is_named_by_what_it_holds_where_known() {
        let io = std::io::Error::other("disk");
        assert_eq!(name("anyhow::Error", &io, None), "std::io::Error");
        let context = Context(std::io::Error::other("disk"));
        assert_eq!(
            name("anyhow::Error", &context, context.source()),
            "anyhow::Error (caused by std::io::Error)"
        );
        assert_eq!(name("anyhow::Error", &context, None), "anyhow::Error");
    }
}
