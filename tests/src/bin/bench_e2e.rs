//! End-to-end benchmark through pcscd + vpcd, in one run:
//!
//! - the floor: a bare responder (`90 00` to everything) served by the same vsmartcard
//!   transport on one vpcd slot;
//! - tapfido (`tapfido card`, release build) on the other slot;
//! - the same short SELECT sent to each, alternately, `--iterations` times: medians, p90,
//!   p99, max and the tapfido / floor ratio (target ≤ 1.15×, far from the 40 ms stall);
//! - tap-to-authenticate when the FIDO applet is there: SELECT + getAssertion, against
//!   the same number of APDUs to the bare responder.
//!
//! Run with `scripts/bench-e2e.sh` (`cargo run --release -p tapfido-tests --bin bench_e2e`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

#[path = "bench_e2e/pin.rs"]
mod pin;

use e2e::bare::BareResponder;
use e2e::reader::hex_spaced;
use e2e::{ctap, Card, CardOptions, Conn, PcscdLock, ECHO_AID, FIDO_AID};

struct Args {
    iterations: usize,
    warmup: usize,
    profile: Option<String>,
    floor_vs_floor: bool,
}

fn args() -> Args {
    let mut out = Args {
        iterations: 5000,
        warmup: 500,
        profile: None,
        floor_vs_floor: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--iterations" => out.iterations = value().parse().unwrap(),
            "--warmup" => out.warmup = value().parse().unwrap(),
            "--profile" => out.profile = Some(value()),
            "--floor-vs-floor" => out.floor_vs_floor = true,
            "-h" | "--help" => {
                println!(
                    "bench_e2e [--iterations N] [--warmup N] [--profile NAME] [--floor-vs-floor]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}"),
        }
    }
    out
}

/// Order statistics of a sample.
struct Stats {
    median: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let at = |percent: usize| {
        // Nearest-rank percentile.
        let n = samples.len();
        let rank = (percent * n).div_ceil(100);
        samples[rank.clamp(1, n) - 1]
    };
    Stats {
        median: at(50),
        p90: at(90),
        p99: at(99),
        max: *samples.last().unwrap(),
    }
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn row(name: &str, s: &Stats) -> String {
    format!(
        "| {name} | {} | {} | {} | {} |",
        us(s.median),
        us(s.p90),
        us(s.p99),
        us(s.max)
    )
}

fn timed(conn: &Conn, apdu: &[u8], expected: &[u8]) -> Duration {
    let start = Instant::now();
    let resp = conn.transmit(apdu);
    let elapsed = start.elapsed();
    assert!(
        resp == expected,
        "{}: {} → {}",
        conn.reader.name,
        hex_spaced(apdu),
        hex_spaced(&resp)
    );
    elapsed
}

/// Two bare responders against each other: the method's own noise (ratio ≈ 1).
fn floor_vs_floor(args: &Args) {
    let a = BareResponder::start(Some(0), PcscdLock::Shared);
    let b = BareResponder::start(Some(1), PcscdLock::Shared);
    let (ca, cb) = (a.reader().connect().unwrap(), b.reader().connect().unwrap());
    let select = e2e::select(&FIDO_AID);
    let ok = [0x90, 0x00];
    for _ in 0..args.warmup {
        let _ = timed(&ca, &select, &ok);
        let _ = timed(&cb, &select, &ok);
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..args.iterations {
        if i % 2 == 0 {
            ta.push(timed(&ca, &select, &ok));
            tb.push(timed(&cb, &select, &ok));
        } else {
            tb.push(timed(&cb, &select, &ok));
            ta.push(timed(&ca, &select, &ok));
        }
    }
    let (sa, sb) = (stats(ta), stats(tb));
    println!(
        "## Floor against floor (two bare responders, {} iterations)",
        args.iterations
    );
    println!();
    println!("| card | median µs | p90 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    println!(
        "{}",
        row(&format!("bare responder, {}", a.reader().name), &sa)
    );
    println!(
        "{}",
        row(&format!("bare responder, {}", b.reader().name), &sb)
    );
    println!();
    println!(
        "ratio: median {:.3}×, p90 {:.3}×",
        ratio(sb.median, sa.median),
        ratio(sb.p90, sa.p90)
    );
}

fn main() {
    let args = args();
    let stack = e2e::stack().unwrap_or_else(|e| panic!("{e}"));
    if args.floor_vs_floor {
        floor_vs_floor(&args);
        return;
    }
    let mut t_floor = Vec::with_capacity(args.iterations);
    let mut t_tap = Vec::with_capacity(args.iterations);
    let mut described = None;
    let mut report = Vec::new();
    let mut rounds = Vec::new();
    // Two rounds, tapfido on slot 0 then on slot 1 (the bare responder on the other), so
    // neither side keeps a slot that happens to be slower under load.
    for round in 0u8..2 {
        let card = Card::start(
            stack,
            CardOptions {
                profile: args.profile.clone(),
                slot: Some(round),
                echo: true,
                ..CardOptions::default()
            },
        );
        let bare = BareResponder::start(Some(1 - round), PcscdLock::Shared);
        let tap = card.connect();
        let floor = bare.reader().connect().unwrap();
        // The SELECT of the FIDO applet when it is there, else of the echo applet.
        let fido = e2e::select(&FIDO_AID);
        let probe = tap.transmit(&fido);
        let (select, expected, what) = if probe.ends_with(&[0x90, 0x00]) {
            (fido, probe, "SELECT FIDO AID (case 4S)")
        } else {
            (
                e2e::select(&ECHO_AID),
                vec![0x90, 0x00],
                "SELECT echo AID (case 4S)",
            )
        };
        for _ in 0..args.warmup {
            let _ = timed(&floor, &select, &[0x90, 0x00]);
            let _ = timed(&tap, &select, &expected);
        }
        let (floor_from, tap_from) = (t_floor.len(), t_tap.len());
        for i in 0..args.iterations / 2 {
            // Alternate who goes first, so neither always meets pcscd's poll first.
            if i % 2 == 0 {
                t_floor.push(timed(&floor, &select, &[0x90, 0x00]));
                t_tap.push(timed(&tap, &select, &expected));
            } else {
                t_tap.push(timed(&tap, &select, &expected));
                t_floor.push(timed(&floor, &select, &[0x90, 0x00]));
            }
        }
        let (rf, rt) = (
            stats(t_floor[floor_from..].to_vec()),
            stats(t_tap[tap_from..].to_vec()),
        );
        rounds.push(format!(
            "round {}: tapfido on {} {} µs, floor on {} {} µs, ratio {:.3}×",
            round + 1,
            card.reader().name,
            us(rt.median),
            bare.reader().name,
            us(rf.median),
            ratio(rt.median, rf.median)
        ));
        if round == 1 {
            tap_to_authenticate(&args, &card, &tap, &floor, &select, &mut report);
            pin::sign_in_with_pin(&args, &card, &tap, &floor, &select, &mut report);
            large_exchanges(&tap, &floor, &select, &mut report);
        }
        described = Some((select, what));
    }
    let (select, what) = described.unwrap();
    let s_floor = stats(t_floor);
    let s_tap = stats(t_tap);

    println!("## Round trip of a short SELECT through pcscd + vpcd");
    println!();
    println!(
        "{what}: `{}`, {} iterations in two rounds (tapfido on slot 0, then on slot 1; \
         {} warm-up each), alternating between the two cards; tapfido profile `{}`; load \
         average at the end: {}.",
        hex_spaced(&select),
        args.iterations,
        args.warmup,
        args.profile.as_deref().unwrap_or("default"),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!();
    println!("| card | median µs | p90 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    println!("{}", row("bare responder (floor)", &s_floor));
    println!("{}", row("tapfido", &s_tap));
    println!();
    println!(
        "tapfido / floor: median {:.3}×, p90 {:.3}× (target ≤ 1.15×); 40 ms stall: {}",
        ratio(s_tap.median, s_floor.median),
        ratio(s_tap.p90, s_floor.p90),
        if s_tap.p99 < Duration::from_millis(10) {
            "absent (p99 < 10 ms)"
        } else {
            "SUSPECT (p99 ≥ 10 ms)"
        }
    );
    println!();
    println!("Medians per round:");
    println!();
    for line in rounds {
        println!("- {line}");
    }
    for line in report {
        println!("{line}");
    }
}

/// Echo of 4 KiB and 64 KiB - 1 through pcscd (short APDUs: command chaining in 255-byte
/// blocks, response paging with GET RESPONSE), against as many SELECTs to the floor.
fn large_exchanges(tap: &Conn, floor: &Conn, select: &[u8], out: &mut Vec<String>) {
    out.push(String::new());
    out.push("## Chained and paged echo (short APDUs, echo applet)".to_owned());
    out.push(String::new());
    out.push(
        "| payload | APDUs | tapfido median µs | floor, same APDU count, median µs | ratio |"
            .to_owned(),
    );
    out.push("|---|---|---|---|---|".to_owned());
    tap.expect(&e2e::select(&ECHO_AID), &[0x90, 0x00]);
    for (name, len, iterations) in [("4 KiB", 4096usize, 200usize), ("64 KiB - 1", 65535, 20)] {
        let data = e2e::apdu::pattern(len);
        let framing = e2e::apdu::Framing::default();
        let mut t_tap = Vec::with_capacity(iterations);
        let mut t_floor = Vec::with_capacity(iterations);
        let mut apdus = 0;
        for _ in 0..iterations {
            let start = Instant::now();
            let ex = e2e::apdu::send(tap, 0x00, e2e::INS_ECHO, 0, 0, &data, framing);
            t_tap.push(start.elapsed());
            assert!(ex.sw == 0x9000 && ex.data == data, "echo {name}");
            apdus = ex.commands;
            let start = Instant::now();
            for _ in 0..apdus {
                let _ = timed(floor, select, &[0x90, 0x00]);
            }
            t_floor.push(start.elapsed());
        }
        let (st, sf) = (stats(t_tap), stats(t_floor));
        out.push(format!(
            "| {name} | {apdus} | {} | {} | {:.2}× |",
            us(st.median),
            us(sf.median),
            ratio(st.median, sf.median)
        ));
    }
}

/// What [`register_for_bench`] leaves ready for a sign-in benchmark.
pub(crate) struct Registered {
    /// The SELECT of the FIDO AID.
    pub fido: Vec<u8>,
    /// The card's answer to it.
    pub selected: Vec<u8>,
    /// The decoded makeCredential response.
    pub made: ciborium::Value,
}

/// Opens a Markdown section titled `title`, selects the FIDO applet, holds user presence
/// for the run and registers one credential for `rp`; says why and returns `None` when
/// the card cannot.
pub(crate) fn register_for_bench(
    card: &Card,
    tap: &Conn,
    title: &str,
    rp: &str,
    cdh: &[u8; 32],
    out: &mut Vec<String>,
) -> Option<Registered> {
    out.push(String::new());
    out.push(format!("## {title}"));
    out.push(String::new());
    let fido = e2e::select(&FIDO_AID);
    let selected = tap.transmit(&fido);
    if !selected.ends_with(&[0x90, 0x00]) {
        out.push("skipped: the FIDO applet does not answer SELECT".to_owned());
        return None;
    }
    // User presence for the whole run (on NFC it is the tap; the control API holds it).
    let _ = card.control(&format!("/usb{}/touch/on", card.reader().slot));
    match ctap::call(tap, &ctap::make_credential_request(rp, cdh)) {
        Ok((made, _)) => Some(Registered {
            fido,
            selected,
            made,
        }),
        Err(e) => {
            out.push(format!("skipped: makeCredential failed: {e}"));
            None
        }
    }
}

/// SELECT + getAssertion, against the same number of APDUs to the bare responder.
fn tap_to_authenticate(
    args: &Args,
    card: &Card,
    tap: &Conn,
    floor: &Conn,
    select: &[u8],
    out: &mut Vec<String>,
) {
    macro_rules! say {
        ($($t:tt)*) => { out.push(format!($($t)*)) };
    }
    let rp = "bench.example.com";
    let cdh = ctap::sha256(b"bench client data");
    let Some(Registered {
        fido,
        selected,
        made,
    }) = register_for_bench(
        card,
        tap,
        "Tap to authenticate (SELECT + getAssertion)",
        rp,
        &cdh,
        out,
    )
    else {
        return;
    };
    let cred_id = ctap::credential_id(&made).unwrap_or_else(|| panic!("no credential ID"));
    let request = ctap::get_assertion_request(rp, &cdh, &cred_id);
    let (_, ga_apdus) = ctap::call(tap, &request).unwrap_or_else(|e| panic!("{e}"));
    let apdus = 1 + ga_apdus;
    let iterations = (args.iterations / 5).max(100);
    let mut t_tap = Vec::with_capacity(iterations);
    let mut t_floor = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let _ = timed(tap, &fido, &selected);
        ctap::call(tap, &request).unwrap_or_else(|e| panic!("{e}"));
        t_tap.push(start.elapsed());
        let start = Instant::now();
        for _ in 0..apdus {
            let _ = timed(floor, select, &[0x90, 0x00]);
        }
        t_floor.push(start.elapsed());
    }
    let s_tap = stats(t_tap);
    let s_floor = stats(t_floor);
    say!(
        "SELECT FIDO + getAssertion (allowList of one, ES256, up) = {apdus} APDUs; {iterations} \
         iterations; the floor is {apdus} SELECTs to the bare responder, timed the same way."
    );
    out.push(String::new());
    say!("| sequence | median µs | p90 µs | p99 µs | max µs |");
    say!("|---|---|---|---|---|");
    out.push(row(
        &format!("bare responder, {apdus} APDUs (floor)"),
        &s_floor,
    ));
    out.push(row("tapfido SELECT + getAssertion", &s_tap));
    out.push(String::new());
    say!(
        "tap-to-authenticate / floor: median {:.2}×, p90 {:.2}×",
        ratio(s_tap.median, s_floor.median),
        ratio(s_tap.p90, s_floor.p90)
    );
}
