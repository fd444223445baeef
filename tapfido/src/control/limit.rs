//! How many connections the control API holds, and who makes room when it is full.
//!
//! A client that connects and sends nothing (or one byte a second) must not delay anyone
//! else. Every connection holds a [`Ticket`] while it is open, at most `max` at once, and is
//! *idle* until its request head is complete. When a new connection arrives with every
//! ticket taken, the oldest idle connection is closed to make room: a real client sends its
//! request as soon as it connects, so it is never the oldest idle one for long, while a
//! connection that just sits there is the first to go. Only when all `max` connections are
//! busy answering (bounded by the power-off wait) is the newcomer turned away, with `503`.
//! Each idle connection also has a read deadline of its own.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The open connections of one control API server.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    open: usize,
    /// Connections still reading their head, oldest first, with the way to close them.
    idle: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl Slots {
    /// Room for `max` connections at once.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ticket for a new connection. With every ticket taken, the oldest idle connection is
    /// told to close (its room comes back as soon as it drops its ticket); `None` when every
    /// connection is busy answering.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let mut inner = self.lock();
        if inner.open >= self.max {
            let (_, close) = inner.idle.pop_front()?;
            let _ = close.send(());
        }
        inner.open += 1;
        inner.next_id = inner.next_id.wrapping_add(1);
        let id = inner.next_id;
        let (close, closed) = oneshot::channel();
        inner.idle.push_back((id, close));
        Some(Ticket {
            slots: Arc::clone(self),
            id,
            closed: Some(closed),
        })
    }

    /// Connections open now (tickets not yet dropped).
    pub fn open(&self) -> usize {
        self.lock().open
    }
}

/// One open connection's room; gives it back when dropped.
#[derive(Debug)]
pub struct Ticket {
    slots: Arc<Slots>,
    id: u64,
    closed: Option<oneshot::Receiver<()>>,
}

impl Ticket {
    /// Completes when this connection is told to close to make room for a newer one; never
    /// once [`Ticket::busy`] was called.
    pub async fn evicted(&mut self) {
        let told = match self.closed.as_mut() {
            Some(closed) => closed.await.is_ok(),
            None => false,
        };
        if !told {
            std::future::pending::<()>().await;
        }
    }

    /// The request head is complete: from now on this connection is not evicted.
    pub fn busy(&mut self) {
        self.closed = None;
        self.slots.lock().idle.retain(|(id, _)| *id != self.id);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut inner = self.slots.lock();
        inner.idle.retain(|(id, _)| *id != self.id);
        inner.open = inner.open.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Whether `ticket.evicted()` completes within 10 ms.
    async fn told_to_close(ticket: &mut Ticket) -> bool {
        tokio::time::timeout(Duration::from_millis(10), ticket.evicted())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn the_oldest_idle_connection_makes_room() {
        let slots = Slots::new(2);
        let mut first = slots.admit().unwrap();
        let mut second = slots.admit().unwrap();
        second.busy();
        let mut third = slots.admit().unwrap();
        assert!(told_to_close(&mut first).await);
        assert!(!told_to_close(&mut second).await);
        assert!(!told_to_close(&mut third).await);
        drop(first);
        assert_eq!(slots.open(), 2);
        third.busy();
        // Both are busy answering: a newcomer is refused, nobody is closed.
        assert!(slots.admit().is_none());
        drop(second);
        let fourth = slots.admit().unwrap();
        assert_eq!(slots.open(), 2);
        drop(third);
        drop(fourth);
        assert_eq!(slots.open(), 0);
    }
}
