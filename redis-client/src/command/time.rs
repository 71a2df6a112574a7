//! Time arguments: lengths of time and points in time that commands take as numbers.
//!
//! An argument whose unit the spec states accepts a [`Duration`] (or [`SystemTime`]) as well as
//! a plain number in that unit, through these traits:
//!
//! - integer arguments named `seconds` / `milliseconds` (`SET EX`/`PX`, `EXPIRE`, `PEXPIRE`,
//!   `SETEX`, `GETEX`, …) and the blocking timeout named by a command's `rust.blocking_timeout`
//!   hint (`WAIT`, `XREAD BLOCK`) take [`Seconds`] or [`Milliseconds`];
//! - double blocking timeouts in seconds (`BLPOP`, `BZPOPMIN`, …) take [`FloatSeconds`];
//! - `unix-time` arguments, and arguments named `unix-time-seconds` / `unix-time-milliseconds`,
//!   take [`UnixSeconds`] or [`UnixMilliseconds`].
//!
//! A `Duration` or `SystemTime` that is not a whole number of units is rounded **up**, so a
//! non-zero duration never becomes `0` (which means "block forever" to `BLPOP`) and an expiry is
//! never earlier than asked. Values beyond `i64` saturate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A length of time as a whole number of seconds.
pub trait Seconds {
    /// The number of seconds, rounded up.
    fn to_seconds(self) -> i64;
}

/// A length of time as a whole number of milliseconds.
pub trait Milliseconds {
    /// The number of milliseconds, rounded up.
    fn to_milliseconds(self) -> i64;
}

/// A length of time as fractional seconds (the blocking timeouts of `BLPOP` and friends).
pub trait FloatSeconds {
    /// The number of seconds.
    fn to_float_seconds(self) -> f64;
}

/// A point in time as Unix time in whole seconds.
pub trait UnixSeconds {
    /// Seconds since 1970-01-01T00:00:00Z, rounded up.
    fn to_unix_seconds(self) -> i64;
}

/// A point in time as Unix time in whole milliseconds.
pub trait UnixMilliseconds {
    /// Milliseconds since 1970-01-01T00:00:00Z, rounded up.
    fn to_unix_milliseconds(self) -> i64;
}

/// `d` in units of `unit_nanos`, rounded up, saturating at `i64::MAX`.
fn ceil_units(d: Duration, unit_nanos: u128) -> i64 {
    i64::try_from(d.as_nanos().div_ceil(unit_nanos)).unwrap_or(i64::MAX)
}

/// Signed units since the Unix epoch; times before it are negative (rounded up, toward zero).
fn unix_units(t: SystemTime, unit_nanos: u128) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => ceil_units(after, unit_nanos),
        Err(before) => {
            let units = before.duration().as_nanos() / unit_nanos;
            i64::try_from(units).map_or(i64::MIN, |n| -n)
        }
    }
}

const NANOS_PER_SEC: u128 = 1_000_000_000;
const NANOS_PER_MILLI: u128 = 1_000_000;

macro_rules! integer_units {
    ($($ty:ty),+) => {$(
        impl Seconds for $ty {
            fn to_seconds(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }

        impl Milliseconds for $ty {
            fn to_milliseconds(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }

        impl FloatSeconds for $ty {
            fn to_float_seconds(self) -> f64 {
                self as f64
            }
        }

        impl UnixSeconds for $ty {
            fn to_unix_seconds(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }

        impl UnixMilliseconds for $ty {
            fn to_unix_milliseconds(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )+};
}

integer_units!(i32, i64, u32, u64, usize);

impl FloatSeconds for f64 {
    fn to_float_seconds(self) -> f64 {
        self
    }
}

impl FloatSeconds for f32 {
    fn to_float_seconds(self) -> f64 {
        f64::from(self)
    }
}

impl Seconds for Duration {
    fn to_seconds(self) -> i64 {
        ceil_units(self, NANOS_PER_SEC)
    }
}

impl Milliseconds for Duration {
    fn to_milliseconds(self) -> i64 {
        ceil_units(self, NANOS_PER_MILLI)
    }
}

impl FloatSeconds for Duration {
    fn to_float_seconds(self) -> f64 {
        self.as_secs_f64()
    }
}

impl UnixSeconds for SystemTime {
    fn to_unix_seconds(self) -> i64 {
        unix_units(self, NANOS_PER_SEC)
    }
}

impl UnixMilliseconds for SystemTime {
    fn to_unix_milliseconds(self) -> i64 {
        unix_units(self, NANOS_PER_MILLI)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up() {
        assert_eq!(Duration::from_millis(1).to_seconds(), 1);
        assert_eq!(Duration::from_secs(10).to_seconds(), 10);
        assert_eq!(Duration::from_micros(1500).to_milliseconds(), 2);
        assert_eq!(Duration::ZERO.to_milliseconds(), 0);
        assert_eq!(Duration::MAX.to_milliseconds(), i64::MAX);
        assert_eq!(Duration::from_millis(1500).to_float_seconds(), 1.5);
        assert_eq!(7_u64.to_seconds(), 7);
        assert_eq!((-2_i64).to_milliseconds(), -2);
        assert_eq!(u64::MAX.to_seconds(), i64::MAX);
    }

    #[test]
    fn system_times_are_unix_time() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(t.to_unix_seconds(), 1_700_000_001);
        assert_eq!(t.to_unix_milliseconds(), 1_700_000_000_250);
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(before.to_unix_seconds(), -5);
        assert_eq!(1_700_000_000_i64.to_unix_seconds(), 1_700_000_000);
    }
}
