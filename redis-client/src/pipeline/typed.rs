//! [`TypedPipeline`]: a pipeline whose type accumulates its commands' reply types, so
//! `execute` returns exactly their tuple with no annotation.

use std::marker::PhantomData;

use crate::client::Client;
use crate::command::{Command, Executor};
use crate::error::Result;
use crate::resp::{ToArgs, Value};

use super::{FromReplies, Pipeline};

/// A [`Pipeline`] that records each queued command's reply type in its own type.
///
/// Every command of the generated surface is a method here too; each returns a new
/// `TypedPipeline` one reply type longer, and [`TypedPipeline::execute`] gives back the tuple
/// of all of them, each reply converted into its own command's type (up to 16 commands).
///
/// ```no_run
/// use redis_client::{Client, Commands};
///
/// let client = Client::open("redis://127.0.0.1/")?;
/// let (set, n, value) = client
///     .typed_pipeline()
///     .set("a", 1)
///     .incr("a")
///     .get("a")
///     .execute()?; // ((), i64, Option<bytes::Bytes>)
/// # Ok::<(), redis_client::Error>(())
/// ```
pub struct TypedPipeline<'c, L> {
    pipe: Pipeline<'c>,
    /// The reply types so far, as nested pairs: `(((), A), B)`.
    replies: PhantomData<fn() -> L>,
}

impl Client {
    /// A new, empty [`TypedPipeline`]: a transaction unless
    /// [`TypedPipeline::transaction`]`(false)` says otherwise.
    pub fn typed_pipeline(&self) -> TypedPipeline<'_, ()> {
        TypedPipeline {
            pipe: self.pipeline(),
            replies: PhantomData,
        }
    }
}

impl<'c, L> TypedPipeline<'c, L> {
    /// Chooses a transaction (`MULTI` … `EXEC`, the default) or a plain pipeline.
    pub fn transaction(mut self, transaction: bool) -> Self {
        self.pipe.transaction(transaction);
        self
    }

    /// Queues a raw command; its reply comes back as a [`Value`].
    pub fn raw(mut self, args: impl ToArgs) -> TypedPipeline<'c, (L, Value)> {
        self.pipe.raw(args);
        self.grow()
    }

    /// The commands queued so far.
    pub fn len(&self) -> usize {
        self.pipe.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pipe.is_empty()
    }

    /// Sends the commands and returns their replies, each as its command's type; the first
    /// error (after every reply was read) is returned instead, as in
    /// [`Pipeline::execute_typed`].
    pub fn execute(mut self) -> Result<L::Tuple>
    where
        L: ReplyList,
    {
        self.pipe.execute_typed()
    }

    fn grow<T>(self) -> TypedPipeline<'c, (L, T)> {
        TypedPipeline {
            pipe: self.pipe,
            replies: PhantomData,
        }
    }
}

impl<'c, L> Executor for TypedPipeline<'c, L> {
    type Output<T> = TypedPipeline<'c, (L, T)>;

    fn run<C: Command>(mut self, cmd: C) -> TypedPipeline<'c, (L, C::Output)> {
        (&mut self.pipe).run(cmd);
        self.grow()
    }
}

/// The reply types a [`TypedPipeline`] accumulated (nested pairs), and the flat tuple they
/// come back as.
pub trait ReplyList {
    /// The tuple `execute` returns.
    type Tuple: FromReplies;
}

/// `nested!((); A B C)` is `((((), A), B), C)`.
macro_rules! nested {
    ($acc:ty;) => { $acc };
    ($acc:ty; $head:ident $($rest:ident)*) => { nested!(($acc, $head); $($rest)*) };
}

macro_rules! reply_list {
    ($($name:ident)+) => {
        impl<$($name: crate::resp::FromValue),+> ReplyList for nested!((); $($name)+) {
            type Tuple = ($($name,)+);
        }
    };
}

reply_list!(A);
reply_list!(A B);
reply_list!(A B C);
reply_list!(A B C D);
reply_list!(A B C D E);
reply_list!(A B C D E F);
reply_list!(A B C D E F G);
reply_list!(A B C D E F G H);
reply_list!(A B C D E F G H I);
reply_list!(A B C D E F G H I J);
reply_list!(A B C D E F G H I J K);
reply_list!(A B C D E F G H I J K L);
reply_list!(A B C D E F G H I J K L M);
reply_list!(A B C D E F G H I J K L M N);
reply_list!(A B C D E F G H I J K L M N O);
reply_list!(A B C D E F G H I J K L M N O P);
