use crate::protocol::{read_message, write_message, write_reply, VpcdMessage};
use crate::Error;

#[test]
fn decode_control_codes() {
    assert_eq!(
        VpcdMessage::decode(vec![0x00]).unwrap(),
        VpcdMessage::PowerOff
    );
    assert_eq!(
        VpcdMessage::decode(vec![0x01]).unwrap(),
        VpcdMessage::PowerOn
    );
    assert_eq!(VpcdMessage::decode(vec![0x02]).unwrap(), VpcdMessage::Reset);
    assert_eq!(
        VpcdMessage::decode(vec![0x04]).unwrap(),
        VpcdMessage::GetAtr
    );
    assert_eq!(
        VpcdMessage::decode(vec![0x03]).unwrap(),
        VpcdMessage::ShortCommand(0x03)
    );
    assert_eq!(
        VpcdMessage::decode(vec![0xFF]).unwrap(),
        VpcdMessage::ShortCommand(0xFF)
    );
}

#[test]
fn decode_two_bytes_or_more_as_apdu() {
    assert_eq!(
        VpcdMessage::decode(vec![0x00, 0x00]).unwrap(),
        VpcdMessage::Apdu(vec![0x00, 0x00])
    );
    let select = vec![0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00];
    assert_eq!(
        VpcdMessage::decode(select.clone()).unwrap(),
        VpcdMessage::Apdu(select)
    );
}

#[test]
fn decode_rejects_empty_payload() {
    assert!(matches!(
        VpcdMessage::decode(Vec::new()),
        Err(Error::EmptyFrame)
    ));
}

#[test]
fn payload_round_trip() {
    let messages = [
        VpcdMessage::PowerOff,
        VpcdMessage::PowerOn,
        VpcdMessage::Reset,
        VpcdMessage::GetAtr,
        VpcdMessage::ShortCommand(0x07),
        VpcdMessage::Apdu(vec![0x80, 0x10, 0x00, 0x00, 0x01, 0x04, 0x00]),
    ];
    for message in messages {
        assert_eq!(VpcdMessage::decode(message.to_payload()).unwrap(), message);
    }
}

#[test]
fn only_atr_apdus_and_short_commands_expect_a_reply() {
    assert!(VpcdMessage::GetAtr.expects_reply());
    assert!(VpcdMessage::Apdu(vec![0, 0]).expects_reply());
    assert!(!VpcdMessage::PowerOff.expects_reply());
    assert!(!VpcdMessage::PowerOn.expects_reply());
    assert!(!VpcdMessage::Reset.expects_reply());
    assert!(VpcdMessage::ShortCommand(3).expects_reply());
}

#[tokio::test]
async fn read_messages_from_wire_bytes() {
    let bytes = [
        0x00, 0x01, 0x01, // power on
        0x00, 0x01, 0x04, // get ATR
        0x00, 0x05, 0x00, 0xA4, 0x04, 0x00, 0x00, // APDU
        0x00, 0x01, 0x09, // one-byte command
    ];
    let mut input = &bytes[..];
    assert_eq!(
        read_message(&mut input).await.unwrap(),
        Some(VpcdMessage::PowerOn)
    );
    assert_eq!(
        read_message(&mut input).await.unwrap(),
        Some(VpcdMessage::GetAtr)
    );
    assert_eq!(
        read_message(&mut input).await.unwrap(),
        Some(VpcdMessage::Apdu(vec![0x00, 0xA4, 0x04, 0x00, 0x00]))
    );
    assert_eq!(
        read_message(&mut input).await.unwrap(),
        Some(VpcdMessage::ShortCommand(0x09))
    );
    assert_eq!(read_message(&mut input).await.unwrap(), None);
}

#[tokio::test]
async fn read_message_rejects_zero_length_frame() {
    let mut input = &[0x00, 0x00][..];
    assert!(matches!(
        read_message(&mut input).await,
        Err(Error::EmptyFrame)
    ));
}

#[tokio::test]
async fn write_message_as_vpcd_does() {
    let mut out: Vec<u8> = Vec::new();
    write_message(&mut out, &VpcdMessage::GetAtr).await.unwrap();
    write_message(&mut out, &VpcdMessage::Apdu(vec![0x00, 0xB0, 0x00, 0x00]))
        .await
        .unwrap();
    assert_eq!(out, [0x00, 0x01, 0x04, 0x00, 0x04, 0x00, 0xB0, 0x00, 0x00]);
}

#[tokio::test]
async fn write_reply_never_sends_empty_or_oversized() {
    let mut out: Vec<u8> = Vec::new();
    assert!(matches!(
        write_reply(&mut out, &[]).await,
        Err(Error::EmptyFrame)
    ));
    assert!(matches!(
        write_reply(&mut out, &vec![0; 65_536]).await,
        Err(Error::FrameTooLarge { len: 65_536 })
    ));
    assert!(out.is_empty());
}
