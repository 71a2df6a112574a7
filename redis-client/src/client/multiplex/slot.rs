//! The hand-off between a multiplexed client's callers: each waiting caller's [`Slot`], and the
//! rules the combining and split connections share for locks and reply outcomes.

use std::mem;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::connection::Failure;
use crate::error::Error;
use crate::resp::Value;

/// Where a waiting caller learns its outcome, or (flat combining) that it leads the next batch.
#[derive(Default)]
pub(super) struct Slot {
    turn: Mutex<Turn>,
    changed: Condvar,
}

#[derive(Default)]
pub(super) enum Turn {
    #[default]
    Waiting,
    Lead,
    Done(Result<Value, Failure>),
}

impl Slot {
    pub(super) fn set(&self, turn: Turn) {
        *lock(&self.turn) = turn;
        self.changed.notify_one();
    }

    /// Waits until the slot is set: `None` means "lead the next batch".
    pub(super) fn wait(&self) -> Option<Result<Value, Failure>> {
        let mut turn = lock(&self.turn);
        loop {
            match mem::take(&mut *turn) {
                Turn::Waiting => {
                    turn = self
                        .changed
                        .wait(turn)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                Turn::Lead => return None,
                Turn::Done(outcome) => return Some(outcome),
            }
        }
    }
}

/// A poisoned lock only means a thread panicked while holding it. Queues stay consistent
/// (entries are pushed and taken whole) and a connection left mid-batch is not reusable, so
/// carry on.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The outcome of a reply read for command `name`: an error reply fails it, naming it.
pub(super) fn outcome_of(value: Value, name: &str) -> Result<Value, Failure> {
    match value {
        Value::Error(payload) => Err(Failure::maybe_sent(Error::from_server_reply(
            &payload,
            Some(name),
        ))),
        value => Ok(value),
    }
}
