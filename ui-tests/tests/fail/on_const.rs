use fmd::prelude::*;

#[capture]
const LIMIT: u32 = 10;

fn main() {}
