//! Example services instrumented with fmd. `cargo run -p fmd-examples --bin weather`
//! starts the weather service with the dashboard and drives a little traffic through it.

pub mod traffic;
pub mod weather;
