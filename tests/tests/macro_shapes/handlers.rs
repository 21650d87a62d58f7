//! axum handlers with extractors, `#[debug_handler]`, and a function made by `macro_rules!`.

use super::*;

/// This module's file, to check embedded sources and lines against.
const THIS_FILE: &str = include_str!("handlers.rs");

/// The 1-based line of the only line of this file that ends with `marker`.
fn line_of(marker: &str) -> u32 {
    line_in(THIS_FILE, marker)
}

// ---------------------------------------------------------------------------------------
// axum handlers with extractors.

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Input {
    value: String,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Output {
    doubled: u32,
}

#[monitored(name = "shapes/hello")]
async fn hello(State(state): State<AppState>, Path(name): Path<String>) -> impl IntoResponse {
    format!("{}, {name}", state.greeting)
}

#[monitored(name = "shapes/parse")]
async fn parse(
    State(_state): State<AppState>,
    Json(input): Json<Input>,
) -> Result<Json<Output>, ShapeError> {
    let n: u32 = input.value.parse()?; // hop:axum-parse
    Ok(Json(Output { doubled: n * 2 }))
}

#[monitored(name = "shapes/created")]
async fn created(Path(id): Path<u32>, Json(input): Json<Input>) -> (StatusCode, Json<Output>) {
    let n = input.value.len() as u32 + id;
    (StatusCode::CREATED, Json(Output { doubled: n * 2 }))
}

fn router() -> axum::Router {
    axum::Router::new()
        .route("/hello/{name}", get(hello))
        .route("/parse", post(parse))
        .route("/created/{id}", post(created))
        .route("/debug/outer", get(debug_outer))
        .route("/debug/inner/{id}", get(debug_inner))
        .with_state(AppState { greeting: "hi" })
}

async fn send(request: Request<Body>) -> (StatusCode, String) {
    let response = router().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn json_post(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn axum_handlers_called_directly() {
    setup();
    let state = AppState { greeting: "hello" };
    let response = hello(State(state.clone()), Path("bob".to_owned()))
        .await
        .into_response();
    assert_eq!(response.status(), StatusCode::OK);

    let ok = parse(
        State(state.clone()),
        Json(Input {
            value: "21".to_owned(),
        }),
    )
    .await;
    assert_eq!(ok.unwrap().0, Output { doubled: 42 });
    let err = parse(
        State(state),
        Json(Input {
            value: "x".to_owned(),
        }),
    )
    .await;
    assert!(matches!(err, Err(ShapeError::Parse(_))));

    let (status, Json(out)) = created(
        Path(1),
        Json(Input {
            value: "abc".to_owned(),
        }),
    )
    .await;
    assert_eq!((status, out), (StatusCode::CREATED, Output { doubled: 8 }));
}

#[tokio::test]
async fn axum_handlers_through_a_router() {
    setup();
    assert_eq!(
        send(Request::get("/hello/ann").body(Body::empty()).unwrap()).await,
        (StatusCode::OK, "hi, ann".to_owned())
    );
    assert_eq!(
        send(json_post("/parse", r#"{"value":"5"}"#)).await,
        (StatusCode::OK, r#"{"doubled":10}"#.to_owned())
    );
    assert_eq!(
        send(json_post("/parse", r#"{"value":"five"}"#)).await,
        (
            StatusCode::BAD_REQUEST,
            "not a number: invalid digit found in string".to_owned()
        )
    );
    assert_eq!(
        send(json_post("/created/2", r#"{"value":"ab"}"#)).await,
        (StatusCode::CREATED, r#"{"doubled":8}"#.to_owned())
    );
    let hop = ("parse".to_owned(), line_of("// hop:axum-parse"));
    let parse_rows = stored("shapes/parse");
    // Two direct calls (axum_handlers_called_directly) and two routed ones, in any order.
    let failed: Vec<_> = parse_rows.iter().filter(|r| !r.1.is_empty()).collect();
    assert!(!failed.is_empty(), "{parse_rows:?}");
    for (_, frames) in &failed {
        assert_eq!(frames, &vec![hop.clone()]);
    }
}

// `#[axum::debug_handler]` copies the function: each copy registers, the registry lists it
// once. Both orders of the two attributes are accepted.

#[axum::debug_handler]
#[monitored(name = "shapes/debug_outer")]
async fn debug_outer(State(state): State<AppState>) -> String {
    state.greeting.to_uppercase()
}

#[monitored(name = "shapes/debug_inner")]
#[axum::debug_handler]
async fn debug_inner(Path(id): Path<u32>) -> Result<String, ShapeError> {
    if id == 0 {
        Err(ShapeError::Zero) // hop:debug-zero
    } else {
        Ok(format!("id {id}"))
    }
}

#[tokio::test]
async fn debug_handler_registers_once() {
    setup();
    assert_eq!(
        send(Request::get("/debug/outer").body(Body::empty()).unwrap()).await,
        (StatusCode::OK, "HI".to_owned())
    );
    assert_eq!(
        send(Request::get("/debug/inner/3").body(Body::empty()).unwrap()).await,
        (StatusCode::OK, "id 3".to_owned())
    );
    assert_eq!(
        send(Request::get("/debug/inner/0").body(Body::empty()).unwrap()).await,
        (StatusCode::BAD_REQUEST, "zero".to_owned())
    );
    for name in ["debug_outer", "debug_inner"] {
        let f = info(name);
        assert!(f.verbatim, "{name}: verbatim source");
        let raw = raw_registrations(name);
        eprintln!("{name}: {raw} raw registration(s), listed once");
        assert!(raw >= 1);
    }
    assert_eq!(stored("shapes/debug_outer"), vec![(None, vec![])]);
    assert_eq!(
        stored("shapes/debug_inner"),
        vec![
            (None, vec![]),
            (
                None,
                vec![("debug_inner".to_owned(), line_of("// hop:debug-zero"))]
            )
        ]
    );
}

// ---------------------------------------------------------------------------------------
// A function generated by `macro_rules!`: no verbatim source, no compile error.

macro_rules! make_checker {
    ($fn_name:ident, $limit:expr) => {
        #[capture]
        fn $fn_name(x: u32) -> Result<u32, String> {
            if x > $limit {
                return Err(format!("{x} is over the limit"));
            }
            Ok(x)
        }
    };
}

make_checker!(checker_from_macro, 10);

#[test]
fn macro_rules_fn_falls_back_to_tokens() {
    setup();
    assert_eq!(checker_from_macro(3), Ok(3));
    assert_eq!(
        checker_from_macro(11),
        Err("11 is over the limit".to_owned())
    );
    let f = info("checker_from_macro");
    assert!(!f.verbatim, "rebuilt from tokens");
    assert!(
        f.source.contains("fn checker_from_macro"),
        "token text names the function: {}",
        f.source
    );
    assert!(f.source.contains("over the limit"), "{}", f.source);
}
