use fmd::prelude::*;

#[monitored(level)]
fn handler() {}

fn main() {}
