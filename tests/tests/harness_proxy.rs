//! The fault-injecting proxy forwards, cuts, stalls, delays, truncates and adds to real server
//! traffic.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use redis_test_harness::{Extra, Proxy, Server};

const TIMEOUT: Duration = Duration::from_secs(5);

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Reads exactly `n` bytes.
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

/// True when the peer closed the connection (EOF or reset) before the timeout.
fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn forwards_both_ways() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    assert_eq!(proxy.target(), server.addr());
    assert_ne!(proxy.port(), server.port());
    let mut client = connect(proxy.addr());
    client.write_all(b"PING\r\nECHO hello\r\n").unwrap();
    assert_eq!(read_n(&mut client, 18), b"+PONG\r\n$5\r\nhello\r\n");
    assert_eq!(proxy.accepted_connections(), 1);
    assert_eq!(proxy.open_connections(), 1);
}

#[test]
fn cut_closes_current_connections_only() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut first = connect(proxy.addr());
    first.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut first, 7), b"+PONG\r\n");
    proxy.cut();
    assert!(closed_by_peer(&mut first));
    let mut second = connect(proxy.addr());
    second.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut second, 7), b"+PONG\r\n");
    assert_eq!(proxy.accepted_connections(), 2);
}

#[test]
fn stall_holds_bytes_until_released() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.stall(true);
    client.write_all(b"PING\r\n").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 7];
    let err = client.read(&mut buf).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    proxy.stall(false);
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_eq!(read_n(&mut client, 7), b"+PONG\r\n");
}

#[test]
fn delay_slows_each_chunk() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.delay(Duration::from_millis(300));
    let started = Instant::now();
    client.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut client, 7), b"+PONG\r\n");
    // One chunk each way, each held back 300 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    proxy.delay(Duration::ZERO);
    let started = Instant::now();
    client.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut client, 7), b"+PONG\r\n");
    // Generous bound: the machine is shared, but nowhere near 600 ms for a loopback PING.
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn cut_after_ends_a_reply_mid_frame_once() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.cut_after(5);
    client.write_all(b"ECHO hello-world\r\n").unwrap();
    assert_eq!(read_n(&mut client, 5), b"$11\r\n");
    assert!(closed_by_peer(&mut client));
    // One-shot: the next connection gets whole replies.
    let mut again = connect(proxy.addr());
    again.write_all(b"ECHO hello-world\r\n").unwrap();
    assert_eq!(read_n(&mut again, 18), b"$11\r\nhello-world\r\n");
}

#[test]
fn drop_closes_stalled_connections_promptly() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.stall(true);
    client.write_all(b"PING\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    drop(proxy);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(closed_by_peer(&mut client));
}

#[test]
fn unreachable_target_closes_the_client() {
    let dead = {
        let server = Server::redis();
        server.addr()
    };
    let proxy = Proxy::new(dead).unwrap();
    let mut client = connect(proxy.addr());
    assert!(closed_by_peer(&mut client));
}

#[test]
fn trickle_sends_server_bytes_one_at_a_time_until_turned_off() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.trickle(Duration::from_millis(50));
    let started = Instant::now();
    client.write_all(b"ECHO hello\r\n").unwrap();
    let mut first = [0u8; 8];
    let n = client.read(&mut first).unwrap();
    assert_eq!(&first[..n], b"$", "one byte at a time");
    assert_eq!(read_n(&mut client, 3), b"5\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    proxy.trickle(Duration::ZERO);
    // The rest of the held-back chunk goes at once, and so does later traffic.
    assert_eq!(read_n(&mut client, 7), b"hello\r\n");
    let started = Instant::now();
    client.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut client, 7), b"+PONG\r\n");
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn extra_replies_follow_a_whole_reply_in_the_same_write() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut client = connect(proxy.addr());
    proxy.extra_reply(Extra::Bytes(b"+STALE\r\n".to_vec()));
    client.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = client.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"+PONG\r\n+STALE\r\n", "one read gets both");
    // One-shot.
    client.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut client, 7), b"+PONG\r\n");
    proxy.extra_reply(Extra::Duplicate);
    client.write_all(b"ECHO twice\r\n").unwrap();
    let n = client.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"$5\r\ntwice\r\n$5\r\ntwice\r\n");
}

#[test]
fn bytes_sent_to_clients_arrive_between_replies() {
    let server = Server::redis();
    let proxy = Proxy::to(&server).unwrap();
    let mut first = connect(proxy.addr());
    let mut second = connect(proxy.addr());
    for client in [&mut first, &mut second] {
        client.write_all(b"PING\r\n").unwrap();
        assert_eq!(read_n(client, 7), b"+PONG\r\n");
    }
    assert_eq!(proxy.send_to_clients(b"+STALE\r\n"), 2);
    for client in [&mut first, &mut second] {
        assert_eq!(read_n(client, 8), b"+STALE\r\n");
    }
}
