//! The limits the parser enforces on what a server sends.

/// Largest bulk string, bulk error or verbatim string accepted (Redis's own default limit).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Largest element count accepted in an aggregate header.
pub const MAX_AGGREGATE_LEN: usize = i32::MAX as usize;
/// Deepest nesting of aggregates (attributes included) accepted.
pub const MAX_DEPTH: usize = 128;
