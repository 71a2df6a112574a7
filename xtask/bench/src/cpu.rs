//! Client CPU time, read from `/proc` because std has no `getrusage`.
//!
//! A thread's own time comes from `/proc/thread-self/schedstat` (nanoseconds on the CPU, user
//! and system together). A child process's time (redis-benchmark) comes from the `cutime` and
//! `cstime` fields of `/proc/self/stat`, which grow when a child is reaped; they count clock
//! ticks of 1/100 s, the fixed `USER_HZ` of Linux's user-space ABI.

use std::time::Duration;

/// `USER_HZ`: the unit of the tick counts in `/proc/*/stat`.
const TICKS_PER_SECOND: u64 = 100;

/// CPU time the calling thread has used so far.
pub fn thread_cpu() -> Result<Duration, String> {
    let path = "/proc/thread-self/schedstat";
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    parse_schedstat(&text).ok_or_else(|| format!("{path}: unexpected contents {text:?}"))
}

/// CPU time (user + system) of all child processes reaped so far.
pub fn children_cpu() -> Result<Duration, String> {
    let path = "/proc/self/stat";
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    parse_children_ticks(&text)
        .map(|ticks| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
        .ok_or_else(|| format!("{path}: unexpected contents {text:?}"))
}

/// The first field of a schedstat line: nanoseconds spent on the CPU.
fn parse_schedstat(text: &str) -> Option<Duration> {
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// `cutime + cstime` (fields 16 and 17) of a stat line.
fn parse_children_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `fields[0]` is field 3 (state), so field N sits at index N - 3.
    let cutime: u64 = fields.get(16 - 3)?.parse().ok()?;
    let cstime: u64 = fields.get(17 - 3)?.parse().ok()?;
    Some(cutime + cstime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_first_field_is_nanoseconds() {
        assert_eq!(
            parse_schedstat("1324408 77 1\n"),
            Some(Duration::from_nanos(1_324_408))
        );
        assert_eq!(parse_schedstat(""), None);
    }

    #[test]
    fn children_ticks_skip_a_name_with_spaces_and_parens() {
        let line = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 25 12 20 0 1 0 5 0 0";
        assert_eq!(parse_children_ticks(line), Some(25 + 12));
        assert_eq!(parse_children_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn this_thread_uses_cpu() {
        let before = thread_cpu().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
        assert!(thread_cpu().unwrap() > before);
        children_cpu().unwrap();
    }
}
