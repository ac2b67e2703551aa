//! Checks every id of a create against the music server and builds the share's items.

use super::{NewShare, ShareError};
use crate::domain::{AlbumItem, ArtistItem, PlaylistItem, ShareItems, SongItem, Track};
use crate::upstream::{Album, Artist, Playlist, Upstream, UpstreamError};
use futures_util::stream::{self, StreamExt};
use std::future::Future;

/// Lookups one create has at the music server at once. A share may name 500 ids, and a
/// music server such as supysonic answers one request at a time: all at once, they queued
/// ahead of every public stream and cover for seconds, and timed out as "unreachable".
const LOOKUPS_AT_ONCE: usize = 4;

/// Each id looked up, a few at a time, in order. The first failure other than "not found"
/// ends the lookups (and is the last result): a music server that accepts calls and never
/// answers would otherwise cost every id its full timeout before the create gives up.
async fn look_up<'a, T, F, Fut>(ids: &'a [String], lookup: F) -> Vec<Result<T, UpstreamError>>
where
    F: Fn(&'a String) -> Fut,
    Fut: Future<Output = Result<T, UpstreamError>>,
{
    let mut answers = stream::iter(ids).map(lookup).buffered(LOOKUPS_AT_ONCE);
    let mut results = Vec::with_capacity(ids.len());
    while let Some(r) = answers.next().await {
        let failed = matches!(&r, Err(e) if !matches!(e, UpstreamError::NotFound));
        results.push(r);
        if failed {
            break;
        }
    }
    results
}

/// The failure that ended `look_up` early (always its last result), taken out.
fn failure<T>(results: &mut Vec<Result<T, UpstreamError>>) -> Option<UpstreamError> {
    match results.last() {
        Some(Err(e)) if !matches!(e, UpstreamError::NotFound) => results.pop()?.err(),
        _ => None,
    }
}

/// Resolves albums, songs, playlists and artists. Unknown ids: all of them, listed. A
/// failure of the music server ends the lookups and the create.
pub async fn items(up: &Upstream, req: &NewShare) -> Result<ShareItems, ShareError> {
    let mut albums = look_up(&req.albums, |id| up.album(id)).await;
    if let Some(e) = failure(&mut albums) {
        return Err(ShareError::Upstream(e));
    }
    let mut songs = look_up(&req.songs, |id| up.song(id)).await;
    if let Some(e) = failure(&mut songs) {
        return Err(ShareError::Upstream(e));
    }
    let mut playlists = look_up(&req.playlists, |id| up.playlist(id)).await;
    if let Some(e) = failure(&mut playlists) {
        return Err(ShareError::Upstream(e));
    }
    let artists = look_up(&req.artists, |id| up.artist(id)).await;
    assemble(req, albums, songs, playlists, artists)
}

/// The share's items from the lookups' answers, in the request's order; every unknown id
/// listed, or the music server's failure.
fn assemble(
    req: &NewShare,
    albums: Vec<Result<Album, UpstreamError>>,
    songs: Vec<Result<Track, UpstreamError>>,
    playlists: Vec<Result<Playlist, UpstreamError>>,
    artists: Vec<Result<Artist, UpstreamError>>,
) -> Result<ShareItems, ShareError> {
    let mut unknown = Vec::new();
    let mut broken = None;
    let mut note = |id: &String, e: UpstreamError| match e {
        UpstreamError::NotFound => unknown.push(id.clone()),
        other => broken = broken.take().or(Some(other)),
    };
    let mut items = ShareItems::default();
    for (id, r) in req.albums.iter().zip(albums) {
        match r {
            Ok(a) => items.albums.push(AlbumItem {
                id: id.clone(),
                name: a.name,
                artist: a.artist,
                song_count: a.tracks.len() as u32,
            }),
            Err(e) => note(id, e),
        }
    }
    for (id, r) in req.songs.iter().zip(songs) {
        match r {
            Ok(t) => items.songs.push(SongItem {
                id: id.clone(),
                title: t.title,
                artist: t.artist,
                album: t.album,
            }),
            Err(e) => note(id, e),
        }
    }
    for (id, r) in req.playlists.iter().zip(playlists) {
        match r {
            Ok(p) => items.playlists.push(PlaylistItem {
                id: id.clone(),
                name: p.name,
                song_count: p.tracks.len() as u32,
                tracks: p.tracks,
            }),
            Err(e) => note(id, e),
        }
    }
    for (id, r) in req.artists.iter().zip(artists) {
        match r {
            // Snapshotted like a playlist: the albums the artist has now.
            Ok(a) => items.artists.push(ArtistItem {
                id: id.clone(),
                name: a.name,
                album_count: a.albums.len() as u32,
                albums: a
                    .albums
                    .into_iter()
                    .map(|al| AlbumItem {
                        id: al.id,
                        name: al.name,
                        artist: al.artist,
                        song_count: al.song_count,
                    })
                    .collect(),
            }),
            Err(e) => note(id, e),
        }
    }
    if let Some(e) = broken {
        return Err(ShareError::Upstream(e));
    }
    if !unknown.is_empty() {
        return Err(ShareError::UnknownItems(unknown));
    }
    Ok(items)
}

/// Sorts ids of unknown kind (Subsonic's) into albums, songs, playlists and artists by
/// trying each as an album, a song, a playlist, then an artist. The first unknown id
/// stops the sort.
pub async fn classify(up: &Upstream, req: &mut NewShare) -> Result<(), ShareError> {
    let probe = |r: Result<(), UpstreamError>| match r {
        Ok(()) => Ok(true),
        Err(UpstreamError::NotFound) => Ok(false),
        Err(e) => Err(ShareError::Upstream(e)),
    };
    for id in std::mem::take(&mut req.unsorted) {
        if probe(up.album(&id).await.map(drop))? {
            req.albums.push(id);
        } else if probe(up.song(&id).await.map(drop))? {
            req.songs.push(id);
        } else if probe(up.playlist(&id).await.map(drop))? {
            req.playlists.push(id);
        } else if probe(up.artist(&id).await.map(drop))? {
            req.artists.push(id);
        } else {
            return Err(ShareError::UnknownItems(vec![id]));
        }
    }
    Ok(())
}
