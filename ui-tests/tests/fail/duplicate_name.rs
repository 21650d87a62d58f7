use fmd::prelude::*;

#[monitored(name = "a", name = "b")]
fn handler() {}

fn main() {}
