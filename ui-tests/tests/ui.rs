//! Misuse of `#[monitored]` / `#[capture]` is a compile error on the offending token, and
//! every accepted form compiles. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p fmd-ui-tests` and review each `.stderr` by hand.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/fail/*.rs");
    t.pass("tests/pass/*.rs");
}
