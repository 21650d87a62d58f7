use fmd::prelude::*;

#[capture]
pub const fn helper() -> u32 {
    1
}

fn main() {}
