// The data pages' enhancements: the maps (Leaflet, vendored at build time) and the bulk
// upload's progress. Every page works without this file.
'use strict';

(function () {
  function status(text) {
    var el = document.querySelector('.map-status');
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || '';
  }

  function baseMap(el) {
    var map = L.map(el);
    var tiles = L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 19 });
    var failed = 0;
    tiles.on('tileerror', function () {
      failed += 1;
      if (failed === 1) status('Map tiles cannot load from ' + el.dataset.tiles.split('/').slice(0, 3).join('/') + ' (offline, or blocked); the markers are still placed.');
    });
    tiles.addTo(map);
    return map;
  }

  function entryMap(el) {
    var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.long);
    var map = baseMap(el);
    map.setView([lat, lng], 14);
    L.marker([lat, lng], { alt: 'Entry location' }).addTo(map);
  }

  function formMap(el) {
    var map = baseMap(el);
    map.setView([20, 0], 2);
    fetch(el.dataset.feed, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('status ' + r.status); return r.json(); })
      .then(function (geo) {
        var group = L.markerClusterGroup ? L.markerClusterGroup() : L.featureGroup();
        var n = 0;
        geo.features.forEach(function (f) {
          var c = f.geometry.coordinates;
          var m = L.marker([c[1], c[0]], { alt: f.properties.title || 'Entry' });
          var box = document.createElement('div');
          var strong = document.createElement('strong');
          strong.textContent = f.properties.title || '(no title)';
          var a = document.createElement('a');
          a.href = el.dataset.entry + encodeURIComponent(f.id);
          a.textContent = 'Open entry';
          box.appendChild(strong);
          box.appendChild(document.createElement('br'));
          box.appendChild(a);
          m.bindPopup(box);
          group.addLayer(m);
          n += 1;
        });
        map.addLayer(group);
        el.dataset.markers = String(n);
        if (n > 0) map.fitBounds(group.getBounds(), { maxZoom: 15, padding: [20, 20] });
        var keep = document.querySelector('.map-status');
        if (keep && keep.textContent.indexOf('tiles') === -1) status(n + (n === 1 ? ' located entry.' : ' located entries.'));
      })
      .catch(function (e) { status('The entries could not be loaded (' + e.message + ').'); });
  }

  function bulk(form) {
    form.addEventListener('submit', function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      ev.preventDefault();
      var box = form.querySelector('.progress');
      var bar = form.querySelector('progress');
      var text = form.querySelector('.progress-text');
      box.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) {
          var p = Math.round((e.loaded / e.total) * 100);
          bar.value = p;
          text.textContent = p + '% sent';
        }
      };
      xhr.upload.onload = function () { bar.removeAttribute('value'); text.textContent = 'Sent; checking and storing the rows…'; };
      xhr.onload = function () {
        document.open();
        document.write(xhr.responseText);
        document.close();
      };
      xhr.onerror = function () { text.textContent = 'The upload failed; please try again.'; };
      xhr.send(new FormData(form));
    });
  }

  function start() {
    var el = document.getElementById('map');
    if (el && window.L) {
      if (el.dataset.feed) formMap(el); else if (el.dataset.lat) entryMap(el);
    }
    var form = document.getElementById('bulk-form');
    if (form) bulk(form);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
