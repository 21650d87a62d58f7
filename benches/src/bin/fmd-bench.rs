//! The benchmark runner; `scripts/bench` calls its subcommands in turn:
//!
//! - `load` (P1), which starts `server <plain|fmd|peer|autometrics> [--fail]` children;
//! - `ingest` (P4, P6), which starts `ingest-child <mode> <batch> <seconds>` children;
//! - `pages` (P5), generating its database first if needed (`generate` alone does only that);
//! - `report`: the table of every figure of the run, also saved as `report.md`.

use fmd_bench::{generate, hello, ingest, load, pages, report, util};
use std::process::ExitCode;

fn usage() -> String {
    "usage: fmd-bench load | ingest | pages | generate | report | server <plain|fmd|peer|autometrics> [--fail] \
     | ingest-child <sustain|overload> <batch> <seconds> | ingest-count <events> \
     | oneshot <plain|fmd|peer|autometrics> <requests> [--fail]"
        .to_owned()
}

fn run(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(0) {
        "server" => {
            let variant = hello::Variant::parse(arg(1)).ok_or_else(usage)?;
            hello::serve(variant, 0, arg(2) == "--fail").map_err(|e| e.to_string())
        }
        "load" => load::run(),
        "ingest" => ingest::run(),
        "ingest-child" => {
            let batch = arg(2).parse().map_err(|_| usage())?;
            let seconds = arg(3).parse().map_err(|_| usage())?;
            ingest::child(arg(1), batch, seconds)
        }
        "oneshot" => {
            let variant = hello::Variant::parse(arg(1)).ok_or_else(usage)?;
            let n = arg(2).parse().map_err(|_| usage())?;
            hello::oneshot(variant, n, arg(3) == "--fail").map_err(|e| e.to_string())
        }
        "ingest-count" => ingest::count(arg(1).parse().map_err(|_| usage())?),
        "generate" => generate::database(generate::Shape::for_run()).map(|_| ()),
        "pages" => pages::run(),
        "report" => {
            let result = report::table();
            let text = match &result {
                Ok(t) | Err(t) => t.clone(),
            };
            println!("{text}");
            let _ = std::fs::write(util::report_dir().join("report.md"), &text);
            result.map(|_| ())
        }
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fmd-bench {}: {e}", args.first().map_or("", String::as_str));
            ExitCode::FAILURE
        }
    }
}
