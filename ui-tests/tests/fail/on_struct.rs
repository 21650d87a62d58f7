use fmd::prelude::*;

#[monitored]
pub struct Handler {
    pub field: u32,
}

fn main() {}
