//! Command chaining (ISO/IEC 7816-4 §5.4.1): blocks with CLA bit `0x10` are
//! buffered and answered `90 00`; the block without the bit completes the
//! command.
//!
//! ```text
//!  90 10 80 00 FA <250 bytes>        → 90 00      (Le tolerated here)
//!  90 10 80 00 FA <250 bytes>        → 90 00
//!  80 10 80 00 23 <35 bytes> 00      → whole command (535 bytes) executed
//! ```
//!
//! A block whose header (CLA without the chaining bit, INS, P1, P2) differs
//! from the chain's, a power event, or any non-chained command with another
//! header discards the chain; the new command then runs on its own.

use super::BridgeError;

/// Largest reassembled command data: 64 KiB. Enough for any extended-length
/// command (65 535 bytes) and far above the FIDO maxMsgSize; a chain that
/// grows beyond it is dropped with `67 00`.
pub const CHAIN_MAX: usize = 65_536;

/// Header identifying a chain: `[CLA & !0x10, INS, P1, P2]`.
pub(crate) type ChainKey = [u8; 4];

/// A command chain being received.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    current: Option<(ChainKey, Vec<u8>)>,
    /// An emptied buffer kept for the next chain, so a steady stream of
    /// chained commands does not reallocate.
    spare: Vec<u8>,
}

impl Chain {
    /// Buffer one intermediate block. A block with another header starts a
    /// new chain. Over [`CHAIN_MAX`] the chain is freed and an error returned.
    pub(crate) fn push(&mut self, key: ChainKey, data: &[u8]) -> Result<(), BridgeError> {
        let buf = match &mut self.current {
            Some((k, buf)) if *k == key => buf,
            _ => {
                let mut fresh = std::mem::take(&mut self.spare);
                fresh.clear();
                &mut self.current.insert((key, fresh)).1
            }
        };
        let total = buf.len().saturating_add(data.len());
        if total > CHAIN_MAX {
            self.current = None;
            return Err(BridgeError::ChainTooLong(CHAIN_MAX));
        }
        buf.extend_from_slice(data);
        Ok(())
    }

    /// The final block arrived: returns the whole data when it continues the
    /// chain, `None` when there was no chain or it belonged to another
    /// command (that chain is discarded either way).
    pub(crate) fn finish(
        &mut self,
        key: ChainKey,
        data: &[u8],
    ) -> Result<Option<Vec<u8>>, BridgeError> {
        match self.current.take() {
            Some((k, mut buf)) if k == key => {
                if buf.len().saturating_add(data.len()) > CHAIN_MAX {
                    return Err(BridgeError::ChainTooLong(CHAIN_MAX));
                }
                buf.extend_from_slice(data);
                Ok(Some(buf))
            }
            _ => Ok(None),
        }
    }

    /// Give back the buffer returned by [`Chain::finish`] once the command
    /// ran, for reuse by the next chain.
    pub(crate) fn recycle(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        self.spare = buf;
    }

    /// Drop any partial chain.
    pub(crate) fn clear(&mut self) {
        self.current = None;
    }

    /// Drop the chain and the spare buffer (power events).
    pub(crate) fn reset(&mut self) {
        self.current = None;
        self.spare = Vec::new();
    }

    /// Whether a chain is being received.
    pub(crate) fn is_active(&self) -> bool {
        self.current.is_some()
    }
}
