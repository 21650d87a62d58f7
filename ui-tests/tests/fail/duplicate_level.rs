use fmd::prelude::*;

#[monitored(level = 1, level = 2)]
fn handler() {}

fn main() {}
