#!/usr/bin/env python3
"""Start a real Subsonic server (supysonic 0.7.9) for the integration tests.

Usage:
    python3 scripts/test_upstream.py --cache DIR --workdir DIR [--big-track-mb N] [--rm-workdir]

Steps:
  1. ensure a venv in DIR/venv with supysonic + waitress + imageio-ffmpeg + mutagen
     (installed once, guarded by a marker file and an flock on DIR/lock);
  2. re-execute this script with the venv's python;
  3. generate the test audio once, cached in DIR/music (and DIR/big-<N>mb if asked);
  4. set up a fresh supysonic instance in --workdir (config, users, folder, scan);
  5. start `supysonic-server` (waitress) on a free 127.0.0.1 port and wait for ping;
  6. create the "Road Trip" playlist and gather albums/songs through the Subsonic API;
  7. print ONE JSON line describing all of it on stdout;
  8. block until stdin reaches EOF (or SIGTERM/SIGINT), then stop the server and exit.

Everything except that JSON line goes to stderr (child processes included).
The launcher part (steps 1-2) uses the Python standard library only.
"""

import argparse
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

REQUIREMENTS = ["supysonic==0.7.9", "waitress", "imageio-ffmpeg", "mutagen"]
# Bump when the generated library changes, so caches are regenerated.
MUSIC_VERSION = "3"
API_VERSION = "1.12.0"
CLIENT = "test"

ADMIN = ("admin", "adminpass")
USER = ("alice", "alicepass")
PLAYLIST_NAME = "Road Trip"

# (artist, album, year, genre, [(track, title, seconds, frequency, codec)], cover)
# codec is one of mp3 (128 kbps), flac, ogg.
LIBRARY = [
    (
        "Ann Artist",
        "Alpha",
        2001,
        "Rock",
        [
            (1, "Alpha One", 2, 440, "mp3"),
            (2, "Alpha Two", 3, 494, "mp3"),
            (3, "Alpha Three", 2, 523, "mp3"),
        ],
        True,
    ),
    (
        "Bob Band",
        "Beta",
        2002,
        "Jazz",
        [
            (1, "Beta Flac", 2, 587, "flac"),
            (2, "Beta Ogg", 2, 659, "ogg"),
        ],
        False,
    ),
    (
        "Zoë",
        "Café 東京",
        2003,
        "Pop",
        [
            (1, "Étude № 1", 2, 698, "mp3"),
        ],
        False,
    ),
]
BIG_ARTIST = "Big Artist"
BIG_ALBUM = "Big"
BIG_TITLE = "Big Tone"


def log(*args):
    print("[test_upstream]", *args, file=sys.stderr, flush=True)


class FileLock:
    """Exclusive flock on a file, held for the duration of a `with` block."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def venv_python(cache):
    return os.path.join(cache, "venv", "bin", "python")


def venv_bin(cache, name):
    return os.path.join(cache, "venv", "bin", name)


# ---------------------------------------------------------------------------
# Step 1: the venv (standard library only)
# ---------------------------------------------------------------------------


def ensure_venv(cache):
    venv = os.path.join(cache, "venv")
    marker = os.path.join(cache, "venv.ok")
    wanted = "\n".join(REQUIREMENTS) + "\n"
    with FileLock(os.path.join(cache, "lock")):
        try:
            with open(marker, encoding="utf-8") as f:
                if f.read() == wanted and os.path.exists(venv_python(cache)):
                    return
        except FileNotFoundError:
            pass
        started = time.monotonic()
        log(f"installing {' '.join(REQUIREMENTS)} into {venv} (first run only)")
        if os.path.exists(marker):
            os.unlink(marker)
        if os.path.exists(venv):
            shutil.rmtree(venv)
        subprocess.run(
            [sys.executable, "-m", "venv", venv],
            check=True,
            stdout=sys.stderr,
        )
        subprocess.run(
            [venv_python(cache), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
            check=True,
            stdout=sys.stderr,
        )
        with open(marker + ".tmp", "w", encoding="utf-8") as f:
            f.write(wanted)
        os.replace(marker + ".tmp", marker)
        log(f"venv ready in {time.monotonic() - started:.1f}s")


# ---------------------------------------------------------------------------
# Step 3: the music (runs inside the venv: mutagen, imageio_ffmpeg)
# ---------------------------------------------------------------------------


def ffmpeg_exe():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_quiet(cmd, **kwargs):
    subprocess.run(cmd, check=True, stdout=sys.stderr, stdin=subprocess.DEVNULL, **kwargs)


def encode_tone(ffmpeg, path, seconds, frequency, codec, bitrate_k=128):
    src = ["-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}"]
    if codec == "mp3":
        out = ["-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", f"{bitrate_k}k"]
    elif codec == "flac":
        out = ["-ac", "1", "-ar", "22050", "-sample_fmt", "s16", "-c:a", "flac"]
    elif codec == "ogg":
        out = ["-ac", "1", "-ar", "22050", "-c:a", "libvorbis", "-q:a", "0"]
    else:
        raise ValueError(codec)
    run_quiet(
        [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *src, *out,
         "-map_metadata", "-1", path]
    )


def tag(path, title, artist, album, track, year, genre):
    import mutagen

    f = mutagen.File(path, easy=True)
    if f is None:
        raise RuntimeError(f"mutagen cannot read {path}")
    if f.tags is None:
        f.add_tags()
    f["title"] = title
    f["artist"] = artist
    f["albumartist"] = artist
    f["album"] = album
    f["tracknumber"] = str(track)
    f["date"] = str(year)
    f["genre"] = genre
    f.save()


def make_cover(ffmpeg, path):
    run_quiet(
        [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "color=c=0x3366cc:s=64x64", "-frames:v", "1", path]
    )


def ensure_music(cache):
    music = os.path.join(cache, "music")
    marker = os.path.join(cache, "music.ok")
    with FileLock(os.path.join(cache, "lock")):
        try:
            with open(marker, encoding="utf-8") as f:
                if f.read() == MUSIC_VERSION and os.path.isdir(music):
                    return music
        except FileNotFoundError:
            pass
        log("generating test audio in", music)
        ffmpeg = ffmpeg_exe()
        tmp = music + ".tmp"
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        for artist, album, year, genre, tracks, cover in LIBRARY:
            d = os.path.join(tmp, artist, album)
            os.makedirs(d)
            for number, title, seconds, freq, codec in tracks:
                p = os.path.join(d, f"{number:02d} - {title}.{codec}")
                encode_tone(ffmpeg, p, seconds, freq, codec)
                tag(p, title, artist, album, number, year, genre)
            if cover:
                make_cover(ffmpeg, os.path.join(d, "cover.jpg"))
        if os.path.exists(marker):
            os.unlink(marker)
        if os.path.exists(music):
            shutil.rmtree(music)
        os.replace(tmp, music)
        with open(marker, "w", encoding="utf-8") as f:
            f.write(MUSIC_VERSION)
        return music


def ensure_big_track(cache, mb):
    """A ~mb MB, 320 kbps mp3 in its own folder (added as a second library folder)."""
    root = os.path.join(cache, f"big-{mb}mb")
    marker = root + ".ok"
    # Its own lock: generating it must not hold up instances that do not need it.
    with FileLock(root + ".lock"):
        if os.path.exists(marker) and os.path.isdir(root):
            return root
        log(f"generating a {mb} MB track in {root}")
        ffmpeg = ffmpeg_exe()
        tmp = root + ".tmp"
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        d = os.path.join(tmp, BIG_ARTIST, BIG_ALBUM)
        os.makedirs(d)
        seconds = max(1, round(mb * 1024 * 1024 * 8 / 320_000))
        p = os.path.join(d, f"01 - {BIG_TITLE}.mp3")
        encode_tone(ffmpeg, p, seconds, 330, "mp3", bitrate_k=320)
        tag(p, BIG_TITLE, BIG_ARTIST, BIG_ALBUM, 1, 2004, "Drone")
        if os.path.exists(root):
            shutil.rmtree(root)
        os.replace(tmp, root)
        with open(marker, "w", encoding="utf-8") as f:
            f.write("ok")
        return root


# ---------------------------------------------------------------------------
# Steps 4-8: the instance
# ---------------------------------------------------------------------------


class Instance:
    def __init__(self, cache, workdir):
        self.cache = cache
        self.workdir = workdir
        self.server = None
        self.server_log = os.path.join(workdir, "server.log")
        self.url = None

    def cli(self, *args):
        with open(os.path.join(self.workdir, "setup.log"), "ab") as out:
            out.write(("$ supysonic-cli " + " ".join(args) + "\n").encode())
            out.flush()
            r = subprocess.run(
                [venv_bin(self.cache, "supysonic-cli"), *args],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if r.returncode != 0:
            dump_log(os.path.join(self.workdir, "setup.log"))
            raise RuntimeError(f"supysonic-cli {' '.join(args)} failed ({r.returncode})")

    def configure(self, ffmpeg, folders):
        w = self.workdir
        os.makedirs(os.path.join(w, "cache"), exist_ok=True)
        import shlex

        transcoder = (
            f"{shlex.quote(ffmpeg)} -nostdin -loglevel error -i %srcpath "
            "-map 0:a -b:a %outratek -f %outfmt -"
        )
        conf = f"""[base]
database_uri = sqlite:///{os.path.join(w, 'supysonic.db')}

[webapp]
cache_dir = {os.path.join(w, 'cache')}
log_file = {os.path.join(w, 'supysonic.log')}
log_level = INFO
mount_webui = no
mount_api = yes

[daemon]
socket = {os.path.join(w, 'daemon.sock')}
run_watcher = no
log_file = {os.path.join(w, 'daemon.log')}

[transcoding]
transcoder = {transcoder}
default_transcode_target = mp3
"""
        with open(os.path.join(w, "supysonic.conf"), "w", encoding="utf-8") as f:
            f.write(conf)
        self.cli("user", "add", ADMIN[0], "-p", ADMIN[1])
        self.cli("user", "setroles", "-A", ADMIN[0])
        self.cli("user", "add", USER[0], "-p", USER[1])
        for name, path in folders:
            self.cli("folder", "add", name, path)
        for name, _ in folders:
            self.cli("folder", "scan", "--foreground", name)

    def start(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server_log = os.path.join(self.workdir, "server.log")
        out = open(self.server_log, "ab")
        self.server = subprocess.Popen(
            [venv_bin(self.cache, "supysonic-server"), "-S", "waitress",
             "-h", "127.0.0.1", "-p", str(port), "--threads", "8"],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        out.close()
        deadline = time.monotonic() + 60
        while True:
            if self.server.poll() is not None:
                dump_log(self.server_log)
                raise RuntimeError(f"supysonic-server exited with {self.server.returncode}")
            try:
                if self.api("ping").get("status") == "ok":
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                dump_log(self.server_log)
                raise RuntimeError("supysonic-server did not answer ping within 60 s")
            time.sleep(0.1)

    def rest_url(self, method, params=(), creds=ADMIN):
        from urllib.parse import urlencode

        q = [("u", creds[0]), ("p", creds[1]), ("c", CLIENT), ("v", API_VERSION), ("f", "json")]
        q.extend(params)
        return f"{self.url}/rest/{method}.view?{urlencode(q)}"

    def api(self, method, params=(), creds=ADMIN):
        import urllib.request

        with urllib.request.urlopen(self.rest_url(method, params, creds), timeout=10) as r:
            body = json.load(r)
        return body["subsonic-response"]

    def api_ok(self, method, params=(), creds=ADMIN):
        r = self.api(method, params, creds)
        if r.get("status") != "ok":
            raise RuntimeError(f"{method} failed: {json.dumps(r)}")
        return r

    def stop(self):
        p = self.server
        if p is None:
            return
        self.server = None
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        # Kill anything left in its process group (e.g. a transcoder).
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def dump_log(path, limit=8000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return
    log(f"--- last {min(limit, len(data))} bytes of {path} ---")
    sys.stderr.write(data[-limit:].decode("utf-8", "replace"))
    sys.stderr.flush()


def _die_with_parent():
    """In the child: get SIGTERM if this launcher dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


def song_json(s):
    return {
        "id": s["id"],
        "title": s.get("title", ""),
        "artist": s.get("artist", ""),
        "album": s.get("album", ""),
        "albumId": s.get("albumId", ""),
        "track": s.get("track", 0),
        "duration": s.get("duration", 0),
        "suffix": s.get("suffix", ""),
        "contentType": s.get("contentType", ""),
        "size": s.get("size", 0),
        "path": "",
    }


def gather(inst, folders):
    """Albums with songs (with absolute on-disk paths) and the Road Trip playlist."""
    # Map the server's relative `path` ("Artist/Album/file") back to the files on disk.
    roots = [path for _, path in folders]

    def abs_path(rel):
        for root in roots:
            p = os.path.join(root, rel)
            if os.path.isfile(p):
                return os.path.abspath(p)
        raise RuntimeError(f"cannot find {rel!r} under {roots}")

    def to_song(s):
        out = song_json(s)
        out["path"] = abs_path(s["path"])
        return out

    r = inst.api_ok("getAlbumList2", [("type", "alphabeticalByName"), ("size", "500")])
    albums = []
    for a in r["albumList2"].get("album", []):
        full = inst.api_ok("getAlbum", [("id", a["id"])])["album"]
        songs = sorted((to_song(s) for s in full.get("song", [])), key=lambda s: s["track"])
        albums.append({"id": a["id"], "name": a["name"], "artist": a.get("artist", ""), "songs": songs})

    by_name = {a["name"]: a for a in albums}
    picks = [by_name["Alpha"]["songs"][0], by_name["Beta"]["songs"][0], by_name["Alpha"]["songs"][2]]
    inst.api_ok("createPlaylist", [("name", PLAYLIST_NAME)] + [("songId", s["id"]) for s in picks])
    pls = inst.api_ok("getPlaylists")["playlists"].get("playlist", [])
    ids = [p["id"] for p in pls if p["name"] == PLAYLIST_NAME]
    if len(ids) != 1:
        raise RuntimeError(f"expected one {PLAYLIST_NAME!r} playlist, got {pls}")
    pl = inst.api_ok("getPlaylist", [("id", ids[0])])["playlist"]
    playlist = {
        "id": pl["id"],
        "name": pl["name"],
        "songs": [to_song(s) for s in pl.get("entry", [])],
    }
    return albums, playlist


def run_instance(args):
    stop_event = threading.Event()

    def on_signal(signum, frame):
        stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except Exception:
            pass
        stop_event.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    cache = os.path.abspath(args.cache)
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    started = time.monotonic()
    inst = Instance(cache, workdir)
    try:
        music = ensure_music(cache)
        folders = [("Music", music)]
        if args.big_track_mb:
            folders.append(("Big", ensure_big_track(cache, args.big_track_mb)))
        ffmpeg = ffmpeg_exe()
        if stop_event.is_set():
            return 1
        inst.configure(ffmpeg, folders)
        if stop_event.is_set():
            return 1
        inst.start()
        albums, playlist = gather(inst, folders)
        info = {
            "url": inst.url,
            "admin": {"username": ADMIN[0], "password": ADMIN[1]},
            "user": {"username": USER[0], "password": USER[1]},
            "albums": albums,
            "playlist": playlist,
            "musicDir": music,
            "workdir": workdir,
            "ffmpeg": ffmpeg,
        }
        if args.big_track_mb:
            info["bigDir"] = folders[1][1]
        sys.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        log(f"ready at {inst.url} in {time.monotonic() - started:.1f}s; waiting for stdin EOF")
        while not stop_event.wait(1.0):
            if inst.server is not None and inst.server.poll() is not None:
                log(f"supysonic-server died unexpectedly (exit {inst.server.returncode})")
                dump_log(inst.server_log)
                inst.server = None
                # Keep waiting for EOF so the parent still owns our lifetime.
        return 0
    finally:
        inst.stop()
        if args.rm_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", required=True, help="cache dir (venv, generated music)")
    ap.add_argument("--workdir", required=True, help="fresh dir for this supysonic instance")
    ap.add_argument("--big-track-mb", type=int, default=0, help="also add a ~N MB 320 kbps track")
    ap.add_argument("--rm-workdir", action="store_true", help="delete --workdir on exit")
    ap.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)

    if not args.in_venv:
        ensure_venv(cache)
        py = venv_python(cache)
        argv = [py, os.path.abspath(__file__), *sys.argv[1:], "--in-venv"]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(py, argv)

    sys.exit(run_instance(args))


if __name__ == "__main__":
    main()
