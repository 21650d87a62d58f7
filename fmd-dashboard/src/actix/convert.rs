//! actix-web's request and response parts as the `http` 1 types that fmd's runtime (the
//! trusted-proxy rules, level 2's kept headers, the group-by hook) and the dashboard's
//! axum router speak: actix-web 4 is built on `http` 0.2, so the same names and bytes
//! are copied across. Copying happens only where the values are used.

use actix_web::dev::ServiceRequest;

/// A header map in `http` 1 terms (names and values that do not convert are left out;
/// both crates accept the same bytes, so none are in practice).
pub(super) fn headers(from: &actix_web::http::header::HeaderMap) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(from.len());
    for (name, value) in from.iter() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// The request's head (method, URI, version, headers) in `http` 1 terms.
pub(super) fn parts(req: &ServiceRequest) -> http::request::Parts {
    let uri = http::Uri::try_from(req.uri().to_string()).unwrap_or_default();
    let method = http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
    let (mut parts, ()) = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(version(req.version()))
        .body(())
        .unwrap_or_default()
        .into_parts();
    parts.headers = headers(req.headers());
    parts
}

/// The protocol version in `http` 1 terms.
pub(super) fn version(v: actix_web::http::Version) -> http::Version {
    use actix_web::http::Version as V;
    match v {
        V::HTTP_09 => http::Version::HTTP_09,
        V::HTTP_10 => http::Version::HTTP_10,
        V::HTTP_2 => http::Version::HTTP_2,
        V::HTTP_3 => http::Version::HTTP_3,
        _ => http::Version::HTTP_11,
    }
}
