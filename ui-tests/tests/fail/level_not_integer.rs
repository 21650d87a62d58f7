use fmd::prelude::*;

#[monitored(level = "2")]
fn handler() {}

fn main() {}
