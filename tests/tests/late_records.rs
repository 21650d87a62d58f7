//! The writer's half of spawned tasks, on both engines: a request that carries a link has
//! its stored row noted in it, and a late record ([`Event::Late`]) written in a later batch
//! is stored on the request's endpoint with that row as its request; the late record of a
//! request that has no row (level 0) is stored on the endpoint without one; a late record
//! in the same batch as its request is linked too.

use std::borrow::Cow;
use std::sync::Arc;

use fmd_runtime::model::event::{
    ErrorKind, ErrorRecord, Event, LateError, RequestEvent, RequestLink,
};
use fmd_runtime::store::{WriteOptions, open_store};
use fmd_tests::both_engines;
use fmd_tests::dashboard_fixture::now_ms;
use fmd_tests::engines::{Db, Engine, V, fresh_database};

fn request(route: &str, level: u8, link: &Arc<RequestLink>) -> RequestEvent {
    RequestEvent {
        endpoint: Cow::Borrowed("app::checkout"),
        route: Arc::from(route),
        method: Cow::Borrowed("POST"),
        time_ms: now_ms() - 1_000,
        duration_us: 2_000,
        status: Some(200),
        cancelled: false,
        level,
        ip: None,
        group_by: None,
        errors: Vec::new(),
        outlier: None,
        profile: None,
        link: Some(link.clone()),
    }
}

fn late(message: &str, link: &Arc<RequestLink>) -> Event {
    Event::Late(Box::new(LateError {
        endpoint: Cow::Borrowed("app::checkout"),
        link: link.clone(),
        record: ErrorRecord {
            kind: ErrorKind::Captured,
            type_name: Cow::Borrowed("app::ReceiptError"),
            message: message.to_owned(),
            sources: Vec::new(),
            frames: Vec::new(),
            omitted_frames: 0,
            time_ms: now_ms(),
            native: None,
        },
    }))
}

fn late_records_are_linked_to_their_stored_request(engine: Engine) {
    let (database, _dir) = fresh_database(engine);
    let options = WriteOptions {
        version: "1.0.0".into(),
        instance: "web-1".into(),
        store_source: false,
        normalize_messages: false,
        git_commit: None,
    };
    let (stored, unstored) = (Arc::<RequestLink>::default(), Arc::<RequestLink>::default());
    let mut store = open_store(&database).expect("open the store");
    let first = [
        Event::Request(Box::new(request("/checkout", 1, &stored))),
        Event::Request(Box::new(request("/checkout-quiet", 0, &unstored))),
    ];
    store.write_batch(&first, &options).expect("write");
    let row = stored.row().expect("the writer noted the request's row");
    assert_eq!(unstored.row(), None, "level 0: no row");
    let second = [
        late("the receipt was not sent", &stored),
        late("a quiet request's task failed", &unstored),
    ];
    assert_eq!(store.write_batch(&second, &options).expect("write"), 2);
    let same = Arc::<RequestLink>::default();
    let third = [
        Event::Request(Box::new(request("/checkout-fast", 1, &same))),
        late("a task failed in the same batch", &same),
    ];
    store.write_batch(&third, &options).expect("write");
    let db = Db::open(&database);
    let request_of = |message: &str| {
        db.query_i64(
            "SELECT o.request_id FROM exception_occurrence o
             JOIN exception_message m ON m.id = o.message_id WHERE m.message = ?1",
            &[V::Text(message.to_owned())],
        )
    };
    assert_eq!(request_of("the receipt was not sent"), Some(row));
    assert_eq!(request_of("a quiet request's task failed"), None);
    assert_eq!(request_of("a task failed in the same batch"), same.row());
    assert!(same.row().is_some());
    let on_endpoint = db.query_i64(
        "SELECT count(*) FROM exception_occurrence o
         JOIN exception_group g ON g.id = o.group_id
         JOIN endpoint e ON e.id = g.endpoint_id WHERE e.name = 'app::checkout'",
        &[],
    );
    assert_eq!(on_endpoint, Some(3), "all on the request's endpoint");
    let route = db.query_i64(
        "SELECT count(*) FROM request_text WHERE id = ?1 AND route = '/checkout'",
        &[V::Int(row)],
    );
    assert_eq!(route, Some(1));
}

both_engines!(late_records_are_linked_to_their_stored_request);
