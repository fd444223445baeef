//! The vpcd wire protocol (vsmartcard `vpcd` driver): a byte stream of
//! `length(2, big-endian) || payload` frames, each decoded into a message. Never a panic;
//! every decoded message encodes back to its payload, and a well-framed stream is
//! consumed to its end. Every frame but power off / on / reset expects a reply (a one-byte
//! command that is not a control code gets `67 00`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vsmartcard::frame::{encode_frame, read_frame};
use vsmartcard::protocol::VpcdMessage;

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut stream = data;
        let mut consumed = 0usize;
        while let Ok(Some(payload)) = read_frame(&mut stream).await {
            consumed += 2 + payload.len();
            if payload.is_empty() {
                // A zero-length frame: read, but no message (vpcd never sends one).
                assert!(VpcdMessage::decode(payload).is_err());
                continue;
            }
            let framed = encode_frame(&payload).unwrap();
            assert_eq!(framed, data[consumed - framed.len()..consumed]);
            if let Ok(message) = VpcdMessage::decode(payload.clone()) {
                assert_eq!(message.to_payload(), payload);
                // Only power off / on / reset go unanswered: vpcd waits for a reply to
                // anything else, one-byte commands included.
                let silent = matches!(payload.as_slice(), [0x00] | [0x01] | [0x02]);
                assert_eq!(message.expects_reply(), !silent);
            }
        }
    });
});
