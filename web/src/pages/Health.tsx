import { useEffect, useRef, useState } from 'preact/hooks';
import { Chart, type ChartSeries } from '../components/Chart';
import { byLabel, parsePrometheus, total, type Sample } from '../metrics';
import { usePage } from '../page';

const POLL_MS = 3000;
const KEEP = 100;
const PALETTE = ['#2563eb', '#c2410c', '#16a34a', '#7c3aed', '#be123c', '#0e7490', '#a16207', '#4b5563'];

interface Scrape {
  atS: number;
  samples: Sample[];
}

interface HealthBody {
  status: string;
  components: Record<string, { status: string } & Record<string, unknown>>;
}

/** The figures of `/metrics` (scraped every 3 s while the page is open) and `/healthz`, as charts and tables. */
export function HealthPage() {
  usePage('Pipeline health');
  const [scrapes, setScrapes] = useState<Scrape[]>([]);
  const [health, setHealth] = useState<HealthBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stopped = useRef(false);

  useEffect(() => {
    stopped.current = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async (): Promise<void> => {
      try {
        const [metricsResponse, healthResponse] = await Promise.all([fetch('/metrics', { cache: 'no-store' }), fetch('/healthz', { cache: 'no-store' })]);
        if (!metricsResponse.ok) throw new Error(`/metrics: HTTP ${metricsResponse.status}`);
        const samples = parsePrometheus(await metricsResponse.text());
        const body = (await healthResponse.json()) as HealthBody;
        if (stopped.current) return;
        setScrapes((previous) => [...previous, { atS: Date.now() / 1000, samples }].slice(-KEEP));
        setHealth(body);
        setError(null);
      } catch (failure) {
        if (!stopped.current) setError((failure as Error).message);
      }
      if (!stopped.current) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped.current = true;
      clearTimeout(timer);
    };
  }, []);

  // Rates between consecutive scrapes; a counter that went down (a restart) gives a gap.
  const pairs = scrapes.slice(1).map((scrape, i) => ({ before: scrapes[i]!, after: scrape }));
  const x = pairs.map(({ after }) => after.atS);
  const rate = (value: (samples: Sample[]) => number): Array<number | null> =>
    pairs.map(({ before, after }) => {
      const delta = value(after.samples) - value(before.samples);
      return delta < 0 ? null : delta / (after.atS - before.atS);
    });
  const gauge = (name: string): Array<number | null> => pairs.map(({ after }) => total(after.samples, name));
  const latest = scrapes[scrapes.length - 1]?.samples ?? [];
  const reasons = [...byLabel(latest, 'tripline_messages_rejected_total', 'reason').keys()].sort();
  const channels = [...byLabel(latest, 'tripline_alert_deliveries_total', 'channel').keys()].sort();
  const last = (values: Array<number | null>): string => {
    const value = values[values.length - 1];
    return value === null || value === undefined ? 'waiting for a second scrape' : `now ${value.toFixed(value < 10 ? 2 : 0)}`;
  };

  const points = rate((s) => total(s, 'tripline_points_received_total'));
  const stored = rate((s) => total(s, 'tripline_points_stored_total'));
  const rejectionSeries: ChartSeries[] = reasons.length > 0
    ? reasons.map((reason, i) => ({ label: reason, values: rate((s) => total(s, 'tripline_messages_rejected_total', { reason })), colour: PALETTE[i % PALETTE.length]! }))
    : [{ label: 'rejected', values: rate((s) => total(s, 'tripline_messages_rejected_total')), colour: PALETTE[1]! }];
  const alertSeries: ChartSeries[] = (channels.length > 0 ? channels : ['sse']).map((channel, i) => ({
    label: `${channel} sent`, values: rate((s) => total(s, 'tripline_alert_deliveries_total', { channel, outcome: 'sent' })).map((v) => (v === null ? null : v * 60)), colour: PALETTE[i % PALETTE.length]!,
  }));
  const busLag = gauge('tripline_bus_lag_seconds');
  const syncLag = gauge('tripline_sync_lag_seconds');

  return (
    <div class="page page-health">
      <div class="page-heading">
        <h1 tabIndex={-1}>Pipeline health</h1>
        <p class="muted">From <a href="/metrics">/metrics</a> every {POLL_MS / 1000} s while this page is open, and <a href="/healthz">/healthz</a>.</p>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {health ? (
        <section aria-labelledby="components-heading">
          <h2 id="components-heading">Components: <span class={`status status-${health.status}`}>{health.status}</span></h2>
          <ul class="component-list">
            {Object.entries(health.components).map(([name, component]) => (
              <li key={name} class={`status-${component.status}`}>
                <strong>{name}</strong> <span class={`status status-${component.status}`}>{component.status}</span>
                <span class="muted"> {Object.entries(component).filter(([key]) => key !== 'status').map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`).join(' · ')}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <div class="chart-grid">
        <Chart minSpan={120} title="Points per second" unit="points/s" time x={x} summary={`received ${last(points)}`}
          series={[{ label: 'received (durable on the bus)', values: points, colour: PALETTE[0]! }, { label: 'stored', values: stored, colour: PALETTE[2]! }]} />
        <Chart minSpan={120} title="Rejected messages per second, by reason" unit="messages/s" time x={x} series={rejectionSeries}
          summary={`${total(latest, 'tripline_messages_rejected_total')} rejected since start`} />
        <Chart minSpan={120} title="Bus and sync lag" unit="seconds" time x={x} summary={`bus ${last(busLag)}, sync ${last(syncLag)}`}
          series={[{ label: 'bus lag', values: busLag, colour: PALETTE[3]! }, { label: 'sync lag', values: syncLag, colour: PALETTE[5]! }]} />
        <Chart minSpan={120} title="Alerts sent per minute, by channel" unit="alerts/min" time x={x} series={alertSeries}
          summary={`${total(latest, 'tripline_alerts_total')} alerts raised since start`} />
        <Chart minSpan={120} title="Active trips and bus backlog" unit="count" time x={x} summary={`${total(latest, 'tripline_active_trips')} trips open`}
          series={[{ label: 'active trips', values: gauge('tripline_active_trips'), colour: PALETTE[0]! }, { label: 'bus backlog (messages)', values: gauge('tripline_bus_backlog_messages'), colour: PALETTE[6]! }]} />
      </div>
    </div>
  );
}
