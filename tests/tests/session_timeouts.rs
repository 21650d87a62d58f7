//! Session timeouts from the environment (`FMD_SESSION_IDLE_MINUTES`,
//! `FMD_SESSION_LIFETIME_HOURS`), through a host process configured by them and real HTTP
//! to its dashboard. Decimal values give spans of seconds, so the waits stay short: a
//! session used every 1.2 s outlives a 3.6 s idle timeout while one left alone for 4.8 s
//! ends; with a 3.6 s lifetime even the busy one ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fmd_tests::host::{HostProcess, PASSWORD};
use fmd_tests::http;

const EXE: &str = env!("CARGO_BIN_EXE_fault_host");

/// Whether `session` still opens the dashboard's overview (a dead one is sent to the login).
async fn live(addr: SocketAddr, session: &str) -> bool {
    match http::get(addr, "/dashboard", &[("cookie", session)])
        .await
        .status
    {
        200 => true,
        303 => false,
        s => panic!("unexpected status {s}"),
    }
}

async fn login(addr: SocketAddr) -> String {
    http::login(addr, "/dashboard", "admin", PASSWORD).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_the_configured_idle_time_and_lifetime() {
    // 0.06 min = 3.6 s idle (lifetime 12 h); 0.001 h = 3.6 s lifetime (idle 2 h).
    let idle = HostProcess::start(EXE, ":memory:", &[("FMD_SESSION_IDLE_MINUTES", "0.06")]);
    let lifetime = HostProcess::start(EXE, ":memory:", &[("FMD_SESSION_LIFETIME_HOURS", "0.001")]);
    let (busy, alone) = (login(idle.addr).await, login(idle.addr).await);
    let busy_lifetime = login(lifetime.addr).await;
    let start = Instant::now();
    assert!(live(idle.addr, &busy).await && live(idle.addr, &alone).await);
    assert!(live(lifetime.addr, &busy_lifetime).await);
    let mut lifetime_seen_live = 0;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(live(idle.addr, &busy).await, "used every 1.2 s: still live");
        lifetime_seen_live += u32::from(live(lifetime.addr, &busy_lifetime).await);
    }
    let waited = start.elapsed();
    println!(
        "FIGURES session timeouts: waited {:.1} s, the lifetime-bound session answered live \
         {lifetime_seen_live} of 4 times",
        waited.as_secs_f64()
    );
    assert!(waited >= Duration::from_millis(4800));
    assert!(
        !live(idle.addr, &alone).await,
        "unused for over 3.6 s: ended"
    );
    assert!(
        !live(lifetime.addr, &busy_lifetime).await,
        "over 3.6 s after its login: ended however busy"
    );
    // A new login works at once.
    let again = login(idle.addr).await;
    assert!(live(idle.addr, &again).await);
    idle.shutdown();
    lifetime.shutdown();
}

#[test]
fn a_bad_timeout_stops_the_host_at_start_up_naming_the_variable() {
    for (name, value) in [
        ("FMD_SESSION_IDLE_MINUTES", "30m"),
        ("FMD_SESSION_LIFETIME_HOURS", "0"),
    ] {
        let out = std::process::Command::new(EXE)
            .env("FMD_DATABASE", ":memory:")
            .env("FMD_PASSWORD", PASSWORD)
            .env(name, value)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run fault_host");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(!out.status.success(), "the host must not start: {stdout}");
        assert!(!stdout.contains("listening"), "{stdout}");
        assert!(
            stderr.contains(name) && stderr.contains("positive number"),
            "{name}={value}: {stderr}"
        );
    }
}
