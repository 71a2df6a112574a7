//! The replies a connection owes, oldest first: for each, the command's name, how long its reply
//! may take to arrive, and whether anyone still wants it; plus the deadline of the oldest.
//!
//! Consecutive replies with the same name and budget (a pipeline of 1 000 `GET`s, or raw
//! `write_command` calls) share one entry with a count, so owing a reply is a counter increment
//! on the hot path rather than a push per command.

use std::borrow::Cow;
use std::time::{Duration, Instant};

/// Identifies one owed reply: replies are numbered in the order their commands were queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ReplyId(pub(crate) u64);

/// A run of consecutive owed replies alike in everything but their number.
#[derive(Debug)]
struct Run {
    /// Upper-case command name for errors; empty when unknown (raw `write_command`).
    name: Cow<'static, str>,
    /// How long each reply may take once the client waits for it; `None`: no limit.
    budget: Option<Duration>,
    /// Nobody wants these replies any more: they are read and dropped.
    abandoned: bool,
    /// The command changes its connection's state, and frames that answer nothing may follow
    /// its reply (the RESP2 confirmations of `SUBSCRIBE a b` after the first).
    trails: bool,
    count: u64,
}

/// What [`Owed::pop`] took off the front.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Popped {
    pub(crate) id: ReplyId,
    pub(crate) abandoned: bool,
    /// Frames that answer nothing may follow this reply (see [`Owed::push_trailing`]).
    pub(crate) trails: bool,
}

/// When the oldest owed reply must have arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Nothing is owed.
    Idle,
    /// A reply is owed and may take as long as it needs (no socket timeout, or a blocking
    /// command that blocks forever).
    Forever,
    /// The oldest owed reply must be complete within this long from now (zero: overdue).
    Within(Duration),
}

/// The queue of owed replies.
#[derive(Debug, Default)]
pub(crate) struct Owed {
    /// The runs, oldest first, from index `head` on (those before it are done). A plain vector
    /// is cheaper than a ring at both ends, and the queue empties after every batch, when it
    /// starts over.
    runs: Vec<Run>,
    head: usize,
    /// How many replies are owed (the sum of the runs' counts).
    len: u64,
    /// The number the next owed reply gets.
    next: u64,
    /// When the client started waiting for the front reply (its clock started).
    since: Option<Instant>,
}

impl Owed {
    /// How many replies are owed.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Owes one more reply, to the command `name` (empty when unknown), which may take `budget`
    /// once the client waits for it (`None`: no limit).
    ///
    /// `waiting_since` is for front ends that read all the time (the multiplexed reader): when
    /// nothing was owed, the client has been waiting since then, so the clock of this reply
    /// starts there. Front ends that read on demand pass `None`: the clock starts when they first
    /// wait for the reply ([`Owed::wait`]).
    // `&Cow`: a new run copies a static name instead of allocating one.
    #[allow(clippy::ptr_arg)]
    #[inline]
    pub(crate) fn push(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
        waiting_since: Option<Instant>,
    ) -> ReplyId {
        self.push_many(name, budget, 1, waiting_since)
    }

    /// Owes `count` alike replies at once (see [`Owed::push`]); returns the first one's number.
    #[allow(clippy::ptr_arg)]
    #[inline]
    pub(crate) fn push_many(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
        count: u64,
        waiting_since: Option<Instant>,
    ) -> ReplyId {
        self.add(name, budget, count, waiting_since, false)
    }

    /// Owes the reply to a command that changes its connection's state, behind which frames
    /// that answer no command may follow (see [`Popped::trails`]).
    #[allow(clippy::ptr_arg)]
    pub(crate) fn push_trailing(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
    ) -> ReplyId {
        self.add(name, budget, 1, None, true)
    }

    #[allow(clippy::ptr_arg)]
    #[inline]
    fn add(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
        count: u64,
        waiting_since: Option<Instant>,
        trails: bool,
    ) -> ReplyId {
        let was_empty = self.len == 0;
        if was_empty {
            self.since = waiting_since;
        }
        let id = ReplyId(self.next);
        self.next += count;
        self.len += count;
        if let Some(run) = self.runs.last_mut() {
            if run.budget == budget
                && same_name(&run.name, name)
                && !run.abandoned
                && run.trails == trails
            {
                run.count += count;
                return id;
            }
        }
        self.push_run(name, budget, count, trails, was_empty);
        id
    }

    /// Starts a new run of `count` replies.
    #[allow(clippy::ptr_arg)]
    #[inline(never)]
    fn push_run(
        &mut self,
        name: &Cow<'static, str>,
        budget: Option<Duration>,
        count: u64,
        trails: bool,
        was_empty: bool,
    ) {
        if was_empty {
            // Only the spent last run is left: it goes.
            self.runs.clear();
            self.head = 0;
        } else if self.head > 16 && self.head * 2 > self.runs.len() {
            self.compact();
        }
        self.runs.push(Run {
            name: name.clone(),
            budget,
            abandoned: false,
            trails,
            count,
        });
    }

    /// Drops the finished runs before `head` once they are most of the vector (a queue that
    /// never empties, such as a busy multiplexed connection's).
    #[cold]
    fn compact(&mut self) {
        self.runs.drain(..self.head);
        self.head = 0;
    }

    /// Takes the front reply off the queue: it has arrived.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Popped> {
        if self.len == 0 {
            return None;
        }
        let run = &mut self.runs[self.head];
        let (abandoned, trails) = (run.abandoned, run.trails);
        run.count -= 1;
        if run.count == 0 {
            if self.head + 1 == self.runs.len() {
                // The queue is empty. The spent run stays, so that the next command, most
                // often one like the last, joins it instead of starting a run of its own.
                self.runs.drain(..self.head);
                self.head = 0;
            } else {
                self.head += 1;
            }
        }
        let id = ReplyId(self.next - self.len);
        self.len -= 1;
        // The next reply's clock starts when the client waits for it.
        self.since = None;
        Some(Popped {
            id,
            abandoned,
            trails,
        })
    }

    /// The front reply's command name, when known.
    pub(crate) fn front_name(&self) -> Option<&str> {
        self.front()
            .map(|run| run.name.as_ref())
            .filter(|name| !name.is_empty())
    }

    /// The front reply's budget (`None`: nothing owed, or no limit).
    pub(crate) fn front_budget(&self) -> Option<Duration> {
        self.front().and_then(|run| run.budget)
    }

    /// The run holding the front reply, if any is owed.
    #[inline]
    fn front(&self) -> Option<&Run> {
        (self.len > 0).then(|| &self.runs[self.head])
    }

    /// Starts the front reply's clock if it is not running yet (the client waits for that reply
    /// from `now` on) and says until when the client may wait.
    #[inline]
    pub(crate) fn wait(&mut self, now: Instant) -> Wait {
        let Some(run) = self.front() else {
            return Wait::Idle;
        };
        let Some(budget) = run.budget else {
            return Wait::Forever;
        };
        match self.since {
            // Reading the clock is the front end's; computing with it here is cheap enough, but
            // the usual case (the first wait for a reply) needs no arithmetic at all.
            None => {
                self.since = Some(now);
                Wait::Within(budget)
            }
            Some(since) => {
                Wait::Within(budget.saturating_sub(now.saturating_duration_since(since)))
            }
        }
    }

    /// The front reply's deadline, if its clock is running.
    #[cfg(test)]
    pub(crate) fn deadline(&self) -> Option<Instant> {
        Some(self.since? + self.front()?.budget?)
    }

    /// Marks reply `id` as wanted by nobody: it is still read off the stream (the server sends
    /// it anyway) but dropped. Returns whether `id` was owed.
    pub(crate) fn abandon(&mut self, id: ReplyId) -> bool {
        let front = self.next - self.len;
        if id.0 < front || id.0 >= self.next {
            return false;
        }
        let mut offset = id.0 - front;
        let mut index = self.head;
        while offset >= self.runs[index].count {
            offset -= self.runs[index].count;
            index += 1;
        }
        let run = &mut self.runs[index];
        if run.abandoned {
            return true;
        }
        let after = run.count - offset - 1;
        let template = |count| Run {
            name: run.name.clone(),
            budget: run.budget,
            abandoned: false,
            trails: run.trails,
            count,
        };
        let (before, tail) = (template(offset), template(after));
        run.count = 1;
        run.abandoned = true;
        if after > 0 {
            self.runs.insert(index + 1, tail);
        }
        if offset > 0 {
            self.runs.insert(index, before);
        }
        true
    }

    /// Forgets every owed reply (the connection ended); returns how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let len = self.len();
        self.runs.clear();
        self.head = 0;
        self.len = 0;
        self.since = None;
        len
    }
}

/// Whether two names are equal, telling the usual case (the same static name) by its address.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.as_ptr() == b.as_ptr() || a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: Cow<'static, str> = Cow::Borrowed("GET");
    const SET: Cow<'static, str> = Cow::Borrowed("SET");
    const SECOND: Option<Duration> = Some(Duration::from_secs(1));

    #[test]
    fn alike_replies_share_a_run_and_pop_in_order() {
        let mut owed = Owed::default();
        let ids: Vec<ReplyId> = (0..3).map(|_| owed.push(&GET, SECOND, None)).collect();
        owed.push(&SET, SECOND, None);
        owed.push(&GET, None, None);
        assert_eq!(owed.runs.len(), 3, "{:?}", owed.runs);
        assert_eq!(owed.head, 0);
        assert_eq!(owed.len(), 5);
        for id in ids {
            assert_eq!(owed.front_name(), Some("GET"));
            assert_eq!(owed.pop().unwrap().id, id);
        }
        assert_eq!(owed.front_name(), Some("SET"));
        assert_eq!(owed.pop().unwrap().id, ReplyId(3));
        assert_eq!(owed.front_budget(), None);
        assert_eq!(owed.pop().unwrap().id, ReplyId(4));
        assert!(owed.pop().is_none() && owed.is_empty());
        assert_eq!(owed.runs.len(), 1, "an empty queue keeps only its last run");
        owed.push(&GET, None, None);
        assert_eq!(owed.runs.len(), 1, "which the next alike command joins");
        owed.pop();
        owed.push(&SET, None, None);
        assert_eq!(owed.runs.len(), 1, "or a new run replaces");
        assert_eq!(owed.front_name(), Some("SET"));
    }

    #[test]
    fn a_queue_that_never_empties_drops_its_finished_runs() {
        let mut owed = Owed::default();
        for i in 0..1000 {
            let name = if i % 2 == 0 { &GET } else { &SET };
            owed.push(name, SECOND, None);
            if i >= 10 {
                owed.pop();
            }
        }
        assert_eq!(owed.len(), 10);
        assert!(owed.runs.len() <= 64, "{}", owed.runs.len());
        assert_eq!(owed.front_name(), Some("GET"));
    }

    #[test]
    fn each_reply_gets_the_whole_budget_from_when_the_client_waits_for_it() {
        let start = Instant::now();
        let mut owed = Owed::default();
        assert_eq!(owed.wait(start), Wait::Idle);
        owed.push(&GET, SECOND, None);
        owed.push(&GET, SECOND, None);
        owed.push(&GET, None, None);
        assert_eq!(owed.deadline(), None, "no clock before the client waits");
        let (first, second) = (start + Duration::from_millis(10), Duration::from_secs(1));
        assert_eq!(owed.wait(first), Wait::Within(second));
        assert_eq!(owed.deadline(), Some(first + second));
        // Waiting again does not restart the clock.
        let later = first + Duration::from_millis(500);
        assert_eq!(owed.wait(later), Wait::Within(Duration::from_millis(500)));
        assert_eq!(owed.wait(first + second * 2), Wait::Within(Duration::ZERO));
        owed.pop();
        assert_eq!(
            owed.deadline(),
            None,
            "the next reply's clock has not started"
        );
        assert_eq!(owed.wait(later), Wait::Within(second));
        owed.pop();
        assert_eq!(owed.wait(later), Wait::Forever);
    }

    #[test]
    fn a_reader_waiting_all_along_starts_the_clock_when_the_command_was_queued() {
        let start = Instant::now();
        let mut owed = Owed::default();
        owed.push(&GET, SECOND, Some(start));
        assert_eq!(owed.deadline(), Some(start + Duration::from_secs(1)));
        // Only the front reply's clock runs: a command queued behind it starts later.
        owed.push(&GET, SECOND, Some(start + Duration::from_millis(900)));
        assert_eq!(owed.deadline(), Some(start + Duration::from_secs(1)));
    }

    #[test]
    fn abandoning_splits_a_run_and_marks_only_that_reply() {
        let mut owed = Owed::default();
        let ids: Vec<ReplyId> = (0..5).map(|_| owed.push(&GET, SECOND, None)).collect();
        assert!(owed.abandon(ids[2]));
        assert!(owed.abandon(ids[2]), "abandoning twice is harmless");
        assert!(owed.abandon(ids[4]));
        assert!(!owed.abandon(ReplyId(99)));
        let popped: Vec<bool> = (0..5).map(|_| owed.pop().unwrap().abandoned).collect();
        assert_eq!(popped, [false, false, true, false, true]);
        assert!(!owed.abandon(ids[0]), "a reply already taken is not owed");
        // An abandoned run never absorbs new replies.
        let id = owed.push(&GET, SECOND, None);
        owed.abandon(id);
        owed.push(&GET, SECOND, None);
        assert_eq!(
            owed.pop().unwrap(),
            Popped {
                id,
                abandoned: true,
                trails: false
            }
        );
        assert!(!owed.pop().unwrap().abandoned);
        // A reply that may have frames trailing it keeps a run of its own.
        owed.push(&GET, SECOND, None);
        owed.push_trailing(&GET, SECOND);
        owed.push(&GET, SECOND, None);
        let trails: Vec<bool> = (0..3).map(|_| owed.pop().unwrap().trails).collect();
        assert_eq!(trails, [false, true, false]);
    }
}
