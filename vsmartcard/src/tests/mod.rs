//! Unit and property tests of the codec, options and socket tuning.

mod frame;
mod options;
mod props;
mod protocol;
mod socket;
