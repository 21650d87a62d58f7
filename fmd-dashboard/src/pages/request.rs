//! One request's page: what was asked, how it ended, and every error recorded in it, each
//! linked to its group.

use maud::{Markup, html};

use super::Ctx;
use super::components::{pruned_note, when};
use super::endpoint::kind_label;
use super::layout::{Nav, page};
use super::requests::status_badge;
use crate::charts::ms;
use crate::format;
use fmd_runtime::store::read::RequestDetail;

/// The page of a request that is not stored while raw rows were pruned (answered with
/// 404): it says so plainly, instead of a bare "not found".
pub fn request_gone_page(ctx: &Ctx<'_>, id: i64) -> Markup {
    let body = html! {
        h1 { "Request " (id) " is not stored" }
        section.card {
            (pruned_note(ctx))
            p.muted { "Errors it recorded stay on their issues." }
        }
    };
    page(ctx, "Request not stored", Nav::Overview, body)
}

/// The page of request `d`.
pub fn request_page(ctx: &Ctx<'_>, d: &RequestDetail) -> Markup {
    let r = &d.request;
    let body = html! {
        h1.mono { (r.method) " " (r.route) }
        div.sub {
            a href=(ctx.url(&format!("/endpoint/{}", r.endpoint_id))) { (r.endpoint) }
            " · request " (r.id)
        }
        section.card {
            dl.kv {
                dt { "Status" } dd { (status_badge(r.status, r.cancelled)) }
                dt { "Duration" } dd { (format::duration(r.duration_us)) }
                dt { "Started" } dd { (format::datetime_zoned(r.time)) " · " (when(Some(r.time), ctx.now)) }
                dt { "Version" } dd { @if r.version.is_empty() { span.muted { "–" } } @else { (r.version) } }
                dt { "User" } dd { @match &r.group_by { Some(u) => (u), None => span.muted { "–" } } }
                dt { "Client address" } dd { @match &r.ip { Some(ip) => (ip), None => span.muted { "unknown" } } }
                dt { "Instance" } dd { (r.instance) }
            }
        }
        h2 { "Errors in this request" }
        @if d.errors.is_empty() {
            p.muted { "No error or panic was recorded during this request." }
        } @else {
            table.data {
                thead { tr { th { "Type" } th { "Message" } th { "Kind" } th { "When" } } }
                tbody {
                    @for e in &d.errors {
                        @let (kind, class) = kind_label(e.kind);
                        tr {
                            td.mono {
                                a href=(ctx.url(&format!("/endpoint/{}/exceptions?group={}#group-{}", e.endpoint_id, e.group_id, e.group_id))) { (e.type_name) }
                            }
                            td { (e.message) }
                            td { span class=(class) { (kind) } }
                            td { (format::datetime_zoned(e.time)) }
                        }
                    }
                }
            }
        }
        @if let Some(o) = &d.outlier {
            h2 { "Why it was flagged as slow" }
            section.card {
                div.facts {
                    span { "threshold " b { (ms(o.threshold_us as f64)) " ms" } }
                    span { "typical " b { (ms(o.typical_us as f64)) " ms" } }
                }
                p.mono { (o.url) }
                details.headers {
                    summary { "Request headers (" (o.headers.len()) ")" }
                    dl.kv { @for (k, v) in &o.headers { dt { (k) } dd { (v) } } }
                }
            }
        }
    };
    page(ctx, &format!("Request {}", r.id), Nav::Overview, body)
}
