//! How command APDUs reach a card: through a PC/SC reader (the `pcsc`
//! crate over pcsc-lite or WinSCard) or straight into an in-process
//! [`VirtualCard`] (the card simulator with no pcscd at all).
//!
//! ```text
//!  CardSession ──APDU──▶ Transport ──┬─ PcscTransport ─▶ SCardTransmit ─▶ reader ─▶ card
//!                                    └─ InProcess<C>  ─▶ C::transmit (VirtualCard)
//! ```

use vsmartcard::VirtualCard;

use super::HostError;

/// Sends one command APDU and returns the whole response, inside an exclusive exchange.
pub type SendApdu<'a> = dyn FnMut(&[u8]) -> Result<Vec<u8>, HostError> + 'a;

/// A multi-APDU exchange (a command chain, a GET RESPONSE series): given [`SendApdu`], it sends
/// its APDUs one after the other and returns what the exchange produced.
pub type Exchange<'a> = dyn FnMut(&mut SendApdu<'_>) -> Result<Vec<u8>, HostError> + 'a;

/// Something that carries one command APDU to a card and brings back the
/// whole response APDU (data `||` SW1 SW2).
pub trait Transport {
    /// Send one command APDU.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, HostError>;

    /// The card's Answer To Reset.
    fn atr(&self) -> Vec<u8>;

    /// Take the card out of the field and put it back: power off, power on.
    fn power_cycle(&mut self) -> Result<(), HostError>;

    /// A short description for reports ("PC/SC: Virtual PCD 00 00", "in-process").
    fn describe(&self) -> String;

    /// Runs `exchange` as one unit that no other client of the card can interleave with: a
    /// card has one logical channel, so a chain block or a GET RESPONSE of another client in
    /// between would be joined to ours or take our data (reliability.md §8.5 item 60).
    /// PC/SC: inside `SCardBeginTransaction` … `SCardEndTransaction(SCARD_LEAVE_CARD)`.
    /// The default, for transports with one client only, just runs it.
    fn exclusive(&mut self, exchange: &mut Exchange<'_>) -> Result<Vec<u8>, HostError> {
        exchange(&mut |apdu| self.transmit(apdu))
    }
}

/// A card simulator in the same process, driven through its
/// [`VirtualCard`] interface exactly as vpcd would drive it.
#[derive(Debug)]
pub struct InProcess<C: VirtualCard> {
    card: C,
}

impl<C: VirtualCard> InProcess<C> {
    /// Put `card` in the field (power on) and wrap it.
    pub fn new(mut card: C) -> Self {
        card.power_on();
        Self { card }
    }

    /// The card, for inspection.
    pub fn card(&self) -> &C {
        &self.card
    }

    /// The card, mutably.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Remove the card from the field and return it.
    pub fn into_card(mut self) -> C {
        self.card.power_off();
        self.card
    }
}

impl<C: VirtualCard> Transport for InProcess<C> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, HostError> {
        Ok(self.card.transmit(apdu))
    }

    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }

    fn power_cycle(&mut self) -> Result<(), HostError> {
        self.card.power_off();
        self.card.power_on();
        Ok(())
    }

    fn describe(&self) -> String {
        "in-process card (no PC/SC)".to_owned()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, HostError> {
        (**self).transmit(apdu)
    }
    fn atr(&self) -> Vec<u8> {
        (**self).atr()
    }
    fn power_cycle(&mut self) -> Result<(), HostError> {
        (**self).power_cycle()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn exclusive(&mut self, exchange: &mut Exchange<'_>) -> Result<Vec<u8>, HostError> {
        (**self).exclusive(exchange)
    }
}

/// A boxed [`VirtualCard`] usable where a sized card type is needed.
pub struct DynCard(pub Box<dyn VirtualCard>);

impl std::fmt::Debug for DynCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynCard").finish_non_exhaustive()
    }
}

impl VirtualCard for DynCard {
    fn atr(&self) -> Vec<u8> {
        self.0.atr()
    }
    fn power_on(&mut self) {
        self.0.power_on();
    }
    fn power_off(&mut self) {
        self.0.power_off();
    }
    fn reset(&mut self) {
        self.0.reset();
    }
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        self.0.transmit(command)
    }
    fn disconnected(&mut self) {
        self.0.disconnected();
    }
}
