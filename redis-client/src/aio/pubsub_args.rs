//! Turning a pub/sub call's arguments into what is sent and kept, for both the
//! [`AsyncPubSub`](super::AsyncPubSub) and its [`PubSubHandle`](super::PubSubHandle).

use bytes::Bytes;

/// Copies each name into its own buffer (the names are kept to resubscribe after a reconnect).
pub(super) fn names<I>(items: I) -> Vec<Bytes>
where
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    items
        .into_iter()
        .map(|name| Bytes::copy_from_slice(name.as_ref()))
        .collect()
}

/// The arguments of a `PING` carrying `message` (none for an empty one).
pub(super) fn ping_args(message: &[u8]) -> Vec<Bytes> {
    if message.is_empty() {
        Vec::new()
    } else {
        vec![Bytes::copy_from_slice(message)]
    }
}
