//! Figures, goals and the one table `scripts/bench` prints.
//!
//! Each step saves its figures as `<step>.json` in the report directory. The criterion
//! benches (P2, P3) leave their estimates in criterion's own directory; [`table`] reads
//! them and derives the costs the goals talk about (annotated minus unannotated).

use crate::util;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// One measured figure, with its goal when the issue sets one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// The benchmark id: `P1` … `P6`.
    pub id: String,
    /// What was measured.
    pub what: String,
    /// The figure, already formatted with its unit.
    pub value: String,
    /// The goal, e.g. `≥ 0.97`; empty when none applies.
    pub goal: String,
    /// Whether the goal was met; `None` without a goal.
    pub met: Option<bool>,
    /// Spread, counts, or anything that helps to read the figure.
    pub note: String,
}

impl Figure {
    /// A figure without a goal.
    pub fn info(id: &str, what: impl Into<String>, value: impl Into<String>) -> Figure {
        Figure {
            id: id.to_owned(),
            what: what.into(),
            value: value.into(),
            goal: String::new(),
            met: None,
            note: String::new(),
        }
    }

    /// A figure judged against `goal`.
    pub fn goal(
        id: &str,
        what: impl Into<String>,
        value: impl Into<String>,
        goal: &str,
        met: bool,
    ) -> Figure {
        Figure {
            goal: goal.to_owned(),
            met: Some(met),
            ..Figure::info(id, what, value)
        }
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.note = note.into();
        self
    }
}

/// Saves the figures of `step` (replacing an earlier run's).
pub fn save(step: &str, figures: &[Figure]) -> std::io::Result<()> {
    let path = util::report_dir().join(format!("{step}.json"));
    let json = serde_json::to_string_pretty(figures).map_err(std::io::Error::other)?;
    std::fs::write(path, json)
}

fn load(step: &str) -> Option<Vec<Figure>> {
    let text = std::fs::read_to_string(util::report_dir().join(format!("{step}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

/// The mean time of one criterion benchmark in nanoseconds.
fn criterion_ns(root: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = root.join(group).join(bench).join("new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// Formats nanoseconds.
pub fn ns(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.1} µs", v / 1000.0)
    } else {
        format!("{v:.0} ns")
    }
}

/// The figures P2 and P3 derive from criterion's estimates (`None`: a bench is missing).
fn criterion_figures(root: &Path) -> Option<Vec<Figure>> {
    let t = |group: &str, bench: &str| criterion_ns(root, group, bench);
    let plain = t("P2", "unannotated")?;
    let mut out = vec![Figure::info(
        "P2",
        "call of the unannotated function",
        ns(plain),
    )];
    for level in [0, 1] {
        let v = t("P2", &format!("monitored_level{level}"))?;
        let extra = v - plain;
        let what = format!("extra per call through #[monitored] at level {level}");
        let note = format!("{} per call; the call is a request of its own", ns(v));
        out.push(match level {
            1 => Figure::goal("P2", what, ns(extra), "≤ 150 ns", extra <= 150.0).note(note),
            _ => Figure::info("P2", what, ns(extra)).note(note),
        });
    }
    for (bench, what) in [
        ("capture", "extra per call through #[capture] (sync)"),
        ("capture_async", "extra per call through #[capture] (async)"),
    ] {
        let base = if bench == "capture" {
            plain
        } else {
            t("P2", "unannotated_async")?
        };
        let v = t("P2", bench)?;
        out.push(Figure::info("P2", what, ns(v - base)).note(format!("{} per call", ns(v))));
    }
    let base = t("P2", "request_plain")?;
    let v = t("P2", "request_fmd")?;
    out.push(
        Figure::info(
            "P2",
            "extra per in-process request, fmd level 1 vs plain",
            ns(v - base),
        )
        .note(format!(
            "{} vs {} per request (Router::oneshot)",
            ns(v),
            ns(base)
        )),
    );

    let ok = t("P3", "ok_monitored")?;
    let error_plain = t("P3", "error_unannotated")?;
    let error = t("P3", "error_monitored")?;
    let alone = error - ok;
    out.push(
        Figure::goal(
            "P3",
            "cost of one error returned through a 5-hop trace",
            ns(alone),
            "≤ 1 µs",
            alone <= 1000.0,
        )
        .note(format!(
            "annotated request: {} with the error, {} without; the same code unannotated: {}",
            ns(error),
            ns(ok),
            ns(error_plain)
        )),
    );
    let captured = t("P3", "error_captured")?;
    out.push(
        Figure::info(
            "P3",
            "cost of one error captured with fmd::capture! after 4 hops",
            ns(captured - ok),
        )
        .note(format!("{} per request", ns(captured))),
    );
    let panic_plain = t("P3", "panic_unannotated")?;
    let panic = t("P3", "panic_monitored")?;
    out.push(
        Figure::info(
            "P3",
            "extra per request for a panic",
            ns(panic - panic_plain),
        )
        .note(format!(
            "{} vs {} unannotated (unwinding included)",
            ns(panic),
            ns(panic_plain)
        )),
    );
    Some(out)
}

/// The steps whose figures make the table, in order.
pub const STEPS: &[&str] = &["load", "criterion", "ingest", "pages"];

/// Builds the table of every figure of this run as Markdown; the error names the
/// steps that left no figures.
pub fn table() -> Result<String, String> {
    let mut figures = Vec::new();
    let mut missing = Vec::new();
    for step in STEPS {
        let found = match *step {
            "criterion" => criterion_figures(&util::bench_dir().join("criterion")),
            other => load(other),
        };
        match found {
            Some(f) => figures.extend(f),
            None => missing.push(*step),
        }
    }
    figures.sort_by(|a, b| a.id.cmp(&b.id)); // stable: steps keep their order inside an id
    let mut out = String::new();
    out.push_str("| id | what | figure | goal | met | note |\n|---|---|---|---|---|---|\n");
    for f in &figures {
        let met = match f.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            f.id, f.what, f.value, f.goal, met, f.note
        );
    }
    let judged = figures.iter().filter(|f| f.met.is_some()).count();
    let met = figures.iter().filter(|f| f.met == Some(true)).count();
    let _ = writeln!(out, "\ngoals: {met} of {judged} met");
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!("{out}\nno figures from: {}", missing.join(", ")))
    }
}
