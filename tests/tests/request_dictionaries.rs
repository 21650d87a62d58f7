//! Schema version 10 on both engines: a request row holds ids of its texts (route key,
//! version, address, user, instance), each text stored once; a version 8 database —
//! requests whose six text columns all differ, some empty, an occurrence, an outlier —
//! upgrades without loss: every request keeps its id, every value reads back the same
//! through the view and the readers, and what referred to it still does.

use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::{ExceptionSpec, Fixture, FrameSpec};
use fmd_tests::engines::Engine;
use fmd_tests::perf_fixture::{OutlierSpec, Perf, Req};
use fmd_tests::request_rows::{self, Texts};

/// Requests whose texts differ in every column, and one with neither address nor user.
fn seed(fx: &Fixture) -> Vec<i64> {
    let a = fx.endpoint("shop::orders");
    let b = fx.endpoint("shop::cart");
    let mut ids = Vec::new();
    for i in 0..12i64 {
        let route = format!("/orders/{}/{{id}}", i % 3);
        let version = format!("1.{}.0", i % 2);
        let ip = format!("10.0.0.{}", i % 5);
        let user = format!("user-{}", i % 4);
        let instance = format!("web-{}", i % 2);
        let texts = Texts {
            route: &route,
            method: if i % 3 == 0 { "POST" } else { "GET" },
            version: &version,
            ip: (i % 6 != 5).then_some(ip.as_str()),
            user: (i % 4 != 3).then_some(user.as_str()),
            instance: &instance,
        };
        let endpoint = if i % 2 == 0 { a } else { b };
        let status = match i % 4 {
            0 => Some(500),
            1 => Some(404),
            2 => None,
            _ => Some(200),
        };
        ids.push(request_rows::insert(
            &fx.db,
            endpoint,
            &texts,
            1_000 + i,
            100 * i,
            status,
            status.is_none(),
        ));
    }
    let mut outlier = Req::at(2_000, 90_000);
    outlier.route = "/slow".into();
    outlier.ip = Some("::1".into());
    outlier.user = Some("ünïcode user".into());
    let slow = fx.record(a, &outlier);
    fx.outlier(
        a,
        slow,
        &OutlierSpec {
            url: "/slow?x=1".into(),
            headers: vec![],
            typical_us: 1_000,
            threshold_us: 5_000,
            cpu_percent: None,
            memory_bytes: None,
            stack: vec![],
        },
    );
    ids.push(slow);
    fx.exception(
        b,
        "/failing",
        &ExceptionSpec {
            type_name: "shop::Error".into(),
            message: "boom".into(),
            chain: vec![],
            frames: vec![FrameSpec::lib("shop", "fail", "src/lib.rs", 3)],
            times: vec![3_000],
            kind: 1,
        },
    );
    ids.push(fx.db.query_i64("SELECT max(id) FROM request", &[]).unwrap());
    ids
}

/// Every request as the request log's detail reads it (texts, errors, outlier).
fn details(fx: &Fixture, ids: &[i64]) -> Vec<String> {
    let mut reader = fx.reader();
    ids.iter()
        .map(|&id| format!("{:?}", reader.request_detail(id).expect("detail")))
        .collect()
}

fn texts_are_stored_once(engine: Engine) {
    let fx = Fixture::on(engine);
    seed(&fx);
    // Three routes (POST only on route 0), the outlier's and the exception's route; the
    // outlier's version is one of the two.
    assert_eq!(fx.db.count("request_route"), 3 + 2);
    assert_eq!(fx.db.count("request_version"), 2);
    // Five, the outlier's `::1` and the exception's `127.0.0.1`.
    assert_eq!(fx.db.count("request_address"), 5 + 2);
    assert_eq!(fx.db.count("request_instance"), 2 + 1);
    assert_eq!(
        fx.db.query_i64(
            "SELECT count(*) FROM request_text WHERE ip IS NULL AND group_by IS NULL",
            &[]
        ),
        Some(1),
        "i = 11 has neither"
    );
}

fn a_version_8_database_upgrades_without_loss(engine: Engine) {
    let fx = Fixture::on(engine);
    let ids = seed(&fx);
    let before = details(&fx, &ids);
    assert!(before.iter().all(|d| d.starts_with("Some(")), "{before:?}");
    let mut reader = fx.reader();
    let recent_before = format!(
        "{:?}",
        reader.recent_requests(ids[0], 0, 100, Some("web-0"))
    );
    drop(reader);

    request_rows::back_to_version_8(&fx.db);
    assert_eq!(
        fx.db.query_i64(
            "SELECT count(*) FROM request WHERE route LIKE '/orders/%'",
            &[]
        ),
        Some(12),
        "version 8's text columns are back"
    );

    let t = std::time::Instant::now();
    let after = details(&fx, &ids); // opening the reader upgrades
    println!("upgrade and reads: {:?}", t.elapsed());
    assert_eq!(after, before);
    let mut reader = fx.reader();
    assert_eq!(
        format!(
            "{:?}",
            reader.recent_requests(ids[0], 0, 100, Some("web-0"))
        ),
        recent_before
    );
    for child in ["outlier", "exception_occurrence"] {
        assert_eq!(
            fx.db.query_i64(
                &format!("SELECT count(*) FROM {child} c JOIN request r ON r.id = c.request_id"),
                &[]
            ),
            Some(1),
            "{child} still refers to its request"
        );
    }
    if engine == Engine::Sqlite {
        let broken = fx
            .conn()
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .count();
        assert_eq!(broken, 0, "no reference lost");
    }
    // New requests after the upgrade reuse the dictionaries.
    let routes = fx.db.count("request_route");
    let mut again = Req::at(5_000, 10);
    again.route = "/slow".into();
    let id = fx.record(fx.endpoint("shop::orders"), &again);
    assert!(id > *ids.iter().max().unwrap());
    assert_eq!(
        fx.db.count("request_route"),
        routes,
        "`GET /slow` was stored"
    );
}

both_engines!(
    texts_are_stored_once,
    a_version_8_database_upgrades_without_loss
);
