//! Who is a person and who is a link preview. Chat apps fetch a shared link to unfurl it,
//! and browsers prefetch links they expect to be followed; neither is someone listening,
//! so their page loads are recorded as previews rather than visits.

/// The configured User-Agent substrings, lower-cased once at startup.
pub struct PreviewAgents(Vec<String>);

impl PreviewAgents {
    pub fn new(agents: &[String]) -> Self {
        PreviewAgents(agents.iter().map(|a| a.to_lowercase()).collect())
    }

    /// Whether a request with these headers is a preview: a known bot's User-Agent, or a
    /// prefetch (`Sec-Purpose` / `Purpose: prefetch`, which may carry more tokens, e.g.
    /// `prefetch;prerender`).
    pub fn is_preview(
        &self,
        user_agent: Option<&str>,
        sec_purpose: Option<&str>,
        purpose: Option<&str>,
    ) -> bool {
        is_prefetch(sec_purpose, purpose) || self.is_bot(user_agent)
    }

    /// Whether the User-Agent contains one of the configured names (case-insensitive).
    pub fn is_bot(&self, user_agent: Option<&str>) -> bool {
        let Some(ua) = user_agent.filter(|u| !u.is_empty()) else {
            return false;
        };
        let ua = ua.to_lowercase();
        self.0.iter().any(|a| ua.contains(a.as_str()))
    }
}

/// Whether a browser fetched the page ahead of a person opening it: `Sec-Purpose` or
/// `Purpose` names `prefetch` (Chrome's prerender sends `prefetch;prerender`). Such a page
/// may still be shown later, from the browser's memory, without a request of its own.
pub fn is_prefetch(sec_purpose: Option<&str>, purpose: Option<&str>) -> bool {
    let names_prefetch = |value: Option<&str>| {
        value.is_some_and(|v| {
            v.split([';', ','])
                .any(|t| t.trim().eq_ignore_ascii_case("prefetch"))
        })
    };
    names_prefetch(sec_purpose) || names_prefetch(purpose)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_PREVIEW_AGENTS;

    fn defaults() -> PreviewAgents {
        PreviewAgents::new(&DEFAULT_PREVIEW_AGENTS.map(String::from))
    }

    #[test]
    fn chat_unfurlers_are_previews_whatever_their_case() {
        let p = defaults();
        for ua in [
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "TelegramBot (like TwitterBot)",
            "WhatsApp/2.23.20.0",
            "facebookexternalhit/1.1",
            "mastodon/4.2.0 (http.rb/5.1.1; +https://example.social/)",
            "Mozilla/5.0 (compatible; GOOGLEBOT/2.1)",
        ] {
            assert!(p.is_preview(Some(ua), None, None), "{ua}");
        }
    }

    #[test]
    fn browsers_players_and_curl_are_people() {
        let p = defaults();
        for ua in [
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
            "curl/8.5.0",
            "VLC/3.0.20 LibVLC/3.0.20",
        ] {
            assert!(!p.is_preview(Some(ua), None, None), "{ua}");
        }
        assert!(!p.is_preview(None, None, None));
        assert!(!p.is_preview(Some(""), None, None));
    }

    #[test]
    fn a_prefetch_is_a_preview_in_either_header() {
        let p = defaults();
        let chrome = Some("Mozilla/5.0 Chrome/120.0");
        assert!(p.is_preview(chrome, Some("prefetch"), None));
        assert!(p.is_preview(chrome, Some("prefetch;prerender"), None));
        assert!(p.is_preview(chrome, None, Some("Prefetch")));
        assert!(!p.is_preview(chrome, Some("prerender"), None));
    }

    #[test]
    fn a_configured_list_replaces_the_defaults() {
        let p = PreviewAgents::new(&["MyUnfurler".to_string()]);
        assert!(p.is_preview(Some("myunfurler/1.0"), None, None));
        assert!(!p.is_preview(Some("Slackbot 1.0"), None, None));
    }
}
