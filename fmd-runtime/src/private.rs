//! The hidden surface the generated code calls. Not a public API: it may change in any
//! release. Everything here is re-exported by the `fmd` facade as `fmd::__private_0_1` (the name carries the
//! version of this surface).
//!
//! The `inspect` and `describe` modules use autoref specialization: the generated code
//! calls a method on `&&&&&&&Out(&value)`, and method lookup picks the most capable impl
//! the value's type allows (a `std::error::Error`, something that dereferences to one,
//! `Display`, `Debug`, or nothing at all). Every tier with `Debug` also reads the backtrace
//! a value's `Debug` prints (anyhow's and eyre's `Stack backtrace:`) into native frames.

pub use crate::model::function::{FnInfo, FnKind, FnSite, Registration};
pub use crate::request::error::Described;
pub use crate::request::handled::capture;
pub use crate::request::return_trace::{hop, hop_new, hop_try, mark};
pub use crate::request::wrappers::{Framed, Monitored, SyncFrame, monitored_sync};
pub use inventory;

/// Builds the `Described` of a value given to `capture!`.
pub mod describe {
    use super::Described;
    use std::error::Error;
    use std::fmt::{Debug, Display};
    use std::ops::Deref;

    /// The value, borrowed.
    pub struct Subject<'a, E: ?Sized>(pub &'a E);

    /// Tier 1: `std::error::Error`, with its `source()` chain.
    pub trait ViaError {
        /// Describe.
        fn __fmd_describe(&self) -> Described;
    }
    impl<E: Error + 'static> ViaError for &&&&Subject<'_, E> {
        fn __fmd_describe(&self) -> Described {
            Described::concrete(std::any::type_name::<E>(), self.0)
        }
    }
    /// Tier 2: boxes and `anyhow`-style errors of `dyn Error + Send + Sync` (their `Debug`
    /// prints the backtrace they carry).
    pub trait ViaDynSendError {
        /// Describe.
        fn __fmd_describe(&self) -> Described;
    }
    impl<E: Deref<Target = dyn Error + Send + Sync + 'static> + Debug> ViaDynSendError
        for &&&Subject<'_, E>
    {
        fn __fmd_describe(&self) -> Described {
            Described::wrapped(std::any::type_name::<E>(), &**self.0).with_backtrace_of(self.0)
        }
    }
    /// Tier 3: boxes of `dyn Error`.
    pub trait ViaDynError {
        /// Describe.
        fn __fmd_describe(&self) -> Described;
    }
    impl<E: Deref<Target = dyn Error + 'static> + Debug> ViaDynError for &&Subject<'_, E> {
        fn __fmd_describe(&self) -> Described {
            Described::wrapped(std::any::type_name::<E>(), &**self.0).with_backtrace_of(self.0)
        }
    }
    /// Tier 4: anything `Display`.
    pub trait ViaDisplay {
        /// Describe.
        fn __fmd_describe(&self) -> Described;
    }
    impl<E: Display + ?Sized> ViaDisplay for &Subject<'_, E> {
        fn __fmd_describe(&self) -> Described {
            Described::display(std::any::type_name::<E>(), &self.0)
        }
    }
    /// Tier 5: anything `Debug`.
    pub trait ViaDebug {
        /// Describe.
        fn __fmd_describe(&self) -> Described;
    }
    impl<E: Debug + ?Sized> ViaDebug for Subject<'_, E> {
        fn __fmd_describe(&self) -> Described {
            Described::debug(std::any::type_name::<E>(), &self.0)
        }
    }
}

/// Tells whether a handler's output is an `Err`, and describes it.
pub mod inspect {
    use super::Described;
    use std::error::Error;
    use std::fmt::{Debug, Display};
    use std::ops::Deref;

    /// The output, borrowed.
    pub struct Out<'a, T>(pub &'a T);

    macro_rules! tier {
        ($(#[$doc:meta])* $name:ident, $refs:ty, [$($bound:tt)*], $describe:expr) => {
            $(#[$doc])*
            pub trait $name {
                /// `Some` for an `Err`.
                fn __fmd_output(&self) -> Option<Described>;
            }
            impl<T, E: $($bound)*> $name for $refs {
                fn __fmd_output(&self) -> Option<Described> {
                    match self.0 {
                        Ok(_) => None,
                        Err(e) => Some(($describe)(std::any::type_name::<E>(), e)),
                    }
                }
            }
        };
    }

    tier!(
        /// Tier 1: `Result<_, impl Error>`.
        OutError, &&&&&&Out<'_, Result<T, E>>, [Error + 'static],
        |n, e: &E| Described::concrete(n, e)
    );
    tier!(
        /// Tier 2: `Result<_, Box<dyn Error + Send + Sync>>`, `anyhow::Result`.
        OutDynSendError, &&&&&Out<'_, Result<T, E>>, [Deref<Target = dyn Error + Send + Sync + 'static> + Debug],
        |n, e: &E| Described::wrapped(n, &**e).with_backtrace_of(e)
    );
    tier!(
        /// Tier 3: `Result<_, Box<dyn Error>>`.
        OutDynError, &&&&Out<'_, Result<T, E>>, [Deref<Target = dyn Error + 'static> + Debug],
        |n, e: &E| Described::wrapped(n, &**e).with_backtrace_of(e)
    );
    tier!(
        /// Tier 4: `Result<_, impl Display>`.
        OutDisplay, &&&Out<'_, Result<T, E>>, [Display],
        |n, e: &E| Described::display(n, e)
    );
    tier!(
        /// Tier 5: `Result<_, impl Debug>`.
        OutDebug, &&Out<'_, Result<T, E>>, [Debug],
        |n, e: &E| Described::debug(n, e)
    );

    /// Tier 6: `Result<_, E>` whatever `E` is (the anyhow wrapper of axum's examples has
    /// neither `Display` nor `Debug`): recorded with its type name alone.
    pub trait OutAnyErr {
        /// `Some` for an `Err`.
        fn __fmd_output(&self) -> Option<Described>;
    }
    impl<T, E> OutAnyErr for &Out<'_, Result<T, E>> {
        fn __fmd_output(&self) -> Option<Described> {
            match self.0 {
                Ok(_) => None,
                Err(_) => Some(Described::opaque(std::any::type_name::<E>())),
            }
        }
    }

    /// Tier 7: any other output is not an error.
    pub trait OutOther {
        /// Always `None`.
        fn __fmd_output(&self) -> Option<Described>;
    }
    impl<T> OutOther for Out<'_, T> {
        fn __fmd_output(&self) -> Option<Described> {
            None
        }
    }
}
