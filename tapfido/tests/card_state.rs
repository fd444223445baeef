//! A card's state file: created on first start, reloaded, never reset
//! silently when corrupt, never served by two cards at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use applet::state::{decode, SIGN_COUNT_BLOCK};
use tapfido::control::PresenceSwitch;
use tapfido::serve::{build_fido, fido_config, load_or_create_ca, CardPlan, ServeError};

fn plan(dir: &std::path::Path) -> CardPlan {
    CardPlan {
        slot: 0,
        vpcd: "127.0.0.1:35963".into(),
        state: dir.join("slot0").join("state.bin"),
    }
}

#[test]
fn fresh_card_is_stored_then_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let ca = load_or_create_ca(dir.path(), None).unwrap();
    let plan = plan(dir.path());
    let config = Config::default();
    let card = build_fido(&plan, &config, &ca, PresenceSwitch::default()).unwrap();
    drop(card);
    let stored = decode(&std::fs::read(&plan.state).unwrap()).unwrap();
    let card = build_fido(&plan, &config, &ca, PresenceSwitch::default()).unwrap();
    drop(card);
    let reloaded = decode(&std::fs::read(&plan.state).unwrap()).unwrap();
    assert_eq!(
        reloaded.identity(),
        stored.identity(),
        "reload keeps the keys"
    );
    // A starting card reserves the next block of signature counters; nothing else moves.
    let (before, after) = (stored.persistent(), reloaded.persistent());
    assert_eq!(after.sign_count, before.sign_count + SIGN_COUNT_BLOCK);
    let mut moved = before.clone();
    moved.sign_count = after.sign_count;
    assert_eq!(&moved, after, "reload keeps the rest of the state");
}

#[test]
fn corrupt_state_refuses_to_start_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let ca = load_or_create_ca(dir.path(), None).unwrap();
    let plan = plan(dir.path());
    std::fs::create_dir_all(plan.state.parent().unwrap()).unwrap();
    std::fs::write(&plan.state, b"definitely not a tapfido state").unwrap();
    let err = build_fido(&plan, &Config::default(), &ca, PresenceSwitch::default()).unwrap_err();
    assert!(matches!(err, ServeError::Card { slot: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("refuses to start"), "{err}");
    assert_eq!(
        std::fs::read(&plan.state).unwrap(),
        b"definitely not a tapfido state"
    );
}

#[test]
fn a_state_file_serves_one_card_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let ca = load_or_create_ca(dir.path(), None).unwrap();
    let plan = plan(dir.path());
    let _first = build_fido(&plan, &Config::default(), &ca, PresenceSwitch::default()).unwrap();
    let second = build_fido(&plan, &Config::default(), &ca, PresenceSwitch::default());
    assert!(
        matches!(second, Err(ServeError::StateFile { slot: 0, .. })),
        "{second:?}"
    );
}

#[test]
fn aaguid_override() {
    let base = Config::default();
    assert_eq!(fido_config(base.clone(), None), base);
    assert_eq!(fido_config(base, Some([7; 16])).aaguid.0, [7; 16]);
}

#[test]
fn card_env_reads_the_touch_switch_and_a_monotonic_clock() {
    use applet::env::{Env, MemoryStorage, Presence};
    use tapfido::env::CardEnv;

    let switch = PresenceSwitch::default();
    let mut env = CardEnv::new(switch.clone(), MemoryStorage::default());
    assert_eq!(env.presence(), Presence::Field);
    switch.set(Presence::Touched);
    assert_eq!(env.presence(), Presence::Touched);
    switch.set(Presence::Withheld);
    assert_eq!(env.presence(), Presence::Withheld);
    let t0 = env.now();
    assert!(env.now() >= t0);
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    env.rng().fill_bytes(&mut a);
    env.rng().fill_bytes(&mut b);
    assert_ne!(a, b, "OS randomness");
    env.storage().store(b"x").unwrap();
    assert_eq!(env.storage().load().unwrap(), Some(b"x".to_vec()));
}
