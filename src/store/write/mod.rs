//! Writing: what a caller sends (`request`), how a batch is decided and chained
//! (`plan`, against `latest`), the single writer (`committer`) and the stage that
//! makes batches durable and answers (`syncer`).

pub mod committer;
pub mod latest;
pub mod plan;
pub mod request;
pub mod syncer;
