// The park's companies on a Leaflet map without tiles (no tile server is reached): each company
// is a labelled circle; the table under the map says the same for screen readers.
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("map");
  const points = JSON.parse(document.getElementById("points").textContent);
  if (!el || !window.L || !points.length) return;
  const map = L.map(el, { attributionControl: false });
  const layer = L.featureGroup(points.map((p) =>
    L.circleMarker([p.lat, p.lon], { radius: 8 }).bindTooltip(p.name, { permanent: true, direction: "right" })
      .on("click", () => { window.location.href = p.url; })
  )).addTo(map);
  map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 15 });
});
