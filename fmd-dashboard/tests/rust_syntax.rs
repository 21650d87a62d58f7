//! The Rust grammar the dashboard compiles in (`assets/rust.packdump`): taken out of
//! syntect's default set of grammars, which only this test builds. It checks that the
//! committed file is what syntect's defaults give today, and that it tokenizes Rust
//! exactly as the whole default set does (so the pages highlight the same).
//!
//! Regenerate the file after a syntect upgrade with
//! `FMD_WRITE_RUST_SYNTAX=1 cargo test -p fmd-dashboard --test rust_syntax`.

use std::path::{Path, PathBuf};
use syntect::parsing::{ParseState, SyntaxDefinition, SyntaxSet, SyntaxSetBuilder};
use syntect::util::LinesWithEndings;

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rust.packdump")
}

/// Points every direct reference of a context (`Include`, `Push` …, by syntax index in
/// the default set) at syntax 0, the only one of the new set; any reference to another
/// syntax than Rust's (`rust`) is a failure, since it would not be there.
fn own_index(value: &mut serde_json::Value, rust: u64) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(id)) = map.get_mut("Direct") {
                let syntax = id.get("syntax_index").and_then(serde_json::Value::as_u64);
                assert_eq!(syntax, Some(rust), "the Rust grammar refers to another one");
                id.insert("syntax_index".into(), 0.into());
            }
            map.values_mut().for_each(|v| own_index(v, rust));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| own_index(v, rust)),
        _ => {}
    }
}

/// syntect's Rust grammar alone, as a dump.
fn rust_only() -> Vec<u8> {
    let defaults = SyntaxSet::load_defaults_newlines();
    let rust = defaults
        .syntaxes()
        .iter()
        .position(|s| s.name == "Rust")
        .expect("syntect's defaults have Rust") as u64;
    let definitions = defaults.into_builder();
    let definition = definitions
        .syntaxes()
        .iter()
        .find(|d| d.name == "Rust")
        .expect("the Rust definition");
    // The definition's references still count in the default set: renumber them.
    let mut value = serde_json::to_value(definition).expect("a definition serializes");
    own_index(&mut value, rust);
    let definition: SyntaxDefinition = serde_json::from_value(value).expect("and back");
    let mut builder = SyntaxSetBuilder::new();
    builder.add(definition);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rust.packdump");
    syntect::dumps::dump_to_uncompressed_file(&builder.build(), &path).expect("dump");
    std::fs::read(&path).expect("read the dump")
}

#[test]
fn the_committed_rust_grammar_is_syntect_s() {
    let fresh = rust_only();
    if std::env::var_os("FMD_WRITE_RUST_SYNTAX").is_some() {
        std::fs::write(committed_path(), &fresh).expect("write the dump");
    }
    let committed = std::fs::read(committed_path()).expect("read the committed dump");
    println!(
        "FIGURES rust grammar dump: {} bytes (syntect's default set: {} bytes)",
        committed.len(),
        syntect::dumps::dump_binary(&SyntaxSet::load_defaults_newlines()).len()
    );
    assert!(
        committed == fresh,
        "assets/rust.packdump is not what syntect's defaults give: regenerate it \
         (FMD_WRITE_RUST_SYNTAX=1 cargo test -p fmd-dashboard --test rust_syntax)"
    );
    assert_eq!(
        committed,
        fmd_dashboard::highlight::RUST_SYNTAX,
        "the one compiled in"
    );
}

/// Every line's scope operations under `set`, as text.
fn tokens(set: &SyntaxSet, code: &str) -> Vec<String> {
    let syntax = set.find_syntax_by_extension("rs").expect("Rust");
    let mut state = ParseState::new(syntax);
    LinesWithEndings::from(code)
        .map(|line| format!("{:?}", state.parse_line(line, set).expect("parses")))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("read a source folder")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_rust_grammar_alone_tokenizes_as_all_of_syntect_s() {
    let alone: SyntaxSet =
        syntect::dumps::from_uncompressed_data(fmd_dashboard::highlight::RUST_SYNTAX)
            .expect("the compiled-in dump loads");
    assert_eq!(alone.syntaxes().len(), 1);
    let all = SyntaxSet::load_defaults_newlines();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in [
        "fmd-dashboard/src",
        "fmd-macros/src",
        "fmd-runtime/src",
        "examples",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut lines = 0;
    for file in &files {
        let code = std::fs::read_to_string(file).expect("read a source file");
        let (mine, theirs) = (tokens(&alone, &code), tokens(&all, &code));
        assert!(mine == theirs, "{} tokenizes differently", file.display());
        lines += mine.len();
    }
    println!(
        "FIGURES rust grammar: {} files, {lines} lines tokenized alike",
        files.len()
    );
    assert!(
        files.len() > 20 && lines > 5_000,
        "{} files, {lines} lines",
        files.len()
    );
}
