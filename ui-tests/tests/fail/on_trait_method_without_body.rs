use fmd::prelude::*;

trait Store {
    #[capture]
    fn load(&self) -> u32;
}

fn main() {}
