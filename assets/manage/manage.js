// The owner's page: the owner's shares (an admin's: everyone's), newest first, each with its
// link, counts, a chart of visits per day and its recipient links; and the dialogs that edit,
// delete and create shares. Everything is read and changed through the owner API (/api),
// with the session cookie and, on every change, the session's CSRF token.
//
// Nothing from the server is ever parsed as markup: every value is put on the page with
// textContent or as an attribute, and the markup comes from the page's own <template>s.
"use strict";

(function () {
  var PAGE_SIZE = 50;
  var SEARCH_DELAY_MS = 250;
  var doc = document;
  var $ = function (id) { return doc.getElementById(id); };
  var meta = function (name) {
    var m = doc.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  };
  var CSRF = meta("sharelog-csrf");
  var API = meta("sharelog-api");
  var IS_ADMIN = doc.body.dataset.admin === "true";

  var list = $("shares");
  var statusLine = $("status");
  var more = $("more");
  var policy = { canShare: true, allowDownloads: true, defaultDownloadable: false, requirePassword: false };
  var shares = {}; // id -> the share object as the API last answered it
  var loaded = 0;

  // ---- calls to the owner API --------------------------------------------------------

  function Failure(status, body) {
    this.status = status;
    this.code = (body && body.code) || "";
    this.message = (body && body.error) || "The server answered " + status + ".";
  }

  function call(method, path, body) {
    var headers = { "Accept": "application/json", "X-CSRF-Token": CSRF };
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (r.ok) { return { data: data, headers: r.headers }; }
        if (r.status === 401) { sessionEnded(); }
        throw new Failure(r.status, data);
      });
    }, function () {
      throw new Failure(0, { error: "The server cannot be reached. Check your connection and try again." });
    });
  }

  function sessionEnded() {
    statusLine.textContent = "";
    var text = doc.createTextNode("Your session has ended. ");
    var link = doc.createElement("a");
    link.href = location.pathname;
    link.textContent = "Sign in again";
    statusLine.appendChild(text);
    statusLine.appendChild(link);
  }

  function announce(text) { statusLine.textContent = text; }

  // ---- words and times ----------------------------------------------------------------

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // One formatter for every time on the page: building one is the costly part.
  var TIME_FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function when(iso) {
    if (!iso) { return "—"; }
    return TIME_FORMAT.format(new Date(iso));
  }

  function isPast(iso) { return !!iso && new Date(iso).getTime() <= Date.now(); }

  // The share's title, as its page shows it: the description, else the names of what it
  // holds, else its id.
  function title(share) {
    if (share.description && share.description.trim()) { return share.description; }
    var c = {};
    try { c = JSON.parse(share.contents || "{}"); } catch (e) { c = {}; }
    var names = [];
    (c.albums || []).forEach(function (a) { names.push(a.name); });
    (c.songs || []).forEach(function (s) { names.push(s.title); });
    (c.playlists || []).forEach(function (p) { names.push(p.name); });
    (c.artists || []).forEach(function (a) { names.push(a.name); });
    names = names.filter(function (n) { return n; });
    return names.length ? names.join(", ") : share.id;
  }

  // "2026-12-02T14:05" in the viewer's time, for a datetime-local field.
  function localInput(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" +
      p(d.getHours()) + ":" + p(d.getMinutes());
  }

  // ---- copying a link -----------------------------------------------------------------

  function copy(url, button) {
    var done = function () {
      announce("Link copied: " + url);
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy link"; }, 2000);
    };
    var fallback = function () {
      // Without the clipboard API (a page not served over https): select the link instead.
      var a = button.parentNode.querySelector(".url");
      var range = doc.createRange();
      range.selectNodeContents(a);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var copied = false;
      try { copied = doc.execCommand("copy"); } catch (e) { copied = false; }
      if (copied) { done(); } else { announce("The link is selected: press Ctrl+C (or ⌘C) to copy it."); }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, fallback);
    } else {
      fallback();
    }
  }

  // ---- a share's card -----------------------------------------------------------------

  function text(root, selector, value) { root.querySelector(selector).textContent = value; }

  function badge(root, label, kind) {
    var b = doc.createElement("span");
    b.className = "badge" + (kind ? " " + kind : "");
    b.textContent = label;
    root.appendChild(b);
  }

  function card(share) {
    var li = $("share-card").content.firstElementChild.cloneNode(true);
    li.dataset.id = share.id;
    var heading = li.querySelector(".title");
    heading.id = "title-" + share.id;
    li.querySelector("article").setAttribute("aria-labelledby", heading.id);
    li.querySelector(".card > .url-row .copy").addEventListener("click", function (e) {
      copy(shares[share.id].url, e.currentTarget);
    });
    li.querySelector(".edit").addEventListener("click", function () { openEdit(share.id); });
    li.querySelector(".delete").addEventListener("click", function () { remove(share.id); });
    li.querySelector(".add-link").addEventListener("submit", function (e) {
      e.preventDefault();
      addLink(share.id, e.currentTarget);
    });
    fill(li, share);
    watch(li);
    return li;
  }

  function fill(li, share) {
    shares[share.id] = share;
    var name = title(share);
    text(li, ".title", name);
    var owner = li.querySelector(".owner");
    owner.hidden = !IS_ADMIN;
    text(li, ".owner-name", share.username);
    var badges = li.querySelector(".badges");
    badges.textContent = "";
    if (isPast(share.expiresAt)) { badge(badges, "Expired", "warn"); }
    if (share.hasPassword) { badge(badges, "Password"); }
    if (share.maxVisits) {
      var used = share.visitCount >= share.maxVisits;
      badge(badges, used ? "Used up (" + share.maxVisits + " visits)" : "Limit " + plural(share.maxVisits, "visit", "visits"), used ? "warn" : "");
    }
    if (share.downloadable) { badge(badges, "Downloads"); }
    var a = li.querySelector(".card > .url-row .url");
    a.href = share.url;
    a.textContent = share.url;
    li.querySelector(".card > .url-row .copy").setAttribute("aria-label", "Copy link of " + name);
    li.querySelector(".edit").setAttribute("aria-label", "Edit " + name);
    li.querySelector(".delete").setAttribute("aria-label", "Delete " + name);
    text(li, ".created", when(share.createdAt));
    text(li, ".expires", share.expiresAt ? when(share.expiresAt) : "Never");
    text(li, ".visit-count", String(share.visitCount) + (share.maxVisits ? " of " + share.maxVisits : ""));
    text(li, ".preview-count", String(share.previewCount || 0));
    text(li, ".last", share.lastVisitedAt ? when(share.lastVisitedAt) : "Not yet");
  }

  // A card's chart and links are fetched once it comes near the screen.
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting) {
        observer.unobserve(e.target);
        details(e.target.dataset.id);
      }
    });
  }, { rootMargin: "400px 0px" }) : null;

  function watch(li) {
    if (observer) { observer.observe(li); } else { details(li.dataset.id); }
  }

  function cardOf(id) { return list.querySelector('li.share[data-id="' + id + '"]'); }

  function details(id) {
    loadChart(id);
    loadLinks(id);
  }

  function loadChart(id) {
    call("GET", "/share/" + id + "/visits?days=30").then(function (r) {
      var li = cardOf(id);
      if (!li) { return; }
      var box = li.querySelector(".chart-box");
      box.textContent = "";
      box.appendChild(window.sharelogChart.draw(r.data));
    }, function (f) {
      var li = cardOf(id);
      if (li) { text(li, ".chart-box", "Visits per day are not available: " + f.message); }
    });
  }

  function loadLinks(id) {
    return call("GET", "/share/" + id + "/links").then(function (r) {
      var li = cardOf(id);
      if (li) { showLinks(li, id, r.data || []); }
    }, function (f) {
      var li = cardOf(id);
      if (li) {
        text(li, ".recipients-note", "Recipient links are not available: " + f.message);
        li.querySelector(".links").removeAttribute("aria-busy");
      }
    });
  }

  function showLinks(li, shareId, links) {
    var ul = li.querySelector(".links");
    ul.textContent = "";
    // Busy (for screen readers, and for the tests) until the card's links have come.
    ul.removeAttribute("aria-busy");
    links.forEach(function (l) {
      var row = $("link-row").content.firstElementChild.cloneNode(true);
      row.dataset.id = l.id;
      text(row, ".label", l.label);
      var state = "";
      if (l.revokedAt) { state = "revoked " + when(l.revokedAt); row.classList.add("revoked"); }
      else if (l.maxVisits && l.visitCount >= l.maxVisits) { state = "used up"; }
      text(row, ".link-state", state);
      var facts = [plural(l.visitCount, "visit", "visits") + (l.maxVisits ? " of " + l.maxVisits : ""),
        plural(l.previewCount || 0, "preview", "previews"),
        l.lastVisitedAt ? "last " + when(l.lastVisitedAt) : "not opened yet"];
      text(row, ".link-facts", facts.join(" · "));
      var a = row.querySelector(".url");
      a.href = l.url;
      a.textContent = l.url;
      var copyButton = row.querySelector(".copy");
      copyButton.setAttribute("aria-label", "Copy link for " + l.label);
      copyButton.addEventListener("click", function (e) { copy(l.url, e.currentTarget); });
      var revoke = row.querySelector(".revoke");
      if (l.revokedAt) {
        revoke.remove();
      } else {
        revoke.setAttribute("aria-label", "Revoke link for " + l.label);
        revoke.addEventListener("click", function () { revokeLink(shareId, l); });
      }
      ul.appendChild(row);
    });
    li.querySelector(".recipients-note").hidden = links.length > 0;
  }

  // The share as it is now, into its card.
  function refresh(id) {
    return call("GET", "/share/" + id).then(function (r) {
      var li = cardOf(id);
      if (li) { fill(li, r.data); }
    });
  }

  // ---- recipient links ----------------------------------------------------------------

  function addLink(id, form) {
    var label = form.elements.label.value.trim();
    var limit = form.elements.maxVisits.value.trim();
    var body = { label: label };
    if (limit) { body.maxVisits = Number(limit); }
    var button = form.querySelector("button");
    button.disabled = true;
    call("POST", "/share/" + id + "/links", body).then(function (r) {
      form.reset();
      announce("Link for " + r.data.label + " added: " + r.data.url);
      return Promise.all([loadLinks(id), refresh(id)]);
    }, function (f) {
      announce("The link was not added: " + f.message);
    }).then(function () {
      button.disabled = false;
      form.elements.label.focus();
    });
  }

  function revokeLink(id, link) {
    confirmAction("Revoke the link for " + link.label + "?",
      link.label + "’s link stops working at once. The share and its other links keep working.",
      "Revoke").then(function (yes) {
      if (!yes) { return; }
      call("DELETE", "/share/" + id + "/links/" + encodeURIComponent(link.id)).then(function () {
        announce("The link for " + link.label + " is revoked.");
        return loadLinks(id);
      }, function (f) {
        announce("The link was not revoked: " + f.message);
      });
    });
  }

  // ---- deleting -------------------------------------------------------------------------

  function remove(id) {
    var name = title(shares[id]);
    confirmAction("Delete “" + name + "”?",
      "Its link and every recipient link stop working at once. Its history stays in the audit log.",
      "Delete").then(function (yes) {
      if (!yes) { return; }
      call("DELETE", "/share/" + id).then(function () {
        var li = cardOf(id);
        var next = li && (li.nextElementSibling || li.previousElementSibling);
        if (li) { li.remove(); }
        delete shares[id];
        loaded = Math.max(0, loaded - 1);
        setTotal(total - 1);
        announce("Deleted “" + name + "”.");
        (next ? next.querySelector(".title") : $("new-share")).focus();
      }, function (f) {
        announce("Not deleted: " + f.message);
      });
    });
  }

  // A question in the confirmation dialog; resolves to true for "yes".
  function confirmAction(question, detail, yes) {
    var dialog = $("confirm-dialog");
    text(dialog, "#confirm-heading", question);
    text(dialog, "#confirm-text", detail);
    text(dialog, "#confirm-yes", yes);
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "yes"); }, { once: true });
      dialog.showModal();
      dialog.querySelector(".cancel-confirm").focus();
    });
  }

  // ---- editing --------------------------------------------------------------------------

  var editing = null;

  function openEdit(id) {
    var s = shares[id];
    editing = id;
    var f = $("edit-form");
    f.reset();
    $("edit-error").hidden = true;
    text(f, "#edit-subtitle", title(s));
    $("edit-description").value = s.description || "";
    $("edit-expires").value = localInput(s.expiresAt);
    var dl = $("edit-downloadable");
    dl.checked = !!s.downloadable;
    dl.disabled = !policy.allowDownloads && !s.downloadable;
    text(f, "#edit-password-state", s.hasPassword ? "This share has a password." : "No password: anyone with the link can open it.");
    $("edit-password-remove-row").hidden = !s.hasPassword;
    $("edit-max-visits").value = s.maxVisits ? String(s.maxVisits) : "";
    text(f, "#edit-max-visits-hint", "Empty: no limit. Visits so far: " + s.visitCount + ".");
    $("edit-dialog").showModal();
    $("edit-description").focus();
  }

  // Only what was changed is sent: the update is partial, so a visit meanwhile loses nothing.
  function editBody(s) {
    var body = {};
    var description = $("edit-description").value;
    if (description !== (s.description || "")) { body.description = description.trim() ? description : null; }
    var expires = $("edit-expires").value;
    if (expires !== localInput(s.expiresAt)) {
      if (expires) { body.expiresAt = new Date(expires).toISOString(); } else { body.expiresIn = 0; }
    }
    var dl = $("edit-downloadable").checked;
    if (dl !== !!s.downloadable) { body.downloadable = dl; }
    if ($("edit-password-remove").checked && s.hasPassword) {
      body.password = null;
    } else if ($("edit-password").value) {
      body.password = $("edit-password").value;
    }
    var limit = $("edit-max-visits").value.trim();
    if (limit !== (s.maxVisits ? String(s.maxVisits) : "")) { body.maxVisits = limit ? Number(limit) : null; }
    return body;
  }

  function saveEdit(e) {
    e.preventDefault();
    var id = editing;
    var body = editBody(shares[id]);
    if (Object.keys(body).length === 0) {
      $("edit-dialog").close();
      announce("Nothing was changed.");
      return;
    }
    var save = $("edit-form").querySelector("button[type=submit]");
    save.disabled = true;
    call("PUT", "/share/" + id, body).then(function (r) {
      var li = cardOf(id);
      if (li) { fill(li, r.data); }
      $("edit-dialog").close();
      announce("Saved “" + title(r.data) + "”.");
    }, function (f) {
      var err = $("edit-error");
      err.textContent = f.message;
      err.hidden = false;
    }).then(function () { save.disabled = false; });
  }

  // ---- creating: search the music server, choose, create ------------------------------

  var chosen = {}; // "kind:id" -> {kind, id, name, detail}
  var searchTimer = null;
  var searchSeq = 0;
  var KINDS = [
    { key: "albums", label: "Albums", name: function (a) { return a.name; }, detail: function (a) { return [a.artist, plural(a.songCount, "song", "songs")]; } },
    { key: "songs", label: "Songs", name: function (s) { return s.title; }, detail: function (s) { return [s.artist, s.album]; } },
    { key: "playlists", label: "Playlists", name: function (p) { return p.name; }, detail: function (p) { return ["playlist", plural(p.songCount, "song", "songs")]; } },
    { key: "artists", label: "Artists", name: function (a) { return a.name; }, detail: function (a) { return [plural(a.albumCount, "album", "albums")]; } }
  ];

  function openCreate() {
    var f = $("create-form");
    f.reset();
    chosen = {};
    showChosen();
    $("results").textContent = "";
    $("create-error").hidden = true;
    var dl = $("create-downloadable");
    dl.checked = policy.allowDownloads && policy.defaultDownloadable;
    dl.disabled = !policy.allowDownloads;
    if (policy.defaultExpiresIn) {
      $("create-expires").value = localInput(new Date(Date.now() + policy.defaultExpiresIn * 1000).toISOString());
    }
    text(f, "#create-password-hint", policy.requirePassword ? "Required on this server: 4 to 128 characters." : "Optional: 4 to 128 characters.");
    $("create-dialog").showModal();
    $("search").focus();
  }

  function search() {
    var q = $("search").value.trim();
    var seq = ++searchSeq;
    var results = $("results");
    if (q.length < 2) { results.textContent = ""; return; }
    call("GET", "/share/search?count=8&query=" + encodeURIComponent(q)).then(function (r) {
      if (seq !== searchSeq) { return; }
      results.textContent = "";
      var any = false;
      KINDS.forEach(function (kind) {
        var items = (r.data && r.data[kind.key]) || [];
        if (!items.length) { return; }
        any = true;
        var section = doc.createElement("section");
        var h = doc.createElement("h3");
        h.textContent = kind.label;
        section.appendChild(h);
        var ul = doc.createElement("ul");
        items.forEach(function (item) { ul.appendChild(resultRow(kind, item)); });
        section.appendChild(ul);
        results.appendChild(section);
      });
      if (!any) {
        var none = doc.createElement("p");
        none.className = "hint";
        none.textContent = "Nothing found for “" + q + "”.";
        results.appendChild(none);
      }
    }, function (f) {
      if (seq !== searchSeq) { return; }
      results.textContent = "";
      var err = doc.createElement("p");
      err.className = "message";
      err.textContent = "The search failed: " + f.message;
      results.appendChild(err);
    });
  }

  function resultRow(kind, item) {
    var key = kind.key + ":" + item.id;
    var li = doc.createElement("li");
    var b = doc.createElement("button");
    b.type = "button";
    b.className = "result";
    b.dataset.key = key;
    b.setAttribute("aria-pressed", chosen[key] ? "true" : "false");
    var name = doc.createElement("span");
    name.className = "result-name";
    name.textContent = kind.name(item);
    var detail = doc.createElement("span");
    detail.className = "result-detail";
    detail.textContent = kind.detail(item).filter(function (d) { return d; }).join(" · ");
    b.appendChild(name);
    b.appendChild(detail);
    b.addEventListener("click", function () {
      if (chosen[key]) { delete chosen[key]; } else {
        chosen[key] = { kind: kind.key, id: item.id, name: kind.name(item), detail: detail.textContent };
      }
      b.setAttribute("aria-pressed", chosen[key] ? "true" : "false");
      showChosen();
    });
    li.appendChild(b);
    return li;
  }

  function showChosen() {
    var ul = $("chosen");
    ul.textContent = "";
    var keys = Object.keys(chosen);
    keys.forEach(function (key) {
      var c = chosen[key];
      var li = doc.createElement("li");
      var name = doc.createElement("span");
      name.textContent = c.name;
      var detail = doc.createElement("span");
      detail.className = "result-detail";
      detail.textContent = c.detail;
      var drop = doc.createElement("button");
      drop.type = "button";
      drop.className = "quiet";
      drop.textContent = "Remove";
      drop.setAttribute("aria-label", "Remove " + c.name);
      drop.addEventListener("click", function () {
        delete chosen[key];
        var pressed = $("results").querySelector('button[data-key="' + CSS.escape(key) + '"]');
        if (pressed) { pressed.setAttribute("aria-pressed", "false"); }
        showChosen();
        $("search").focus();
      });
      li.appendChild(name);
      li.appendChild(detail);
      li.appendChild(drop);
      ul.appendChild(li);
    });
    $("nothing-chosen").hidden = keys.length > 0;
  }

  function createShare(e) {
    e.preventDefault();
    var err = $("create-error");
    var keys = Object.keys(chosen);
    if (!keys.length) {
      err.textContent = "Choose something to share first: search, then press a result.";
      err.hidden = false;
      $("search").focus();
      return;
    }
    var body = { albums: [], songs: [], playlists: [], artists: [] };
    keys.forEach(function (k) { body[chosen[k].kind].push(chosen[k].id); });
    if (!body.artists.length) { delete body.artists; }
    var description = $("create-description").value;
    if (description.trim()) { body.description = description; }
    var expires = $("create-expires").value;
    if (expires) { body.expiresAt = new Date(expires).toISOString(); }
    if (policy.allowDownloads) { body.downloadable = $("create-downloadable").checked; }
    var password = $("create-password").value;
    if (password) { body.password = password; }
    var limit = $("create-max-visits").value.trim();
    if (limit) { body.maxVisits = Number(limit); }
    var button = $("create-form").querySelector("button[type=submit]");
    button.disabled = true;
    call("POST", "/share", body).then(function (r) {
      $("create-dialog").close();
      var li = card(r.data);
      list.insertBefore(li, list.firstElementChild);
      loaded += 1;
      setTotal(total + 1);
      announce("Share created: " + title(r.data) + ". Its link: " + r.data.url);
      li.querySelector(".card > .url-row .copy").focus();
    }, function (f) {
      err.textContent = f.message;
      err.hidden = false;
    }).then(function () { button.disabled = false; });
  }

  // ---- the list -------------------------------------------------------------------------

  var total = 0;

  function setTotal(n) {
    total = Math.max(0, n);
    $("count").textContent = plural(total, "share", "shares");
    $("empty").hidden = total > 0;
    more.hidden = loaded >= total;
  }

  function loadMore() {
    list.setAttribute("aria-busy", "true");
    more.disabled = true;
    return call("GET", "/share?_start=" + loaded + "&_end=" + (loaded + PAGE_SIZE)).then(function (r) {
      (r.data || []).forEach(function (s) {
        if (!cardOf(s.id)) { list.appendChild(card(s)); }
        loaded += 1;
      });
      setTotal(Number(r.headers.get("X-Total-Count") || loaded));
    }, function (f) {
      announce("Your shares could not be loaded: " + f.message);
    }).then(function () {
      list.setAttribute("aria-busy", "false");
      more.disabled = false;
    });
  }

  function loadPolicy() {
    return call("GET", "/share/settings").then(function (r) {
      policy = r.data || policy;
      if (!policy.canShare) {
        var b = $("new-share");
        b.disabled = true;
        b.title = "This server does not let you create shares.";
      }
    }, function () { /* the defaults stand; a create would say what is wrong */ });
  }

  $("new-share").addEventListener("click", openCreate);
  more.addEventListener("click", loadMore);
  $("edit-form").addEventListener("submit", saveEdit);
  $("create-form").addEventListener("submit", createShare);
  $("search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY_MS);
  });
  // Enter in the search field searches at once instead of submitting the dialog.
  $("search").addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(searchTimer);
      search();
    }
  });
  Array.prototype.forEach.call(doc.querySelectorAll("dialog .cancel"), function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });

  loadPolicy();
  loadMore();
})();
