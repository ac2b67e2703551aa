//! Counted opens of a public link: visits (people) and previews (link-preview bots,
//! prefetches). Both record the same data, are refused for deleted and expired shares
//! alike, and only raise a counter, so they share one definition here.

use super::controls::ShareLink;
use super::ids::LinkId;
use super::share::{Format, Share};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a public link was answered. A share's own `Format` stays raw|m3u: the page
/// for people (`html`) is a way to open a link, never a share setting, so it lives
/// in this separate type and the share-format parser cannot produce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisitFormat {
    Raw,
    M3u,
    Html,
}

impl VisitFormat {
    /// Every format, in the order of `index`.
    pub const ALL: [VisitFormat; 3] = [VisitFormat::Raw, VisitFormat::M3u, VisitFormat::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitFormat::Raw => "raw",
            VisitFormat::M3u => "m3u",
            VisitFormat::Html => "html",
        }
    }

    /// A dense index for fixed-size tallies (no map on the commit path).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl From<Format> for VisitFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Raw => VisitFormat::Raw,
            Format::M3u => VisitFormat::M3u,
        }
    }
}

/// Who opened the link: a person (a visit) or a machine acting ahead of one
/// (a chat app's link preview, a browser prefetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitKind {
    Visit,
    Preview,
}

impl VisitKind {
    /// Every kind, in the order of `index`.
    pub const ALL: [VisitKind; 2] = [VisitKind::Visit, VisitKind::Preview];

    /// The event type this kind is logged as.
    pub fn type_name(self) -> &'static str {
        match self {
            VisitKind::Visit => "ShareVisited",
            VisitKind::Preview => "SharePreviewed",
        }
    }

    /// The kind logged under an event type name, if it is a counted open.
    pub fn of_type_name(name: &str) -> Option<Self> {
        VisitKind::ALL.into_iter().find(|k| k.type_name() == name)
    }

    /// A dense index for fixed-size tallies.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a visit or a preview records (the `data` of ShareVisited and SharePreviewed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitData {
    pub format: VisitFormat,
    pub download: bool,
    pub player: Option<String>,
    /// As `audit.clientIp` allows: full, truncated, a keyed hash, or nothing.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The recipient link it came through; absent (not `null`) for the share's own
    /// link, so such visits are written exactly as before links existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkId>,
}

/// The effect of consecutive counted opens of one share: how many of each kind,
/// and when the last visit was. Applying a run at once equals applying its opens
/// one by one, which is what lets `rebuild` fold millions of them quickly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub visits: u64,
    pub previews: u64,
    pub last_visited_at: Option<OffsetDateTime>,
}

impl Counted {
    /// One open of `kind` at `at`.
    pub fn one(kind: VisitKind, at: OffsetDateTime) -> Self {
        let mut c = Counted::default();
        c.add(kind, at);
        c
    }

    /// Adds one later open.
    pub fn add(&mut self, kind: VisitKind, at: OffsetDateTime) {
        match kind {
            VisitKind::Visit => {
                self.visits += 1;
                self.last_visited_at = Some(at);
            }
            // A preview is not somebody opening the link: `lastVisitedAt` stays
            // the time a person last did.
            VisitKind::Preview => self.previews += 1,
        }
    }

    /// The one rule of what counted opens change in a share: each is an event of its
    /// stream (the version), a visit raises `visitCount` and sets `lastVisitedAt`, a
    /// preview raises `previewCount` only.
    pub fn apply_to(&self, share: &mut Share) {
        share.version += self.visits + self.previews;
        share.visit_count += self.visits;
        share.preview_count += self.previews;
        if self.last_visited_at.is_some() {
            share.last_visited_at = self.last_visited_at;
        }
    }

    /// The same rule for a recipient link's own counters (a link has no version).
    pub fn apply_to_link(&self, link: &mut ShareLink) {
        link.visit_count += self.visits;
        link.preview_count += self.previews;
        if self.last_visited_at.is_some() {
            link.last_visited_at = self.last_visited_at;
        }
    }
}

/// Consecutive counted opens of one share, with those that came through each of its
/// links: what `rebuild` and `restore` fold at once. Within such a run no link appears
/// or goes (adding or revoking one is another event), so counting per link and applying
/// at the end equals applying the opens one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountedRun {
    pub share: Counted,
    /// Few per run: a list beats a map.
    pub links: Vec<(LinkId, Counted)>,
}

impl CountedRun {
    pub fn one(kind: VisitKind, at: OffsetDateTime, link: Option<LinkId>) -> Self {
        let mut run = CountedRun::default();
        run.add(kind, at, link);
        run
    }

    pub fn add(&mut self, kind: VisitKind, at: OffsetDateTime, link: Option<LinkId>) {
        self.share.add(kind, at);
        let Some(link) = link else { return };
        match self.links.iter_mut().find(|(id, _)| *id == link) {
            Some((_, c)) => c.add(kind, at),
            None => self.links.push((link, Counted::one(kind, at))),
        }
    }

    /// The one rule of what counted opens change, with each link's share of them. A
    /// link the share does not have changes nothing of its own (`decide` and
    /// `check_logged` never let such an open into a log).
    pub fn apply_to(&self, share: &mut Share) {
        self.share.apply_to(share);
        for (id, counted) in &self.links {
            if let Some(link) = share.links.iter_mut().find(|l| l.id == *id) {
                counted.apply_to_link(link);
            }
        }
    }
}
