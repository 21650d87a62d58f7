use fmd::prelude::*;

#[monitored(name = "  ")]
fn handler() {}

fn main() {}
