//! Pipelines and transactions (documented on [`Pipeline`]).

mod batch;
mod immediate;
pub(crate) mod queue;
pub(crate) mod replies;
mod scripts;
pub(crate) mod send;
mod transaction;
mod typed;

pub use batch::Pipeline;
pub use immediate::Immediate;
pub use replies::{FromReplies, Replies};
pub use transaction::TransactionOptions;
pub use typed::{ReplyList, TypedPipeline};
