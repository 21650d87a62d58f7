//! Accessibility of every dashboard page, in real headless Chromium: axe-core finds no
//! serious or critical violation on any page (light and dark), and the level selector,
//! expanding a frame, resolving an issue and deleting a group work from the keyboard alone.
//!
//! Needs Chromium, chromedriver and axe-core (`FMD_TEST_AXE`, installed by
//! `scripts/test.d/pre-30-axe.sh`); fails, never skips, without them.

use fantoccini::Locator;
use fantoccini::key::Key;
use fmd_dashboard::{Access, Dashboard, route_table};
use fmd_tests::a11y::{axe_source, serious_violations};
use fmd_tests::browser::{Browser, Look};
use fmd_tests::dashboard_fixture::{Fixture, now_ms, serve_dashboard};
use fmd_tests::issue_fixture::seed_hostile_issue;
use fmd_tests::perf_demo::{Demo, weather_demo};

/// Every page a person opens: the GET routes behind a session, with their ids filled in.
fn pages(demo: &Demo) -> Vec<String> {
    route_table()
        .into_iter()
        .filter(|r| r.method == "GET" && r.access == Access::Viewer)
        .filter(|r| !r.path.starts_with("/api/") && !r.path.starts_with("/assets/"))
        .map(|r| {
            r.path
                .replace("{group}", &demo.group.to_string())
                .replace("{id}", &demo.forecast.to_string())
        })
        .collect()
}

async fn serve_demo() -> (Fixture, Demo, String) {
    let fx = Fixture::new();
    let demo = weather_demo(&fx, now_ms());
    let base = serve_dashboard(Dashboard::new(fx.path())).await;
    (fx, demo, base)
}

async fn check_every_page(look: Look, name: &str) {
    let axe = axe_source();
    let (_fx, demo, base) = serve_demo().await;
    let b = Browser::start_with(look).await;
    let c = &b.client;
    let mut problems = Vec::new();

    c.goto(&format!("{base}/dashboard/login")).await.unwrap();
    for v in serious_violations(&b, &axe).await {
        problems.push(format!("/login: {v}"));
    }
    b.submit_login("admin", "correct-horse-7").await;

    let pages = pages(&demo);
    assert!(
        pages.len() >= 14,
        "the route table lists the pages: {pages:?}"
    );
    for page in &pages {
        c.goto(&format!("{base}/dashboard{page}")).await.unwrap();
        let kind = c
            .execute("return document.contentType", vec![])
            .await
            .unwrap();
        if kind.as_str() != Some("text/html") {
            continue;
        }
        for v in serious_violations(&b, &axe).await {
            problems.push(format!("{page}: {v}"));
        }
    }
    println!("{name}: {} pages checked by axe-core", pages.len() + 1);
    assert!(
        problems.is_empty(),
        "{name}: serious or critical accessibility violations:\n{}",
        problems.join("\n")
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_light_mode() {
    check_every_page(Look::default(), "light").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_dark_mode() {
    check_every_page(
        Look {
            dark: true,
            ..Look::default()
        },
        "dark",
    )
    .await;
}

/// Presses `key` on the focused element.
async fn press(b: &Browser, key: Key) {
    let focused = b.client.active_element().await.expect("a focused element");
    focused
        .send_keys(&char::from(key).to_string())
        .await
        .expect("key sent");
}

/// Moves the focus with Tab until `css` has it (at most 200 presses).
async fn tab_to(b: &Browser, css: &str) {
    let c = &b.client;
    for _ in 0..200 {
        let on = c
            .execute(
                "return document.activeElement && document.activeElement.matches(arguments[0])",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap();
        if on.as_bool() == Some(true) {
            return;
        }
        c.active_element()
            .await
            .unwrap()
            .send_keys(&char::from(Key::Tab).to_string())
            .await
            .unwrap();
    }
    panic!("Tab never reached {css}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level_frames_resolve_and_delete_work_from_the_keyboard() {
    let (fx, demo, base) = serve_demo().await;
    // An issue written through the real writer (the demo's groups are written as rows).
    seed_hostile_issue(&fmd_runtime::Database::Sqlite(fx.path().to_path_buf()));
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("{base}/dashboard/login")).await.unwrap();
    b.submit_login("admin", "correct-horse-7").await;

    // The level selector: the arrow keys move the choice without saving it; Enter saves.
    let level = || async {
        c.execute(
            "return document.querySelector('select[name=level]').value",
            vec![],
        )
        .await
        .unwrap()
    };
    let before = level().await;
    tab_to(&b, "select[name=level]").await;
    press(&b, Key::Down).await;
    assert!(
        c.find(Locator::Css(".notice")).await.is_err(),
        "an arrow key alone saved a level"
    );
    press(&b, Key::Enter).await;
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("a notice after saving the level");
    assert!(
        b.text(".notice").await.contains("Monitoring level saved"),
        "saved from the keyboard"
    );
    assert_ne!(before, level().await, "the level changed");

    // A frame opens and closes with Enter on its summary.
    c.goto(&format!(
        "{base}/dashboard/endpoint/{}/exceptions",
        demo.forecast
    ))
    .await
    .unwrap();
    let count_open = || async {
        c.find_all(Locator::Css("li.frame details[open]"))
            .await
            .unwrap()
            .len()
    };
    let open_before = count_open().await;
    tab_to(&b, "li.frame details > summary").await;
    press(&b, Key::Enter).await;
    let open_after = count_open().await;
    assert_ne!(open_after, open_before, "Enter toggled a frame");
    press(&b, Key::Enter).await;
    assert_eq!(count_open().await, open_before, "Enter toggled it back");

    // Resolving an issue: Tab to the button on the issue page, Enter.
    c.goto(&format!("{base}/dashboard/exceptions"))
        .await
        .unwrap();
    let issue = c
        .execute(
            "return document.querySelector('a[href*=\"/dashboard/issues/\"]').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    let issue = issue.as_str().expect("a link to the issue").to_owned();
    c.goto(&format!("{base}{issue}")).await.unwrap();
    tab_to(&b, "form[action$='/resolve'] button").await;
    press(&b, Key::Enter).await;
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("a notice after resolving");
    assert!(
        b.text("[data-status]").await.contains("resolved"),
        "resolved from the keyboard"
    );
    c.goto(&format!(
        "{base}/dashboard/endpoint/{}/exceptions",
        demo.forecast
    ))
    .await
    .unwrap();

    // Deleting a group: reach its button with Tab, confirm with Enter.
    tab_to(&b, "form.inline button.danger").await;
    press(&b, Key::Enter).await;
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("a notice after deleting");
    assert!(
        b.text(".notice").await.contains("deleted"),
        "deleted from the keyboard"
    );
    b.close().await;
}
