use fmd::prelude::*;

#[capture(level = 1)]
fn helper() {}

fn main() {}
