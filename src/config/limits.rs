//! `limits:`: how long we wait for a client or the music server, and how much of the
//! music server one visitor (and all of them together) may hold. Seconds are whole seconds.

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds to receive a request's line and headers.
    pub header_timeout: u64,
    /// Seconds to receive a whole request body, counted from the start of the request.
    pub body_timeout: u64,
    /// Seconds to wait for the music server's answer (status and headers) to a stream,
    /// download or zip entry: a hung music server fails fast instead of after a whole transfer.
    pub first_byte_timeout: u64,
    /// Seconds a stream, download or zip may go without progress (the visitor taking bytes,
    /// or the music server sending them) before it is dropped and its music-server
    /// connection freed.
    pub stall_timeout: u64,
    /// Seconds one whole stream, download or zip may take, however it progresses.
    pub transfer_timeout: u64,
    /// Streams, downloads and zips one client may have open at once (429 past it).
    pub transfers_per_client: u32,
    /// Streams, downloads and zips open at once, all clients together (503 past it).
    pub transfers: u32,
    /// IPv6 clients are counted by this prefix (rate limit, transfers): one /64 is one client.
    pub ipv6_prefix: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: 5,
            body_timeout: 10,
            first_byte_timeout: 10,
            stall_timeout: 60,
            transfer_timeout: 3600,
            transfers_per_client: 8,
            transfers: 128,
            ipv6_prefix: 64,
        }
    }
}

impl Limits {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout)
    }
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout)
    }
    pub fn first_byte_timeout(&self) -> Duration {
        Duration::from_secs(self.first_byte_timeout)
    }
    pub fn stall_timeout(&self) -> Duration {
        Duration::from_secs(self.stall_timeout)
    }
    pub fn transfer_timeout(&self) -> Duration {
        Duration::from_secs(self.transfer_timeout)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let seconds = [
            ("limits.headerTimeout", self.header_timeout),
            ("limits.bodyTimeout", self.body_timeout),
            ("limits.firstByteTimeout", self.first_byte_timeout),
            ("limits.stallTimeout", self.stall_timeout),
            ("limits.transferTimeout", self.transfer_timeout),
        ];
        for (key, v) in seconds {
            if v == 0 {
                return Err(ConfigError(format!("{key}: must be at least 1 second")));
            }
        }
        for (key, v) in [
            ("limits.transfersPerClient", self.transfers_per_client),
            ("limits.transfers", self.transfers),
        ] {
            if v == 0 {
                return Err(ConfigError(format!(
                    "{key}: must be at least 1 (0 would refuse every stream, download and zip)"
                )));
            }
        }
        if !(1..=128).contains(&self.ipv6_prefix) {
            return Err(ConfigError(format!(
                "limits.ipv6Prefix: must be 1 to 128, got {}",
                self.ipv6_prefix
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert!(Limits::default().validate().is_ok());
    }

    #[test]
    fn a_zero_timeout_or_count_and_a_prefix_out_of_range_name_their_key() {
        type Change = fn(&mut Limits);
        let cases: [(Change, &str); 4] = [
            (|l| l.first_byte_timeout = 0, "limits.firstByteTimeout"),
            (|l| l.stall_timeout = 0, "limits.stallTimeout"),
            (|l| l.transfers = 0, "limits.transfers"),
            (|l| l.ipv6_prefix = 0, "limits.ipv6Prefix"),
        ];
        for (change, key) in cases {
            let mut l = Limits::default();
            change(&mut l);
            let err = l.validate().unwrap_err();
            assert!(err.0.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn a_zero_transfer_count_names_only_its_own_key() {
        let l = Limits {
            transfers: 0,
            ..Limits::default()
        };
        let err = l.validate().unwrap_err().0;
        assert!(
            err.starts_with("limits.transfers:") && !err.contains("transfersPerClient"),
            "{err}"
        );
        let l = Limits {
            transfers_per_client: 0,
            ..Limits::default()
        };
        let err = l.validate().unwrap_err().0;
        assert!(err.starts_with("limits.transfersPerClient:"), "{err}");
    }
}
