use fmd::prelude::*;

#[monitored(level = 4)]
fn handler() {}

fn main() {}
