//! The live log of the card panel: every card's exchanges and power events,
//! streamed to browsers as Server-Sent Events (HTML Living Standard §9.2).
//!
//! ```text
//!  TracedCard ──(frame)──▶ Folder ──(exchange)──▶ EventLog ──▶ GET /events
//!  power on/off, removed ─────────────────────────▶   │        (one SSE stream
//!  presence, state change (Switchboard, WatchedFido) ─▶┘         per browser)
//!
//!  id: 17
//!  event: exchange
//!  data: {"seq":17,"slot":0,"time":1765075200123,"instruction":"NFCCTAP_MSG
//!         authenticatorGetInfo","header":"80 10 80 00","sw":"90 00",...}
//! ```
//!
//! The log keeps the last [`BACKLOG`] events so that a page opened late
//! still shows what just happened; exchanges are stored as raw frames and
//! decoded only when sent. Nothing secret passes here that `--trace` would
//! not print: APDUs as they crossed the reader.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use reader_bridge::fold::Exchange;
use reader_bridge::trace::{decode_exchange, spaced_hex};
use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Events kept for late subscribers.
pub const BACKLOG: usize = 200;

/// Bytes of APDUs the backlog keeps at most (older events are dropped first), so a
/// transport test's 64 KiB exchanges never pile up in memory.
pub const BACKLOG_BYTES: usize = 1 << 20;

/// Events buffered per subscriber before it is told it lagged.
const CHANNEL: usize = 256;

/// What happened.
#[derive(Clone, Debug)]
pub enum EventKind {
    /// A folded exchange (request and final answer).
    Exchange(Exchange),
    /// Power on, power off, reset, or removal from the reader.
    Power(&'static str),
    /// Something shown on the card's panel changed (presence, inserted,
    /// link, stored state): the page re-reads the status.
    Card,
}

/// One entry of the log.
#[derive(Clone, Debug)]
pub struct Event {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The card's vpcd slot.
    pub slot: u16,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The APDU bytes this event holds.
    pub fn weight(&self) -> usize {
        match &self.kind {
            EventKind::Exchange(ex) => {
                ex.request.len()
                    + ex.response.len()
                    + ex.frames
                        .iter()
                        .map(|f| f.command.len() + f.response.len())
                        .sum::<usize>()
            }
            _ => 0,
        }
    }

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self.kind {
            EventKind::Exchange(_) => "exchange",
            EventKind::Power(_) => "power",
            EventKind::Card => "card",
        }
    }

    /// The event's JSON document (see the module docs).
    pub fn to_json(&self) -> Value {
        let mut doc = json!({"seq": self.seq, "slot": self.slot, "time": self.time_ms});
        match &self.kind {
            EventKind::Power(what) => doc["power"] = json!(what),
            EventKind::Card => {}
            EventKind::Exchange(ex) => {
                let decoded = decode_exchange(ex);
                let cbor = |side: &Option<Result<String, String>>| match side {
                    None => Value::Null,
                    Some(Ok(text)) => json!({"diag": text}),
                    Some(Err(why)) => json!({"error": why}),
                };
                let frames: Vec<Value> = ex
                    .frames
                    .iter()
                    .map(|f| json!([spaced_hex(&f.command), spaced_hex(&f.response)]))
                    .collect();
                let extra = json!({
                    "instruction": decoded.instruction,
                    "header": spaced_hex(&ex.header),
                    "sw": spaced_hex(&ex.sw.to_be_bytes()),
                    "status": decoded.status,
                    "complete": ex.complete,
                    "ctapCommand": decoded.ctap_command,
                    "ctapStatus": decoded.ctap_status,
                    "requestLength": ex.request.len(),
                    "responseLength": ex.response.len(),
                    "requestCbor": cbor(&decoded.request_cbor),
                    "responseCbor": cbor(&decoded.response_cbor),
                    "frames": frames,
                });
                if let (Value::Object(doc), Value::Object(extra)) = (&mut doc, extra) {
                    doc.extend(extra);
                }
            }
        }
        doc
    }

    /// The event as one SSE message: `id`, `event`, one `data` line.
    pub fn to_sse(&self) -> String {
        format!(
            "id: {}\nevent: {}\ndata: {}\n\n",
            self.seq,
            self.name(),
            self.to_json()
        )
    }
}

#[derive(Debug, Default)]
struct Backlog {
    events: VecDeque<Arc<Event>>,
    bytes: usize,
}

#[derive(Debug)]
struct Inner {
    seq: AtomicU64,
    recent: Mutex<Backlog>,
    tx: broadcast::Sender<Arc<Event>>,
}

/// The log shared by the cards of one process and the control API.
#[derive(Clone, Debug)]
pub struct EventLog(Arc<Inner>);

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self(Arc::new(Inner {
            seq: AtomicU64::new(0),
            recent: Mutex::new(Backlog::default()),
            tx: broadcast::channel(CHANNEL).0,
        }))
    }

    /// Append an event about the card on `slot` and send it to every
    /// subscriber.
    pub fn publish(&self, slot: u16, kind: EventKind) {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // The backlog lock orders appends and subscriptions: a subscriber
        // sees every event exactly once, from the backlog or the channel.
        let Ok(mut recent) = self.0.recent.lock() else {
            return;
        };
        let seq = self.0.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let event = Arc::new(Event {
            seq,
            slot,
            time_ms,
            kind,
        });
        recent.bytes += event.weight();
        recent.events.push_back(Arc::clone(&event));
        while recent.events.len() > BACKLOG
            || (recent.bytes > BACKLOG_BYTES && recent.events.len() > 1)
        {
            if let Some(old) = recent.events.pop_front() {
                recent.bytes = recent.bytes.saturating_sub(old.weight());
            }
        }
        let _ = self.0.tx.send(event);
    }

    /// The recent events and a receiver for every later one.
    pub fn subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        match self.0.recent.lock() {
            Ok(recent) => (
                recent.events.iter().cloned().collect(),
                self.0.tx.subscribe(),
            ),
            Err(_) => (Vec::new(), self.0.tx.subscribe()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reader_bridge::fold::Folder;

    #[test]
    fn backlog_then_live_events_each_once() {
        let log = EventLog::new();
        log.publish(0, EventKind::Power("power on"));
        let (backlog, mut rx) = log.subscribe();
        log.publish(1, EventKind::Card);
        assert_eq!(backlog.len(), 1);
        assert_eq!(backlog[0].seq, 1);
        let live = rx.try_recv().unwrap();
        assert_eq!((live.seq, live.slot), (2, 1));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn the_backlog_is_bounded() {
        let log = EventLog::new();
        for _ in 0..BACKLOG + 5 {
            log.publish(0, EventKind::Card);
        }
        let (backlog, _) = log.subscribe();
        assert_eq!(backlog.len(), BACKLOG);
        assert_eq!(backlog[0].seq, 6);
    }

    #[test]
    fn the_backlog_is_bounded_in_bytes() {
        let log = EventLog::new();
        let mut folder = Folder::new();
        let big = [
            &[0x00, 0xEE, 0x00, 0x00, 0x00, 0xFF, 0xFF][..],
            &[0xAB; 0xFFFF],
        ]
        .concat();
        for _ in 0..40 {
            let ex = folder.push(&big, &[0x90, 0x00]).remove(0);
            log.publish(0, EventKind::Exchange(ex));
        }
        let (backlog, _) = log.subscribe();
        let bytes: usize = backlog.iter().map(|e| e.weight()).sum();
        assert!(bytes <= BACKLOG_BYTES, "{bytes}");
        assert!(backlog.len() < 40 && !backlog.is_empty());
        assert_eq!(backlog.last().unwrap().seq, 40);
    }

    #[test]
    fn an_exchange_event_is_decoded_json_on_one_sse_data_line() {
        let mut folder = Folder::new();
        let ex = folder
            .push(
                &hex::decode("80108000010400").unwrap(),
                &hex::decode("00a10181684649444f5f325f309000").unwrap(),
            )
            .remove(0);
        let log = EventLog::new();
        log.publish(3, EventKind::Exchange(ex));
        let (backlog, _) = log.subscribe();
        let sse = backlog[0].to_sse();
        let lines: Vec<&str> = sse.trim_end().lines().collect();
        assert_eq!(lines[0], "id: 1");
        assert_eq!(lines[1], "event: exchange");
        assert_eq!(lines.len(), 3);
        let doc: Value = serde_json::from_str(lines[2].strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(doc["slot"], 3);
        assert_eq!(doc["ctapCommand"], "authenticatorGetInfo");
        assert_eq!(doc["ctapStatus"], "CTAP2_OK");
        assert_eq!(doc["sw"], "90 00");
        assert_eq!(
            doc["responseCbor"]["diag"],
            "{1 /versions/: [\"FIDO_2_0\"]}"
        );
        assert_eq!(doc["frames"][0][0], "80 10 80 00 01 04 00");
    }
}
