//! authenticatorGetInfo reflects the PIN state (CTAP 2.1 §6.4: clientPin,
//! pinUvAuthToken, pinUvAuthProtocols, forcePINChange, minPINLength) and
//! authenticatorReset restores a fresh card's answers.

use ciborium::value::Value as CValue;

use super::pin_applet::{bytes, int, mac, make_credential, text, Tap, PIN};
use crate::pin::protocol::PinUvAuthProtocol;

fn info(tap: &mut Tap) -> CValue {
    let (status, body) = tap.send(0x04, None);
    assert_eq!(status, 0);
    body.unwrap()
}

fn field(info: &CValue, key: i64) -> Option<CValue> {
    info.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k == &int(key))
        .map(|(_, v)| v.clone())
}

fn option(info: &CValue, name: &str) -> Option<bool> {
    field(info, 0x04)?
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k == &text(name))
        .map(|(_, v)| v.as_bool().unwrap())
}

#[test]
fn get_info_follows_the_pin_and_reset() {
    let mut tap = Tap::new(95);
    let fresh = info(&mut tap);
    assert_eq!(option(&fresh, "clientPin"), Some(false));
    assert_eq!(option(&fresh, "pinUvAuthToken"), Some(true));
    assert_eq!(option(&fresh, "authnrCfg"), Some(true));
    assert_eq!(option(&fresh, "setMinPINLength"), Some(true));
    assert_eq!(
        field(&fresh, 0x06),
        Some(CValue::Array(vec![int(2), int(1)]))
    );
    assert_eq!(field(&fresh, 0x0C), Some(CValue::Bool(false)));
    assert_eq!(field(&fresh, 0x0D), Some(int(4)));
    let remaining = field(&fresh, 0x14).unwrap();

    assert_eq!(tap.set_pin(PinUvAuthProtocol::Two, PIN), 0);
    let token = tap
        .token(PinUvAuthProtocol::Two, PIN, 0x01, Some("example.com"))
        .unwrap();
    let cdh = [9; 32];
    let mut extra = vec![
        (8, bytes(&mac(PinUvAuthProtocol::Two, &token, &cdh))),
        (9, int(2)),
    ];
    extra.push((7, CValue::Map(vec![(text("rk"), CValue::Bool(true))])));
    assert_eq!(tap.status(0x01, Some(&make_credential(&cdh, extra))), 0);

    let with_pin = info(&mut tap);
    assert_eq!(option(&with_pin, "clientPin"), Some(true));
    assert_ne!(field(&with_pin, 0x14).unwrap(), remaining);

    assert_eq!(tap.status(0x07, None), 0);
    let after = info(&mut tap);
    assert_eq!(option(&after, "clientPin"), Some(false));
    assert_eq!(field(&after, 0x14).unwrap(), remaining);
    assert_eq!(field(&after, 0x0D), Some(int(4)));
}
