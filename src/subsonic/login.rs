//! Subsonic credentials (`u` + `p`, `u` + `p=enc:HEX`, `u` + `t` + `s`), verified by handing
//! them to the music server's `ping` (and `getUser` for the admin role). The client's
//! credentials go to the music server only: never to a log line or an answer. Verdicts are
//! cached for at most 30 s under a SHA-256 digest of the credentials.

use super::params::Params;
use super::response::Failure;
use crate::auth::cache::{self, VerdictCache};
use crate::upstream::protocol::{self, Credentials, Refusal};
use crate::upstream::Upstream;
use md5::Digest;
use serde_json::Value;

/// Who a Subsonic request comes from, as the music server vouched.
#[derive(Debug, Clone)]
pub struct SubsonicUser {
    pub username: String,
    pub is_admin: bool,
}

#[derive(Clone)]
enum Verdict {
    Valid { is_admin: bool },
    Wrong,
    Unsupported,
}

/// Cached login verdicts, shared by every worker.
pub struct Logins {
    verdicts: VerdictCache<Verdict>,
}

impl Default for Logins {
    fn default() -> Self {
        Logins {
            verdicts: VerdictCache::new(cache::MAX_TTL),
        }
    }
}

enum Secret<'a> {
    Password(&'a str),
    Token { t: &'a str, s: &'a str },
}

impl Logins {
    /// The vouched-for user, or the Subsonic failure to answer (10, 40, 41, or an outage).
    pub async fn login(
        &self,
        upstream: &Upstream,
        params: &Params,
    ) -> Result<SubsonicUser, Failure> {
        let username = params.get("u").ok_or_else(|| Failure::missing("u"))?;
        let secret = match (params.get("p"), params.get("t"), params.get("s")) {
            (Some(p), _, _) => Secret::Password(p),
            (None, Some(t), Some(s)) => Secret::Token { t, s },
            _ => return Err(Failure::missing("p or t and s")),
        };
        let key = match &secret {
            Secret::Password(p) => cache::key(&["subsonic", username, "p", p]),
            Secret::Token { t, s } => cache::key(&["subsonic", username, "t", t, s]),
        };
        self.verdict(upstream, key, username, &secret).await
    }

    /// A sign-in with a user name and a password in clear (the owner's page): the same check
    /// and verdicts as a Subsonic request, the password sent as `upstream.auth` says (a salted
    /// token when `token`, else `p=enc:HEX`). The password goes to the music server only.
    pub async fn password(
        &self,
        upstream: &Upstream,
        username: &str,
        password: &str,
        token: bool,
    ) -> Result<SubsonicUser, Failure> {
        // Keyed by the password, not by what is sent: a token's salt is new each time.
        let key = cache::key(&["password", username, password]);
        let (p, t, s);
        let secret = if token {
            s = crate::upstream::random_salt();
            t = crate::hex::encode(&md5::Md5::digest(format!("{password}{s}")));
            Secret::Token { t: &t, s: &s }
        } else {
            p = format!("enc:{}", crate::hex::encode(password.as_bytes()));
            Secret::Password(&p)
        };
        self.verdict(upstream, key, username, &secret).await
    }

    /// The cached verdict for `key`, else the music server's; as a user or a failure.
    async fn verdict(
        &self,
        upstream: &Upstream,
        key: [u8; 32],
        username: &str,
        secret: &Secret<'_>,
    ) -> Result<SubsonicUser, Failure> {
        let verdict = match self.verdicts.get(&key) {
            Some(v) => v,
            None => {
                let v = ask(upstream, username, secret).await?;
                self.verdicts.put(key, v.clone());
                v
            }
        };
        match verdict {
            Verdict::Valid { is_admin } => Ok(SubsonicUser {
                username: username.to_string(),
                is_admin,
            }),
            Verdict::Wrong => Err(Failure::new(40, "wrong username or password")),
            Verdict::Unsupported => Err(Failure::new(
                41,
                "token authentication is not supported by the music server; send p",
            )),
        }
    }
}

/// Asks the music server; outages are an error (never cached, never a pass).
async fn ask(upstream: &Upstream, username: &str, secret: &Secret<'_>) -> Result<Verdict, Failure> {
    let ping = call(upstream, "ping", username, secret, &[]).await?;
    if let Some(code) = protocol::error_code(&ping) {
        let sent_token = matches!(secret, Secret::Token { .. });
        return Ok(match protocol::refusal(code, sent_token) {
            Some(Refusal::TokenUnsupported { .. }) => Verdict::Unsupported,
            // Wrong credentials, and any other refusal of a ping: no login.
            _ => Verdict::Wrong,
        });
    }
    let user = call(
        upstream,
        "getUser",
        username,
        secret,
        &[("username", username)],
    )
    .await?;
    let is_admin = user["user"]["adminRole"].as_bool().unwrap_or(false);
    Ok(Verdict::Valid { is_admin })
}

/// One call with the client's credentials; returns the `subsonic-response` object,
/// an error it reports included (`ask` reads what it means for a login).
async fn call(
    upstream: &Upstream,
    method: &str,
    username: &str,
    secret: &Secret<'_>,
    extra: &[(&str, &str)],
) -> Result<Value, Failure> {
    let credentials = match secret {
        Secret::Password(p) => Credentials::Password(p),
        Secret::Token { t, s } => Credentials::Token { t, s },
    };
    upstream
        .call_as(method, username, &credentials, extra)
        .await
        .map_err(|e| {
            // The error names no URL: the URL carries the client's credentials.
            log::warn!("music server login check ({method}) failed: {e}");
            Failure::unavailable("the music server is unreachable; try again later")
        })
}
