//! The core driven with bytes and clock readings alone: no socket, no server.

use std::time::{Duration, Instant};

use super::*;
use crate::config::Config;
use crate::connection::request::Request;

const SECOND: Duration = Duration::from_secs(1);

fn core(protocol: Protocol) -> Core {
    Core::new("test:6379".into(), protocol, Some(SECOND))
}

fn request(args: &[&str]) -> Request {
    Request::encode(&args).unwrap()
}

fn feed(core: &mut Core, bytes: &[u8]) {
    core.received().extend_from_slice(bytes);
}

fn reply(core: &mut Core) -> Value {
    match core.next_event().unwrap() {
        Some(Event::Reply(reply)) => reply.value,
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[test]
fn requests_are_written_in_order_and_replies_answer_them_in_order() {
    let mut core = core(Protocol::Resp3);
    let first = core.queue(&request(&["SET", "k", "v"])).unwrap();
    let second = core.queue(&request(&["GET", "k"])).unwrap();
    assert_eq!(
        core.output(),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    );
    let total = core.output().len();
    core.wrote(10);
    assert_eq!(core.output().len(), total - 10);
    let rest = core.output().len();
    core.wrote(rest);
    assert!(core.output_is_empty());
    assert_eq!(core.owed(), 2);
    feed(&mut core, b"+OK\r\n$1\r\nv\r\n");
    assert_eq!(
        core.next_event().unwrap(),
        Some(Event::Reply(Reply {
            id: first,
            value: Value::Simple("OK".into())
        }))
    );
    assert_eq!(
        core.next_event().unwrap(),
        Some(Event::Reply(Reply {
            id: second,
            value: Value::Bulk("v".into())
        }))
    );
    assert_eq!(core.next_event().unwrap(), None);
    assert!(core.is_reusable());
}

#[test]
fn a_reply_split_across_reads_comes_out_whole_once_complete() {
    let mut core = core(Protocol::Resp2);
    core.queue(&request(&["LRANGE", "l", "0", "-1"])).unwrap();
    core.wrote(usize::MAX);
    let wire = b"*3\r\n$1\r\na\r\n:2\r\n$3\r\nccc\r\n";
    for byte in &wire[..wire.len() - 1] {
        feed(&mut core, &[*byte]);
        assert_eq!(core.next_event().unwrap(), None);
        assert!(!core.is_reusable(), "a half-read reply is still owed");
    }
    feed(&mut core, &wire[wire.len() - 1..]);
    assert_eq!(
        reply(&mut core),
        Value::Array(vec![
            Value::Bulk("a".into()),
            Value::Integer(2),
            Value::Bulk("ccc".into())
        ])
    );
    assert!(core.is_reusable());
}

#[test]
fn pushes_between_replies_go_out_of_band_in_resp3() {
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["GET", "a"])).unwrap();
    core.queue(&request(&["GET", "b"])).unwrap();
    feed(
        &mut core,
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n$1\r\n1\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n$1\r\n2\r\n",
    );
    assert!(matches!(
        core.next_event().unwrap(),
        Some(Event::Push(Value::Push(_)))
    ));
    assert_eq!(reply(&mut core), Value::Bulk("1".into()));
    assert!(matches!(
        core.next_event().unwrap(),
        Some(Event::Push(Value::Push(_)))
    ));
    assert_eq!(reply(&mut core), Value::Bulk("2".into()));
    // A push after the last reply is no stale reply: it is waited for like any push.
    core.queue(&request(&["PING"])).unwrap();
    feed(&mut core, b"+PONG\r\n>2\r\n$10\r\ninvalid");
    assert_eq!(reply(&mut core), Value::Simple("PONG".into()));
    feed(&mut core, b"ate\r\n_\r\n");
    assert!(matches!(core.next_event().unwrap(), Some(Event::Push(_))));
    assert!(!core.is_reusable(), "the frames were never written");
    core.wrote(usize::MAX);
    assert!(core.is_reusable());
}

#[test]
fn resp2_takes_push_shaped_frames_as_replies() {
    let mut core = core(Protocol::Resp2);
    core.queue(&request(&["GET", "a"])).unwrap();
    feed(&mut core, b">1\r\n:1\r\n");
    assert_eq!(reply(&mut core), Value::Push(vec![Value::Integer(1)]));
}

#[test]
fn a_reply_nobody_asked_for_is_a_protocol_error_that_breaks_the_connection() {
    let mut core = core(Protocol::Resp3);
    feed(&mut core, b"+STALE\r\n");
    assert!(!core.is_reusable(), "unread bytes make a connection unfit");
    let err = core.next_event().unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("no command was waiting"), "{err}");
    assert!(core.is_broken() && !core.is_reusable());
    assert!(core.next_event().unwrap_err().is_connection_error());
    assert!(core.queue(&request(&["PING"])).is_err());
}

#[test]
fn bytes_behind_the_last_owed_reply_fail_that_reply() {
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let mut core = core(protocol);
        core.queue(&request(&["SET", "k", "v"])).unwrap();
        // The stream is out of step: "+OK" may answer an earlier command, "+STALE" this one.
        feed(&mut core, b"+OK\r\n+STA");
        let err = core.next_event().unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        assert!(err.to_string().contains("+STA"), "{err}");
        assert!(core.is_broken());
    }
    // While replies are still owed, the bytes behind one are simply the next reply.
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["SET", "k", "v"])).unwrap();
    core.queue(&request(&["GET", "k"])).unwrap();
    feed(&mut core, b"+OK\r\n$1\r\nv");
    assert_eq!(reply(&mut core), Value::Simple("OK".into()));
    assert_eq!(core.next_event().unwrap(), None);
}

#[test]
fn a_malformed_stream_breaks_the_connection() {
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["GET", "k"])).unwrap();
    feed(&mut core, b"$EOF:0123456789\r\n");
    assert!(matches!(core.next_event().unwrap_err(), Error::Protocol(_)));
    assert!(core.is_broken());
}

#[test]
fn abandoned_replies_are_read_and_dropped_and_reach_nobody() {
    let mut core = core(Protocol::Resp3);
    let first = core.queue(&request(&["GET", "a"])).unwrap();
    let second = core.queue(&request(&["GET", "b"])).unwrap();
    let third = core.queue(&request(&["GET", "c"])).unwrap();
    assert!(core.abandon(second));
    feed(&mut core, b"$1\r\na\r\n$1\r\nb\r\n");
    let Some(Event::Reply(reply)) = core.next_event().unwrap() else {
        panic!()
    };
    assert_eq!((reply.id, reply.value), (first, Value::Bulk("a".into())));
    assert_eq!(core.next_event().unwrap(), None, "b was read and dropped");
    assert_eq!(core.owed(), 1);
    feed(&mut core, b"$1\r\nc\r\n");
    let Some(Event::Reply(reply)) = core.next_event().unwrap() else {
        panic!()
    };
    assert_eq!((reply.id, reply.value), (third, Value::Bulk("c".into())));
    core.wrote(usize::MAX);
    assert!(core.is_reusable());
    // Abandoning the last owed reply leaves nothing for a stray frame to answer.
    let fourth = core.queue(&request(&["GET", "d"])).unwrap();
    core.abandon(fourth);
    core.wrote(usize::MAX);
    feed(&mut core, b"$1\r\nd\r\n");
    assert_eq!(core.next_event().unwrap(), None);
    assert!(core.is_reusable());
}

#[test]
fn each_reply_must_arrive_whole_within_its_budget_from_when_the_client_waits() {
    let start = Instant::now();
    let at = |ms: u64| start + Duration::from_millis(ms);
    let until = |deadline: u64, now: u64| Wait::Within(Duration::from_millis(deadline - now));
    let mut core = core(Protocol::Resp3);
    assert_eq!(core.wait(start).unwrap(), Wait::Idle);
    core.queue(&request(&["GET", "k"])).unwrap();
    core.queue(&request(&["GET", "k"])).unwrap();
    core.wrote(usize::MAX);
    assert_eq!(core.wait(at(0)).unwrap(), until(1000, 0));
    // Bytes trickling in do not restart the clock.
    for (ms, byte) in [(300, b"$"), (600, b"1"), (900, b"\r")] {
        feed(&mut core, byte);
        assert_eq!(core.next_event().unwrap(), None);
        assert_eq!(core.wait(at(ms)).unwrap(), until(1000, ms));
    }
    feed(&mut core, b"\nv\r\n");
    assert_eq!(reply(&mut core), Value::Bulk("v".into()));
    // The second reply's clock starts when the client waits for it.
    assert_eq!(core.wait(at(950)).unwrap(), until(1950, 950));
    let err = core.wait(at(1950)).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("GET"), "{err}");
    assert!(err.to_string().contains("after 1s"), "{err}");
    assert!(core.is_broken());
}

#[test]
fn blocking_commands_get_their_own_wait_added_and_forever_means_no_deadline() {
    let start = Instant::now();
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["BLPOP", "l", "2.5"])).unwrap();
    assert_eq!(
        core.wait(start).unwrap(),
        Wait::Within(Duration::from_millis(3500))
    );
    feed(&mut core, b"_\r\n");
    reply(&mut core);
    core.queue(&request(&["BLPOP", "l", "0"])).unwrap();
    assert_eq!(core.wait(start).unwrap(), Wait::Forever);
    let mut unlimited = Core::new("test:6379".into(), Protocol::Resp3, None);
    unlimited.queue(&request(&["GET", "k"])).unwrap();
    assert_eq!(unlimited.wait(start).unwrap(), Wait::Forever);
}

#[test]
fn io_failures_break_the_connection_and_name_the_command_waited_for() {
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["INCR", "n"])).unwrap();
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    let err = core.io_failure("read from", reset);
    assert!(err.is_connection_error() && !err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("INCR"), "{err}");
    assert!(core.is_broken());
    let mut core = self::core(Protocol::Resp3);
    core.queue(&request(&["GET", "k"])).unwrap();
    let err = core.io_failure("read from", std::io::ErrorKind::WouldBlock.into());
    assert!(err.is_timeout() && err.to_string().contains("GET"), "{err}");
}

#[test]
fn frames_of_a_stream_come_out_as_they_are() {
    let mut core = core(Protocol::Resp2);
    core.queue_named(&["SUBSCRIBE", "a", "b"], &UNNAMED, None)
        .unwrap();
    feed(
        &mut core,
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
    );
    for _ in 0..2 {
        assert!(matches!(core.next_frame().unwrap(), Some(Value::Array(_))));
    }
    assert_eq!(core.next_frame().unwrap(), None);
    assert!(!core.is_broken());
}

#[test]
fn a_shortcut_sees_the_buffer_only_between_frames() {
    let mut core = core(Protocol::Resp3);
    assert!(core.buffer_between_frames().is_none(), "nothing buffered");
    core.queue(&request(&["LRANGE", "l", "0", "1"])).unwrap();
    feed(&mut core, b"*2\r\n$1\r\na\r\n");
    assert!(core.buffer_between_frames().is_some());
    assert_eq!(core.next_event().unwrap(), None);
    assert!(
        core.buffer_between_frames().is_none(),
        "the parser is inside a frame"
    );
}

fn handshake_for(url: &str) -> Handshake {
    Handshake::new(&Config::from_url(url).unwrap())
}

#[test]
fn handshake_steps_are_queued_as_one_batch_and_judged_in_order() {
    let handshake = handshake_for("redis://user:secret@h/3?client_name=app");
    let mut core = core(Protocol::Resp3);
    core.queue_handshake(&handshake, Some(SECOND)).unwrap();
    let wire = String::from_utf8_lossy(core.output()).into_owned();
    let hello = wire.find("HELLO").unwrap();
    let select = wire.find("SELECT").unwrap();
    let setinfo = wire.find("SETINFO").unwrap();
    assert!(hello < select && select < setinfo, "{wire}");
    assert!(wire.contains("secret") && wire.contains("app"), "{wire}");
    assert_eq!(core.owed(), handshake.len());
    let ok = || Value::Simple("OK".into());
    let hello_reply = Value::Map(vec![]);
    assert!(handshake
        .check([hello_reply.clone(), ok(), ok(), ok()])
        .is_ok());
    // CLIENT SETINFO unknown to an old server does not fail the handshake.
    let unknown = || Value::Error("ERR unknown subcommand 'SETINFO'".into());
    assert!(handshake
        .check([hello_reply.clone(), ok(), unknown(), unknown()])
        .is_ok());
    // The first real failure wins, whatever follows.
    let err = handshake
        .check([
            Value::Error("WRONGPASS invalid username-password pair".into()),
            Value::Error("NOAUTH Authentication required.".into()),
            unknown(),
            unknown(),
        ])
        .unwrap_err();
    assert!(matches!(err, Error::Authentication(_)), "{err:?}");
    assert!(err.to_string().contains("WRONGPASS"), "{err}");
    let err = handshake
        .check([
            hello_reply.clone(),
            Value::Error("ERR DB index is out of range".into()),
            Value::Error("NOPERM no".into()),
            ok(),
        ])
        .unwrap_err();
    assert_eq!(err.server_error().unwrap().command(), Some("SELECT"));
    // Too few replies is no success.
    assert!(handshake.check([ok()]).is_err());
    // Nor is a reply that answers no such step: a stale one shifted everything after it.
    let shifted = handshake
        .check([
            hello_reply.clone(),
            Value::Simple("STALE".into()),
            ok(),
            ok(),
        ])
        .unwrap_err();
    assert!(matches!(shifted, Error::Protocol(_)), "{shifted:?}");
    assert!(shifted.to_string().contains("SELECT"), "{shifted}");
    let doubled = handshake
        .check([hello_reply.clone(), hello_reply.clone(), ok(), ok()])
        .unwrap_err();
    assert!(matches!(doubled, Error::Protocol(_)), "{doubled:?}");
}

#[test]
fn a_server_without_hello_is_told_to_use_resp2() {
    let handshake = handshake_for("redis://h");
    let err = handshake
        .check([
            Value::Error("ERR unknown command 'HELLO'".into()),
            Value::Error("ERR unknown command 'CLIENT'".into()),
            Value::Error("ERR unknown command 'CLIENT'".into()),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("protocol=2"), "{err}");
    let resp2 = handshake_for("redis://:pw@h?protocol=2");
    let mut core = core(Protocol::Resp2);
    core.queue_handshake(&resp2, None).unwrap();
    let wire = String::from_utf8_lossy(core.output()).into_owned();
    assert!(!wire.contains("HELLO") && wire.contains("AUTH"), "{wire}");
}

#[test]
fn frames_may_trail_the_reply_of_a_command_that_changes_the_connection() {
    use crate::connection::request::Typed;
    let typed = Typed::of::<crate::generated::cmd::Subscribe<&str>>();
    let mut core = core(Protocol::Resp2);
    core.queue_args(&["SUBSCRIBE", "a", "b"], Some(typed))
        .unwrap();
    core.wrote(usize::MAX);
    // RESP2 confirms each channel: the second confirmation trails the reply.
    feed(
        &mut core,
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
    );
    assert!(matches!(reply(&mut core), Value::Array(_)));
    assert!(!core.is_broken());
    assert!(!core.is_reusable(), "the trailing confirmation is unread");
    // Another command would take it for its own reply: refused, and the connection is done.
    let err = core.take_unread(&mut |_| panic!("no push")).unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    assert!(core.is_broken());
}

#[test]
fn what_arrives_between_commands_is_a_push_or_a_reply_nobody_asked_for() {
    let mut core = core(Protocol::Resp3);
    core.take_unread(&mut |_| panic!("nothing arrived"))
        .unwrap();
    feed(&mut core, b">2\r\n$10\r\ninvalidate\r\n_\r\n>1\r\n:1");
    let mut pushes = 0;
    core.take_unread(&mut |_| pushes += 1).unwrap();
    assert_eq!(pushes, 1, "a half-arrived push waits");
    feed(&mut core, b"\r\n+STA");
    let err = core.take_unread(&mut |_| pushes += 1).unwrap_err();
    assert_eq!(pushes, 2);
    assert!(err.to_string().contains("+STA"), "{err}");
    assert!(core.is_broken());
}

#[test]
fn arguments_queued_in_place_carry_the_number_their_reply_gets() {
    let mut core = core(Protocol::Resp3);
    let (info, first) = core.queue_args_id(&["GET", "a"], None).unwrap();
    assert_eq!(info.name, "GET");
    let (_, second) = core.queue_args_id(&["GET", "b"], None).unwrap();
    assert_eq!(second.0, first.0 + 1);
    let written = core.output().len();
    core.wrote(written);
    // The first caller went away: its reply is dropped, the second gets its own.
    assert!(core.abandon(first));
    feed(&mut core, b"$1\r\nA\r\n$1\r\nB\r\n");
    match core.next_event().unwrap() {
        Some(Event::Reply(reply)) => {
            assert_eq!(reply.id, second);
            assert_eq!(reply.value, Value::Bulk("B".into()));
        }
        other => panic!("expected the second reply, got {other:?}"),
    }
    assert!(core.is_reusable());
}

#[test]
fn frames_queued_from_a_pipeline_owe_one_reply_each_with_their_own_budget() {
    let mut core = core(Protocol::Resp3);
    let mut frames = bytes::BytesMut::new();
    crate::resp::write_command(&mut frames, &["GET", "a"]).unwrap();
    crate::resp::write_command(&mut frames, &["BLPOP", "l", "5"]).unwrap();
    crate::resp::write_command(&mut frames, &["GET", "b"]).unwrap();
    let blpop = Request::encode(&["BLPOP", "l", "5"]).unwrap().info.block;
    assert!(blpop.is_some());
    let first = core
        .queue_frames(&frames, [None, blpop, None])
        .unwrap()
        .unwrap();
    assert_eq!(core.output(), &frames[..]);
    assert_eq!(core.owed(), 3);
    let written = core.output().len();
    core.wrote(written);
    let now = Instant::now();
    assert_eq!(core.wait(now).unwrap(), Wait::Within(SECOND));
    feed(&mut core, b"$1\r\nA\r\n");
    match core.next_event().unwrap() {
        Some(Event::Reply(reply)) => assert_eq!(reply.id, first),
        other => panic!("{other:?}"),
    }
    // The BLPOP's reply may take its 5 s on top of the socket timeout.
    assert_eq!(core.wait(now).unwrap(), Wait::Within(SECOND * 6));
    assert_eq!(core.queue_frames(b"", []).unwrap(), None);
    core.mark_broken();
    assert!(core.queue_frames(&frames, [None]).is_err());
}

#[test]
fn the_output_can_be_taken_out_in_exchange_for_an_empty_buffer() {
    let mut core = core(Protocol::Resp3);
    core.queue(&request(&["GET", "k"])).unwrap();
    let mut out = bytes::BytesMut::from(&b"stale"[..]);
    core.swap_output(&mut out);
    assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    assert!(core.output_is_empty());
    assert_eq!(core.owed(), 1, "the reply is still owed");
    out.clear();
    core.queue(&request(&["PING"])).unwrap();
    core.swap_output(&mut out);
    assert_eq!(&out[..], b"*1\r\n$4\r\nPING\r\n");
}
