//! Facts of the Subsonic protocol that both sides of sharelog share: the client of
//! the music server (`upstream/`, `subsonic/login.rs`) and the Subsonic share calls
//! we answer (`subsonic/`).

/// The Subsonic API version we speak, to the music server and to Subsonic clients.
pub const API_VERSION: &str = "1.16.1";
