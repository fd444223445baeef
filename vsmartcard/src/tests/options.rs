use std::time::Duration;

use crate::options::{check_addr, slot_addr, Backoff, Options};
use crate::Error;

#[test]
fn slot_ports_start_at_35963() {
    assert_eq!(slot_addr("127.0.0.1", 0), "127.0.0.1:35963");
    assert_eq!(slot_addr("127.0.0.1", 1), "127.0.0.1:35964");
    assert_eq!(slot_addr("localhost", 255), "localhost:36218");
}

#[test]
fn slot_addr_brackets_ipv6_literals() {
    assert_eq!(slot_addr("::1", 1), "[::1]:35964");
    assert_eq!(slot_addr("[::1]", 0), "[::1]:35963");
}

#[test]
fn default_options_point_at_slot_zero_on_loopback() {
    let options = Options::default();
    assert_eq!(options.addr, "127.0.0.1:35963");
    assert_eq!(options.backoff, Backoff::default());
    assert_eq!(options.stats.connections(), 0);
}

#[test]
fn check_addr_accepts_host_port() {
    for addr in ["127.0.0.1:35963", "localhost:1", "[::1]:35963", "vpcd:0"] {
        assert!(check_addr(addr).is_ok(), "{addr}");
    }
}

#[test]
fn check_addr_refuses_malformed() {
    for addr in [
        "",
        "localhost",
        ":35963",
        "host:",
        "host:65536",
        "host:abc",
        "::1:35963",
        "[]:1",
    ] {
        assert!(
            matches!(check_addr(addr), Err(Error::InvalidAddress(ref a)) if a == addr),
            "{addr}"
        );
    }
}

#[test]
fn default_backoff_doubles_from_50ms_to_2s() {
    let backoff = Backoff::default();
    let delays: Vec<u64> = (1..=9)
        .map(|n| u64::try_from(backoff.delay(n).as_millis()).unwrap())
        .collect();
    assert_eq!(delays, [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    assert_eq!(backoff.delay(0), Duration::ZERO);
    assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(2));
}

#[test]
fn backoff_repairs_degenerate_settings() {
    let zero = Backoff {
        initial: Duration::ZERO,
        max: Duration::ZERO,
    };
    assert_eq!(zero.delay(1), Duration::from_millis(1));
    assert_eq!(zero.delay(40), Duration::from_millis(1));
    let inverted = Backoff {
        initial: Duration::from_secs(3),
        max: Duration::from_secs(1),
    };
    assert_eq!(inverted.delay(1), Duration::from_secs(3));
    assert_eq!(inverted.delay(5), Duration::from_secs(3));
}
