//! Unit tests of the codec, options and socket tuning.

mod frame;
mod options;
mod protocol;
mod socket;
