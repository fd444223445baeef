use tokio::io::AsyncWriteExt;

use crate::frame::{blocking, encode_frame, read_frame, read_header, read_payload, write_frame};
use crate::Error;

/// `err` is `Error::Truncated` after `got` of `expected` bytes.
fn assert_truncated(err: &Error, expected: usize, got: usize) {
    assert!(
        matches!(err, Error::Truncated { expected: e, got: g } if *e == expected && *g == got),
        "{err:?}"
    );
}

#[test]
fn encode_prefixes_big_endian_length() {
    assert_eq!(
        encode_frame(&[0xAA, 0xBB, 0xCC]).unwrap(),
        vec![0x00, 0x03, 0xAA, 0xBB, 0xCC]
    );
    let frame = encode_frame(&vec![0x5A; 0x0102]).unwrap();
    assert_eq!(frame[..2], [0x01, 0x02]);
    assert_eq!(frame.len(), 2 + 0x0102);
}

#[test]
fn encode_accepts_exactly_65535_bytes() {
    let frame = encode_frame(&vec![0x11; 65_535]).unwrap();
    assert_eq!(frame[..2], [0xFF, 0xFF]);
    assert_eq!(frame.len(), 65_537);
}

#[test]
fn encode_refuses_65536_bytes() {
    let err = encode_frame(&vec![0x11; 65_536]).unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { len: 65_536 }),
        "{err:?}"
    );
}

#[test]
fn encode_refuses_empty_payload() {
    assert!(matches!(encode_frame(&[]), Err(Error::EmptyFrame)));
}

#[tokio::test]
async fn write_frame_writes_nothing_on_error() {
    let mut out: Vec<u8> = Vec::new();
    let err = write_frame(&mut out, &vec![0u8; 70_000]).await.unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { len: 70_000 }),
        "{err:?}"
    );
    assert!(matches!(
        write_frame(&mut out, &[]).await,
        Err(Error::EmptyFrame)
    ));
    assert!(out.is_empty());
}

#[tokio::test]
async fn write_frame_writes_header_and_payload() {
    let mut out: Vec<u8> = Vec::new();
    write_frame(&mut out, &[0x90, 0x00]).await.unwrap();
    assert_eq!(out, [0x00, 0x02, 0x90, 0x00]);
}

#[tokio::test]
async fn read_frames_back_to_back_then_clean_end() {
    let bytes = [0x00, 0x01, 0x04, 0x00, 0x03, 0x01, 0x02, 0x03, 0x00, 0x00];
    let mut input = &bytes[..];
    assert_eq!(read_frame(&mut input).await.unwrap(), Some(vec![0x04]));
    assert_eq!(
        read_frame(&mut input).await.unwrap(),
        Some(vec![0x01, 0x02, 0x03])
    );
    // A zero-length frame is valid framing; the protocol layer rejects it.
    assert_eq!(read_frame(&mut input).await.unwrap(), Some(vec![]));
    assert_eq!(read_frame(&mut input).await.unwrap(), None);
}

#[tokio::test]
async fn end_inside_header_is_truncated() {
    let mut input = &[0x00][..];
    let err = read_header(&mut input).await.unwrap_err();
    assert_truncated(&err, 2, 1);
}

#[tokio::test]
async fn end_inside_payload_is_truncated() {
    let mut input = &[0x00, 0x05, 0x01, 0x02, 0x03][..];
    let err = read_frame(&mut input).await.unwrap_err();
    assert_truncated(&err, 5, 3);
}

#[tokio::test]
async fn read_payload_of_zero_bytes_reads_nothing() {
    let mut input = &[0x42][..];
    assert_eq!(read_payload(&mut input, 0).await.unwrap(), Vec::<u8>::new());
    assert_eq!(input, [0x42]);
}

#[tokio::test]
async fn frames_arriving_one_byte_at_a_time() {
    let (mut writer, mut reader) = tokio::io::duplex(1);
    let payload: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    let mut wire = vec![0x01, 0x2C];
    wire.extend_from_slice(&payload);
    let send = tokio::spawn(async move {
        for byte in wire {
            writer.write_all(&[byte]).await.unwrap();
        }
    });
    assert_eq!(read_frame(&mut reader).await.unwrap(), Some(payload));
    send.await.unwrap();
    assert_eq!(read_frame(&mut reader).await.unwrap(), None);
}

/// A reader that hands out one byte per call and is interrupted before each, as a socket
/// read can be by a signal.
struct Trickle<'a> {
    bytes: &'a [u8],
    interrupt: bool,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let Some((first, rest)) = self.bytes.split_first() else {
            return Ok(0);
        };
        buf[0] = *first;
        self.bytes = rest;
        Ok(1)
    }
}

#[test]
fn blocking_reads_the_same_frames_as_async() {
    let bytes = [0x00, 0x01, 0x04, 0x00, 0x03, 0x01, 0x02, 0x03];
    let mut input = Trickle {
        bytes: &bytes,
        interrupt: false,
    };
    assert_eq!(blocking::read_header(&mut input).unwrap(), Some(1));
    assert_eq!(blocking::read_payload(&mut input, 1).unwrap(), vec![0x04]);
    assert_eq!(blocking::read_header(&mut input).unwrap(), Some(3));
    assert_eq!(
        blocking::read_payload(&mut input, 3).unwrap(),
        vec![0x01, 0x02, 0x03]
    );
    assert_eq!(blocking::read_header(&mut input).unwrap(), None);
}

#[test]
fn blocking_truncation_is_reported_with_counts() {
    let err = blocking::read_header(&mut &[0x00][..]).unwrap_err();
    assert_truncated(&err, 2, 1);
    let err = blocking::read_payload(&mut &[0x01, 0x02][..], 5).unwrap_err();
    assert_truncated(&err, 5, 2);
}

#[test]
fn blocking_write_is_one_frame_and_nothing_on_error() {
    let mut out: Vec<u8> = Vec::new();
    assert!(matches!(
        blocking::write_frame(&mut out, &vec![0u8; 65_536]),
        Err(Error::FrameTooLarge { len: 65_536 })
    ));
    assert!(matches!(
        blocking::write_frame(&mut out, &[]),
        Err(Error::EmptyFrame)
    ));
    assert!(out.is_empty());
    blocking::write_frame(&mut out, &[0x90, 0x00]).unwrap();
    assert_eq!(out, [0x00, 0x02, 0x90, 0x00]);
}
