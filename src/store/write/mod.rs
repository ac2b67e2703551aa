//! Writing: what a caller sends (`request`), how a batch is decided and chained
//! (`plan`, against `latest`), what a refused command is answered with (`refusal`), the single writer (`committer`) and the stage that
//! makes batches durable and answers (`syncer`).

pub mod committer;
pub mod latest;
pub mod plan;
pub mod refusal;
pub mod request;
pub mod syncer;
