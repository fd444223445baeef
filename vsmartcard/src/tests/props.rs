//! Property tests: framing survives any split of the byte stream, and any length is either
//! framed exactly or refused.

use std::pin::Pin;
use std::task::{Context, Poll};

use proptest::collection::vec;
use proptest::prelude::*;
use tokio::io::{AsyncRead, ReadBuf};

use crate::frame::{encode_frame, read_frame};
use crate::protocol::{read_message, VpcdMessage};
use crate::Error;

/// Delivers its bytes in the given chunk sizes (cycled), like a socket under load.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunks: Vec<usize>,
    turn: usize,
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let chunk = this.chunks[this.turn % this.chunks.len()];
        this.turn += 1;
        let end = (this.pos + chunk)
            .min(this.data.len())
            .min(this.pos + buf.remaining());
        buf.put_slice(&this.data[this.pos..end]);
        this.pos = end;
        Poll::Ready(Ok(()))
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

proptest! {
    #[test]
    fn frames_survive_any_split(
        payloads in vec(vec(any::<u8>(), 1..600), 0..8),
        chunks in vec(1usize..70, 1..6),
    ) {
        let mut data = Vec::new();
        for payload in &payloads {
            // Independent encoding: big-endian length, then the payload.
            let len = u16::try_from(payload.len()).unwrap();
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(payload);
        }
        let mut reader = Chunked { data, pos: 0, chunks, turn: 0 };
        let decoded = block_on(async {
            let mut out = Vec::new();
            while let Some(frame) = read_frame(&mut reader).await.unwrap() {
                out.push(frame);
            }
            out
        });
        prop_assert_eq!(decoded, payloads);
    }

    #[test]
    fn messages_decode_by_length(payload in vec(any::<u8>(), 1..40)) {
        let mut data = u16::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
        data.extend_from_slice(&payload);
        let mut reader = &data[..];
        let message = block_on(read_message(&mut reader)).unwrap().unwrap();
        match (payload.as_slice(), message) {
            ([0x00], VpcdMessage::PowerOff)
            | ([0x01], VpcdMessage::PowerOn)
            | ([0x02], VpcdMessage::Reset)
            | ([0x04], VpcdMessage::GetAtr) => {}
            ([b], VpcdMessage::ShortCommand(u)) => prop_assert!(*b == u && ![0, 1, 2, 4].contains(b)),
            (p, VpcdMessage::Apdu(apdu)) => prop_assert!(p.len() >= 2 && p == apdu.as_slice()),
            (p, m) => prop_assert!(false, "{:02X?} decoded as {:?}", p, m),
        }
    }

    #[test]
    fn encode_is_exact_or_refused(len in prop_oneof![0usize..4, 65_530usize..65_540]) {
        let payload = vec![0xA5; len];
        match encode_frame(&payload) {
            Ok(frame) => {
                prop_assert!((1..=65_535).contains(&len));
                prop_assert_eq!(usize::from(u16::from_be_bytes([frame[0], frame[1]])), len);
                prop_assert_eq!(&frame[2..], &payload[..]);
            }
            Err(Error::EmptyFrame) => prop_assert_eq!(len, 0),
            Err(Error::FrameTooLarge { len: refused }) => {
                prop_assert!(len > 65_535);
                prop_assert_eq!(refused, len);
            }
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}
