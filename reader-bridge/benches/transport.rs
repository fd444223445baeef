//! In-process transport cost through the [`Bridge`]: a chained + paged echo
//! of 4 KiB and of 64 KiB − 1 (short APDUs, 250-byte blocks, GET RESPONSE
//! until done), and a one-frame SELECT. The 64K / 4K ratio shows whether
//! chaining and paging stay linear in size (target ≤ 20×).
//!
//! `cargo bench -p tapfido-reader-bridge --bench transport`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use reader_bridge::apdu::split_chained;
use reader_bridge::bridge::Bridge;
use reader_bridge::echo::{EchoApplet, INS_ECHO};
use std::hint::black_box;
use std::time::Duration;

const SELECT_ECHO: [u8; 15] = [
    0x00, 0xA4, 0x04, 0x00, 0x09, 0xF0, 0x74, 0x61, 0x70, 0x66, 0x69, 0x64, 0x6F, 0x45, 0x00,
];
const GET_RESPONSE: [u8; 5] = [0x00, 0xC0, 0x00, 0x00, 0x00];

fn bridge() -> Bridge {
    let atr = reader_bridge::atr::contactless(&reader_bridge::atr::DEFAULT_HISTORICAL).unwrap();
    let mut b = Bridge::new(atr, vec![Box::new(EchoApplet)]);
    assert_eq!(b.process(&SELECT_ECHO), [0x90, 0x00]);
    b
}

/// Send the chained blocks, then GET RESPONSE until the final SW; returns
/// the number of response data bytes.
fn exchange(b: &mut Bridge, blocks: &[Vec<u8>]) -> usize {
    let (last, init) = blocks.split_last().unwrap();
    for block in init {
        black_box(b.process(block));
    }
    let mut resp = b.process(last);
    let mut total = 0;
    loop {
        let n = resp.len() - 2;
        total += n;
        if resp[n] != 0x61 {
            break;
        }
        resp = b.process(&GET_RESPONSE);
    }
    total
}

fn transport(c: &mut Criterion) {
    let mut group = c.benchmark_group("transport");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));

    for (name, size) in [("echo_4KiB", 4096usize), ("echo_64KiB-1", 65_535)] {
        let data: Vec<u8> = (0..253u8).cycle().take(size).collect();
        let blocks = split_chained([0x00, INS_ECHO, 0x00, 0x00], &data, 256, 250).unwrap();
        let mut b = bridge();
        assert_eq!(exchange(&mut b, &blocks), size);
        group.throughput(Throughput::Bytes(u64::try_from(size).unwrap()));
        group.bench_function(name, |bench| {
            bench.iter(|| exchange(&mut b, black_box(&blocks)));
        });
    }

    let mut b = bridge();
    group.throughput(Throughput::Elements(1));
    group.bench_function("select", |bench| {
        bench.iter(|| black_box(b.process(black_box(&SELECT_ECHO))));
    });
    group.finish();
}

criterion_group!(benches, transport);
criterion_main!(benches);
