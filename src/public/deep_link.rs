//! `?track=N&t=…`: where the page starts, so a link can point at a moment. `track` is the
//! track's place in the page's list (1-based, `[1-9][0-9]{0,8}`); `t` its start in seconds
//! (up to 9 digits), `M:SS` (up to 7 digits of minutes) or `H:MM:SS` (up to 5 of hours),
//! exactly as the OpenAPI document's patterns say. Both are checked on every answer of
//! `GET /share/{id}` (a malformed one is 400 naming it, like every other parameter) and used
//! by the page only; a track number past the end of the list starts at the first track (the
//! list may have shrunk since the link was made), a time past the end of the track lets the
//! player go on to the next.

use crate::error::ApiError;

/// Where a page starts playing: the track's index in the list (0-based) and the second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Start {
    pub track: usize,
    pub seconds: u32,
}

impl Start {
    /// `track` and `t` as the query gave them (absent or empty = not given).
    pub fn parse(track: Option<&str>, t: Option<&str>) -> Result<Option<Start>, ApiError> {
        let track = match track.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                digits(s, 9)
                    .filter(|_| !s.starts_with('0'))
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| {
                        ApiError::invalid("track", "must be a track number from 1 on")
                    })?,
            ),
        };
        let seconds = match t.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(clock(s).ok_or_else(|| {
                ApiError::invalid("t", "must be seconds (90), M:SS (1:30) or H:MM:SS")
            })?),
        };
        Ok(match (track, seconds) {
            (None, None) => None,
            (track, seconds) => Some(Start {
                track: track.map_or(0, |n| n - 1),
                seconds: seconds.unwrap_or(0),
            }),
        })
    }

    /// The same start in a list of `len` tracks: past its end, the first track from 0 s.
    pub fn within(self, len: usize) -> Start {
        if self.track < len {
            self
        } else {
            Start::default()
        }
    }

    /// The query that asks for this start again (the unlock form keeps it).
    pub fn query(&self) -> String {
        format!("track={}&t={}", self.track + 1, self.seconds)
    }
}

/// A whole number written in ASCII digits only (no sign, no spaces), 1 to `most` of them.
fn digits(s: &str, most: usize) -> Option<u32> {
    (!s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `SECONDS`, `M:SS` or `H:MM:SS` (minutes and seconds after a colon are two digits under
/// 60). Their digit counts keep every value within a `u32`.
fn clock(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split(':').collect();
    let sixty = |p: &str| {
        (p.len() == 2)
            .then(|| digits(p, 2))
            .flatten()
            .filter(|n| *n < 60)
    };
    match parts.as_slice() {
        [secs] => digits(secs, 9),
        [m, ss] => Some(digits(m, 7)? * 60 + sixty(ss)?),
        [h, mm, ss] => Some(digits(h, 5)? * 3600 + sixty(mm)? * 60 + sixty(ss)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(track: Option<&str>, t: Option<&str>) -> Option<Start> {
        Start::parse(track, t).unwrap()
    }

    #[test]
    fn a_track_and_a_moment_in_every_spelling() {
        assert_eq!(start(None, None), None);
        assert_eq!(start(Some(""), Some("")), None);
        assert_eq!(
            start(Some("2"), None),
            Some(Start {
                track: 1,
                seconds: 0
            })
        );
        assert_eq!(
            start(None, Some("90")),
            Some(Start {
                track: 0,
                seconds: 90
            })
        );
        assert_eq!(
            start(Some("3"), Some("1:30")),
            Some(Start {
                track: 2,
                seconds: 90
            })
        );
        assert_eq!(
            start(Some("1"), Some("0:05")),
            Some(Start {
                track: 0,
                seconds: 5
            })
        );
        assert_eq!(
            start(None, Some("1:02:03")),
            Some(Start {
                track: 0,
                seconds: 3723
            })
        );
        assert_eq!(
            start(Some("2"), Some("0:07")).unwrap().query(),
            "track=2&t=7"
        );
    }

    #[test]
    fn malformed_values_are_400_naming_the_parameter() {
        for (track, t, field) in [
            (Some("0"), None, "track"),
            (Some("-1"), None, "track"),
            (Some("two"), None, "track"),
            (Some(" 2"), None, "track"),
            (Some("99999999999"), None, "track"),
            (Some("02"), None, "track"),
            (None, Some("1:5"), "t"),
            (None, Some("1:60"), "t"),
            (None, Some("-3"), "t"),
            (None, Some("1.5"), "t"),
            (None, Some("1:00:00:00"), "t"),
            (None, Some(":30"), "t"),
            (None, Some("1234567890"), "t"),
            (None, Some("12345678:00"), "t"),
        ] {
            let e = Start::parse(track, t).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{track:?} {t:?}");
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn a_track_past_the_end_starts_at_the_beginning() {
        let s = Start {
            track: 4,
            seconds: 30,
        };
        assert_eq!(s.within(5), s);
        assert_eq!(s.within(4), Start::default());
    }
}
