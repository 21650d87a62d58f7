use fmd::prelude::*;

struct Service;

#[monitored]
impl Service {
    fn handle(&self) {}
}

fn main() {}
