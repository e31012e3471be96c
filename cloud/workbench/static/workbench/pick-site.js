// The site picker: a Leaflet map without tiles (no tile server is reached); a click sets the
// latitude and longitude fields, the park's other companies are shown for orientation.
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const lat = document.getElementById("id_lat"), lon = document.getElementById("id_lon");
  const others = (el.dataset.others || "").split(";").filter(Boolean).map((s) => s.split(","));
  const start = lat.value && lon.value ? [+lat.value, +lon.value]
    : others.length ? [+others[0][0], +others[0][1]] : [60, 10];
  const map = L.map(el, { attributionControl: false }).setView(start, others.length || lat.value ? 14 : 4);
  L.graticule && L.graticule().addTo(map);
  others.forEach(([a, b, name]) => L.circleMarker([+a, +b], { radius: 6 }).bindTooltip(name).addTo(map));
  let mine = lat.value && lon.value ? L.marker(start).addTo(map) : null;
  map.on("click", (e) => {
    lat.value = e.latlng.lat.toFixed(5);
    lon.value = e.latlng.lng.toFixed(5);
    if (mine) mine.setLatLng(e.latlng); else mine = L.marker(e.latlng).addTo(map);
  });
});
