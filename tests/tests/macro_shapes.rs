//! Every shape of function that `#[monitored]` and `#[capture]` must accept compiles and
//! behaves as written: the same results as without the attribute, one registration per
//! function, its verbatim source with the right lines, and errors recorded at the exact
//! `?` / `Err(..)` line. Handlers are called directly or through an in-process `Router`
//! (`oneshot`); no server is started.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fmd::prelude::*;
use fmd_runtime::{FnInfo, FnKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------
// Set-up: a monitor writing to a temporary database, started before any annotated call.

static DB: OnceLock<tempfile::TempDir> = OnceLock::new();

fn setup() -> std::path::PathBuf {
    let dir = DB.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("fmd-macro-shapes")
            .tempdir()
            .expect("temp dir");
        fmd::init(fmd::Config {
            database: dir.path().join("fmd.db").into(),
            password: Some("macro-shapes".to_owned()),
            ..Default::default()
        })
        .expect("fmd starts on a temp database");
        dir
    });
    dir.path().join("fmd.db")
}

/// One stored request: its status and its errors' frames as (function, line).
type Stored = (Option<u16>, Vec<(String, u32)>);

/// The rows stored for `endpoint`, after flushing the queue: per request its status and
/// the (function, line) frames of its errors, innermost first.
fn stored(endpoint: &str) -> Vec<Stored> {
    let path = setup();
    assert!(fmd::shutdown(), "queued events are stored");
    let conn = rusqlite::Connection::open(path).expect("open the monitor's database");
    let mut requests = conn
        .prepare(
            "SELECT r.id, r.status FROM request_text r JOIN endpoint e ON e.id = r.endpoint_id
             WHERE e.name = ?1 ORDER BY r.id",
        )
        .unwrap();
    let mut frames = conn
        .prepare(
            "SELECT fl.name, ef.line FROM exception_occurrence o
             JOIN exception_stackline sl ON sl.snapshot_id = o.snapshot_id
             JOIN exception_frame ef ON ef.id = sl.frame_id
             JOIN function_location fl ON fl.id = ef.location_id
             WHERE o.request_id = ?1 ORDER BY o.id, sl.position",
        )
        .unwrap();
    let ids: Vec<(i64, Option<u16>)> = requests
        .query_map([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids.into_iter()
        .map(|(id, status)| {
            let f = frames
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (status, f)
        })
        .collect()
}

/// This file, to check embedded sources and lines against.
const THIS_FILE: &str = include_str!("macro_shapes.rs");

/// The 1-based line of the only line of this file that ends with `marker`.
fn line_of(marker: &str) -> u32 {
    let hits: Vec<usize> = THIS_FILE
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "marker {marker:?} must be on exactly one line"
    );
    hits[0] as u32
}

/// The registered (deduplicated) functions of this test crate called `name`.
fn registered(name: &str) -> Vec<&'static FnInfo> {
    fmd_runtime::registry::functions()
        .filter(|f| f.name == name && f.module.starts_with("macro_shapes"))
        .collect()
}

/// Every raw registration (duplicates included) called `name`.
fn raw_registrations(name: &str) -> usize {
    fmd::__private_0_1::inventory::iter::<fmd::__private_0_1::Registration>
        .into_iter()
        .filter(|r| r.0.name == name && r.0.module.starts_with("macro_shapes"))
        .count()
}

fn info(name: &str) -> &'static FnInfo {
    let found = registered(name);
    assert_eq!(found.len(), 1, "{name} is registered once: {found:?}");
    found[0]
}

// ---------------------------------------------------------------------------------------
// An error type for the shapes below.

#[derive(Debug, PartialEq)]
enum ShapeError {
    Negative,
    Zero,
    Odd(i32),
    TooBig(i32),
    Parse(std::num::ParseIntError),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Negative => write!(f, "negative"),
            ShapeError::Zero => write!(f, "zero"),
            ShapeError::Odd(n) => write!(f, "odd: {n}"),
            ShapeError::TooBig(n) => write!(f, "too big: {n}"),
            ShapeError::Parse(e) => write!(f, "not a number: {e}"),
        }
    }
}

impl std::error::Error for ShapeError {}

impl From<std::num::ParseIntError> for ShapeError {
    fn from(e: std::num::ParseIntError) -> Self {
        ShapeError::Parse(e)
    }
}

impl IntoResponse for ShapeError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

// ---------------------------------------------------------------------------------------
// Sync and async free functions.

#[capture]
fn double(x: u32) -> u32 {
    x * 2
}

#[capture]
async fn triple(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x * 3
}

#[monitored(name = "shapes/sync_handler")]
fn sync_handler(x: u32) -> u32 {
    double(x) + 1
}

#[monitored(level = 2, name = "shapes/async_handler")]
async fn async_handler(x: u32) -> u32 {
    triple(x).await + double(x)
}

/// A borrowed argument and a borrowed result, with elided lifetimes.
#[capture]
async fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

#[test]
fn sync_fns_run_as_written() {
    setup();
    assert_eq!(double(4), 8);
    assert_eq!(sync_handler(4), 9);
    assert_eq!(stored("shapes/sync_handler"), vec![(None, vec![])]);
    assert_eq!(info("sync_handler").kind, FnKind::Monitored { level: None });
    assert_eq!(info("double").kind, FnKind::Capture);
}

#[tokio::test]
async fn async_fns_run_as_written() {
    setup();
    assert_eq!(triple(2).await, 6);
    assert_eq!(async_handler(2).await, 10);
    assert_eq!(first_word("hello world").await, "hello");
    assert_eq!(stored("shapes/async_handler"), vec![(None, vec![])]);
    assert_eq!(
        info("async_handler").kind,
        FnKind::Monitored { level: Some(2) }
    );
    assert_eq!(info("async_handler").endpoint, Some("shapes/async_handler"));
}

// ---------------------------------------------------------------------------------------
// Methods: `&self`, `&mut self`, `self`, associated functions, trait methods.

#[derive(Debug)]
struct Counter {
    count: u32,
}

impl Counter {
    #[capture]
    fn starting_at(count: u32) -> Self {
        Self { count }
    }

    #[capture]
    fn get(&self) -> u32 {
        self.count
    }

    #[capture]
    fn bump(&mut self) -> u32 {
        self.count += 1;
        self.count
    }

    #[capture]
    fn into_count(self) -> u32 {
        self.count
    }

    #[capture]
    async fn peek(&self) -> u32 {
        tokio::task::yield_now().await;
        self.count
    }

    #[monitored(name = "shapes/counter_add")]
    async fn add(&mut self, by: u32) -> Result<u32, ShapeError> {
        self.count = self
            .count
            .checked_add(by)
            .ok_or(ShapeError::TooBig(by as i32))?; // hop:checked-add
        Ok(self.count)
    }

    #[monitored(name = "shapes/counter_finish")]
    fn finish(self) -> String {
        format!("finished at {}", self.count)
    }
}

trait Repository {
    fn name(&self) -> String;
    async fn load(&self, id: u32) -> Option<u32>;
}

struct MemoryRepository;

impl Repository for MemoryRepository {
    #[capture]
    fn name(&self) -> String {
        "memory".to_owned()
    }

    #[capture]
    async fn load(&self, id: u32) -> Option<u32> {
        (id < 10).then_some(id * 100)
    }
}

impl fmt::Display for Counter {
    #[capture]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counter({})", self.count)
    }
}

#[tokio::test]
async fn methods_run_as_written() {
    setup();
    let mut c = Counter::starting_at(1);
    assert_eq!(c.get(), 1);
    assert_eq!(c.bump(), 2);
    assert_eq!(c.peek().await, 2);
    assert_eq!(c.add(3).await, Ok(5));
    assert_eq!(c.add(u32::MAX).await, Err(ShapeError::TooBig(-1)));
    assert_eq!(c.to_string(), "Counter(5)");
    assert_eq!(Counter::starting_at(7).into_count(), 7);
    assert_eq!(c.finish(), "finished at 5");
    assert_eq!(MemoryRepository.name(), "memory");
    assert_eq!(MemoryRepository.load(3).await, Some(300));
    assert_eq!(MemoryRepository.load(30).await, None);

    let add = stored("shapes/counter_add");
    assert_eq!(add.len(), 2);
    assert_eq!(add[0], (None, vec![]));
    assert_eq!(add[1].0, None, "called outside a layer: no status is known");
    assert!(
        add[1]
            .1
            .contains(&("Counter::add".to_owned(), line_of("// hop:checked-add"))),
        "the `?` is on the trace: {:?}",
        add[1].1
    );
    assert_eq!(stored("shapes/counter_finish"), vec![(None, vec![])]);
    for name in [
        "starting_at",
        "get",
        "bump",
        "into_count",
        "peek",
        "add",
        "finish",
        "name",
        "load",
        "fmt",
    ] {
        info(name);
    }
}

// ---------------------------------------------------------------------------------------
// Generic functions: one registration however many instantiations.

#[capture]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[monitored(name = "shapes/generic_total")]
async fn total<T>(items: Vec<T>) -> u64
where
    T: Into<u64> + Send,
{
    items.into_iter().map(Into::into).sum()
}

#[capture]
fn sum_all(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[tokio::test]
async fn generic_fns_register_once() {
    setup();
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(largest(&[1.5, -2.0]), Some(1.5));
    assert_eq!(largest::<char>(&[]), None);
    assert_eq!(total(vec![1u8, 2, 3]).await, 6);
    assert_eq!(total(vec![10u32, 20]).await, 30);
    assert_eq!(sum_all(vec![1, 2]), 3);
    assert_eq!(sum_all([4, 5].into_iter().map(|x| x * 2)), 18);
    for name in ["largest", "total", "sum_all"] {
        info(name);
        assert_eq!(raw_registrations(name), 1, "{name}: one registration");
    }
    assert_eq!(stored("shapes/generic_total").len(), 2);
}

// ---------------------------------------------------------------------------------------
// `impl Trait` returns.

#[capture]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitored(name = "shapes/impl_display")]
fn greeting(name: &str) -> impl fmt::Display + '_ {
    format!("hello {name}")
}

#[capture]
async fn later(x: u32) -> impl fmt::Debug {
    tokio::task::yield_now().await;
    vec![x; 2]
}

#[monitored(name = "shapes/impl_result")]
async fn maybe_evens(limit: i32) -> Result<impl Iterator<Item = u32>, ShapeError> {
    if limit < 0 {
        return Err(ShapeError::Negative); // hop:impl-negative
    }
    Ok(evens(limit as u32))
}

#[tokio::test]
async fn impl_trait_returns() {
    setup();
    assert_eq!(evens(7).collect::<Vec<_>>(), vec![0, 2, 4, 6]);
    assert_eq!(greeting("ann").to_string(), "hello ann");
    assert_eq!(format!("{:?}", later(4).await), "[4, 4]");
    assert_eq!(
        maybe_evens(3).await.unwrap().collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert!(maybe_evens(-1).await.is_err());
    assert_eq!(stored("shapes/impl_display"), vec![(None, vec![])]);
    let rows = stored("shapes/impl_result");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], (None, vec![]));
    assert_eq!(
        rows[1],
        (
            None,
            vec![("maybe_evens".to_owned(), line_of("// hop:impl-negative"))]
        )
    );
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

// ---------------------------------------------------------------------------------------
// `?` on Option (absence, not an error) and on Result; `return Err(..)` and tail `Err(..)`
// inside `if` and `match`.

#[monitored(name = "shapes/option")]
fn first_doubled(items: &[u32]) -> Option<u32> {
    let first = items.first()?;
    Some(first * 2)
}

#[monitored(name = "shapes/result")]
fn parse_number(text: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = text.trim().parse()?; // hop:parse-number
    Ok(n)
}

#[capture]
fn classify(n: i32) -> Result<&'static str, ShapeError> {
    if n < 0 {
        return Err(ShapeError::Negative); // hop:negative
    }
    match n {
        0 => Err(ShapeError::Zero), // hop:zero
        1 => Ok("one"),
        n if n > 100 => {
            return Err(ShapeError::TooBig(n)); // hop:too-big
        }
        n => {
            if n % 2 == 0 {
                Ok("even")
            } else {
                Err(ShapeError::Odd(n)) // hop:odd
            }
        }
    }
}

#[monitored(name = "shapes/classify")]
async fn classify_handler(n: i32) -> Result<String, ShapeError> {
    let class = classify(n)?; // hop:classify-call
    Ok(class.to_uppercase())
}

#[test]
fn question_mark_on_option_is_not_an_error() {
    setup();
    assert_eq!(first_doubled(&[4, 5]), Some(8));
    assert_eq!(first_doubled(&[]), None);
    assert_eq!(
        stored("shapes/option"),
        vec![(None, vec![]), (None, vec![])]
    );
}

#[test]
fn question_mark_on_result_is_recorded() {
    setup();
    assert_eq!(parse_number(" 12 "), Ok(12));
    assert!(parse_number("twelve").is_err());
    assert_eq!(
        stored("shapes/result"),
        vec![
            (None, vec![]),
            (
                None,
                vec![("parse_number".to_owned(), line_of("// hop:parse-number"))]
            )
        ]
    );
}

#[tokio::test]
async fn return_err_and_tail_err_in_if_and_match() {
    setup();
    let cases: [(i32, Result<&str, ShapeError>, Option<&str>); 6] = [
        (-5, Err(ShapeError::Negative), Some("// hop:negative")),
        (0, Err(ShapeError::Zero), Some("// hop:zero")),
        (1, Ok("ONE"), None),
        (4, Ok("EVEN"), None),
        (7, Err(ShapeError::Odd(7)), Some("// hop:odd")),
        (101, Err(ShapeError::TooBig(101)), Some("// hop:too-big")),
    ];
    for (n, expected, _) in &cases {
        let got = classify_handler(*n).await;
        assert_eq!(got.as_deref(), expected.as_ref().copied());
    }
    let rows = stored("shapes/classify");
    assert_eq!(rows.len(), cases.len());
    let call = (
        "classify_handler".to_owned(),
        line_of("// hop:classify-call"),
    );
    for ((n, _, marker), (status, frames)) in cases.iter().zip(&rows) {
        match marker {
            None => assert_eq!((status, frames), (&None, &vec![]), "n = {n}"),
            Some(marker) => {
                assert_eq!(*status, None, "n = {n}");
                assert_eq!(
                    frames,
                    &vec![("classify".to_owned(), line_of(marker)), call.clone()],
                    "n = {n}: innermost first"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Embedded sources: verbatim text, comments kept, lines as in this file.

/// Adds one, with comments the embedded source must keep.
#[capture]
fn documented(x: u32) -> u32 {
    // shapes: a line comment kept verbatim
    x /* an inline block comment */ + 1 // the tail
}

#[monitored(name = "shapes/documented_async")]
// a comment between the attribute and the function
async fn documented_async(x: u32, // one argument per line
) -> u32 {
    /* a block comment
    over two lines */
    x
}

fn check_source(name: &str, first: &str, must_contain: &[&str]) {
    let f = info(name);
    assert!(f.verbatim, "{name}: verbatim");
    assert!(f.file.ends_with("macro_shapes.rs"), "{name}: {}", f.file);
    let lines: Vec<&str> = THIS_FILE.lines().collect();
    let (start, end) = (f.start_line as usize, f.end_line as usize);
    assert!(
        start >= 1 && start <= end && end <= lines.len(),
        "{name}: {start}..{end}"
    );
    assert_eq!(
        f.source,
        lines[start - 1..end].join("\n"),
        "{name}: the source is exactly lines {start}..={end} of this file"
    );
    assert_eq!(lines[start - 1], first, "{name}: first line");
    assert_eq!(
        lines[end - 1],
        "}",
        "{name}: last line is the closing brace"
    );
    for text in must_contain {
        assert!(f.source.contains(text), "{name}: keeps {text:?}");
    }
}

#[test]
fn sources_are_verbatim_with_their_lines() {
    setup();
    assert_eq!(documented(1), 2);
    check_source(
        "documented",
        "/// Adds one, with comments the embedded source must keep.",
        &[
            "// shapes: a line comment kept verbatim",
            "/* an inline block comment */",
            "+ 1 // the tail",
            "#[capture]",
        ],
    );
    check_source(
        "documented_async",
        "#[monitored(name = \"shapes/documented_async\")]",
        &[
            "// a comment between the attribute and the function",
            "x: u32, // one argument per line",
            "/* a block comment\n    over two lines */",
        ],
    );
}

#[tokio::test]
async fn documented_async_runs() {
    setup();
    assert_eq!(documented_async(3).await, 3);
}

// ---------------------------------------------------------------------------------------
// Tails whose type comes only from the signature (`.sum()`, `.collect()`, `.into()`, `?`
// converting into the declared error type).

#[capture]
async fn sum_async(items: &[u32]) -> u64 {
    items.iter().map(|&x| u64::from(x)).sum()
}

#[monitored(name = "shapes/collect_sync")]
fn collect_sync(text: &str) -> Vec<char> {
    text.chars().collect()
}

#[monitored(name = "shapes/into_async")]
async fn into_async(text: &str) -> Result<u64, ShapeError> {
    let n = text.parse::<u32>()?;
    Ok(n.pow(2).into())
}

#[tokio::test]
async fn return_type_drives_inference() {
    setup();
    assert_eq!(sum_async(&[1, 2, 3]).await, 6);
    assert_eq!(collect_sync("ab"), vec!['a', 'b']);
    assert_eq!(into_async("3").await, Ok(9));
    assert!(matches!(into_async("x").await, Err(ShapeError::Parse(_))));
}

// ---------------------------------------------------------------------------------------
// An application enum with its own `Err` variant: only `Result`'s `Err` is a hop site, so
// this compiles and the value comes back unchanged (it failed with a private trait bound).

#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(u32),
    Err(&'static str),
}

#[capture]
fn outcome_of(n: u32) -> Outcome {
    if n == 0 {
        return Outcome::Err("zero");
    }
    Outcome::Ok(n)
}

#[capture]
fn qualified_err(n: u32) -> Result<u32, String> {
    if n == 0 {
        return std::result::Result::Err("zero".to_owned());
    }
    Result::Ok(n)
}

#[test]
fn an_applications_own_err_variant_is_not_a_result() {
    assert_eq!(outcome_of(0), Outcome::Err("zero"));
    assert_eq!(outcome_of(2), Outcome::Ok(2));
    assert_eq!(qualified_err(0), Err("zero".to_owned()));
    assert_eq!(qualified_err(3), Ok(3));
}

// ---------------------------------------------------------------------------------------
// `#[fmd::monitored]` without the prelude: the form people write first.

#[fmd::monitored]
fn qualified_attribute() -> u32 {
    7
}

#[test]
fn the_attribute_works_by_its_full_path() {
    assert_eq!(qualified_attribute(), 7);
    assert_eq!(info("qualified_attribute").name, "qualified_attribute");
}
