import L from 'leaflet';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, query as toQuery } from '../api';
import type { DashboardConfig } from '../auth';
import { LeafletMap } from '../components/LeafletMap';
import { duration, EVENT_LABELS, fromLocalInput, km, plain, toLocalInput, when } from '../format';
import { usePage } from '../page';
import { Link, navigate } from '../router';
import { EVENT_TYPES, type Track, type Trip, type TripPage } from '../types';

type PlaceMode = 'none' | 'bbox' | 'endsNear' | 'near';

/** The form's fields, as typed (strings), in the units people think in. */
interface Form {
  from: string; to: string; status: string; vehicleId: string; driverId: string; policyId: string;
  minKm: string; maxKm: string; minMin: string; maxMin: string; minScore: string; maxScore: string;
  minNight: string; maxNight: string; minSpeeding: string; maxSpeeding: string;
  events: string[]; minEvents: string; severity: string; q: string;
  place: PlaceMode; lat: string; lon: string; radiusM: string; bbox: string;
  sort: string; order: string; limit: string;
}

const num = (value: string | null, scale = 1): string => (value === null || value === '' || !Number.isFinite(Number(value)) ? '' : String(Number((Number(value) * scale).toFixed(6))));

/** The URL's query (API parameter names and units) to the form. */
function formFrom(query: URLSearchParams): Form {
  const get = (name: string) => query.get(name) ?? '';
  const point = (get('near') || get('endsNear')).split(',');
  const place: PlaceMode = query.has('near') ? 'near' : query.has('endsNear') ? 'endsNear' : query.has('bbox') ? 'bbox' : 'none';
  const time = (name: string) => {
    const ms = query.get(name) ? Date.parse(query.get(name)!) : NaN;
    return Number.isFinite(ms) ? toLocalInput(ms) : '';
  };
  return {
    from: time('from'), to: time('to'), status: get('status'), vehicleId: get('vehicleId'), driverId: get('driverId'), policyId: get('policyId'),
    minKm: num(query.get('minDistanceM'), 1 / 1000), maxKm: num(query.get('maxDistanceM'), 1 / 1000),
    minMin: num(query.get('minDurationS'), 1 / 60), maxMin: num(query.get('maxDurationS'), 1 / 60),
    minScore: get('minScore'), maxScore: get('maxScore'),
    minNight: num(query.get('minNightShare'), 100), maxNight: num(query.get('maxNightShare'), 100),
    minSpeeding: num(query.get('minSpeedingShare'), 100), maxSpeeding: num(query.get('maxSpeedingShare'), 100),
    events: get('event') ? get('event').split(',') : [], minEvents: get('minEvents'), severity: get('severity'), q: get('q'),
    place, lat: place === 'near' || place === 'endsNear' ? point[0] ?? '' : '', lon: place === 'near' || place === 'endsNear' ? point[1] ?? '' : '',
    radiusM: place === 'near' || place === 'endsNear' ? point[2] ?? '500' : '500', bbox: get('bbox'),
    sort: get('sort') || 'startMs', order: get('order') || 'desc', limit: get('limit') || '20',
  };
}

/** The form to the API's query parameters. */
function queryFrom(form: Form): Record<string, string> {
  const iso = (value: string) => {
    const ms = fromLocalInput(value);
    return ms === null ? '' : new Date(ms).toISOString();
  };
  const point = `${form.lat},${form.lon},${form.radiusM}`;
  const params: Record<string, string> = {
    from: iso(form.from), to: iso(form.to), status: form.status, vehicleId: form.vehicleId.trim(), driverId: form.driverId.trim(), policyId: form.policyId.trim(),
    minDistanceM: num(form.minKm, 1000), maxDistanceM: num(form.maxKm, 1000), minDurationS: num(form.minMin, 60), maxDurationS: num(form.maxMin, 60),
    minScore: form.minScore, maxScore: form.maxScore,
    minNightShare: num(form.minNight, 1 / 100), maxNightShare: num(form.maxNight, 1 / 100),
    minSpeedingShare: num(form.minSpeeding, 1 / 100), maxSpeedingShare: num(form.maxSpeeding, 1 / 100),
    event: form.events.join(','), minEvents: form.minEvents, severity: form.severity, q: form.q.trim(),
    near: form.place === 'near' ? point : '', endsNear: form.place === 'endsNear' ? point : '', bbox: form.place === 'bbox' ? form.bbox : '',
    sort: form.sort === 'startMs' ? '' : form.sort, order: form.order === 'desc' ? '' : form.order, limit: form.limit === '50' ? '' : form.limit,
  };
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== ''));
}

export function TripsPage({ config, query }: { config: DashboardConfig; query: URLSearchParams }) {
  usePage('Trips');
  const [form, setForm] = useState<Form>(() => formFrom(query));
  const [results, setResults] = useState<TripPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const [cursors, setCursors] = useState<string[]>([]);
  const map = useRef<L.Map | null>(null);
  const resultLayer = useRef<L.LayerGroup | null>(null);
  const pickLayer = useRef<L.LayerGroup | null>(null);
  const trackLayer = useRef<L.LayerGroup | null>(null);
  const pickingRef = useRef(false);
  const searchKey = query.toString();
  const filters = useMemo(() => {
    const copy = new URLSearchParams(query);
    copy.delete('cursor');
    return copy.toString();
  }, [searchKey]);

  useEffect(() => setForm(formFrom(query)), [filters]);
  useEffect(() => setCursors([]), [filters]);

  // The URL is the search: run it whenever it changes (submit, paging, back and forward).
  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    setError(null);
    const params = new URLSearchParams(query);
    if (!params.has('limit')) params.set('limit', '20');
    api<TripPage>(`/v1/trips?${params}`).then(
      (page) => {
        if (cancelled) return;
        setResults(page);
        setLoading(false);
      },
      (failure: Error) => {
        if (cancelled) return;
        setResults(null);
        setError(failure.message);
        setLoading(false);
      },
    );
    return () => void (cancelled = true);
  }, [searchKey]);

  const set = <K extends keyof Form>(key: K, value: Form[K]): void => setForm((previous) => ({ ...previous, [key]: value }));
  const setPoint = (lat: number, lon: number): void => setForm((previous) => ({ ...previous, lat: lat.toFixed(5), lon: lon.toFixed(5), place: previous.place === 'none' || previous.place === 'bbox' ? 'near' : previous.place }));

  const choosePlace = (place: PlaceMode): void => {
    setForm((previous) => {
      const next = { ...previous, place };
      if (place === 'near' && (!previous.from || !previous.to)) {
        next.from = previous.from || toLocalInput(Date.now() - 24 * 3_600_000);
        next.to = previous.to || toLocalInput(Date.now() + 60_000);
        setNote('"Passed near" searches a time window: the last 24 hours are filled in.');
      }
      return next;
    });
  };

  // Draw the chosen point and radius, and make map clicks pick it while picking.
  useEffect(() => {
    pickingRef.current = picking;
    map.current?.getContainer().classList.toggle('picking', picking);
  }, [picking]);
  useEffect(() => {
    if (!pickLayer.current) return;
    pickLayer.current.clearLayers();
    const lat = Number(form.lat), lon = Number(form.lon), radius = Number(form.radiusM);
    if ((form.place === 'near' || form.place === 'endsNear') && form.lat && form.lon && Number.isFinite(lat) && Number.isFinite(lon)) {
      L.circle([lat, lon], { radius: Number.isFinite(radius) ? radius : 0, color: '#7c3aed', weight: 2, fillOpacity: 0.08, interactive: false }).addTo(pickLayer.current);
      L.circleMarker([lat, lon], { radius: 4, color: '#7c3aed', fillOpacity: 1, interactive: false, className: 'picked-point' }).addTo(pickLayer.current);
    }
    if (form.place === 'bbox' && form.bbox) {
      const [w, s, e, n] = form.bbox.split(',').map(Number);
      if ([w, s, e, n].every((v) => Number.isFinite(v))) L.rectangle([[s!, w!], [n!, e!]], { color: '#7c3aed', weight: 2, fillOpacity: 0.05, interactive: false }).addTo(pickLayer.current);
    }
  }, [form.place, form.lat, form.lon, form.radiusM, form.bbox]);

  // Results on the map: start (green) and end (dark) of each trip, the closest approach for "near".
  useEffect(() => {
    const layer = resultLayer.current;
    if (!layer || !map.current) return;
    layer.clearLayers();
    trackLayer.current?.clearLayers();
    const bounds: L.LatLngExpression[] = [];
    for (const trip of results?.trips ?? []) {
      const label = `${trip.vehicleId}, ${when(trip.startMs)}`;
      L.polyline([[trip.start.lat, trip.start.lon], [trip.end.lat, trip.end.lon]], { color: '#64748b', weight: 1.5, dashArray: '4 4', interactive: false }).addTo(layer);
      const start = L.circleMarker([trip.start.lat, trip.start.lon], { radius: 6, color: '#fff', weight: 2, fillColor: '#16a34a', fillOpacity: 1, className: 'trip-start' })
        .bindTooltip(plain(`Start: ${label}${trip.startPlace ? `, ${trip.startPlace}` : ''}`)).addTo(layer);
      start.getElement()?.setAttribute('data-trip', trip.tripId);
      L.circleMarker([trip.end.lat, trip.end.lon], { radius: 5, color: '#fff', weight: 2, fillColor: '#1f2937', fillOpacity: 1, className: 'trip-end' })
        .bindTooltip(plain(`End: ${label}${trip.endPlace ? `, ${trip.endPlace}` : ''}`)).addTo(layer);
      bounds.push([trip.start.lat, trip.start.lon], [trip.end.lat, trip.end.lon]);
      if (trip.approach) {
        L.circleMarker([trip.approach.lat, trip.approach.lon], { radius: 4, color: '#7c3aed', fillColor: '#fff', fillOpacity: 1, weight: 2 })
          .bindTooltip(plain(`${trip.vehicleId} passed ${Math.round(trip.approach.distanceM)} m away at ${when(trip.approach.closestMs)}`)).addTo(layer);
      }
    }
    if (bounds.length > 0 && !pickingRef.current) map.current.fitBounds(L.latLngBounds(bounds).pad(0.15), { maxZoom: 14, animate: false });
    // The tracks of the first results too (each is one request; the rest show start and end).
    let cancelled = false;
    const tracks = L.layerGroup().addTo(layer);
    for (const trip of (results?.trips ?? []).slice(0, 10)) {
      api<Track>(`/v1/trips/${encodeURIComponent(trip.tripId)}/track`).then((track) => {
        if (cancelled) return;
        L.polyline(track.geometry.coordinates.map(([lon, lat]) => [lat, lon] as [number, number]), { color: '#2563eb', weight: 2.5, opacity: 0.6, interactive: false, className: 'result-track' }).addTo(tracks);
      }, () => undefined);
    }
    return () => void (cancelled = true);
  }, [results]);

  const showTrack = async (trip: Trip): Promise<void> => {
    const layer = trackLayer.current;
    if (!layer) return;
    try {
      const track = await api<Track>(`/v1/trips/${encodeURIComponent(trip.tripId)}/track`);
      layer.clearLayers();
      L.polyline(track.geometry.coordinates.map(([lon, lat]) => [lat, lon] as [number, number]), { color: '#2563eb', weight: 4, opacity: 0.8, interactive: false }).addTo(layer);
    } catch {
      // The markers still show where it went.
    }
  };

  const submit = (event: Event): void => {
    event.preventDefault();
    setPicking(false);
    navigate(`/trips${toQuery(queryFrom(form))}`);
  };
  const reset = (): void => {
    setNote(null);
    navigate('/trips');
  };
  const page = (cursor: string | null, back = false): void => {
    const params = new URLSearchParams(filters);
    if (cursor) params.set('cursor', cursor);
    if (!back) setCursors((stack) => [...stack, query.get('cursor') ?? '']);
    else setCursors((stack) => stack.slice(0, -1));
    navigate(`/trips${params.toString() ? `?${params}` : ''}`);
  };

  const near = form.place === 'near';
  const trips = results?.trips ?? [];
  return (
    <div class="page page-trips">
      <div class="page-heading"><h1 tabIndex={-1}>Trips</h1></div>
      <div class="search-layout">
        <form class="search-form" onSubmit={submit} aria-label="Search trips" id="trip-search">
          <fieldset>
            <legend>When and who</legend>
            <div class="grid-2">
              <label>From<input type="datetime-local" name="from" value={form.from} onInput={(e) => set('from', e.currentTarget.value)} /></label>
              <label>To<input type="datetime-local" name="to" value={form.to} onInput={(e) => set('to', e.currentTarget.value)} /></label>
              <label>Vehicle<input type="text" name="vehicleId" value={form.vehicleId} onInput={(e) => set('vehicleId', e.currentTarget.value)} autocomplete="off" /></label>
              <label>Driver<input type="text" name="driverId" value={form.driverId} onInput={(e) => set('driverId', e.currentTarget.value)} autocomplete="off" /></label>
              <label>Policy<input type="text" name="policyId" value={form.policyId} onInput={(e) => set('policyId', e.currentTarget.value)} autocomplete="off" /></label>
              <label>Status
                <select name="status" value={form.status} onChange={(e) => set('status', e.currentTarget.value)}>
                  <option value="">any</option><option value="active">driving now</option><option value="completed">completed</option>
                </select>
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Figures</legend>
            <div class="grid-2">
              <Range label="Score" unit="0–100" min={form.minScore} max={form.maxScore} onMin={(v) => set('minScore', v)} onMax={(v) => set('maxScore', v)} limits={[0, 100]} />
              <Range label="Distance" unit="km" min={form.minKm} max={form.maxKm} onMin={(v) => set('minKm', v)} onMax={(v) => set('maxKm', v)} limits={[0, 100000]} />
              <Range label="Duration" unit="min" min={form.minMin} max={form.maxMin} onMin={(v) => set('minMin', v)} onMax={(v) => set('maxMin', v)} limits={[0, 100000]} />
              <Range label="Night driving" unit="% of moving time" min={form.minNight} max={form.maxNight} onMin={(v) => set('minNight', v)} onMax={(v) => set('maxNight', v)} limits={[0, 100]} />
              <Range label="Speeding" unit="% of moving time" min={form.minSpeeding} max={form.maxSpeeding} onMin={(v) => set('minSpeeding', v)} onMax={(v) => set('maxSpeeding', v)} limits={[0, 100]} />
            </div>
          </fieldset>
          <fieldset>
            <legend>Events</legend>
            <div class="checkbox-grid">
              {EVENT_TYPES.map((type) => (
                <label class="inline" key={type}>
                  <input type="checkbox" name="event" value={type} checked={form.events.includes(type)}
                    onChange={(e) => set('events', e.currentTarget.checked ? [...form.events, type] : form.events.filter((t) => t !== type))} />
                  {EVENT_LABELS[type]}
                </label>
              ))}
            </div>
            <div class="grid-2">
              <label>At least this many<input type="number" name="minEvents" min={1} max={10000} value={form.minEvents} onInput={(e) => set('minEvents', e.currentTarget.value)} /></label>
              <label>Of at least severity
                <select name="severity" value={form.severity} onChange={(e) => set('severity', e.currentTarget.value)}>
                  <option value="">any</option><option value="low">low</option><option value="medium">medium</option><option value="high">high</option>
                </select>
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Place</legend>
            <label>Start or end town<input type="search" name="q" value={form.q} onInput={(e) => set('q', e.currentTarget.value)} placeholder="e.g. brus" autocomplete="off" /></label>
            <div role="radiogroup" aria-label="Location filter" class="radio-list">
              {([['none', 'No location filter'], ['near', 'Passed near a point during the time window'], ['endsNear', 'Started or ended near a point'], ['bbox', 'Started or ended inside a box']] as const).map(([value, text]) => (
                <label class="inline" key={value}>
                  <input type="radio" name="place" value={value} checked={form.place === value} onChange={() => choosePlace(value)} />{text}
                </label>
              ))}
            </div>
            {form.place === 'near' || form.place === 'endsNear' ? (
              <div class="grid-3">
                <label>Latitude<input type="number" name="lat" step="any" min={-90} max={90} required value={form.lat} onInput={(e) => set('lat', e.currentTarget.value)} /></label>
                <label>Longitude<input type="number" name="lon" step="any" min={-180} max={180} required value={form.lon} onInput={(e) => set('lon', e.currentTarget.value)} /></label>
                <label>Radius (m)<input type="number" name="radiusM" min={1} max={50000} required value={form.radiusM} onInput={(e) => set('radiusM', e.currentTarget.value)} /></label>
              </div>
            ) : null}
            {form.place === 'bbox' ? (
              <label>Box (west, south, east, north)<input type="text" name="bbox" required value={form.bbox} onInput={(e) => set('bbox', e.currentTarget.value)} pattern="[\-0-9.]+,[\-0-9.]+,[\-0-9.]+,[\-0-9.]+" /></label>
            ) : null}
            {form.place !== 'none' ? (
              <div class="button-row">
                {form.place === 'bbox' ? (
                  <button type="button" onClick={() => {
                    const b = map.current?.getBounds();
                    if (b) set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(4)).join(','));
                  }}>Use the map view as the box</button>
                ) : (
                  <>
                    <button type="button" aria-pressed={picking} onClick={() => setPicking(!picking)} id="pick-point">{picking ? 'Click the map… (cancel)' : 'Pick the point on the map'}</button>
                    <button type="button" onClick={() => { const c = map.current?.getCenter(); if (c) setPoint(c.lat, c.lng); }}>Use the map centre</button>
                  </>
                )}
              </div>
            ) : null}
            {near && note ? <p class="muted" role="status">{note}</p> : null}
          </fieldset>
          <fieldset>
            <legend>Order</legend>
            <div class="grid-3">
              <label>Sort by
                <select name="sort" value={form.sort} onChange={(e) => set('sort', e.currentTarget.value)}>
                  <option value="startMs">start time</option><option value="score">score</option><option value="distanceM">distance</option>
                  <option value="durationS">duration</option><option value="nightShare">night share</option><option value="speedingShare">speeding share</option>
                </select>
              </label>
              <label>Order
                <select name="order" value={form.order} onChange={(e) => set('order', e.currentTarget.value)}>
                  <option value="desc">descending</option><option value="asc">ascending</option>
                </select>
              </label>
              <label>Per page
                <select name="limit" value={form.limit} onChange={(e) => set('limit', e.currentTarget.value)}>
                  <option value="10">10</option><option value="20">20</option><option value="50">50</option><option value="100">100</option>
                </select>
              </label>
            </div>
          </fieldset>
          <div class="button-row sticky-actions">
            <button type="submit" class="primary">Search</button>
            <button type="button" onClick={reset}>Clear</button>
          </div>
        </form>
        <div class="results">
          <LeafletMap
            config={config}
            id="trips-map"
            class="results-map"
            label="Map of the trips found: green starts, dark ends; pick a point here for a near search"
            onReady={(created) => {
              map.current = created;
              trackLayer.current = L.layerGroup().addTo(created);
              resultLayer.current = L.layerGroup().addTo(created);
              pickLayer.current = L.layerGroup().addTo(created);
              created.on('click', (event: L.LeafletMouseEvent) => {
                if (!pickingRef.current) return;
                setPoint(event.latlng.lat, event.latlng.lng);
                setPicking(false);
              });
              return () => {
                map.current = null;
              };
            }}
          />
          <section aria-labelledby="results-heading" aria-busy={loading}>
            <h2 id="results-heading">
              {loading ? 'Searching…' : error ? 'No results' : `${trips.length} ${trips.length === 1 ? 'trip' : 'trips'}${results?.nextCursor || cursors.length > 0 ? ` on page ${cursors.length + 1}` : ''}`}
            </h2>
            {error ? <p class="error" role="alert">The search was refused: {error}</p> : null}
            {trips.length > 0 ? (
              <div class="table-scroll">
                <table id="trip-results">
                  <caption class="visually-hidden">Trips found; the vehicle links to each trip</caption>
                  <thead>
                    <tr>
                      <th scope="col">Vehicle</th><th scope="col">Start</th><th scope="col">From → to</th><th scope="col">Distance</th>
                      <th scope="col">Duration</th><th scope="col">Score</th><th scope="col">Events</th>{trips.some((t) => t.approach) ? <th scope="col">Closest</th> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {trips.map((trip) => (
                      <tr key={trip.tripId} data-trip={trip.tripId} onMouseEnter={() => void showTrack(trip)}>
                        <th scope="row"><Link href={`/trips/${encodeURIComponent(trip.tripId)}`} onFocus={() => void showTrack(trip)}>{trip.vehicleId}</Link>{trip.status === 'active' ? <span class="badge">driving</span> : null}</th>
                        <td>{when(trip.startMs)}</td>
                        <td>{trip.startPlace ?? '?'} → {trip.endPlace ?? '?'}</td>
                        <td class="num">{km(trip.distanceM)}</td>
                        <td class="num">{duration(trip.durationS)}</td>
                        <td class="num">{trip.score ? Math.round(trip.score.score) : '–'}</td>
                        <td class="num">{Object.values(trip.eventCounts).reduce((a, b) => a + b, 0)}</td>
                        {trips.some((t) => t.approach) ? <td class="num">{trip.approach ? `${Math.round(trip.approach.distanceM)} m at ${when(trip.approach.closestMs)}` : ''}</td> : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : !loading && !error ? <p class="muted">No trip matches these filters.</p> : null}
            <nav class="pager" aria-label="Result pages">
              <button type="button" disabled={cursors.length === 0} onClick={() => page(cursors[cursors.length - 1] || null, true)}>Previous page</button>
              <button type="button" disabled={!results?.nextCursor} onClick={() => page(results!.nextCursor)}>Next page</button>
            </nav>
          </section>
        </div>
      </div>
    </div>
  );
}

function Range({ label, unit, min, max, onMin, onMax, limits }: { label: string; unit: string; min: string; max: string; onMin: (v: string) => void; onMax: (v: string) => void; limits: [number, number] }) {
  return (
    <fieldset class="range">
      <legend>{label} <span class="muted">({unit})</span></legend>
      <label class="inline">at least <input type="number" step="any" min={limits[0]} max={limits[1]} value={min} onInput={(e) => onMin(e.currentTarget.value)} aria-label={`${label}: at least (${unit})`} /></label>
      <label class="inline">at most <input type="number" step="any" min={limits[0]} max={limits[1]} value={max} onInput={(e) => onMax(e.currentTarget.value)} aria-label={`${label}: at most (${unit})`} /></label>
    </fieldset>
  );
}
