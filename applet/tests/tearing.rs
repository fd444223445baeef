//! Interrupted storage writes (reliability §8.1 items 4, 7, 10, 11): for every
//! state-changing command and every k, the k-th write of the command fails;
//! the command must answer an error, the card must keep in memory exactly
//! what storage holds, and a card restarted from the stored bytes must be in
//! the state before or after the command (model check à la OpenSK's
//! `StoreDriver`), observed both by decoding the stored state and through
//! the independent client (PIN retries, discoverable credentials).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::client;
mod ops;

use applet::config::Config;
use applet::state::CardState;
use client::pin::*;
use client::*;
use ops::*;

/// The seed of the card every scenario is set up on.
const SETUP_SEED: u64 = 0x7ea2;
/// The seed of the card restarted from the pre-command state.
const LOAD_SEED: u64 = 0x10ad;

/// What the scenario's setup leaves for its command.
#[derive(Clone, Default)]
struct Ctx {
    rk: Option<Registered>,
    plain: Option<Registered>,
    u2f: Option<(Vec<u8>, Vec<u8>)>,
}

type Act = fn(&mut Card, &Ctx, &mut dyn FnMut(&mut Card)) -> Outcome;

struct Scenario {
    name: &'static str,
    setup: fn(&mut Card) -> Ctx,
    /// Prepares (key agreement, token), calls `arm` right before the command
    /// under test, sends it.
    act: Act,
    /// The uninterrupted answer: `None` = success, else the error status.
    expect: Option<u16>,
    /// A stored state allowed besides before/after (given the state before).
    intermediate: fn(&CardState, &CardState) -> bool,
}

fn none(_: &CardState, _: &CardState) -> bool {
    false
}

/// Only pinRetries decremented by one (§8.1 item 3: a correct PIN whose
/// reset-to-8 was interrupted).
fn retries_decremented(pre: &CardState, s: &CardState) -> bool {
    let mut expect = pre.persistent().clone();
    expect.pin_retries = expect.pin_retries.saturating_sub(1);
    s.identity() == pre.identity() && *s.persistent() == expect
}

fn blank(_: &mut Card) -> Ctx {
    Ctx::default()
}

/// PIN set, one discoverable and one non-discoverable credential for
/// [`RP`], one U2F registration.
fn populated(card: &mut Card) -> Ctx {
    set_pin(card, 2, PIN);
    let t = token(card, 2, PIN, PERM_MC, Some(RP));
    let rk = make_credential(card, RP, b"user-rk", true, Some(&t)).unwrap();
    let t = token(card, 2, PIN, PERM_MC, Some(RP));
    let plain = make_credential(card, RP, b"user-plain", false, Some(&t)).unwrap();
    let u2f = u2f_register(card).unwrap();
    Ctx {
        rk: Some(rk),
        plain: Some(plain),
        u2f: Some(u2f),
    }
}

/// As [`populated`], after one wrong PIN (retries 7).
fn one_wrong(card: &mut Card) -> Ctx {
    let ctx = populated(card);
    assert_eq!(
        token_armed(card, WRONG_PIN, PERM_CM, None, &mut |_| {}).unwrap_err(),
        u16::from(PIN_INVALID)
    );
    ctx
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "setPIN",
            setup: blank,
            act: |c, _, arm| set_pin_armed(c, PIN, arm),
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "changePIN",
            setup: populated,
            act: |c, _, arm| change_pin(c, PIN, NEW_PIN, arm),
            expect: None,
            intermediate: retries_decremented,
        },
        Scenario {
            name: "getPinToken, wrong PIN",
            setup: populated,
            act: |c, _, arm| token_armed(c, WRONG_PIN, PERM_CM, None, arm).map(|_| None),
            expect: Some(u16::from(PIN_INVALID)),
            intermediate: none,
        },
        Scenario {
            name: "getPinToken, right PIN, retries 8",
            setup: populated,
            act: |c, _, arm| token_armed(c, PIN, PERM_CM, None, arm).map(|_| None),
            expect: None,
            intermediate: retries_decremented,
        },
        Scenario {
            name: "getPinToken, right PIN, retries 7",
            setup: one_wrong,
            act: |c, _, arm| token_armed(c, PIN, PERM_CM, None, arm).map(|_| None),
            expect: None,
            intermediate: retries_decremented,
        },
        Scenario {
            name: "makeCredential rk",
            setup: populated,
            act: |c, _, arm| {
                let t = token(c, 2, PIN, PERM_MC, Some(NEW_RP));
                arm(c);
                make_credential(c, NEW_RP, b"user-new", true, Some(&t)).map(|r| Some(r.id))
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "makeCredential non-rk",
            setup: populated,
            act: |c, _, arm| {
                let t = token(c, 2, PIN, PERM_MC, Some(NEW_RP));
                arm(c);
                make_credential(c, NEW_RP, b"user-new", false, Some(&t)).map(|r| Some(r.id))
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "getAssertion counter",
            setup: populated,
            act: |c, ctx, arm| {
                arm(c);
                get_assertion(c, RP, &[ctx.plain.as_ref().unwrap()]).map(|_| None)
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "credMgmt delete",
            setup: populated,
            act: |c, ctx, arm| {
                let t = token(c, 2, PIN, PERM_CM, None);
                arm(c);
                cm_delete(c, &ctx.rk.as_ref().unwrap().id, &t)
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "credMgmt update",
            setup: populated,
            act: |c, ctx, arm| {
                let t = token(c, 2, PIN, PERM_CM, None);
                arm(c);
                cm_update(c, &ctx.rk.as_ref().unwrap().id, b"user-rk", "renamed", &t)
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "authenticatorReset",
            setup: populated,
            act: |c, _, arm| {
                arm(c);
                status(c.ctap(RESET, None))
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "authenticatorConfig setMinPINLength",
            setup: populated,
            act: |c, _, arm| {
                let t = token(c, 2, PIN, PERM_ACFG, None);
                arm(c);
                status(config(
                    c,
                    0x03,
                    Some(cmap(vec![(int(1), int(6))])),
                    Some(&t),
                ))
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "largeBlobs write",
            setup: populated,
            act: |c, _, arm| {
                let t = token(c, 2, PIN, PERM_LBW, None);
                arm(c);
                large_blob_write(c, 0x5a, &t)
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "U2F register",
            setup: populated,
            act: |c, _, arm| {
                arm(c);
                u2f_register(c).map(|(_, kh)| Some(kh))
            },
            expect: None,
            intermediate: none,
        },
        Scenario {
            name: "U2F authenticate",
            setup: populated,
            act: |c, ctx, arm| {
                let (pk, kh) = ctx.u2f.clone().unwrap();
                arm(c);
                u2f_authenticate(c, &pk, &kh).map(|_| None)
            },
            expect: None,
            intermediate: none,
        },
    ]
}

/// What the client sees of a card: PIN retries and the discoverable
/// credentials of both RPs. (Sends getAssertions: use on a throwaway card.)
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    retries: i128,
    rp: Vec<Vec<u8>>,
    new_rp: Vec<Vec<u8>>,
}

fn seen(card: &mut Card) -> Seen {
    Seen {
        retries: pin_retries(card),
        rp: discoverable(card, RP),
        new_rp: discoverable(card, NEW_RP),
    }
}

fn run(sc: &Scenario) {
    let mut card = Card::new(SETUP_SEED, Config::default(), false);
    let ctx = (sc.setup)(&mut card);
    let pre = bytes_now(&mut card);

    // The uninterrupted command.
    let mut card = load(&pre, LOAD_SEED);
    let mut before = 0;
    let out = (sc.act)(&mut card, &ctx, &mut |c| before = c.storage().1);
    let writes = card.storage().1 - before;
    assert_eq!(out.clone().err(), sc.expect, "{}: answer", sc.name);
    let post = bytes_now(&mut card);
    if sc.name == "U2F register" {
        // A U2F key handle is sealed key material: nothing is stored, so
        // there is nothing to tear; the registration still works after a
        // restart (the counter check of "U2F authenticate").
        assert_eq!((writes, &post), (0, &pre), "{}", sc.name);
        return;
    }
    assert!(writes >= 1, "{}: the command wrote nothing", sc.name);
    eprintln!("{}: {writes} write(s), each interrupted in turn", sc.name);
    let seen_pre = seen(&mut load(&pre, 1));
    let seen_post = seen(&mut load(&post, 1));
    if let Ok(Some(id)) = &out {
        // Reported created: a restart right afterwards still has it.
        if sc.name == "makeCredential rk" {
            assert_eq!(seen_post.new_rp, vec![id.clone()], "{}", sc.name);
        }
        if sc.name == "makeCredential non-rk" {
            let mut again = load(&post, 2);
            let r = again.ctap(GA, Some(ga_request(NEW_RP, &cdh(0x6a), &[id])));
            assert_eq!(r.status, 0, "{}: created credential lost", sc.name);
        }
    }

    let (pre_state, post_state) = (stored(&pre), stored(&post));
    for k in 0..writes {
        let mut card = load(&pre, LOAD_SEED);
        let out_k = (sc.act)(&mut card, &ctx, &mut |c| {
            c.env().storage.fail_after = Some(k);
        });
        let what = format!("{}: write {k} of {writes} failed", sc.name);
        assert!(out_k.is_err(), "{what}: answered success");
        if let Some(status) = sc.expect {
            assert_ne!(out_k, Err(status), "{what}: same answer as without failure");
        }
        card.env().storage.fail_after = None;
        let bytes = bytes_now(&mut card);
        let s = stored(&bytes);
        assert_eq!(
            card.applet().authenticator().state,
            s,
            "{what}: memory differs from storage"
        );
        let is_pre = s == pre_state;
        let is_post = s == post_state;
        assert!(
            is_pre || is_post || (sc.intermediate)(&pre_state, &s),
            "{what}: stored state is neither before nor after:\n{s:?}"
        );
        let seen_k = seen(&mut load(&bytes, 1));
        if is_pre {
            assert_eq!(seen_k, seen_pre, "{what}: restart sees another state");
        } else if is_post {
            assert_eq!(seen_k, seen_post, "{what}: restart sees another state");
        } else {
            assert_eq!(seen_k.retries, seen_pre.retries - 1, "{what}");
            assert_eq!(
                (&seen_k.rp, &seen_k.new_rp),
                (&seen_pre.rp, &seen_pre.new_rp)
            );
        }
        // The card goes on working: the same command, unharmed, answers as
        // without the failure.
        let again = (sc.act)(&mut card, &ctx, &mut |_| {});
        assert_eq!(again.err(), sc.expect, "{what}: the command then fails");
    }
}

#[test]
fn every_interrupted_write_leaves_the_state_before_or_after() {
    for sc in scenarios() {
        run(&sc);
    }
}

#[test]
fn a_failed_write_during_a_credential_creation_leaves_no_credential() {
    let mut card = Card::new(SETUP_SEED, Config::default(), false);
    let ctx = populated(&mut card);
    let t = token(&mut card, 2, PIN, PERM_MC, Some(NEW_RP));
    card.env().storage.fail_after = Some(0);
    let r = make_credential(&mut card, NEW_RP, b"u", true, Some(&t));
    assert!(r.is_err());
    card.env().storage.fail_after = None;
    card.restart();
    assert_eq!(discoverable(&mut card, NEW_RP), Vec::<Vec<u8>>::new());
    // Existing credentials keep working.
    assert_eq!(
        discoverable(&mut card, RP),
        vec![ctx.rk.clone().unwrap().id]
    );
    assert!(get_assertion(&mut card, RP, &[ctx.plain.as_ref().unwrap()]).is_ok());
}
