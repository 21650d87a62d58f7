//! The JSON API's request log on both engines: keyset pages over `(time, id)` cover a
//! window exactly once, even when a page boundary falls among rows of one millisecond,
//! for all endpoints or one, for all instances or one.

use fmd_runtime::store::read::RequestWindow;
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::Fixture;
use fmd_tests::engines::Engine;
use fmd_tests::request_rows::{self, Texts};

fn window(endpoint_id: Option<i64>, instance: Option<&str>) -> RequestWindow {
    RequestWindow {
        from: 10,
        to: 40,
        endpoint_id,
        instance: instance.map(str::to_owned),
        after: None,
        limit: 2,
    }
}

/// Reads every page of `w` and returns the ids in order.
fn all_pages(fx: &Fixture, mut w: RequestWindow) -> Vec<i64> {
    let mut store = fx.reader();
    let mut ids = Vec::new();
    loop {
        let page = store.requests_in_window(&w).expect("page");
        ids.extend(page.iter().map(|r| r.id));
        match page.last() {
            Some(last) if page.len() == w.limit as usize => w.after = Some((last.time, last.id)),
            _ => return ids,
        }
    }
}

fn pages_cover_the_window_once_even_across_rows_of_one_millisecond(engine: Engine) {
    let fx = Fixture::on(engine);
    let a = fx.endpoint("a");
    let b = fx.endpoint("b");
    let rows = [
        (5, a, "i1"),
        (10, a, "i1"),
        (20, a, "i1"),
        (20, b, "i2"),
        (20, a, "i2"),
        (20, a, "i1"),
        (20, b, "i1"),
        (39, a, "i2"),
        (40, a, "i1"),
    ];
    let ids: Vec<i64> = rows
        .iter()
        .map(|(time, endpoint, instance)| {
            let texts = Texts {
                route: "/r",
                method: "GET",
                version: "1",
                ip: None,
                user: None,
                instance,
            };
            request_rows::insert(&fx.db, *endpoint, &texts, *time, 5, Some(200), false)
        })
        .collect();
    // Rows 1..=7 are inside [10, 40).
    assert_eq!(all_pages(&fx, window(None, None)), ids[1..8]);
    assert_eq!(
        all_pages(&fx, window(Some(a), None)),
        [ids[1], ids[2], ids[4], ids[5], ids[7]]
    );
    assert_eq!(
        all_pages(&fx, window(None, Some("i2"))),
        [ids[3], ids[4], ids[7]]
    );
}

both_engines!(pages_cover_the_window_once_even_across_rows_of_one_millisecond);
