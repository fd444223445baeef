//! End-to-end benchmark through pcscd + vpcd, in one run:
//!
//! - the floor: the minimal responder (`e2e::minimal`, blocking `std::net`, outside
//!   tapfido's code path, in a process of its own: the `minimal_responder` program built
//!   next to this one) on one vpcd slot, tapfido (`tapfido card`, release build) on
//!   the other, the same short SELECT sent to each alternately, both placements: medians,
//!   p90, p99, max and the tapfido / floor ratio (target ≤ 1.15×);
//! - the same against the bare responder (tapfido's own transport answering `90 00`),
//!   which isolates the card logic from the transport;
//! - the same against the minimal responder with one core kept busy by a spinning
//!   process beside them (the ratio must not grow more than the floor's own time);
//! - tap to authenticate (SELECT + getAssertion), sign-in with PIN (4 APDUs) and the
//!   chained/paged echo, each against as many APDUs to the minimal responder.
//!
//! Run with `scripts/bench-e2e.sh`, which adds the in-process and OpenSSL figures
//! (`cargo build --release -p tapfido-tests --bins`, then `target/release/bench_e2e`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

#[path = "bench_e2e/pin.rs"]
mod pin;

use e2e::bare::BareResponder;
use e2e::minimal::MinimalResponder;
use e2e::reader::{hex_spaced, Reader};
use e2e::{ctap, Card, CardOptions, Conn, PcscdLock, ECHO_AID, FIDO_AID};

struct Args {
    iterations: usize,
    warmup: usize,
    profile: Option<String>,
    floor_vs_floor: bool,
    busy: bool,
    /// Rounds per comparison, each with a fresh card and floor, slots swapped every round.
    rounds: u8,
}

fn args() -> Args {
    let mut out = Args {
        iterations: 5000,
        warmup: 500,
        profile: None,
        floor_vs_floor: false,
        busy: true,
        rounds: 4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--iterations" => out.iterations = value().parse().unwrap(),
            "--warmup" => out.warmup = value().parse().unwrap(),
            "--profile" => out.profile = Some(value()),
            "--floor-vs-floor" => out.floor_vs_floor = true,
            "--no-busy" => out.busy = false,
            "--rounds" => {
                out.rounds = value().parse().unwrap();
                assert!(
                    out.rounds >= 2 && out.rounds.is_multiple_of(2),
                    "--rounds: an even number ≥ 2"
                );
            }
            "-h" | "--help" => {
                println!(
                    "bench_e2e [--iterations N] [--warmup N] [--rounds N] [--profile NAME] \
                     [--floor-vs-floor] [--no-busy]"
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

/// The card a comparison measures tapfido against.
enum Floor {
    /// `e2e::minimal`: blocking std::net, outside tapfido's code path.
    Minimal(MinimalResponder),
    /// `e2e::bare`: tapfido's own transport answering `90 00`.
    Bare(BareResponder),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FloorKind {
    Minimal,
    Bare,
}

impl FloorKind {
    fn name(self) -> &'static str {
        match self {
            FloorKind::Minimal => "minimal responder",
            FloorKind::Bare => "bare responder",
        }
    }
}

impl Floor {
    fn start(kind: FloorKind, slot: u8) -> Self {
        match kind {
            FloorKind::Minimal => Floor::Minimal(MinimalResponder::start(slot, PcscdLock::Shared)),
            FloorKind::Bare => Floor::Bare(BareResponder::start(Some(slot), PcscdLock::Shared)),
        }
    }

    fn reader(&self) -> &Reader {
        match self {
            Floor::Minimal(m) => m.reader(),
            Floor::Bare(b) => b.reader(),
        }
    }
}

/// A process spinning on one core while it lives (the "busy core beside it").
struct Busy(std::process::Child);

impl Busy {
    fn start() -> Self {
        let child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap_or_else(|e| panic!("busy loop: {e}"));
        Busy(child)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two floors of the same kind against each other: the method's own noise (ratio ≈ 1).
fn floor_vs_floor(args: &Args) {
    for kind in [FloorKind::Minimal, FloorKind::Bare] {
        let a = Floor::start(kind, 0);
        let b = Floor::start(kind, 1);
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
            "## Floor against floor (two {}s, {} iterations)",
            kind.name(),
            args.iterations
        );
        println!();
        println!("| card | median µs | p90 µs | p99 µs | max µs |");
        println!("|---|---|---|---|---|");
        println!(
            "{}",
            row(&format!("{}, {}", kind.name(), a.reader().name), &sa)
        );
        println!(
            "{}",
            row(&format!("{}, {}", kind.name(), b.reader().name), &sb)
        );
        println!();
        println!(
            "ratio: median {:.3}×, p90 {:.3}×",
            ratio(sb.median, sa.median),
            ratio(sb.p90, sa.p90)
        );
        println!();
    }
}

/// One SELECT comparison: tapfido against `kind`, both placements.
struct Comparison {
    tap: Stats,
    floor: Stats,
    rounds: Vec<String>,
    what: String,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What runs with the card and the floor up: (card, its connection, the floor's, SELECT).
/// A measurement run in each round with the card and the floor up.
type Sequences<'a> = dyn FnMut(&Run<'_>) + 'a;

/// Which round is running. Rounds alternate tapfido on slot 0 and the floor on slot 1 with
/// the other way round, each with a fresh card process and floor. Sequences pool their
/// samples over every round, so that neither side keeps the slot it happens to be faster on
/// (`--floor-vs-floor` shows that spread), nor the CPU placement its threads happened to
/// settle into for one round (on 2 cores a round can run 1.2× or 1.6× for the same code).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Round {
    /// A round before the last: adds its samples.
    Early,
    /// The last round: adds its samples and reports the pool.
    Last,
}

/// Samples pooled over the rounds, by measurement name.
#[derive(Default)]
pub(crate) struct Pool {
    samples: std::collections::BTreeMap<&'static str, Vec<Duration>>,
    notes: std::collections::BTreeMap<&'static str, Vec<String>>,
}

impl Pool {
    /// Notes a round's own result for `name` (its median ratio, say).
    pub(crate) fn note(&mut self, name: &'static str, note: String) {
        self.notes.entry(name).or_default().push(note);
    }

    /// Notes the median ratio of `samples` to `floor` in the round `run` for `name`.
    pub(crate) fn note_ratio(
        &mut self,
        name: &'static str,
        run: &Run<'_>,
        samples: &[Duration],
        floor: &[Duration],
    ) {
        let ratio = ratio(stats(samples.to_vec()).median, stats(floor.to_vec()).median);
        self.note(name, format!("slot {} {ratio:.2}×", run.slot));
    }

    /// The notes of `name`, joined with `; `.
    pub(crate) fn notes(&mut self, name: &'static str) -> String {
        self.notes.remove(name).unwrap_or_default().join("; ")
    }

    pub(crate) fn add(&mut self, name: &'static str, samples: Vec<Duration>) {
        self.samples.entry(name).or_default().extend(samples);
    }

    /// Every sample of `name` so far (every round once the last has added its own).
    pub(crate) fn take(&mut self, name: &'static str) -> Vec<Duration> {
        self.samples.remove(name).unwrap_or_default()
    }
}

/// tapfido against a floor of `kind`, SELECT alternately, tapfido on slot 0 then 1;
/// `each` runs in every round, after the SELECTs, with the card and the floor still up.
fn compare(
    args: &Args,
    stack: &'static e2e::prereq::Stack,
    kind: FloorKind,
    mut each: Option<&mut Sequences<'_>>,
) -> Comparison {
    let mut t_floor = Vec::with_capacity(args.iterations);
    let mut t_tap = Vec::with_capacity(args.iterations);
    let mut rounds = Vec::new();
    let mut what = String::new();
    for round in 0..args.rounds {
        let slot = round % 2;
        let card = Card::start(
            stack,
            CardOptions {
                profile: args.profile.clone(),
                slot: Some(slot),
                echo: true,
                ..CardOptions::default()
            },
        );
        let floor_card = Floor::start(kind, 1 - slot);
        let tap = card.connect();
        let floor = floor_card.reader().connect().unwrap();
        // The SELECT of the FIDO applet when it is there, else of the echo applet.
        let fido = e2e::select(&FIDO_AID);
        let probe = tap.transmit(&fido);
        let (select, expected, name) = if probe.ends_with(&[0x90, 0x00]) {
            (fido, probe, "SELECT FIDO AID (case 4S)")
        } else {
            (
                e2e::select(&ECHO_AID),
                vec![0x90, 0x00],
                "SELECT echo AID (case 4S)",
            )
        };
        what = format!("{name}: `{}`", hex_spaced(&select));
        for _ in 0..args.warmup {
            let _ = timed(&floor, &select, &[0x90, 0x00]);
            let _ = timed(&tap, &select, &expected);
        }
        let (floor_from, tap_from) = (t_floor.len(), t_tap.len());
        for i in 0..args.iterations / usize::from(args.rounds) {
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
            "round {}: tapfido on {} {} µs, {} on {} {} µs, ratio {:.3}×",
            round + 1,
            card.reader().name,
            us(rt.median),
            kind.name(),
            floor_card.reader().name,
            us(rf.median),
            ratio(rt.median, rf.median)
        ));
        if let Some(each) = each.as_mut() {
            let round = if round + 1 == args.rounds {
                Round::Last
            } else {
                Round::Early
            };
            each(&Run {
                args,
                round,
                slot,
                card: &card,
                tap: &tap,
                floor: &floor,
                select: &select,
            });
        }
    }
    Comparison {
        tap: stats(t_tap),
        floor: stats(t_floor),
        rounds,
        what,
    }
}

fn print_comparison(title: &str, args: &Args, kind: FloorKind, c: &Comparison) {
    println!("## {title}");
    println!();
    println!(
        "{}, {} iterations in {} rounds (a fresh card and floor each, tapfido on slot 0, \
         then on slot 1, and so on; {} warm-up each), alternating between the two cards; \
         tapfido profile `{}`; load average after: {}.",
        c.what,
        args.iterations,
        args.rounds,
        args.warmup,
        args.profile.as_deref().unwrap_or("default"),
        load_average()
    );
    println!();
    println!("| card | median µs | p90 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    println!("{}", row(&format!("{} (floor)", kind.name()), &c.floor));
    println!("{}", row("tapfido", &c.tap));
    println!();
    println!(
        "tapfido / floor: median {:.3}×, p90 {:.3}× (target ≤ 1.15×); 40 ms stall: {}",
        ratio(c.tap.median, c.floor.median),
        ratio(c.tap.p90, c.floor.p90),
        if c.tap.p99 < Duration::from_millis(10) {
            "absent (p99 < 10 ms)"
        } else {
            "SUSPECT (p99 ≥ 10 ms)"
        }
    );
    println!();
    println!("Medians per round:");
    println!();
    for line in &c.rounds {
        println!("- {line}");
    }
    println!();
}

fn main() {
    let args = args();
    let stack = e2e::stack().unwrap_or_else(|e| panic!("{e}"));
    if args.floor_vs_floor {
        floor_vs_floor(&args);
        return;
    }
    println!("Load average before: {}.", load_average());
    println!();
    // The sequences run against both floors: the minimal responder is the floor the
    // targets name; the bare one shares tapfido's transport.
    let mut against_minimal = Vec::new();
    let mut pool = Pool::default();
    let minimal = compare(
        &args,
        stack,
        FloorKind::Minimal,
        Some(&mut |run: &Run<'_>| sequences(run, &mut pool, &mut against_minimal)),
    );
    let mut against_bare = Vec::new();
    let bare = compare(
        &args,
        stack,
        FloorKind::Bare,
        Some(&mut |run: &Run<'_>| sequences(run, &mut pool, &mut against_bare)),
    );
    let busy = args.busy.then(|| {
        let _busy = Busy::start();
        compare(&args, stack, FloorKind::Minimal, None)
    });

    print_comparison(
        "SELECT through pcscd + vpcd, against the minimal responder (the floor)",
        &args,
        FloorKind::Minimal,
        &minimal,
    );
    print_comparison(
        "SELECT against the bare responder (tapfido's transport, no card logic)",
        &args,
        FloorKind::Bare,
        &bare,
    );
    if let Some(busy) = &busy {
        print_comparison(
            "SELECT against the minimal responder, one core busy (a spinning `sh` beside them)",
            &args,
            FloorKind::Minimal,
            busy,
        );
        println!(
            "Under load: the floor's median grew {:.2}×, tapfido's {:.2}×; tapfido / floor \
             {:.3}× idle, {:.3}× busy.",
            ratio(busy.floor.median, minimal.floor.median),
            ratio(busy.tap.median, minimal.tap.median),
            ratio(minimal.tap.median, minimal.floor.median),
            ratio(busy.tap.median, busy.floor.median)
        );
        println!();
    }
    for (kind, report) in [
        (FloorKind::Minimal, against_minimal),
        (FloorKind::Bare, against_bare),
    ] {
        println!("# Sequences against the {}", kind.name());
        for line in report {
            println!("{line}");
        }
        println!();
    }
}

/// Tap to authenticate, sign-in with PIN and the echo, against `floor`.
fn sequences(run: &Run<'_>, pool: &mut Pool, out: &mut Vec<String>) {
    tap_to_authenticate(run, pool, out);
    pin::sign_in_with_pin(run, pool, out);
    if run.round == Round::Last {
        large_exchanges(run.tap, run.floor, run.select, out);
    }
}

/// One round of the sequences: the card and its connection, the floor's connection and
/// the floor's SELECT.
pub(crate) struct Run<'a> {
    pub args: &'a Args,
    pub round: Round,
    /// tapfido's slot in this round.
    pub slot: u8,
    pub card: &'a Card,
    pub tap: &'a Conn,
    pub floor: &'a Conn,
    pub select: &'a [u8],
}

impl Run<'_> {
    /// Iterations of a sequence in this round: its share of a fifth of the run's.
    pub(crate) fn iterations(&self) -> usize {
        (self.args.iterations / 5 / usize::from(self.args.rounds)).max(25)
    }

    /// Where this round's report goes: `out` in the last round, which reports the pooled
    /// samples; nowhere in the first.
    pub(crate) fn report<'o>(
        &self,
        out: &'o mut Vec<String>,
        scratch: &'o mut Vec<String>,
    ) -> &'o mut Vec<String> {
        match self.round {
            Round::Last => out,
            Round::Early => scratch,
        }
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

/// SELECT + getAssertion, against the same number of APDUs to the floor.
fn tap_to_authenticate(run: &Run<'_>, pool: &mut Pool, out: &mut Vec<String>) {
    let (card, tap, floor, select) = (run.card, run.tap, run.floor, run.select);
    let mut scratch = Vec::new();
    let out = run.report(out, &mut scratch);
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
    let iterations = run.iterations();
    let mut t_tap = Vec::with_capacity(iterations);
    let mut t_floor = Vec::with_capacity(iterations);
    let (mut t_select, mut t_ga) = (
        Vec::with_capacity(iterations),
        Vec::with_capacity(iterations),
    );
    for _ in 0..iterations {
        let start = Instant::now();
        let select_time = timed(tap, &fido, &selected);
        let ga_start = Instant::now();
        ctap::call(tap, &request).unwrap_or_else(|e| panic!("{e}"));
        let ga_time = ga_start.elapsed();
        t_tap.push(start.elapsed());
        t_select.push(select_time);
        t_ga.push(ga_time);
        let start = Instant::now();
        for _ in 0..apdus {
            let _ = timed(floor, select, &[0x90, 0x00]);
        }
        t_floor.push(start.elapsed());
    }
    pool.note_ratio("tap", run, &t_tap, &t_floor);
    pool.add("tap", t_tap);
    pool.add("tap floor", t_floor);
    pool.add("tap select", t_select);
    pool.add("tap ga", t_ga);
    if run.round == Round::Early {
        return;
    }
    let s_tap = stats(pool.take("tap"));
    let s_floor = stats(pool.take("tap floor"));
    say!(
        "SELECT FIDO + getAssertion (allowList of one, ES256, up) = {apdus} APDUs; {} \
         iterations pooled over {} rounds (tapfido on slot 0, then on slot 1, and so on); the \
         floor is {apdus} SELECTs to the floor card, timed the same way.",
        usize::from(run.args.rounds) * iterations,
        run.args.rounds
    );
    out.push(String::new());
    say!("| sequence | median µs | p90 µs | p99 µs | max µs |");
    say!("|---|---|---|---|---|");
    out.push(row(&format!("floor, {apdus} APDUs"), &s_floor));
    out.push(row("tapfido SELECT + getAssertion", &s_tap));
    out.push(row("… of which SELECT", &stats(pool.take("tap select"))));
    out.push(row(
        "… of which getAssertion (UP)",
        &stats(pool.take("tap ga")),
    ));
    out.push(String::new());
    say!(
        "tap-to-authenticate / floor: median {:.2}×, p90 {:.2}× (target ≤ 1.5×); each \
         round's own median ratio, tapfido's slot first: {}",
        ratio(s_tap.median, s_floor.median),
        ratio(s_tap.p90, s_floor.p90),
        pool.notes("tap")
    );
}
