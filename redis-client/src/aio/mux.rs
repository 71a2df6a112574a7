//! The multiplexed connection of an [`AsyncClient`](super::AsyncClient): every caller's command
//! goes into one shared connection core, and one driver task owns the socket.
//!
//! A caller encodes its command, locks the shared state, queues the frame in the core
//! ([`Core::queue`]) and gets a slot for the reply, numbered like the core numbers replies.
//! The driver task writes whatever callers queued since its last write in one go (so concurrent
//! commands are pipelined automatically), reads, and hands each reply the core matches
//! ([`Core::next_event`]) to its slot. The core's deadlines time replies out. A caller that
//! stops waiting abandons its reply in the core ([`Core::abandon`]): it is read and dropped,
//! never handed to anyone. When the connection fails, every waiting slot fails with whether its
//! frame had been wholly written ([`Sent`]), a fresh core takes the place of the old one, and
//! the driver connects again when there is work.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::BytesMut;
use tokio_native_tls::TlsConnector;

use super::connection::AsyncConnection;
use super::wire::Wire;
use crate::config::Config;
use crate::connection::core::{Core, Event, Reply, ReplyId, Wait};
use crate::connection::request::Request;
use crate::connection::Failure;
use crate::error::Error;
use crate::resp::Value;

/// One connection shared by every task of a client.
pub(crate) struct Mux {
    config: Config,
    tls: Option<TlsConnector>,
    max_in_flight: usize,
    state: Mutex<State>,
}

/// What the caller learns when it submits a command.
pub(crate) enum Submitted {
    /// Queued; the reply will come to slot `seq`.
    Queued(u64),
    /// As many commands as allowed are in flight; the caller's waker is called when one ends.
    Full,
}

struct State {
    core: Core,
    /// The slot number of `slots[0]`; slots are numbered for the client's whole life.
    slots_base: u64,
    slots: VecDeque<Slot>,
    /// The slot number of the current core's reply 0.
    epoch_base: u64,
    /// Bytes queued in the current core; those written are this less its unsent output.
    queued: u64,
    /// Slots whose reply is still to come.
    waiting: usize,
    /// Callers waiting for room (backpressure).
    room: VecDeque<Waker>,
    driver: Driver,
    /// Every client handle is gone: the driver ends once nothing is owed.
    closed: bool,
}

enum Driver {
    Stopped,
    /// Running; the waker of its task while it waits.
    Running(Option<Waker>),
}

struct Slot {
    /// The reply's number in the core it was queued in, and that core's first slot number.
    id: ReplyId,
    epoch_base: u64,
    /// Where its frame ends in that core's queued bytes.
    end: u64,
    outcome: Outcome,
}

enum Outcome {
    Waiting(Option<Waker>),
    Ready(Result<Value, Failure>),
    Taken,
}

impl Mux {
    pub(crate) fn new(config: Config, tls: Option<TlsConnector>, max_in_flight: usize) -> Mux {
        let core = fresh_core(&config);
        Mux {
            config,
            tls,
            max_in_flight: max_in_flight.max(1),
            state: Mutex::new(State {
                core,
                slots_base: 0,
                slots: VecDeque::new(),
                epoch_base: 0,
                queued: 0,
                waiting: 0,
                room: VecDeque::new(),
                driver: Driver::Stopped,
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves whole entries behind; carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `request` for the driver to send; starts the driver when none runs.
    pub(crate) fn submit(
        self: &Arc<Self>,
        request: &Request,
        cx: &mut Context<'_>,
    ) -> Result<Submitted, Failure> {
        let mut st = self.lock();
        if st.waiting >= self.max_in_flight {
            st.room.push_back(cx.waker().clone());
            return Ok(Submitted::Full);
        }
        let id = st.core.queue(request).map_err(Failure::unsent)?;
        st.queued += request.frame.len() as u64;
        let seq = st.epoch_base + id.0;
        debug_assert_eq!(seq, st.slots_base + st.slots.len() as u64);
        let (end, epoch_base) = (st.queued, st.epoch_base);
        st.slots.push_back(Slot {
            id,
            epoch_base,
            end,
            outcome: Outcome::Waiting(Some(cx.waker().clone())),
        });
        st.waiting += 1;
        if st.waiting < self.max_in_flight {
            // Room is left: let the next caller waiting for it try.
            if let Some(next) = st.room.pop_front() {
                next.wake();
            }
        }
        let driver = self.start_or_wake_driver(&mut st);
        drop(st);
        if let Some(driver) = driver {
            driver.wake();
        }
        Ok(Submitted::Queued(seq))
    }

    /// The outcome of slot `seq`, once it came.
    pub(crate) fn poll_outcome(
        &self,
        seq: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Value, Failure>> {
        let mut st = self.lock();
        let index = (seq - st.slots_base) as usize;
        let slot = &mut st.slots[index];
        match &mut slot.outcome {
            Outcome::Waiting(waker) => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Outcome::Ready(_) => {
                let Outcome::Ready(outcome) = std::mem::replace(&mut slot.outcome, Outcome::Taken)
                else {
                    unreachable!("the outcome was ready")
                };
                st.trim();
                Poll::Ready(outcome)
            }
            Outcome::Taken => unreachable!("an outcome is taken once"),
        }
    }

    /// The caller of slot `seq` stopped waiting: its reply is abandoned in the core.
    pub(crate) fn abandon(&self, seq: u64) {
        let mut st = self.lock();
        let Some(index) = seq.checked_sub(st.slots_base) else {
            return;
        };
        let current = st.epoch_base;
        let Some(slot) = st.slots.get_mut(index as usize) else {
            return;
        };
        let was_waiting = matches!(slot.outcome, Outcome::Waiting(_));
        let (id, epoch) = (slot.id, slot.epoch_base);
        slot.outcome = Outcome::Taken;
        if was_waiting {
            if epoch == current {
                st.core.abandon(id);
            }
            st.ended_one();
        }
        st.trim();
    }

    /// Every client handle is gone.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.wake_driver();
    }

    /// Serves the connection until it fails (or the client is gone and nothing is owed).
    ///
    /// The lock is held only to move bytes in and out of the core, never across a system
    /// call: the queued bytes are swapped out ([`Core::swap_output`]) and written outside it,
    /// reads land in the wire's scratch buffer and are handed to the core under it.
    fn poll_serve(&self, cx: &mut Context<'_>, io: &mut DriverIo) -> Poll<Error> {
        loop {
            let until = {
                let mut st = self.lock();
                match &mut st.driver {
                    Driver::Running(Some(waker)) if waker.will_wake(cx.waker()) => {}
                    driver => *driver = Driver::Running(Some(cx.waker().clone())),
                }
                if st.closed && st.waiting == 0 {
                    return Poll::Ready(Error::Usage("every handle on the client is gone".into()));
                }
                if io.out.is_empty() && !st.core.output_is_empty() {
                    st.core.swap_output(&mut io.out);
                }
                let now = Instant::now();
                match st.core.wait(now) {
                    Ok(Wait::Within(left)) => Some(now + left),
                    Ok(Wait::Forever | Wait::Idle) => None,
                    Err(e) => return Poll::Ready(e),
                }
            };
            let mut progressed = false;
            if !io.out.is_empty() {
                let before = io.out.len();
                let written = io.wire.poll_write_buf(cx, &mut io.out);
                io.written += (before - io.out.len()) as u64;
                match written {
                    Poll::Ready(Ok(())) => progressed = true,
                    Poll::Ready(Err(e)) => {
                        return Poll::Ready(self.lock().core.io_failure("write to", e))
                    }
                    Poll::Pending => {}
                }
            }
            match io.wire.poll_read_some(cx, until) {
                Poll::Ready(Ok(bytes)) => {
                    let mut st = self.lock();
                    if let Some(bytes) = bytes {
                        st.core.received().extend_from_slice(bytes);
                    }
                    let failed = loop {
                        match st.core.next_event() {
                            Ok(Some(Event::Reply(reply))) => st.deliver(reply, &mut io.wake),
                            // No push handler on a shared connection: pushes go nowhere.
                            Ok(Some(Event::Push(_))) => {}
                            Ok(None) => break None,
                            Err(e) => break Some(e),
                        }
                    };
                    drop(st);
                    for waker in io.wake.drain(..) {
                        waker.wake();
                    }
                    if let Some(e) = failed {
                        return Poll::Ready(e);
                    }
                }
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(self.lock().core.io_failure("read from", e))
                }
                Poll::Pending if progressed => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Waits until a command is queued (or the client is gone: `false`).
    async fn work(&self) -> bool {
        poll_fn(|cx| {
            let mut st = self.lock();
            if st.waiting > 0 {
                return Poll::Ready(true);
            }
            if st.closed {
                return Poll::Ready(false);
            }
            st.driver = Driver::Running(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await
    }
}

impl State {
    /// Puts `reply` in its slot; the waker to call once the lock is released goes to `wake`
    /// (a woken caller's first act is to take the lock).
    fn deliver(&mut self, reply: Reply, wake: &mut Vec<Waker>) {
        let index = (self.epoch_base + reply.id.0 - self.slots_base) as usize;
        let slot = &mut self.slots[index];
        if let Outcome::Waiting(waker) = &mut slot.outcome {
            let waker = waker.take();
            slot.outcome = Outcome::Ready(Ok(reply.value));
            wake.extend(waker);
            self.ended_one();
        }
    }

    /// A slot stopped waiting: one more command may go in flight.
    fn ended_one(&mut self) {
        self.waiting -= 1;
        if let Some(next) = self.room.pop_front() {
            next.wake();
        }
    }

    /// Drops the slots at the front whose outcome was taken.
    fn trim(&mut self) {
        while matches!(self.slots.front(), Some(slot) if matches!(slot.outcome, Outcome::Taken)) {
            self.slots.pop_front();
            self.slots_base += 1;
        }
    }

    fn wake_driver(&mut self) {
        if let Driver::Running(waker) = &mut self.driver {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
    }

    /// The connection failed with `error`: every waiting slot fails, saying whether its frame
    /// had gone out whole, and a fresh core takes the old one's place.
    /// `written`: the bytes of the current core that went out whole.
    fn fail_all(&mut self, error: &Error, config: &Config, written: u64) {
        for slot in self.slots.iter_mut() {
            let Outcome::Waiting(waker) = &mut slot.outcome else {
                continue;
            };
            let waker = waker.take();
            let error = error.copy_without_command();
            let failure = if slot.end <= written {
                Failure::maybe_sent(error)
            } else {
                // Not wholly written: a partial frame is never executed.
                Failure::unsent(error)
            };
            slot.outcome = Outcome::Ready(Err(failure));
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        self.waiting = 0;
        for waker in self.room.drain(..) {
            waker.wake();
        }
        self.core = fresh_core(config);
        self.epoch_base = self.slots_base + self.slots.len() as u64;
        self.queued = 0;
    }
}

fn fresh_core(config: &Config) -> Core {
    Core::new(
        config.addr().to_string(),
        config.protocol(),
        config.socket_timeout(),
    )
}

/// What the driver task owns beside the shared state: the socket, the bytes taken out of the
/// core being written, and how many bytes of this connection went out whole.
struct DriverIo {
    wire: Wire,
    out: BytesMut,
    written: u64,
    /// The callers whose replies came, to wake once the lock is released (reused).
    wake: Vec<Waker>,
}

/// Marks the driver stopped when its task ends, however it ends (a runtime shutting down drops
/// it mid-await): waiting callers fail instead of hanging, and the next command starts a
/// driver again.
struct Stopped<'a>(&'a Mux);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.driver = Driver::Stopped;
        if st.waiting > 0 {
            let error = Error::Usage(
                "the task driving the async client's connection ended (its runtime shut down?)"
                    .into(),
            );
            // What went out is unknown here: every command may have run.
            st.fail_all(&error, &self.0.config, u64::MAX);
        }
    }
}

/// The driver task: connects when there is work, serves the connection until it fails, and
/// starts over; ends when every client handle is gone and nothing is owed.
async fn drive(mux: Arc<Mux>) {
    let _stopped = Stopped(&mux);
    // The buffer the queued bytes are swapped into, kept across connections.
    let mut spare = BytesMut::new();
    loop {
        if !mux.work().await {
            return;
        }
        let mut written = 0;
        let error = match AsyncConnection::open_with(&mux.config, mux.tls.as_ref()).await {
            Ok(conn) => {
                let (wire, handshake) = conn.into_parts();
                mux.lock().core.set_protocol(handshake.protocol());
                let mut io = DriverIo {
                    wire,
                    out: std::mem::take(&mut spare),
                    written: 0,
                    wake: Vec::new(),
                };
                let error = poll_fn(|cx| mux.poll_serve(cx, &mut io)).await;
                written = io.written;
                // What is left unwritten belongs to the failed connection's commands, which
                // fail below: sending it on the next connection would run them after all and
                // hand their replies to the next callers.
                spare = io.out;
                spare.clear();
                error
            }
            Err(error) => error,
        };
        let mut st = mux.lock();
        let quiet = st.closed && st.waiting == 0;
        st.fail_all(&error, &mux.config, written);
        if quiet {
            return;
        }
    }
}

impl Mux {
    /// Queues a batch of encoded frames (a pipeline's) in one go, so nothing interleaves with
    /// them: `blocks` gives each frame's blocking time, `ends` where each frame ends within
    /// `frames`. Returns the first slot; the batch's `count` slots follow it. A batch larger
    /// than the in-flight bound goes in alone.
    pub(crate) fn submit_batch(
        self: &Arc<Self>,
        frames: &[u8],
        blocks: impl IntoIterator<Item = Option<crate::command_meta::BlockFor>>,
        ends: impl IntoIterator<Item = usize>,
        count: usize,
        cx: &mut Context<'_>,
    ) -> Result<Submitted, Failure> {
        let mut st = self.lock();
        if st.waiting > 0 && st.waiting + count > self.max_in_flight {
            st.room.push_back(cx.waker().clone());
            return Ok(Submitted::Full);
        }
        let Some(first) = st
            .core
            .queue_frames(frames, blocks)
            .map_err(Failure::unsent)?
        else {
            return Ok(Submitted::Queued(st.slots_base + st.slots.len() as u64));
        };
        let (start, epoch_base) = (st.queued, st.epoch_base);
        st.queued += frames.len() as u64;
        let seq = epoch_base + first.0;
        for (i, end) in ends.into_iter().enumerate().take(count) {
            let waker = (i + 1 == count).then(|| cx.waker().clone());
            st.slots.push_back(Slot {
                id: ReplyId(first.0 + i as u64),
                epoch_base,
                end: start + end as u64,
                outcome: Outcome::Waiting(waker),
            });
        }
        st.waiting += count;
        let driver = self.start_or_wake_driver(&mut st);
        drop(st);
        if let Some(driver) = driver {
            driver.wake();
        }
        Ok(Submitted::Queued(seq))
    }

    /// The outcomes of the `count` slots from `first` on, once the last came (replies come in
    /// order, and a failure fails them all, so then every one has).
    pub(crate) fn poll_batch(
        &self,
        first: u64,
        count: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Vec<Result<Value, Failure>>> {
        let mut st = self.lock();
        let base = st.slots_base;
        let last = &mut st.slots[(first + count as u64 - 1 - base) as usize];
        if let Outcome::Waiting(waker) = &mut last.outcome {
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let start = (first - base) as usize;
        let outcomes = st
            .slots
            .range_mut(start..start + count)
            .map(
                |slot| match std::mem::replace(&mut slot.outcome, Outcome::Taken) {
                    Outcome::Ready(outcome) => outcome,
                    _ => unreachable!("every slot before a ready one is ready"),
                },
            )
            .collect();
        st.trim();
        Poll::Ready(outcomes)
    }

    /// Starts the driver when none runs, else takes its waker, to be called by the caller once
    /// the lock is released (the woken driver's first act is to take it).
    fn start_or_wake_driver(self: &Arc<Self>, st: &mut State) -> Option<Waker> {
        match &mut st.driver {
            Driver::Running(waker) => waker.take(),
            Driver::Stopped => {
                st.driver = Driver::Running(None);
                tokio::spawn(drive(Arc::clone(self)));
                None
            }
        }
    }
}
