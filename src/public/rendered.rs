//! Rendered raw and M3U bodies, so a popular link costs a lookup instead of a render.
//!
//! A body is a pure function of the share's content, the format and the track lists
//! it was built from. An entry is reused only while all three are the same: the share's
//! content stamp (visits do not change the body), and the very same `Arc`s that the
//! metadata cache hands out now. When the metadata cache refetches an album, its new
//! `Arc` no longer matches and the page is rendered again, so a cached page is never
//! staler than the metadata cache itself.

use super::cache::Tracks;
use crate::domain::{Format, Share, ShareId};
use actix_web::web::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which body of a share: its raw JSON, its M3U, its page, or the page's compact embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Body {
    Raw,
    M3u,
    Page,
    Embed,
}

impl From<Format> for Body {
    fn from(f: Format) -> Self {
        match f {
            Format::Raw => Body::Raw,
            Format::M3u => Body::M3u,
        }
    }
}

/// Total body bytes kept; the oldest entries go first past it.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

struct Entry {
    stamp: u64,
    lists: Vec<Tracks>,
    body: Bytes,
    /// Insertion order, for eviction.
    born: u64,
}

#[derive(Default)]
pub struct Rendered {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(ShareId, Body), Entry>,
    bytes: usize,
    clock: u64,
}

/// What changes when the share's content changes, and not when it is visited or previewed.
fn stamp(share: &Share) -> u64 {
    share.content_version()
}

fn same_lists(a: &[Tracks], b: &[Tracks]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Arc::ptr_eq(x, y))
}

impl Rendered {
    /// The body for `share` in `format` built from `lists`, rendering it on a miss.
    pub fn get_or_render(
        &self,
        share: &Share,
        body: Body,
        lists: &[Tracks],
        render: impl FnOnce() -> Bytes,
    ) -> Bytes {
        let key = (share.id.clone(), body);
        if let Some(hit) = self
            .lock()
            .entries
            .get(&key)
            .filter(|e| e.stamp == stamp(share) && same_lists(&e.lists, lists))
        {
            return hit.body.clone();
        }
        // Rendered outside the lock; two workers may render the same page once each.
        let body = render();
        self.put(key, stamp(share), lists.to_vec(), body.clone());
        body
    }

    fn put(&self, key: (ShareId, Body), stamp: u64, lists: Vec<Tracks>, body: Bytes) {
        if body.len() > MAX_BYTES / 4 {
            return; // a huge playlist is rendered each time rather than crowd out the rest
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let born = inner.clock;
        inner.bytes += body.len();
        if let Some(old) = inner.entries.insert(
            key,
            Entry {
                stamp,
                lists,
                body,
                born,
            },
        ) {
            inner.bytes -= old.body.len();
        }
        while inner.bytes > MAX_BYTES {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.born)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.body.len();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Entries are inserted whole, so a panic elsewhere cannot leave one half-written.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Track, UserId};
    use time::OffsetDateTime;

    fn share(version: u64, visit_count: u64) -> Share {
        let now = OffsetDateTime::now_utc();
        Share {
            id: ShareId::parse("abc").unwrap(),
            owner_id: UserId("u".into()),
            owner_name: "u".into(),
            description: None,
            format: Format::Raw,
            max_bit_rate: 0,
            downloadable: false,
            expires_at: None,
            created_at: now,
            updated_at: now,
            items: Default::default(),
            visit_count,
            preview_count: 0,
            last_visited_at: None,
            version,
            deleted: false,
            password: None,
            password_version: 0,
            max_visits: None,
            links: vec![],
        }
    }

    fn list() -> Tracks {
        Arc::new(vec![Track {
            id: "t".into(),
            title: String::new(),
            artist: String::new(),
            album: String::new(),
            track: 1,
            duration: 1,
            content_type: String::new(),
            suffix: String::new(),
        }])
    }

    fn render(r: &Rendered, s: &Share, f: Format, lists: &[Tracks], text: &'static str) -> Bytes {
        r.get_or_render(s, f.into(), lists, || Bytes::from_static(text.as_bytes()))
    }

    #[test]
    fn visits_reuse_the_body_and_an_update_or_new_metadata_renders_again() {
        let r = Rendered::default();
        let lists = vec![list()];
        assert_eq!(render(&r, &share(1, 0), Format::Raw, &lists, "a"), "a");
        // Two visits later: same content.
        assert_eq!(render(&r, &share(3, 2), Format::Raw, &lists, "b"), "a");
        // Another format is another page.
        assert_eq!(render(&r, &share(3, 2), Format::M3u, &lists, "m"), "m");
        // An update (version up, visits the same).
        assert_eq!(render(&r, &share(4, 2), Format::Raw, &lists, "c"), "c");
        // The metadata cache refetched the album: a new Arc with equal content.
        let fresh = vec![list()];
        assert_eq!(render(&r, &share(4, 2), Format::Raw, &fresh, "d"), "d");
        assert_eq!(r.bytes(), 2);
    }

    #[test]
    fn the_cache_stays_under_its_byte_bound() {
        let r = Rendered::default();
        let big = Bytes::from(vec![b'x'; MAX_BYTES / 5]);
        for i in 0..20 {
            let mut s = share(1, 0);
            s.id = ShareId::parse(&format!("share{i}")).unwrap();
            let body = r.get_or_render(&s, Body::Raw, &[], || big.clone());
            assert_eq!(body.len(), big.len());
        }
        assert!(r.bytes() <= MAX_BYTES, "{} bytes kept", r.bytes());
        assert!(r.bytes() >= 4 * big.len());
    }
}
