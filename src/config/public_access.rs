//! `publicAccess`: who may open public links, how often, and which clients are
//! link-preview bots.

use super::Cidr;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PublicAccess {
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
    pub rate_limit: RateLimit,
    /// User-Agent substrings (case-insensitive) of link-preview bots: their page loads are
    /// previews, not visits. Replaces the default list when set.
    pub preview_agents: Vec<String>,
    /// How long an access key handed out by a visit to a protected share lives (hours,
    /// 12 at least: `config::sharing`).
    pub access_key_hours: u32,
}

/// Link unfurlers and crawlers of the common chat apps, social sites and search engines.
pub const DEFAULT_PREVIEW_AGENTS: [&str; 17] = [
    "Slackbot",
    "Discordbot",
    "TelegramBot",
    "WhatsApp",
    "facebookexternalhit",
    "Twitterbot",
    "LinkedInBot",
    "SkypeUriPreview",
    "Mastodon",
    "redditbot",
    "Iframely",
    "Embedly",
    "Googlebot",
    "Bingbot",
    "Applebot",
    "SignalBot",
    "vkShare",
];

impl Default for PublicAccess {
    fn default() -> Self {
        PublicAccess {
            allow: Vec::new(),
            deny: Vec::new(),
            rate_limit: RateLimit::default(),
            preview_agents: DEFAULT_PREVIEW_AGENTS.map(String::from).to_vec(),
            access_key_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RateLimit {
    /// Requests per minute per client IP; 0 turns the limit off.
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_minute: 300,
            burst: 60,
        }
    }
}
