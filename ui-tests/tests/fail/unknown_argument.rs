use fmd::prelude::*;

#[monitored(levle = 1)]
fn handler() {}

fn main() {}
