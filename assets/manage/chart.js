// The visits chart of the owner's page: one bar per UTC day, visits below and link previews
// stacked above them in a paler colour, drawn as SVG by this file (no library, nothing loaded
// from anywhere). Input: the answer of GET /api/share/{id}/visits, oldest day first:
// [{"day": "2026-12-01", "visits": 3, "previews": 1}, ...].
// Every text is set with textContent: nothing from the server becomes markup.
(function () {
  'use strict';

  var NS = 'http://www.w3.org/2000/svg';
  var WIDTH = 300;
  var HEIGHT = 72;
  var GAP = 2;

  function svg(name, attrs) {
    var el = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    return el;
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  var DAY_FORMAT = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });

  // "2 Dec", for a UTC day "2026-12-02".
  function shortDay(day) {
    var d = new Date(day + 'T00:00:00Z');
    if (isNaN(d)) { return day; }
    return DAY_FORMAT.format(d);
  }

  // What the chart shows, in words: its accessible name.
  function summary(days) {
    var visits = 0, previews = 0, busiest = null;
    days.forEach(function (d) {
      visits += d.visits; previews += d.previews;
      if (d.visits > 0 && (!busiest || d.visits > busiest.visits)) { busiest = d; }
    });
    var text = 'Visits per day from ' + shortDay(days[0].day) + ' to ' +
      shortDay(days[days.length - 1].day) + ': ' + plural(visits, 'visit', 'visits') +
      ' and ' + plural(previews, 'preview', 'previews') + ' in all';
    if (busiest) {
      text += '; most on ' + shortDay(busiest.day) + ' (' + plural(busiest.visits, 'visit', 'visits') + ')';
    }
    return text + '.';
  }

  // The chart of `days` as an element: the SVG and, under it, the first day, the tallest
  // bar's count and the last day.
  function draw(days) {
    var box = document.createElement('div');
    box.className = 'chart-drawn';
    if (!Array.isArray(days) || days.length === 0) {
      var none = document.createElement('p');
      none.className = 'chart-note';
      none.textContent = 'No visits to show.';
      box.appendChild(none);
      return box;
    }
    var top = Math.max(1, Math.max.apply(null, days.map(function (d) { return d.visits + d.previews; })));
    var bar = (WIDTH - GAP * (days.length - 1)) / days.length;
    var label = summary(days);
    var root = svg('svg', {
      viewBox: '0 0 ' + WIDTH + ' ' + HEIGHT, preserveAspectRatio: 'none',
      role: 'img', 'aria-label': label, focusable: 'false', 'class': 'bars'
    });
    var title = svg('title', {});
    title.textContent = label;
    root.appendChild(title);
    root.appendChild(svg('line', { x1: 0, x2: WIDTH, y1: HEIGHT - 0.5, y2: HEIGHT - 0.5, 'class': 'baseline' }));
    days.forEach(function (d, i) {
      var g = svg('g', { 'class': 'day', 'data-day': d.day, 'data-visits': d.visits, 'data-previews': d.previews });
      var tip = svg('title', {});
      tip.textContent = shortDay(d.day) + ': ' + plural(d.visits, 'visit', 'visits') + ', ' +
        plural(d.previews, 'preview', 'previews');
      g.appendChild(tip);
      var x = i * (bar + GAP);
      var hv = (d.visits / top) * (HEIGHT - 2);
      var hp = (d.previews / top) * (HEIGHT - 2);
      // A hit area over the whole column, so a day's tooltip shows even without visits.
      g.appendChild(svg('rect', { x: x, y: 0, width: bar, height: HEIGHT, 'class': 'hit' }));
      if (d.visits > 0) {
        g.appendChild(svg('rect', { x: x, y: HEIGHT - hv, width: bar, height: hv, 'class': 'visits' }));
      }
      if (d.previews > 0) {
        g.appendChild(svg('rect', { x: x, y: HEIGHT - hv - hp, width: bar, height: hp, 'class': 'previews' }));
      }
      root.appendChild(g);
    });
    box.appendChild(root);
    var quietDays = days.every(function (d) { return d.visits === 0 && d.previews === 0; });
    if (quietDays) {
      var quiet = document.createElement('p');
      quiet.className = 'chart-note';
      quiet.textContent = 'No visits in the last ' + plural(days.length, 'day', 'days') + '.';
      box.appendChild(quiet);
    }
    // The first and last day under the bars, and a key to the colours with the scale (none
    // when nothing was drawn: a scale of empty days would only puzzle); the words for screen
    // readers are the chart's label.
    var axis = document.createElement('p');
    axis.className = 'chart-axis';
    axis.setAttribute('aria-hidden', 'true');
    [shortDay(days[0].day), shortDay(days[days.length - 1].day)].forEach(function (t) {
      var s = document.createElement('span');
      s.textContent = t;
      axis.appendChild(s);
    });
    box.appendChild(axis);
    var key = document.createElement('p');
    key.className = 'chart-key';
    key.setAttribute('aria-hidden', 'true');
    var keys = [['key-visits', 'Visits'], ['key-previews', 'Previews']];
    if (!quietDays) { keys.push(['', 'tallest bar: ' + top]); }
    keys.forEach(function (k) {
      var s = document.createElement('span');
      s.className = k[0];
      s.textContent = k[1];
      key.appendChild(s);
    });
    box.appendChild(key);
    return box;
  }

  window.sharelogChart = { draw: draw, summary: summary };
})();
