//! `tapfido demo` and `tapfido doctor` through pcscd + vpcd, when this
//! machine has them: the embedded card is served on a free vpcd slot and
//! driven through PC/SC, on both built-in profiles. Without pcscd or the
//! vpcd driver the test says SKIPPED and passes (the end-to-end suite in
//! `tests/` enforces the stack in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use host::doctor::{doctor_pcsc, CheckOutcome, DoctorOptions};
use tapfido::demo::vpcd::{free_vpcd_slot, run_demo_vpcd, ServedCard, VPCD_PORT};
use tapfido::demo::{DemoOptions, StepResult};
use tapfido::ops;

#[test]
fn demo_and_doctor_through_pcscd_and_vpcd() {
    // The end-to-end harness's locks (tests/src/lock.rs): pcscd shared,
    // then one vpcd slot exclusive, so this test never shares a slot.
    let Some(lock) = free_vpcd_slot() else {
        println!(
            "SKIPPED: no pcscd with a free vpcd reader (apt-get install pcscd vsmartcard-vpcd)"
        );
        return;
    };
    let slot = lock.slot();
    let vpcd = format!("127.0.0.1:{}", VPCD_PORT + slot);
    for profile in ["default", "pocketkey"] {
        let options = DemoOptions {
            profile: profile.into(),
            ..DemoOptions::default()
        };
        let report = run_demo_vpcd(&options, &vpcd, slot).unwrap();
        println!("{report}");
        assert!(report.transport.contains("Virtual PCD"));
        for step in &report.steps {
            assert!(
                matches!(step.result, StepResult::Pass { .. }),
                "{profile}: {}: {:?}",
                step.name,
                step.result
            );
        }
        assert!(report.passed);

        let card = ServedCard::start(profile, &vpcd, slot).unwrap();
        let mut session = ops::open(&card.selector()).unwrap();
        ops::pin_set(&mut session, "271828").unwrap();
        drop(session);
        let options = DoctorOptions {
            pin: Some("271828".into()),
            anchors: card.anchors.clone(),
        };
        let r = doctor_pcsc(&card.selector(), &options).unwrap();
        println!("{r}");
        for check in &r.checks {
            assert_eq!(
                check.outcome,
                CheckOutcome::Pass,
                "{profile}: {}: {}",
                check.name,
                check.reason
            );
        }
        assert!(r.passed, "{profile}");
        card.stop().unwrap();
    }
}
