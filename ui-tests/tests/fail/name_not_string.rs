use fmd::prelude::*;

#[monitored(name = 5)]
fn handler() {}

fn main() {}
