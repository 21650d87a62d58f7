//! Every argument form the attributes accept.
use fmd::prelude::*;

#[monitored]
fn plain() {}

#[monitored()]
fn empty_parens() {}

#[monitored(level = 0)]
fn level_zero() {}

#[monitored(level = 3, name = "the endpoint")]
fn level_and_name() {}

#[rustfmt::skip]
#[monitored(name = "trailing comma", level = 2,)]
async fn trailing_comma() -> Result<(), std::io::Error> {
    Ok(())
}

#[capture]
fn helper(x: u32) -> Option<u32> {
    x.checked_add(1)
}

struct Service;

impl Service {
    #[capture]
    pub fn method(&self) -> u32 {
        1
    }

    #[monitored(level = 1)]
    pub async fn handler(&mut self) -> u32 {
        2
    }
}

#[capture]
unsafe fn unsafe_helper() {}

fn main() {
    let _ = (
        plain,
        empty_parens,
        level_zero,
        level_and_name,
        trailing_comma,
    );
    let _ = (helper, Service::method, Service::handler, unsafe_helper);
}
