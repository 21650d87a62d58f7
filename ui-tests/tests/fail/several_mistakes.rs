use fmd::prelude::*;

// Every mistake in one attribute is reported, each at its own token.
#[monitored(level = 9, nmae = "x")]
fn handler() {}

fn main() {}
