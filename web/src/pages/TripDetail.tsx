import L from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { DashboardConfig } from '../auth';
import { LeafletMap } from '../components/LeafletMap';
import { clock, duration, EVENT_COLOURS, eventLabel, km, kmh, peak, percent, plain, when } from '../format';
import { SPEED_BANDS, speedColour } from '../map';
import { usePage } from '../page';
import { Link } from '../router';
import type { DrivingEvent, EventType, Track, Trip } from '../types';

/** One trip: its track coloured by speed, events, speeding stretches, places, score and breakdown, and its traces. */
export function TripDetailPage({ config, tripId }: { config: DashboardConfig; tripId: string }) {
  usePage(`Trip ${tripId}`);
  const [trip, setTrip] = useState<Trip | null>(null);
  const [track, setTrack] = useState<Track | null>(null);
  const [error, setError] = useState<string | null>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const eventMarkers = useRef(new Map<number, L.CircleMarker>());

  useEffect(() => {
    setTrip(null);
    setTrack(null);
    setError(null);
    const path = `/v1/trips/${encodeURIComponent(tripId)}`;
    Promise.all([api<Trip>(path), api<Track>(`${path}/track`)]).then(
      ([loadedTrip, loadedTrack]) => {
        setTrip(loadedTrip);
        setTrack(loadedTrack);
      },
      (failure: Error) => setError(failure.message),
    );
  }, [tripId]);

  useEffect(() => {
    if (!trip || !track || !map.current || !layer.current) return;
    const group = layer.current;
    group.clearLayers();
    eventMarkers.current.clear();
    const coordinates = track.geometry.coordinates.map(([lon, lat]) => [lat, lon] as [number, number]);
    const { timesMs, speedsMps } = track.properties;
    // Speeding stretches first, wide and pale, under the track.
    for (const event of trip.events.filter((e) => e.type === 'speeding')) {
      const stretch = coordinates.filter((_, i) => timesMs[i]! >= event.startMs && timesMs[i]! <= event.endMs);
      if (stretch.length > 1) {
        L.polyline(stretch, { color: '#be123c', weight: 12, opacity: 0.3, className: 'speeding-stretch' })
          .bindTooltip(plain(`Speeding ${clock(event.startMs)}–${clock(event.endMs)}, up to ${peak(event.peak, event.peakUnit)}`), { sticky: true })
          .addTo(group);
      }
    }
    // The track in runs of one speed band each.
    let run: Array<[number, number]> = [];
    let colour: string | null = null;
    coordinates.forEach((point, i) => {
      const next = speedColour(speedsMps[i] ?? null);
      if (colour !== null && next !== colour) {
        L.polyline([...run, point], { color: colour, weight: 4, className: 'track' }).addTo(group);
        run = [];
      }
      colour = next;
      run.push(point);
    });
    if (run.length > 1 && colour) L.polyline(run, { color: colour, weight: 4, className: 'track' }).addTo(group);
    L.circleMarker([trip.start.lat, trip.start.lon], { radius: 8, color: '#fff', weight: 2, fillColor: '#16a34a', fillOpacity: 1 })
      .bindTooltip(plain(`Start${trip.startPlace ? `: ${trip.startPlace}` : ''}, ${clock(trip.startMs)}`), { permanent: true, direction: 'left', className: 'place-label' }).addTo(group);
    L.circleMarker([trip.end.lat, trip.end.lon], { radius: 8, color: '#fff', weight: 2, fillColor: '#1f2937', fillOpacity: 1 })
      .bindTooltip(plain(`End${trip.endPlace ? `: ${trip.endPlace}` : ''}, ${clock(trip.endMs)}`), { permanent: true, direction: 'right', className: 'place-label' }).addTo(group);
    trip.events.forEach((event, index) => {
      const marker = L.circleMarker([event.lat, event.lon], {
        radius: event.severity === 'high' ? 9 : 7, color: '#fff', weight: 2, fillColor: EVENT_COLOURS[event.type as EventType] ?? '#111', fillOpacity: 1, className: `event-marker event-${event.type}`,
      }).bindTooltip(plain(`${eventLabel(event.type)}: ${peak(event.peak, event.peakUnit)}, ${event.severity}, ${clock(event.startMs)}`)).addTo(group);
      eventMarkers.current.set(index, marker);
    });
    const bounds = L.latLngBounds(coordinates.length > 0 ? coordinates : [[trip.start.lat, trip.start.lon], [trip.end.lat, trip.end.lon]]);
    map.current.fitBounds(bounds.pad(0.1), { animate: false });
  }, [trip, track]);

  const showEvent = (index: number): void => {
    const marker = eventMarkers.current.get(index);
    if (!marker || !map.current) return;
    map.current.setView(marker.getLatLng(), Math.max(map.current.getZoom(), 15));
    marker.openTooltip();
  };

  if (error) return <section class="page"><h1 tabIndex={-1}>Trip</h1><p class="error" role="alert">{error}</p><p><Link href="/trips">Back to the trips</Link></p></section>;
  const score = trip?.score ?? null;
  return (
    <div class="page page-trip">
      <div class="page-heading">
        <h1 tabIndex={-1}>Trip of {trip?.vehicleId ?? '…'}</h1>
        {trip ? <p class="muted">{when(trip.startMs)} · {trip.startPlace ?? 'unknown place'} → {trip.endPlace ?? 'unknown place'} · {trip.status === 'active' ? 'driving now' : `ended by ${trip.endReason ?? '?'}`}</p> : <p class="muted">Loading…</p>}
      </div>
      <div class="trip-layout">
        <div class="trip-map-column">
          <LeafletMap config={config} id="trip-map" label="Map of the trip: the track coloured by speed, events as dots, speeding stretches shaded"
            onReady={(created) => {
              map.current = created;
              layer.current = L.layerGroup().addTo(created);
              return () => { map.current = null; layer.current = null; };
            }} />
          <div class="legend" aria-label="Track colours">
            <span class="legend-title">Speed</span>
            <ul>
              {SPEED_BANDS.map((band) => <li key={band.label}><span class="swatch" style={{ background: band.colour }} aria-hidden="true" />{band.label}</li>)}
              <li><span class="swatch swatch-wide" style={{ background: '#be123c66' }} aria-hidden="true" />speeding stretch</li>
            </ul>
          </div>
        </div>
        {trip ? (
          <div class="trip-facts">
            <section aria-labelledby="score-heading" class="score-card">
              <h2 id="score-heading">Score</h2>
              {score ? (
                <>
                  <p class="score-value" aria-label={`Score ${Math.round(score.score)} out of 100`}><span>{Math.round(score.score)}</span>/100</p>
                  <table id="score-breakdown">
                    <caption>How the score came about: points taken off 100 per factor</caption>
                    <thead><tr><th scope="col">Factor</th><th scope="col">Value</th><th scope="col">Points off</th></tr></thead>
                    <tbody>
                      {score.breakdown.map((factor) => (
                        <tr key={factor.factor} title={factor.explanation}>
                          <th scope="row">{eventLabel(factor.factor).replace(/^\w/, (c) => c.toUpperCase())} <span class="muted">({factor.group})</span></th>
                          <td class="num">{Number(factor.value.toFixed(2))} {factor.unit.replace(/_/g, ' ')}</td>
                          <td class="num">{factor.points.toFixed(1)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              ) : <p class="muted">Scored when the trip completes.</p>}
            </section>
            <section aria-labelledby="summary-heading">
              <h2 id="summary-heading">Summary</h2>
              <dl class="facts">
                <dt>Vehicle</dt><dd><Link href={`/vehicles/${encodeURIComponent(trip.vehicleId)}`}>{trip.vehicleId}</Link></dd>
                <dt>Driver</dt><dd>{trip.driverId ? <Link href={`/drivers/${encodeURIComponent(trip.driverId)}`}>{trip.driverId}</Link> : 'unknown'}</dd>
                <dt>Policy</dt><dd>{trip.policyId ?? 'unknown'}</dd>
                <dt>Start</dt><dd>{when(trip.startMs)}, {trip.startPlace ?? `${trip.start.lat.toFixed(4)}, ${trip.start.lon.toFixed(4)}`}</dd>
                <dt>End</dt><dd>{when(trip.endMs)}, {trip.endPlace ?? `${trip.end.lat.toFixed(4)}, ${trip.end.lon.toFixed(4)}`}</dd>
                <dt>Distance</dt><dd>{km(trip.distanceM)}</dd>
                <dt>Duration</dt><dd>{duration(trip.durationS)}</dd>
                <dt>Speed</dt><dd>mean {kmh(trip.meanSpeedMps)}, top {kmh(trip.maxSpeedMps)}</dd>
                <dt>Night</dt><dd>{trip.exposure.movingS > 0 ? percent(trip.exposure.nightS / trip.exposure.movingS) : '–'} of moving time</dd>
                <dt>Over the limit</dt><dd>{duration(trip.exposure.speedingS)}</dd>
                <dt>Points</dt><dd>{trip.pointCount}</dd>
                <dt>Time zone</dt><dd>{trip.timeZone ?? 'unknown'}</dd>
              </dl>
            </section>
          </div>
        ) : null}
      </div>
      {trip ? (
        <>
          <section aria-labelledby="events-heading">
            <h2 id="events-heading">Events ({trip.events.length})</h2>
            {trip.events.length === 0 ? <p class="muted">No driving event on this trip.</p> : (
              <div class="table-scroll">
                <table id="trip-events">
                  <caption class="visually-hidden">Driving events of the trip in time order</caption>
                  <thead><tr><th scope="col">Event</th><th scope="col">When</th><th scope="col">Peak</th><th scope="col">Severity</th><th scope="col">Source</th><th scope="col">Trace</th><th scope="col"><span class="visually-hidden">Map</span></th></tr></thead>
                  <tbody>
                    {trip.events.map((event: DrivingEvent, index) => (
                      <tr key={`${event.type}-${event.startMs}`} data-event-type={event.type}>
                        <th scope="row"><span class="dot" style={{ background: EVENT_COLOURS[event.type] }} aria-hidden="true" />{eventLabel(event.type)}</th>
                        <td>{clock(event.startMs)}{event.endMs > event.startMs ? `–${clock(event.endMs)}` : ''}</td>
                        <td>{peak(event.peak, event.peakUnit)}</td>
                        <td>{event.severity}</td>
                        <td>{event.source}</td>
                        <td>{event.traceId ? <Link href={`/traces/${event.traceId}`}>trace</Link> : '–'}</td>
                        <td><button type="button" class="small" onClick={() => showEvent(index)} aria-label={`Show the ${eventLabel(event.type)} at ${clock(event.startMs)} on the map`}>Show</button></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="traces-heading">
            <h2 id="traces-heading">Traces</h2>
            {trip.traceIds && trip.traceIds.length > 0 ? (
              <p>The messages that built this trip (the first and the latest few):{' '}
                {trip.traceIds.map((traceId, i) => <span key={traceId}>{i > 0 ? ', ' : ''}<Link href={`/traces/${traceId}`} class="mono">{traceId.slice(0, 8)}…</Link></span>)}
              </p>
            ) : <p class="muted">No trace recorded for this trip.</p>}
          </section>
        </>
      ) : null}
    </div>
  );
}
