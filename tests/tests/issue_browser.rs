//! The issue page in real headless Chromium: the variants with their versions and the
//! "suspect change" mark, the code diff between them, hostile messages and source shown
//! as text (no script runs, no element is injected); Resolve posts the form with its CSRF
//! token and the page comes back resolved; the exceptions list filters by status; a
//! group's card shows its occurrences per version.
//!
//! Needs Debian's `chromium` and `chromium-driver`; fails (never skips) without them.
//! Screenshots land in `target/screenshots/` (`issue.png`, `issue_resolved.png`,
//! `issues_list.png`, `group_versions.png`).

use fantoccini::Locator;
use fmd_dashboard::Dashboard;
use fmd_runtime::Database;
use fmd_runtime::store::AnyReader;
use fmd_runtime::store::read::{IssueFilter, IssueSort};
use fmd_tests::browser::{Browser, XSS_SCRIPT};
use fmd_tests::dashboard_fixture::serve;
use fmd_tests::engines::off_runtime;
use fmd_tests::issue_fixture::seed_hostile_issue;

const PASSWORD: &str = "correct-horse-7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_page_shows_what_changed_and_resolves_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::Sqlite(dir.path().join("fmd.db"));
    seed_hostile_issue(&db);
    let d = db.clone();
    let id = off_runtime(move || {
        let issues = AnyReader::open(&d)
            .unwrap()
            .issues(&IssueFilter::default(), IssueSort::LastSeen, true, 0, 10)
            .unwrap();
        issues
            .rows
            .iter()
            .find(|i| i.type_name == "shop::NotFound")
            .expect("the issue")
            .id
    });
    let router = axum::Router::new().nest(
        "/dashboard",
        Dashboard::new(db.clone()).admin("admin", PASSWORD).router(),
    );
    let base = serve(router).await;
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("{base}/dashboard/login")).await.unwrap();
    b.submit_login("admin", PASSWORD).await;

    let path = format!("/dashboard/issues/{id}");
    c.goto(&format!("{base}{path}")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("table.variants"))
        .await
        .expect("the variants table");
    b.screenshot("issue").await;
    b.assert_inert(&path, XSS_SCRIPT).await;
    let rows = c
        .find_all(Locator::Css("table.variants tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "two variants");
    assert_eq!(
        b.text("table.variants tbody tr .suspect").await,
        "suspect change"
    );
    let added = b.text(".code.diff .l.add .t").await;
    assert!(
        added.contains("<script>window.__xss=1</script>"),
        "the added line shows the hostile source as text: {added:?}"
    );
    let message = b.text("pre.message").await;
    assert!(
        message.contains("<script>"),
        "the message as text: {message:?}"
    );
    assert_eq!(b.text("h1 [data-status]").await, "open");

    b.click_and_wait(
        &format!("form[action='/dashboard/issues/{id}/resolve'] button"),
        "div.notice",
    )
    .await;
    assert_eq!(b.text("h1 [data-status]").await, "resolved");
    b.screenshot("issue_resolved").await;
    b.assert_inert(&path, XSS_SCRIPT).await;

    c.goto(&format!("{base}/dashboard/exceptions?status=resolved"))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("table.issues"))
        .await
        .unwrap();
    let listed = c
        .find_all(Locator::Css("table.issues tbody tr [data-status]"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "only the resolved issue");
    b.screenshot("issues_list").await;
    b.assert_inert("/dashboard/exceptions", XSS_SCRIPT).await;
    // The variant's card on its endpoint's page: occurrences per version by the chart.
    b.click_and_wait(
        "form.bulk ~ table.data tbody td.mono a",
        "section.card.group",
    )
    .await;
    assert!(b.text("table.version-bars").await.contains("1.2.0"));
    b.screenshot("group_versions").await;
    b.assert_inert("/dashboard/endpoint/../exceptions", XSS_SCRIPT)
        .await;
    b.close().await;
}
