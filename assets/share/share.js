// The share page's player: one <audio> over the share's stream URLs, driven by the track
// list in the page. Without this file the list still plays (each track is a link, and the
// native <audio> controls stay visible); with it, the custom controls take over.
//
// Keys (ignored while typing in a field, or with Ctrl/Alt/Meta held; on the seek slider
// the arrows move the slider):
//   space or k  play / pause          j or ←  back 10 s       l or →  forward 10 s
//   n           next track            p       previous track
"use strict";

// A page fetched before anyone opened it (a prefetch, or Chrome's prerender) was counted as a
// preview, and carries a single-use token. Once the page is in front of a person, the token
// goes back to the server and the preview becomes a visit: a prerendered page says so with
// `prerenderingchange`; a prefetched one runs no script until it is shown, so at once. A
// protected share answers that visit with the access key its media links need (a preview
// got none), which is then added to each of them.
(function () {
  var meta = document.querySelector('meta[name="sharelog-shown"]');
  if (!meta || typeof fetch !== "function") {
    return;
  }
  var sent = false;
  function keyed(url, key) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "key=" + encodeURIComponent(key);
  }
  function addKey(key) {
    var doc = document;
    Array.prototype.forEach.call(doc.querySelectorAll("#tracks .track"), function (row) {
      row.setAttribute("data-stream", keyed(row.getAttribute("data-stream"), key));
    });
    Array.prototype.forEach.call(doc.querySelectorAll(".play-link, .download, #m3u, #zip"), function (a) {
      a.setAttribute("href", keyed(a.getAttribute("href"), key));
    });
    var audio = doc.getElementById("player");
    if (audio && audio.getAttribute("src")) {
      var parts = audio.getAttribute("src").split("#");
      audio.setAttribute("src", keyed(parts[0], key) + (parts[1] ? "#" + parts[1] : ""));
    }
    var cover = doc.getElementById("cover");
    if (cover) {
      cover.setAttribute("src", keyed(cover.getAttribute("src").split("?")[0], key));
    }
  }
  function shown() {
    if (sent) {
      return;
    }
    sent = true;
    fetch(meta.getAttribute("data-post"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: meta.getAttribute("content") }),
      credentials: "same-origin",
      keepalive: true
    }).then(function (response) {
      if (response.status === 200) {
        return response.json().then(function (body) {
          if (body && typeof body.key === "string") {
            addKey(body.key);
          }
        });
      }
    }).catch(function () {
      // Not counted; nothing the person could do about it.
    });
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", shown, { once: true });
  } else {
    shown();
  }
})();

(function () {
  var SKIP_SECONDS = 10;
  var doc = document;
  var audio = doc.getElementById("player");
  var rows = Array.prototype.slice.call(doc.querySelectorAll("#tracks .track"));
  if (!audio || rows.length === 0) {
    return;
  }
  var playButton = doc.getElementById("play");
  var prevButton = doc.getElementById("prev");
  var nextButton = doc.getElementById("next");
  var seek = doc.getElementById("seek");
  var clock = doc.getElementById("clock");
  var nowPlaying = doc.getElementById("now-playing");
  var nowLabel = doc.getElementById("now-label");
  var cover = doc.getElementById("cover");
  var title = doc.getElementById("title");
  var list = doc.getElementById("tracks");
  // Where a link pointed (`?track=N&t=…`): the page marks the track, and its first source
  // starts at the moment (`#t=`); the seek below makes sure of it once the audio is loaded.
  var current = Math.min(Number(list.getAttribute("data-start")) || 0, rows.length - 1);
  var startAt = Number(list.getAttribute("data-start-time")) || 0;
  var dragging = false;

  doc.documentElement.classList.add("js");
  doc.getElementById("controls").hidden = false;

  function text(row, cls) {
    var el = row.querySelector(cls);
    return el ? el.textContent : "";
  }

  function formatTime(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(s / 3600);
    var m = Math.floor(s / 60) % 60;
    var sec = ("0" + (s % 60)).slice(-2);
    return h > 0 ? h + ":" + ("0" + m).slice(-2) + ":" + sec : m + ":" + sec;
  }

  function knownDuration() {
    if (isFinite(audio.duration) && audio.duration > 0) {
      return audio.duration;
    }
    return Number(rows[current].getAttribute("data-seconds")) || 0;
  }

  function showTime() {
    if (!dragging) {
      seek.value = String(Math.floor(audio.currentTime));
    }
    seek.max = String(Math.ceil(knownDuration()));
    var label = formatTime(audio.currentTime) + " / " + formatTime(knownDuration());
    clock.textContent = label;
    seek.setAttribute("aria-valuetext", label);
  }

  function showPlaying() {
    var playing = !audio.paused && !audio.ended;
    playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    if (playing) {
      nowLabel.textContent = "Now playing:"; // until then the page said "Up first:"
    }
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = playing ? "playing" : "paused";
    }
  }

  function play() {
    var started = audio.play();
    if (started && typeof started.catch === "function") {
      // Refused (e.g. autoplay rules before a user gesture): the button stays on "Play".
      started.catch(showPlaying);
    }
  }

  function select(index, start) {
    if (index < 0 || index >= rows.length) {
      return;
    }
    rows[current].removeAttribute("aria-current");
    current = index;
    startAt = 0; // the link's moment was the first track's only
    var row = rows[current];
    row.setAttribute("aria-current", "true");
    audio.src = row.getAttribute("data-stream");
    nowPlaying.textContent = text(row, ".t-title");
    seek.value = "0";
    showTime();
    describe(row);
    if (start) {
      play();
    }
  }

  function toggle() {
    if (audio.paused || audio.ended) {
      play();
    } else {
      audio.pause();
    }
  }

  function skip(seconds) {
    var target = Math.min(Math.max(0, audio.currentTime + seconds), knownDuration());
    audio.currentTime = target;
    showTime();
  }

  function next() {
    select(current + 1, true);
  }

  function previous() {
    select(current - 1, true);
  }

  // Lock screen and headset controls.
  function describe(row) {
    if (!("mediaSession" in navigator) || typeof MediaMetadata !== "function") {
      return;
    }
    navigator.mediaSession.metadata = new MediaMetadata({
      title: text(row, ".t-title"),
      artist: text(row, ".t-artist"),
      album: text(row, ".t-album") || (title ? title.textContent : ""),
      artwork: cover ? [{ src: cover.currentSrc || cover.src, sizes: "600x600" }] : []
    });
  }

  function handle(action, fn) {
    try {
      navigator.mediaSession.setActionHandler(action, fn);
    } catch (e) {
      // This browser does not know the action; the others still work.
    }
  }

  if ("mediaSession" in navigator) {
    handle("play", play);
    handle("pause", function () { audio.pause(); });
    handle("previoustrack", previous);
    handle("nexttrack", next);
    handle("seekbackward", function () { skip(-SKIP_SECONDS); });
    handle("seekforward", function () { skip(SKIP_SECONDS); });
    handle("seekto", function (details) {
      audio.currentTime = details.seekTime;
      showTime();
    });
  }

  playButton.addEventListener("click", toggle);
  prevButton.addEventListener("click", previous);
  nextButton.addEventListener("click", next);
  seek.addEventListener("input", function () {
    dragging = true;
    clock.textContent = formatTime(Number(seek.value)) + " / " + formatTime(knownDuration());
  });
  seek.addEventListener("change", function () {
    dragging = false;
    audio.currentTime = Number(seek.value);
    showTime();
  });

  if (startAt > 0) {
    audio.addEventListener("loadedmetadata", function () {
      if (audio.currentTime < startAt - 0.5) {
        audio.currentTime = startAt;
      }
      startAt = 0;
    }, { once: true });
  }

  audio.addEventListener("play", showPlaying);
  audio.addEventListener("pause", showPlaying);
  audio.addEventListener("timeupdate", showTime);
  audio.addEventListener("durationchange", showTime);
  audio.addEventListener("ended", function () {
    if (current + 1 < rows.length) {
      next();
    } else {
      showPlaying();
    }
  });

  rows.forEach(function (row, index) {
    var link = row.querySelector(".play-link");
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
        return; // a new tab or window: let the browser open the stream
      }
      event.preventDefault();
      if (index === current && audio.currentSrc) {
        toggle();
      } else {
        select(index, true);
      }
    });
  });

  if (cover) {
    // A share without art still gets a picture (the server answers a placeholder);
    // if even that fails, an empty box is better than a broken-image icon.
    cover.addEventListener("error", function () { cover.hidden = true; });
  }

  var expiry = doc.querySelector("#expires time");
  if (expiry && expiry.getAttribute("datetime")) {
    var when = new Date(expiry.getAttribute("datetime"));
    if (!isNaN(when.getTime())) {
      expiry.textContent = when.toLocaleString();
    }
  }

  doc.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    var onSlider = tag === "INPUT" && target.type === "range";
    if ((tag === "INPUT" && !onSlider) || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      return;
    }
    switch (event.key) {
      case " ":
        // Space presses a focused button, and opens a focused <summary> (the description),
        // itself. On a link it would only scroll the page, and a clicked track leaves the
        // focus on its link: there it plays and pauses.
        if (tag === "BUTTON" || tag === "SUMMARY") { return; }
        toggle();
        break;
      case "k": toggle(); break;
      // On the seek slider the arrows move the slider itself, a second at a time.
      case "ArrowLeft": if (onSlider) { return; } skip(-SKIP_SECONDS); break;
      case "ArrowRight": if (onSlider) { return; } skip(SKIP_SECONDS); break;
      case "j": skip(-SKIP_SECONDS); break;
      case "l": skip(SKIP_SECONDS); break;
      case "n": next(); break;
      case "p": previous(); break;
      default: return;
    }
    event.preventDefault();
  });

  rows[current].setAttribute("aria-current", "true");
  describe(rows[current]);
  showTime();
  showPlaying();
})();
