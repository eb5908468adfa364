import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, query } from '../api';
import { Chart } from '../components/Chart';
import { eventLabel, km, percent } from '../format';
import { usePage } from '../page';
import { Link } from '../router';
import type { GroupStats, Trip, TripPage, VehicleScore } from '../types';

type Kind = 'vehicle' | 'driver';
const DAY_MS = 86_400_000;
const WINDOWS = [7, 30, 90];

/** Every vehicle (or driver) with trips in the window: km, mean score, events per 100 km. */
export function ScorecardListPage({ kind }: { kind: Kind }) {
  usePage(kind === 'vehicle' ? 'Vehicles' : 'Drivers');
  const [days, setDays] = useState(30);
  const [rows, setRows] = useState<GroupStats[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sort, setSort] = useState<{ key: keyof GroupStats; asc: boolean }>({ key: 'meanScore', asc: true });
  useEffect(() => {
    setRows(null);
    const from = new Date(Date.now() - days * DAY_MS).toISOString();
    api<Record<string, GroupStats[]>>(`/v1/${kind}s${query({ from })}`).then((body) => setRows(body[`${kind}s`] ?? []), (failure: Error) => setError(failure.message));
  }, [kind, days]);
  const sorted = [...(rows ?? [])].sort((a, b) => {
    const x = a[sort.key] ?? -Infinity, y = b[sort.key] ?? -Infinity;
    return (x < y ? -1 : x > y ? 1 : 0) * (sort.asc ? 1 : -1);
  });
  const header = (key: keyof GroupStats, text: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.asc ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort-button" onClick={() => setSort({ key, asc: sort.key === key ? !sort.asc : true })}>{text}</button>
    </th>
  );
  return (
    <div class="page">
      <div class="page-heading">
        <h1 tabIndex={-1}>Scorecards</h1>
        <nav aria-label="Scorecard kind" class="tabs">
          <Link href="/vehicles" aria-current={kind === 'vehicle' ? 'page' : undefined}>Vehicles</Link>
          <Link href="/drivers" aria-current={kind === 'driver' ? 'page' : undefined}>Drivers</Link>
        </nav>
        <label class="inline">Window
          <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>{WINDOWS.map((d) => <option key={d} value={d}>last {d} days</option>)}</select>
        </label>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {rows === null && !error ? <p>Loading…</p> : null}
      {rows && rows.length === 0 ? <p class="muted">No completed trip in the window.</p> : null}
      {rows && rows.length > 0 ? (
        <div class="table-scroll">
          <table id="scorecard-list">
            <caption class="visually-hidden">{kind === 'vehicle' ? 'Vehicles' : 'Drivers'} with completed trips in the window; the column buttons sort</caption>
            <thead><tr>{header('id', kind === 'vehicle' ? 'Vehicle' : 'Driver')}{header('trips', 'Trips')}{header('distanceM', 'Distance')}{header('meanScore', 'Mean score')}{header('events', 'Events')}{header('eventsPer100Km', 'Events per 100 km')}</tr></thead>
            <tbody>
              {sorted.map((row) => (
                <tr key={row.id}>
                  <th scope="row"><Link href={`/${kind}s/${encodeURIComponent(row.id)}`}>{row.id}</Link></th>
                  <td class="num">{row.trips}</td>
                  <td class="num">{km(row.distanceM)}</td>
                  <td class="num">{row.meanScore === null ? '–' : row.meanScore.toFixed(1)}</td>
                  <td class="num">{row.events}</td>
                  <td class="num">{row.eventsPer100Km === null ? '–' : row.eventsPer100Km.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

interface Day {
  startMs: number;
  km: number;
  events: number;
  movingS: number;
  nightS: number;
  scoreWeighted: number;
  scoredKm: number;
}

/** One vehicle's or driver's figures over time, from its completed trips in the window. */
export function ScorecardPage({ kind, id }: { kind: Kind; id: string }) {
  usePage(`${kind === 'vehicle' ? 'Vehicle' : 'Driver'} ${id}`);
  const [days, setDays] = useState(30);
  const [trips, setTrips] = useState<Trip[] | null>(null);
  const [rolling, setRolling] = useState<VehicleScore | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [truncated, setTruncated] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setTrips(null);
    setError(null);
    const from = new Date(Date.now() - days * DAY_MS).toISOString();
    (async () => {
      const found: Trip[] = [];
      let cursor: string | null = null;
      do {
        const page: TripPage = await api<TripPage>(`/v1/trips${query({ [`${kind}Id`]: id, status: 'completed', from, sort: 'startMs', order: 'asc', limit: 500, cursor })}`);
        found.push(...page.trips);
        cursor = page.nextCursor;
      } while (cursor && found.length < 5000 && !cancelled);
      if (!cancelled) {
        setTruncated(cursor !== null);
        setTrips(found);
      }
    })().catch((failure: Error) => !cancelled && setError(failure.message));
    if (kind === 'vehicle') api<VehicleScore>(`/v1/vehicles/${encodeURIComponent(id)}/score`).then((score) => !cancelled && setRolling(score), () => undefined);
    return () => void (cancelled = true);
  }, [kind, id, days]);

  const perDay = useMemo(() => {
    if (!trips) return [];
    const byDay = new Map<number, Day>();
    const first = new Date(Date.now() - (days - 1) * DAY_MS);
    first.setHours(0, 0, 0, 0);
    for (let t = first.getTime(); t <= Date.now(); t += DAY_MS) {
      const day = new Date(t);
      day.setHours(0, 0, 0, 0);
      byDay.set(day.getTime(), { startMs: day.getTime(), km: 0, events: 0, movingS: 0, nightS: 0, scoreWeighted: 0, scoredKm: 0 });
    }
    for (const trip of trips) {
      const day = new Date(trip.startMs);
      day.setHours(0, 0, 0, 0);
      const entry = byDay.get(day.getTime());
      if (!entry) continue;
      const distanceKm = trip.distanceM / 1000;
      entry.km += distanceKm;
      entry.events += Object.values(trip.eventCounts).reduce((a, b) => a + b, 0);
      entry.movingS += trip.exposure.movingS;
      entry.nightS += trip.exposure.nightS;
      if (trip.score) {
        entry.scoreWeighted += trip.score.score * distanceKm;
        entry.scoredKm += distanceKm;
      }
    }
    return [...byDay.values()].sort((a, b) => a.startMs - b.startMs);
  }, [trips, days]);

  const totals = useMemo(() => {
    const all = trips ?? [];
    const distanceKm = all.reduce((sum, t) => sum + t.distanceM / 1000, 0);
    const scored = all.filter((t) => t.score);
    const scoredKm = scored.reduce((sum, t) => sum + t.distanceM / 1000, 0);
    const events = all.reduce((sum, t) => sum + Object.values(t.eventCounts).reduce((a, b) => a + b, 0), 0);
    const moving = all.reduce((sum, t) => sum + t.exposure.movingS, 0);
    const night = all.reduce((sum, t) => sum + t.exposure.nightS, 0);
    return {
      trips: all.length, distanceKm,
      score: scoredKm > 0 ? scored.reduce((sum, t) => sum + t.score!.score * (t.distanceM / 1000), 0) / scoredKm : null,
      eventsPer100Km: distanceKm > 0 ? (events / distanceKm) * 100 : null,
      kmPerDay: distanceKm / days,
      nightShare: moving > 0 ? night / moving : null,
    };
  }, [trips, days]);

  const x = perDay.map((d) => d.startMs / 1000);
  const windowRange: [number, number] = [(perDay[0]?.startMs ?? Date.now() - days * DAY_MS) / 1000 - 43_200, Date.now() / 1000 + 43_200];
  const dayLabel = (seconds: number) => new Date(seconds * 1000).toLocaleDateString();
  const tripScores = (trips ?? []).filter((t) => t.score);
  return (
    <div class="page page-scorecard">
      <div class="page-heading">
        <h1 tabIndex={-1}>{kind === 'vehicle' ? 'Vehicle' : 'Driver'} {id}</h1>
        <p class="muted"><Link href={`/${kind}s`}>All {kind}s</Link> · <Link href={`/trips?${kind}Id=${encodeURIComponent(id)}`}>Their trips</Link></p>
        <label class="inline">Window
          <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>{WINDOWS.map((d) => <option key={d} value={d}>last {d} days</option>)}</select>
        </label>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {truncated ? <p class="muted">Only the first 5,000 trips of the window are charted.</p> : null}
      {trips === null && !error ? <p>Loading…</p> : null}
      {trips ? (
        <>
          <dl class="kpis" id="scorecard-kpis">
            <div><dt>{kind === 'vehicle' && rolling ? `Rolling score (${rolling.windowDays} days)` : 'Score (distance-weighted)'}</dt><dd>{kind === 'vehicle' && rolling ? (rolling.score === null ? '–' : rolling.score.toFixed(1)) : totals.score === null ? '–' : totals.score.toFixed(1)}</dd></div>
            <div><dt>Trips</dt><dd>{totals.trips}</dd></div>
            <div><dt>Events per 100 km</dt><dd>{totals.eventsPer100Km === null ? '–' : totals.eventsPer100Km.toFixed(1)}</dd></div>
            <div><dt>km per day</dt><dd>{totals.kmPerDay.toFixed(1)}</dd></div>
            <div><dt>Night share</dt><dd>{totals.nightShare === null ? '–' : percent(totals.nightShare)}</dd></div>
          </dl>
          <div class="chart-grid">
            <Chart xRange={windowRange} yRange={[0, 100]} title="Score over time" unit="score" time x={tripScores.map((t) => t.startMs / 1000)}
              series={[{ label: 'trip score', values: tripScores.map((t) => t.score!.score), colour: '#2563eb' }]}
              summary={totals.score === null ? 'no scored trip' : `distance-weighted ${totals.score.toFixed(1)} over ${tripScores.length} trips`} />
            <Chart xRange={windowRange} title="Events per 100 km, per day" unit="per 100 km" time x={x} formatX={dayLabel}
              series={[{ label: 'events per 100 km', values: perDay.map((d) => (d.km > 0 ? (d.events / d.km) * 100 : null)), colour: '#c2410c', bars: true }]}
              summary={totals.eventsPer100Km === null ? 'no distance' : `${totals.eventsPer100Km.toFixed(1)} over the window`} />
            <Chart xRange={windowRange} title="Kilometres per day" unit="km" time x={x} formatX={dayLabel}
              series={[{ label: 'km', values: perDay.map((d) => Number(d.km.toFixed(2))), colour: '#0e7490', bars: true }]}
              summary={`${totals.kmPerDay.toFixed(1)} km a day on average`} />
            <Chart xRange={windowRange} title="Night share of moving time, per day" unit="%" time x={x} formatX={dayLabel}
              series={[{ label: 'night %', values: perDay.map((d) => (d.movingS > 0 ? (d.nightS / d.movingS) * 100 : null)), colour: '#4338ca', bars: true }]}
              summary={totals.nightShare === null ? 'no moving time' : `${percent(totals.nightShare)} over the window`} />
          </div>
          {kind === 'vehicle' && rolling && rolling.breakdown.length > 0 ? (
            <section aria-labelledby="breakdown-heading">
              <h2 id="breakdown-heading">Rolling score breakdown</h2>
              <table>
                <caption class="visually-hidden">Points taken off 100 per factor, over the vehicle's last {rolling.windowDays} days</caption>
                <thead><tr><th scope="col">Factor</th><th scope="col">Value</th><th scope="col">Points off</th><th scope="col">Why</th></tr></thead>
                <tbody>
                  {rolling.breakdown.map((f) => (
                    <tr key={f.factor}><th scope="row">{eventLabel(f.factor)}</th><td class="num">{Number(f.value.toFixed(2))} {f.unit.replace(/_/g, ' ')}</td><td class="num">{f.points.toFixed(1)}</td><td>{f.explanation}</td></tr>
                  ))}
                </tbody>
              </table>
            </section>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
