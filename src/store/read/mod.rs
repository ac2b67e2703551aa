//! Reading: folding the log into projections fast (`fold`) and the live feed of
//! durable batches (`subscribe`).

pub mod fold;
pub mod raw;
pub mod subscribe;
