//! Error sites (`?` on Option and Result, `return Err`, tail `Err`), embedded sources, tails
//! typed by the signature, an application's own `Err` variant, `#[fmd::monitored]`.

use super::*;

/// This module's file, to check embedded sources and lines against.
const THIS_FILE: &str = include_str!("errors.rs");

/// The 1-based line of the only line of this file that ends with `marker`.
fn line_of(marker: &str) -> u32 {
    line_in(THIS_FILE, marker)
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
    assert!(
        f.file.ends_with("macro_shapes/errors.rs"),
        "{name}: {}",
        f.file
    );
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
