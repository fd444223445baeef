//! The demo flow end to end on the FIDO applet in this process: tap, set
//! PIN, register a discoverable credential with hmac-secret, remove, tap
//! again, sign in with PIN, verify with the offline relying party and the
//! embedded policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use applet::config::Config;
use relying_party::cert::parse_cert;
use relying_party::{Outcome, Rule};
use tapfido::demo::{run_demo_with_card, DemoOptions, StepResult};

const STEPS: [&str; 11] = [
    "tap",
    "read card info",
    "set PIN",
    "register",
    "verify attestation",
    "remove card",
    "tap again",
    "sign in with PIN",
    "verify assertion",
    "policy",
    "",
];

#[test]
fn whole_flow_passes_in_process() {
    let (card, ca, aaguid) = testkit::card::fido_card(1, Config::default());
    let anchors = vec![parse_cert(&ca, 0).unwrap()];
    let report = run_demo_with_card(card, anchors, aaguid, &DemoOptions::default()).unwrap();
    println!("{report}");
    let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, STEPS[..10]);
    for step in &report.steps {
        assert!(
            matches!(step.result, StepResult::Pass { .. }),
            "{}: {:?}",
            step.name,
            step.result
        );
    }
    assert!(report.passed);
    // One SELECT each for the two taps.
    assert_eq!(report.step("tap").unwrap().apdus, 1);
    assert_eq!(report.step("tap again").unwrap().apdus, 1);
    assert_eq!(report.step("remove card").unwrap().apdus, 0);
    let reg_policy = report.registration_policy.as_ref().unwrap();
    for rule in [
        Rule::Attestation,
        Rule::KeyRestrictions,
        Rule::DeviceBound,
        Rule::UserVerification,
    ] {
        assert_eq!(
            reg_policy.rule(rule).unwrap().outcome,
            Outcome::Pass,
            "{rule:?}"
        );
    }
    let a_policy = report.assertion_policy.as_ref().unwrap();
    assert_eq!(
        a_policy.rule(Rule::UserVerification).unwrap().outcome,
        Outcome::Pass
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["steps"][0]["result"]["status"], "pass");
}

#[test]
fn blocked_aaguid_fails_the_policy_step() {
    let (card, ca, aaguid) = testkit::card::fido_card(2, Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"block tapfido\"\n[key_restrictions]\nbehavior = \"block\"\naaguids = [\"{}\"]\n",
            hex::encode(aaguid)
        ),
    )
    .unwrap();
    let options = DemoOptions {
        policy: Some(path),
        ..DemoOptions::default()
    };
    let report =
        run_demo_with_card(card, vec![parse_cert(&ca, 0).unwrap()], aaguid, &options).unwrap();
    assert!(!report.passed);
    assert!(matches!(
        report.step("policy").unwrap().result,
        StepResult::Fail { .. }
    ));
    let reg = report.registration_policy.unwrap();
    assert_eq!(
        reg.rule(Rule::KeyRestrictions).unwrap().outcome,
        Outcome::Fail
    );
}

#[test]
fn missing_features_are_skipped_not_faked() {
    let mut config = Config::default();
    config.extensions.retain(|e| e != "hmac-secret");
    config.options.remove("clientPin");
    let (card, ca, aaguid) = testkit::card::fido_card(3, config);
    let report = run_demo_with_card(
        card,
        vec![parse_cert(&ca, 0).unwrap()],
        aaguid,
        &DemoOptions::default(),
    )
    .unwrap();
    println!("{report}");
    assert!(matches!(
        report.step("set PIN").unwrap().result,
        StepResult::Skipped { .. }
    ));
    match &report.step("sign in with PIN").unwrap().result {
        StepResult::Pass { detail } => assert!(detail.contains("hmac-secret skipped")),
        other => panic!("{other:?}"),
    }
    // Without UV the embedded policy's UV rule fails.
    assert!(!report.passed);
    let reg = report.registration_policy.unwrap();
    assert_eq!(
        reg.rule(Rule::UserVerification).unwrap().outcome,
        Outcome::Fail
    );
}

/// `tapfido demo` itself: the embedded card behind the reader bridge, on
/// both built-in profiles (default advertises extended length; pocketkey's
/// ACS ATR does not, so long requests are chained).
#[test]
fn run_demo_on_both_builtin_profiles() {
    for profile in ["default", "pocketkey"] {
        let options = DemoOptions {
            in_process: true,
            profile: profile.into(),
            ..DemoOptions::default()
        };
        let report = tapfido::demo::run_demo(&options).unwrap();
        println!("{report}");
        assert!(report.transport.contains(profile));
        for name in [
            "tap",
            "read card info",
            "set PIN",
            "register",
            "verify attestation",
            "remove card",
            "tap again",
            "sign in with PIN",
            "verify assertion",
            "policy",
        ] {
            let step = report
                .step(name)
                .unwrap_or_else(|| panic!("{profile}: no step {name}"));
            assert!(
                matches!(step.result, StepResult::Pass { .. }),
                "{profile}: {name}: {:?}",
                step.result
            );
        }
        assert!(report.passed, "{profile}");
    }
}
