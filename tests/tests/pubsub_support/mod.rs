//! Helpers shared by the pub/sub integration tests.

#![allow(dead_code)]

use std::time::Duration;

use redis_client::pubsub::Data;
use redis_client::pubsub::{Message, MessageKind, PubSub};
use redis_client::{Client, Config, Protocol};
use redis_test_harness::wait_until;

/// How long a test waits for a message that should come.
pub const WAIT: Duration = Duration::from_secs(5);

/// A config for `url` speaking `protocol`, with a socket timeout so nothing hangs.
pub fn config(url: &str, protocol: Protocol) -> Config {
    Config::from_url(url)
        .unwrap()
        .to_builder()
        .protocol(protocol)
        .socket_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The next message, which must come within [`WAIT`].
#[track_caller]
pub fn recv(pubsub: &PubSub) -> Message {
    match pubsub.get_message(WAIT) {
        Ok(Some(message)) => message,
        Ok(None) => panic!("no message within {WAIT:?}"),
        Err(e) => panic!("get_message failed: {e}"),
    }
}

/// Reads the next message and checks its kind, channel and data.
#[track_caller]
pub fn expect(pubsub: &PubSub, kind: MessageKind, channel: &str, data: Data) -> Message {
    let message = recv(pubsub);
    assert_eq!(
        (message.kind, message.channel_str(), &message.data),
        (kind, Some(channel), &data),
        "{message:?}"
    );
    message
}

/// Bytes payload.
pub fn bytes(s: &str) -> Data {
    Data::Bytes(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// Waits until every channel in `channels` has a subscriber, so a PUBLISH cannot overtake the
/// SUBSCRIBE the pub/sub sent (they travel on different connections).
pub fn wait_subscribed(client: &Client, numsub: &str, channels: &[&str]) {
    wait_until("subscribers", WAIT, || {
        let mut args = vec!["PUBSUB", numsub];
        args.extend_from_slice(channels);
        let value = client.execute(args).map_err(|e| e.to_string())?;
        let reply: Vec<(String, i64)> = match value {
            redis_client::Value::Map(pairs) => pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap_or_default().to_owned(),
                        v.as_int().unwrap_or(0),
                    )
                })
                .collect(),
            other => other
                .as_array()
                .unwrap_or_default()
                .chunks(2)
                .map(|pair| {
                    (
                        pair[0].as_str().unwrap_or_default().to_owned(),
                        pair[1].as_int().unwrap_or(0),
                    )
                })
                .collect(),
        };
        if reply.iter().all(|(_, n)| *n > 0) {
            Ok(())
        } else {
            Err(format!("{reply:?}"))
        }
    })
    .unwrap();
}

/// A field of the `CLIENT LIST` line of the connection named `name`.
pub fn client_field(client: &Client, name: &str, field: &str) -> Option<String> {
    let list: String = client.query(["CLIENT", "LIST"]).unwrap();
    let line = list
        .lines()
        .find(|line| line.split(' ').any(|kv| kv == format!("name={name}")))?;
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .map(str::to_owned)
}
