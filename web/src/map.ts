import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countriesUrl from 'world-atlas/countries-50m.json?url';
import type { DashboardConfig } from './auth';

/**
 * Leaflet 1.9 finishes a zoom animation from a timer that outlives `map.remove()` (a page left
 * mid-zoom) and then throws on the removed panes (Leaflet issue 6597): skip it once the map is gone.
 */
const zoomEnd = (L.Map.prototype as unknown as { _onZoomTransitionEnd: (this: { _mapPane?: HTMLElement }) => void })._onZoomTransitionEnd;
(L.Map.prototype as unknown as { _onZoomTransitionEnd: (this: { _mapPane?: HTMLElement }) => void })._onZoomTransitionEnd = function (this: { _mapPane?: HTMLElement }) {
  if (this._mapPane) zoomEnd.call(this);
};

/** Where the demo fleet drives, and a sensible first view before any data. */
export const DEFAULT_VIEW: { center: L.LatLngExpression; zoom: number } = { center: [50.85, 4.35], zoom: 10 };

let outlines: Promise<{ land: GeoJSON.FeatureCollection | GeoJSON.Feature; borders: GeoJSON.MultiLineString }> | null = null;

/** Natural Earth 1:50m country outlines from the world-atlas package, shipped in the build: no network needed. */
function loadOutlines() {
  outlines ??= fetch(countriesUrl)
    .then((response) => response.json() as Promise<Topology<{ countries: GeometryCollection; land: GeometryCollection }>>)
    .then((topology) => ({
      land: feature(topology, topology.objects.land),
      borders: mesh(topology, topology.objects.countries, (a, b) => a !== b),
    }));
  return outlines;
}

/**
 * A Leaflet map on `element`: the configured tile server, or else the offline outlines (land,
 * borders and coastlines) drawn on a canvas. Keyboard: focus the map, then arrows pan and +/- zoom.
 */
export function createMap(element: HTMLElement, config: DashboardConfig, label: string): L.Map {
  // No zoom and pan animations for people who asked for less motion.
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const map = L.map(element, { zoomControl: true, keyboard: true, worldCopyJump: true, minZoom: 2, maxZoom: 18, zoomAnimation: !still, fadeAnimation: !still, markerZoomAnimation: !still })
    .setView(DEFAULT_VIEW.center, DEFAULT_VIEW.zoom);
  element.setAttribute('role', 'region');
  element.setAttribute('aria-label', label);
  if (config.tiles) {
    L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 19 }).addTo(map);
  } else {
    element.classList.add('offline-map');
    const renderer = L.canvas({ padding: 0.5 });
    map.attributionControl.addAttribution('Outlines: <a href="https://www.naturalearthdata.com/">Natural Earth</a> (public domain), offline');
    void loadOutlines().then(({ land, borders }) => {
      L.geoJSON(land, { renderer, interactive: false, style: { color: '#8a9aa8', weight: 1, fillColor: '#eef0e6', fillOpacity: 1 } } as L.GeoJSONOptions).addTo(map).bringToBack();
      L.geoJSON(borders, { renderer, interactive: false, style: { color: '#9b8aa8', weight: 1.2, dashArray: '4 3' } } as L.GeoJSONOptions).addTo(map);
    });
    map.attributionControl.addAttribution('Towns: <a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)');
    addGrid(map);
    addTownNames(map);
  }
  return map;
}

/** The largest towns in view, from the platform's own gazetteer (`/dashboard/places.json`). */
function addTownNames(map: L.Map): void {
  const layer = L.layerGroup().addTo(map);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let request = 0;
  let removed = false;
  map.on('unload', () => {
    removed = true;
    clearTimeout(timer);
  });
  const load = async (): Promise<void> => {
    if (removed) return;
    const mine = ++request;
    const b = map.getBounds();
    const clamp = (value: number, limit: number) => Math.max(-limit, Math.min(limit, value));
    const bbox = [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)].map((v) => v.toFixed(4)).join(',');
    const size = map.getSize();
    const limit = Math.max(8, Math.min(60, Math.round((size.x * size.y) / 22_000)));
    try {
      const response = await fetch(`/dashboard/places.json?bbox=${bbox}&limit=${limit}`);
      if (!response.ok || mine !== request) return;
      const { places } = (await response.json()) as { places: Array<{ name: string; lat: number; lon: number; population: number }> };
      if (mine !== request || removed) return;
      layer.clearLayers();
      places.forEach((place, rank) => {
        const size = rank < 3 ? 'place-name-large' : rank < 12 ? 'place-name-medium' : 'place-name-small';
        L.marker([place.lat, place.lon], {
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: `place-name ${size}`, html: `<span class="place-dot"></span>${escapeHtml(place.name)}`, iconSize: undefined, iconAnchor: [3, 8] }),
        }).addTo(layer);
      });
    } catch {
      // No labels this time; the outlines still show.
    }
  };
  map.on('moveend', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 200);
  });
  map.whenReady(() => void load());
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A light graticule with its labels, so an offline map still shows where and how big things are. */
function addGrid(map: L.Map): void {
  const layer = L.layerGroup().addTo(map);
  const draw = (): void => {
    layer.clearLayers();
    const bounds = map.getBounds();
    const span = Math.max(bounds.getEast() - bounds.getWest(), bounds.getNorth() - bounds.getSouth());
    const step = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30].find((s) => span / s <= 8) ?? 30;
    const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
    const style = { color: '#b6c2cc', weight: 0.6, interactive: false };
    for (let lat = Math.ceil(bounds.getSouth() / step) * step; lat <= bounds.getNorth(); lat += step) {
      L.polyline([[lat, bounds.getWest()], [lat, bounds.getEast()]], style).addTo(layer);
    }
    for (let lon = Math.ceil(bounds.getWest() / step) * step; lon <= bounds.getEast(); lon += step) {
      L.polyline([[bounds.getSouth(), lon], [bounds.getNorth(), lon]], style).addTo(layer);
    }
    const corner = bounds.getSouthWest();
    L.marker(corner, {
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: 'grid-label', html: `grid ${step.toFixed(digits)}°`, iconSize: [80, 16], iconAnchor: [-4, 20] }),
    }).addTo(layer);
  };
  map.on('moveend', draw);
  map.whenReady(draw);
}

/** Speed colour ramp for tracks: green when slow, through yellow, to red above 120 km/h. */
export const SPEED_BANDS: Array<{ upToKmh: number; colour: string; label: string }> = [
  { upToKmh: 30, colour: '#15803d', label: 'under 30 km/h' },
  { upToKmh: 50, colour: '#65a30d', label: '30–50 km/h' },
  { upToKmh: 70, colour: '#ca8a04', label: '50–70 km/h' },
  { upToKmh: 90, colour: '#ea580c', label: '70–90 km/h' },
  { upToKmh: 120, colour: '#dc2626', label: '90–120 km/h' },
  { upToKmh: Infinity, colour: '#7f1d1d', label: 'over 120 km/h' },
];

export function speedColour(mps: number | null): string {
  if (mps === null) return '#6b7280';
  const kmh = mps * 3.6;
  return SPEED_BANDS.find((band) => kmh < band.upToKmh)!.colour;
}
