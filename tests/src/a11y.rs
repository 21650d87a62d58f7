//! axe-core in the Chromium tests: the page under test is checked for accessibility
//! violations of impact "serious" or "critical".
//!
//! `scripts/test` installs the pinned axe-core from the npm registry
//! (`scripts/test.d/pre-30-axe.sh`) and exports `FMD_TEST_AXE`, the path of `axe.min.js`.
//! Without it the tests fail, never skip.

use crate::browser::Browser;

/// The source of `axe.min.js`, read from `FMD_TEST_AXE`.
///
/// Panics (fails the test) when the variable or the file is missing.
pub fn axe_source() -> String {
    let path = std::env::var("FMD_TEST_AXE").unwrap_or_else(|_| {
        panic!(
            "FMD_TEST_AXE is not set: run scripts/test, or \
             `source scripts/test.d/pre-30-axe.sh` (it installs axe-core with npm)"
        )
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The serious and critical violations axe finds on the current page, one line each:
/// the rule, its impact and up to three offending elements with axe's summary.
pub async fn serious_violations(b: &Browser, axe: &str) -> Vec<String> {
    let c = &b.client;
    c.execute(&format!("{axe}\n;return 1;"), vec![])
        .await
        .expect("load axe-core into the page");
    let found = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
               done(r.violations
                 .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(function (n) {
                     return n.target.join(' ') + ' -- ' + (n.failureSummary || '').replace(/\\s+/g, ' ');
                   }).join(' | ');
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("run axe-core");
    found
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
