//! The HTTP plumbing around the front doors: every path in one table (`routes`),
//! request bodies bounded before any handler (`request_body`), one log line and
//! metrics sample per request (`log`), actix's own answers as our JSON errors
//! (`errors`), `/livez`, `/readyz` and `/metrics` (`health`), and `/openapi.json`
//! (`openapi`).

pub mod errors;
pub mod health;
pub mod log;
pub mod openapi;
pub mod request_body;
pub mod routes;
