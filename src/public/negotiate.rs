//! Content negotiation for `GET /share/{id}`: a browser navigation gets the HTML page,
//! everything else (curl's `*/*`, players, scripts) keeps the share's own format.

/// Whether `Accept` ranks `text/html` strictly above `application/json` (RFC 9110 §12.5.1:
/// each type takes the quality of its most specific matching range). A tie keeps JSON, so
/// `*/*` and a missing header answer as before the page existed.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    quality(accept, "text", "html") > quality(accept, "application", "json")
}

/// The quality `accept` gives to `kind/sub`, in thousandths (0 = not acceptable).
fn quality(accept: &str, kind: &str, sub: &str) -> u16 {
    // (specificity, quality) of the best matching range so far.
    let mut best: Option<(u8, u16)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (k.trim(), s.trim()) {
            (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(sub) => 2,
            (k, "*") if k.eq_ignore_ascii_case(kind) => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(1000, |(_, v)| parse_q(v.trim()));
        if best.is_none_or(|(spec, _)| specificity > spec) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0, |(_, q)| q)
}

/// `q` values have at most three decimals; anything unparsable counts as 0.
fn parse_q(v: &str) -> u16 {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
    match (int, frac.parse::<u16>()) {
        ("1", _) => 1000,
        ("0", Ok(f)) => f,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_navigations_get_the_page() {
        // Chrome/Edge, Firefox, Safari.
        for accept in [
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "TEXT/HTML",
            "text/*;q=0.9, application/json;q=0.5",
        ] {
            assert!(prefers_html(Some(accept)), "{accept}");
        }
    }

    #[test]
    fn curl_scripts_and_players_keep_json() {
        for accept in [
            "*/*",
            "application/json",
            "application/json, text/html",
            "text/html;q=0.5, application/json",
            "text/html;q=0, */*",
            "audio/*",
            "",
        ] {
            assert!(!prefers_html(Some(accept)), "{accept}");
        }
        assert!(!prefers_html(None));
    }

    #[test]
    fn the_most_specific_range_sets_the_quality() {
        // */* is high but text/html itself is excluded.
        assert!(!prefers_html(Some("*/*;q=1, text/html;q=0")));
        // application/json is refused outright, text/html comes via */*.
        assert!(prefers_html(Some("application/json;q=0, */*;q=0.1")));
    }

    #[test]
    fn odd_quality_values_do_not_panic() {
        assert_eq!(parse_q("0.5"), 500);
        assert_eq!(parse_q("0.123456"), 123);
        assert_eq!(parse_q("1.0"), 1000);
        assert_eq!(parse_q("2"), 0);
        assert_eq!(parse_q("x"), 0);
        assert!(!prefers_html(Some("text/html;q=;;,/,;q")));
    }
}
