//! What the card panel shows of a card's stored state — never a secret.
//!
//! [`WatchedFido`] wraps the FIDO applet: after every command it brings
//! the [`CardSummary`] up to date with the applet's state and, when it
//! changed, publishes it on the card's [`CardHandle::summary`] and tells the
//! event log. The whole summary is rebuilt only when the stored state changed
//! (`CardState::revision`); a sign-in only moves the counter and retries. Shown: AAGUID, whether a PIN is set and its retries, the signature
//! counter, and per RP the discoverable credentials' user name, display
//! name, credProtect level and creation number. Not shown: keys, the PIN
//! hash, credential IDs (they carry sealed key material), user IDs,
//! credBlob and largeBlobKey.

use std::sync::Arc;

use applet::env::Env;
use applet::fido::FidoApplet;
use applet::iso::{Applet, Command, CtapOutcome, Status};
use serde::Serialize;

use super::events::{EventKind, EventLog};
use super::CardHandle;

/// One discoverable credential, as shown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    /// user.name.
    pub user: Option<String>,
    /// user.displayName.
    pub display_name: Option<String>,
    /// credProtect level, 1 to 3 (CTAP 2.1 §12.1).
    pub cred_protect: u8,
    /// Creation sequence number (higher = more recent).
    pub created: u64,
}

/// The discoverable credentials of one RP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpSummary {
    /// RP ID.
    pub rp: String,
    /// rp.name, when the platform sent one.
    pub name: Option<String>,
    /// Its credentials, oldest first.
    pub credentials: Vec<CredentialSummary>,
}

/// A card's stored state as the panel shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardSummary {
    /// AAGUID, 8-4-4-4-12 lower-case hex (empty until the applet reports).
    pub aaguid: String,
    /// Whether a PIN is set.
    pub pin_set: bool,
    /// pinRetries left.
    pub pin_retries: u8,
    /// The global signature counter (last value sent).
    pub sign_count: u32,
    /// Discoverable credentials by RP, RPs in order of first credential.
    pub rps: Vec<RpSummary>,
}

impl CardSummary {
    /// The summary of `applet`'s current state.
    pub fn of<E: Env>(applet: &FidoApplet<E>) -> Self {
        let auth = applet.authenticator();
        let state = auth.state.persistent();
        let mut rps: Vec<RpSummary> = Vec::new();
        for cred in &state.credentials {
            let entry = match rps.iter().position(|rp| rp.rp == cred.rp_id) {
                Some(i) => &mut rps[i],
                None => {
                    rps.push(RpSummary {
                        rp: cred.rp_id.clone(),
                        name: cred.rp_name.clone(),
                        credentials: Vec::new(),
                    });
                    let last = rps.len() - 1;
                    &mut rps[last]
                }
            };
            entry.credentials.push(CredentialSummary {
                user: cred.user_name.clone(),
                display_name: cred.user_display_name.clone(),
                cred_protect: cred.cred_protect,
                created: cred.created,
            });
        }
        CardSummary {
            aaguid: format_aaguid(&auth.config.aaguid.0),
            pin_set: state.pin_hash.is_some(),
            pin_retries: auth.state.pin_retries(),
            sign_count: auth.state.sign_count(),
            rps,
        }
    }

    /// Takes the values that run ahead of storage (pinRetries, the signature
    /// counter) from `applet`; the rest is what storage holds, unchanged while
    /// `CardState::revision` is. Returns whether anything changed.
    fn refresh_live<E: Env>(&mut self, applet: &FidoApplet<E>) -> bool {
        let state = &applet.authenticator().state;
        let live = (state.pin_retries(), state.sign_count());
        let changed = live != (self.pin_retries, self.sign_count);
        (self.pin_retries, self.sign_count) = live;
        changed
    }
}

/// Append the summary's fields to a card's status object (after its other
/// fields): `,"aaguid":"…","pinSet":true,"pinRetries":8,"signCount":3,
/// "rps":[{"rp":"example.com","name":null,"credentials":[{"user":"alice",
/// "displayName":"Alice","credProtect":1,"created":0}]}]`.
pub fn write_json_fields(summary: &CardSummary, out: &mut String) {
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(summary) {
        for (key, value) in fields {
            out.push(',');
            out.push_str(&serde_json::Value::String(key).to_string());
            out.push(':');
            out.push_str(&value.to_string());
        }
    }
}

pub use relying_party::policy::format_aaguid;

/// The FIDO applet, reporting its [`CardSummary`] after every command.
pub struct WatchedFido<E: Env> {
    inner: FidoApplet<E>,
    handle: Arc<CardHandle>,
    events: EventLog,
    /// The state revision the published summary was built from.
    revision: Option<u64>,
}

impl<E: Env> std::fmt::Debug for WatchedFido<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedFido")
            .field("slot", &self.handle.slot)
            .finish_non_exhaustive()
    }
}

impl<E: Env> WatchedFido<E> {
    /// Wrap `inner`, the applet of the card behind `handle`, and publish its
    /// summary now.
    pub fn new(inner: FidoApplet<E>, handle: Arc<CardHandle>, events: EventLog) -> Self {
        let mut watched = Self {
            inner,
            handle,
            events,
            revision: None,
        };
        watched.publish();
        watched
    }

    fn publish(&mut self) {
        let revision = self.inner.authenticator().state.revision();
        let rebuild = self.revision != Some(revision);
        self.revision = Some(revision);
        let inner = &self.inner;
        let changed = self.handle.summary.send_if_modified(|current| {
            if !rebuild {
                return current.refresh_live(inner);
            }
            let summary = CardSummary::of(inner);
            if *current == summary {
                false
            } else {
                *current = summary;
                true
            }
        });
        if changed {
            self.events.publish(self.handle.slot, EventKind::Card);
        }
    }
}

impl<E: Env> Applet for WatchedFido<E> {
    fn aid(&self) -> &[u8] {
        self.inner.aid()
    }

    fn select(&mut self, reply: &mut Vec<u8>) -> Result<(), Status> {
        self.inner.select(reply)
    }

    fn deselect(&mut self) {
        self.inner.deselect();
    }

    fn process(&mut self, cmd: &Command<'_>, reply: &mut Vec<u8>) -> Result<(), Status> {
        let result = self.inner.process(cmd, reply);
        self.publish();
        result
    }

    fn ctap(
        &mut self,
        request: &[u8],
        may_wait: bool,
        reply: &mut Vec<u8>,
    ) -> Result<CtapOutcome, Status> {
        let result = self.inner.ctap(request, may_wait, reply);
        self.publish();
        result
    }

    fn end_session(&mut self) {
        self.inner.end_session();
    }

    fn power_on(&mut self) {
        self.inner.power_on();
    }

    fn power_off(&mut self) {
        self.inner.power_off();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use applet::config::Config;
    use applet::env::TestEnv;
    use ciborium::Value as C;
    use testkit::client;

    /// CTAP command `cmd` with `params` through the watched applet; asserts CTAP2_OK.
    fn ok(watched: &mut WatchedFido<TestEnv>, cmd: u8, params: Option<&C>) {
        let mut request = vec![cmd];
        if let Some(p) = params {
            request.extend_from_slice(&client::ser(p));
        }
        let mut reply = Vec::new();
        let outcome = watched.ctap(&request, false, &mut reply);
        assert_eq!(outcome, Ok(CtapOutcome::Done));
        assert_eq!(reply.first(), Some(&0x00), "CTAP status of {cmd:#04x}");
    }

    #[test]
    fn the_summary_follows_sign_ins_and_every_stored_change() {
        let mut card = client::Card::new(3, Config::default(), false);
        let applet = card.applet.take().unwrap();
        let handle = Arc::new(CardHandle::new(0, "127.0.0.1:35963", "default"));
        let events = EventLog::new();
        let mut watched = WatchedFido::new(applet, Arc::clone(&handle), events.clone());
        let (_, mut rx) = events.subscribe();
        let mut card_events = || {
            let mut n = 0;
            while let Ok(event) = rx.try_recv() {
                n += usize::from(matches!(event.kind, EventKind::Card));
            }
            n
        };
        let cdh = client::cdh(1);
        let summary = || handle.summary.borrow().clone();
        assert!(summary().rps.is_empty());

        // A discoverable credential: stored, so the whole summary is rebuilt.
        let mc = client::mc_request("example.com", b"jo", &cdh, &[-7], true);
        ok(&mut watched, 0x01, Some(&mc));
        let first = summary();
        assert_eq!(first.rps.len(), 1);
        assert_eq!(first.rps[0].rp, "example.com");
        assert_eq!(
            first.rps[0].credentials[0].user.as_deref(),
            Some("jo@example.com")
        );
        assert_eq!(first.sign_count, 1);
        assert_eq!(card_events(), 1);

        // Sign-ins move only the counter.
        let ga = client::ga_request("example.com", &cdh, &[]);
        for _ in 0..3 {
            ok(&mut watched, 0x02, Some(&ga));
        }
        let signed = summary();
        assert_eq!(signed.sign_count, 4);
        assert_eq!(signed.rps, first.rps);
        assert_eq!(card_events(), 3);

        // The same user again replaces the credential: same count, a new creation number.
        ok(&mut watched, 0x01, Some(&mc));
        let replaced = summary();
        assert_eq!(replaced.rps[0].credentials.len(), 1);
        assert_ne!(
            replaced.rps[0].credentials[0].created,
            first.rps[0].credentials[0].created
        );
        assert_eq!(card_events(), 1);

        // A command that changes nothing publishes nothing.
        ok(&mut watched, 0x04, None);
        assert_eq!(summary(), replaced);
        assert_eq!(card_events(), 0);

        // authenticatorReset: the credentials are gone.
        ok(&mut watched, 0x07, None);
        assert!(summary().rps.is_empty());
        assert_eq!(card_events(), 1);
    }

    #[test]
    fn aaguid_is_grouped() {
        let bytes: [u8; 16] = hex::decode("973446cae21c9a9b99f59b985a67af0f")
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            format_aaguid(&bytes),
            "973446ca-e21c-9a9b-99f5-9b985a67af0f"
        );
    }
}
