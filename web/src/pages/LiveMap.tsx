import L from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useAlerts } from '../alerts';
import { api } from '../api';
import type { DashboardConfig } from '../auth';
import { LeafletMap } from '../components/LeafletMap';
import { clock, eventLabel, kmh, plain } from '../format';
import { speedColour } from '../map';
import { usePage } from '../page';
import { Link } from '../router';
import type { Alert, Position } from '../types';

const POLL_MS = 2000;
const TRAIL_POINTS = 40;

interface Car extends Position {
  trail: Array<[number, number]>;
}

/**
 * Cars driving now. Positions come from `GET /v1/positions` every 2 s (each active trip's newest
 * processed point); alerts from the app's live stream (`/v1/alerts/stream`) appear at once.
 */
export function LiveMapPage({ config }: { config: DashboardConfig }) {
  usePage('Live map');
  const [cars, setCars] = useState<Map<string, Car>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const { alerts } = useAlerts();
  const map = useRef<L.Map | null>(null);
  const layers = useRef<{ cars: L.LayerGroup; trails: L.LayerGroup; alerts: L.LayerGroup } | null>(null);
  const markers = useRef(new Map<string, { marker: L.CircleMarker; trail: L.Polyline }>());
  const alertMarkers = useRef(new Map<string, L.Layer>());
  const fitted = useRef(0);
  const userMoved = useRef(false);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async (): Promise<void> => {
      try {
        const { positions } = await api<{ positions: Position[] }>('/v1/positions');
        if (stopped) return;
        setCars((previous) => {
          const next = new Map<string, Car>();
          for (const position of positions) {
            const before = previous.get(position.deviceId);
            const trail = before && before.tripId === position.tripId ? [...before.trail] : [];
            const last = trail[trail.length - 1];
            if (!last || last[0] !== position.lat || last[1] !== position.lon) trail.push([position.lat, position.lon]);
            next.set(position.deviceId, { ...position, trail: trail.slice(-TRAIL_POINTS) });
          }
          return next;
        });
        setUpdatedAt(Date.now());
        setError(null);
      } catch (failure) {
        if (!stopped) setError((failure as Error).message);
      }
      if (!stopped) timer = setTimeout(poll, document.hidden ? POLL_MS * 5 : POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  // Draw the cars: markers move to each new position, trails grow behind them.
  useEffect(() => {
    if (!map.current || !layers.current) return;
    const seen = new Set<string>();
    for (const car of cars.values()) {
      seen.add(car.deviceId);
      const label = `${car.vehicleId}, ${kmh(car.speedMps)}`;
      let drawn = markers.current.get(car.deviceId);
      if (!drawn) {
        const trail = L.polyline(car.trail, { color: '#2563eb', weight: 2, opacity: 0.5, interactive: false }).addTo(layers.current.trails);
        const marker = L.circleMarker([car.lat, car.lon], { radius: 7, weight: 2, color: '#fff', fillOpacity: 1, fillColor: speedColour(car.speedMps), className: 'car-marker' })
          .bindTooltip(plain(label), { direction: 'top', offset: [0, -6], permanent: cars.size <= 25, className: 'car-label' })
          .addTo(layers.current.cars);
        drawn = { marker, trail };
        markers.current.set(car.deviceId, drawn);
      }
      drawn.marker.setLatLng([car.lat, car.lon]).setStyle({ fillColor: speedColour(car.speedMps) }).setTooltipContent(plain(label));
      drawn.marker.getElement()?.setAttribute('data-device', car.deviceId);
      drawn.trail.setLatLngs(car.trail);
    }
    for (const [deviceId, drawn] of markers.current) {
      if (seen.has(deviceId)) continue;
      drawn.marker.remove();
      drawn.trail.remove();
      markers.current.delete(deviceId);
    }
    // Follow the fleet as cars join, until the person moves the map themselves.
    if (!userMoved.current && cars.size > fitted.current) fitToCars();
    fitted.current = Math.max(fitted.current, cars.size);
  }, [cars]);

  // Alerts on the map: a ringed marker where each happened, with what and when.
  useEffect(() => {
    if (!layers.current) return;
    for (const alert of alerts) {
      if (alertMarkers.current.has(alert.alertId)) continue;
      const marker = L.marker([alert.lat, alert.lon], {
        keyboard: false,
        title: `${eventLabel(alert.type)}: ${alert.vehicleId}`,
        icon: L.divIcon({ className: `alert-marker alert-${alert.type}`, html: '<span aria-hidden="true">!</span>', iconSize: [26, 26] }),
      }).bindPopup(alertText(alert));
      marker.addTo(layers.current.alerts);
      alertMarkers.current.set(alert.alertId, marker);
    }
  }, [alerts]);

  const fitToCars = (): void => {
    const points = [...markers.current.values()].map(({ marker }) => marker.getLatLng());
    if (map.current && points.length > 0) map.current.fitBounds(L.latLngBounds(points).pad(0.2), { maxZoom: 13, animate: false });
  };

  const show = (lat: number, lon: number): void => {
    userMoved.current = true;
    map.current?.setView([lat, lon], Math.max(map.current.getZoom(), 14));
    document.getElementById('live-map')?.focus();
  };

  const list = [...cars.values()].sort((a, b) => a.vehicleId.localeCompare(b.vehicleId));
  return (
    <div class="page page-map">
      <div class="page-heading">
        <h1 tabIndex={-1}>Live map</h1>
        <p class="muted" aria-live="polite">
          {list.length} {list.length === 1 ? 'car' : 'cars'} driving{updatedAt ? `, updated ${clock(updatedAt)}` : ''}
        </p>
      </div>
      {error ? <p class="error" role="alert">Positions could not be loaded: {error}</p> : null}
      <div class="map-layout">
        <LeafletMap
          config={config}
          id="live-map"
          label="Map of the cars driving now; arrow keys pan, plus and minus zoom"
          onReady={(created) => {
            map.current = created;
            layers.current = { trails: L.layerGroup().addTo(created), cars: L.layerGroup().addTo(created), alerts: L.layerGroup().addTo(created) };
            const moved = (): void => void (userMoved.current = true);
            created.on('dragstart', moved);
            created.getContainer().addEventListener('wheel', moved, { passive: true });
            created.getContainer().addEventListener('keydown', moved);
            created.getContainer().addEventListener('pointerdown', moved);
            return () => {
              map.current = null;
              layers.current = null;
              markers.current.clear();
              alertMarkers.current.clear();
            };
          }}
        />
        <aside class="side-panel" aria-label="Cars and alerts">
          <div class="panel-actions">
            <button type="button" onClick={() => { userMoved.current = false; fitToCars(); }} disabled={list.length === 0}>Fit map to cars</button>
          </div>
          <h2>Cars driving</h2>
          {list.length === 0 ? <p class="muted">No car is on a trip right now.</p> : (
            <div class="table-scroll">
              <table class="compact" id="cars-table">
                <caption class="visually-hidden">Cars on an active trip, with their newest position</caption>
                <thead><tr><th scope="col">Vehicle</th><th scope="col">Speed</th><th scope="col">Last point</th><th scope="col"><span class="visually-hidden">Map</span></th></tr></thead>
                <tbody>
                  {list.map((car) => (
                    <tr key={car.deviceId} data-device={car.deviceId} data-position={`${car.lat.toFixed(6)},${car.lon.toFixed(6)}`}>
                      <th scope="row"><Link href={`/trips/${encodeURIComponent(car.tripId)}`}>{car.vehicleId}</Link></th>
                      <td>{kmh(car.speedMps)}</td>
                      <td>{clock(car.atMs)}</td>
                      <td><button type="button" class="small" onClick={() => show(car.lat, car.lon)} aria-label={`Show ${car.vehicleId} on the map`}>Show</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Alerts</h2>
          {alerts.length === 0 ? <p class="muted">No alert since you opened the dashboard.</p> : (
            <ul class="alert-list" id="alert-list">
              {alerts.slice(0, 20).map((alert) => (
                <li key={alert.alertId} class={`alert-item alert-item-${alert.type}`} data-alert-type={alert.type}>
                  <strong>{eventLabel(alert.type)}</strong> {alert.vehicleId} at {clock(alert.startMs)} ({alert.severity})
                  <span class="row-actions">
                    <button type="button" class="small" onClick={() => show(alert.lat, alert.lon)} aria-label={`Show the ${eventLabel(alert.type)} alert of ${alert.vehicleId} on the map`}>Show</button>
                    {alert.tripId ? <Link href={`/trips/${encodeURIComponent(alert.tripId)}`}>Trip</Link> : null}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </aside>
      </div>
    </div>
  );
}

function alertText(alert: Alert): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  return `<strong>${escape(eventLabel(alert.type))}</strong><br>${escape(alert.vehicleId)} at ${escape(clock(alert.startMs))}<br>severity ${escape(alert.severity)}`;
}
