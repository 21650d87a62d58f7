//! Harness for the actix-web adapter's tests: a real actix server on 127.0.0.1 whose app
//! is wrapped in `fmd::actix::Monitor` and mounts `fmd::actix::dashboard()`, recording
//! into the test binary's fmd monitor (see [`crate::spine`]).

use actix_web::{App, HttpServer, web};
use std::net::SocketAddr;

/// Serves an actix app with the routes `routes` adds, wrapped in the fmd middleware and
/// with the dashboard mounted, on a free port of 127.0.0.1, with two workers (on threads
/// of their own, each with its own actix runtime). Starts fmd first ([`crate::spine::start`]).
pub fn serve(routes: fn(&mut web::ServiceConfig)) -> SocketAddr {
    crate::spine::start();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    let server = HttpServer::new(move || {
        App::new()
            .wrap(fmd::actix::Monitor::default())
            .service(fmd::actix::dashboard())
            .configure(routes)
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    addr
}
