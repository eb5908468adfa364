import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { addAlert, setStreamStatus, useAlerts } from './alerts';
import { SIGNED_OUT_EVENT } from './api';
import { beginSignIn, completeSignIn, currentSession, loadDashboardConfig, signOut, type DashboardConfig, type Session } from './auth';
import { clock, eventLabel } from './format';
import { HealthPage } from './pages/Health';
import { LiveMapPage } from './pages/LiveMap';
import { ScorecardListPage, ScorecardPage } from './pages/Scorecard';
import { TracePage } from './pages/Trace';
import { TripDetailPage } from './pages/TripDetail';
import { TripsPage } from './pages/Trips';
import { Link, navigate, useRoute } from './router';
import { streamAlerts } from './sse';
import './styles.css';

const NAV = [
  { href: '/', label: 'Live map', match: (path: string) => path === '/' },
  { href: '/trips', label: 'Trips', match: (path: string) => path.startsWith('/trips') || path.startsWith('/traces') },
  { href: '/vehicles', label: 'Scorecards', match: (path: string) => path.startsWith('/vehicles') || path.startsWith('/drivers') },
  { href: '/health', label: 'Pipeline health', match: (path: string) => path.startsWith('/health') },
];

function App() {
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(currentSession);
  const route = useRoute();

  useEffect(() => {
    loadDashboardConfig().then(setConfig, (error: Error) => setProblem(error.message));
    const onSignedOut = (): void => setSession(null);
    window.addEventListener(SIGNED_OUT_EVENT, onSignedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, onSignedOut);
  }, []);

  useEffect(() => {
    if (!config || route.path !== config.redirectPath) return;
    completeSignIn(config, route.query).then(
      (returnTo) => {
        setSession(currentSession());
        navigate(returnTo, { replace: true });
      },
      (error: Error) => {
        setProblem(error.message);
        navigate('/', { replace: true });
      },
    );
  }, [config, route.path]);

  // One live alert stream for the whole app while signed in: toasts on every page, markers on the live map.
  useEffect(() => {
    if (!session) return;
    return streamAlerts(() => currentSession()?.accessToken ?? null, addAlert, setStreamStatus);
  }, [session?.accessToken]);

  if (!config) return <Shell session={null} path={route.path}><Message title="tripline" text={problem ?? 'Loading…'} alert={problem !== null} /></Shell>;
  if (route.path === config.redirectPath) return <Shell session={null} path={route.path}><Message title="Signing in…" text="Trading the sign-in code for a token." /></Shell>;
  if (!session) {
    return (
      <Shell session={null} path={route.path}>
        <SignIn config={config} problem={problem} returnTo={`${route.path}${route.query.toString() ? `?${route.query}` : ''}`} />
      </Shell>
    );
  }
  return (
    <Shell session={session} path={route.path} onSignOut={() => { signOut(); setSession(null); }}>
      <Page config={config} path={route.path} query={route.query} />
      <AlertToasts />
    </Shell>
  );
}

function Page({ config, path, query }: { config: DashboardConfig; path: string; query: URLSearchParams }) {
  const [, section, id] = path.split('/').map((part) => decodeURIComponent(part));
  if (path === '/') return <LiveMapPage config={config} />;
  if (section === 'trips' && !id) return <TripsPage config={config} query={query} />;
  if (section === 'trips' && id) return <TripDetailPage config={config} tripId={id} />;
  if (section === 'traces' && id) return <TracePage traceId={id} />;
  if ((section === 'vehicles' || section === 'drivers') && !id) return <ScorecardListPage kind={section === 'vehicles' ? 'vehicle' : 'driver'} />;
  if ((section === 'vehicles' || section === 'drivers') && id) return <ScorecardPage kind={section === 'vehicles' ? 'vehicle' : 'driver'} id={id} />;
  if (section === 'health') return <HealthPage />;
  return <Message title="Not found" text={`There is no page at ${path}.`} />;
}

function Shell({ session, path, onSignOut, children }: { session: Session | null; path: string; onSignOut?: () => void; children: preact.ComponentChildren }) {
  const { status } = useAlerts();
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">tripline</span>
        {session ? (
          <nav aria-label="Pages">
            <ul>
              {NAV.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={item.match(path) ? 'page' : undefined}>{item.label}</Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {session ? (
          <div class="session">
            <span class={`stream stream-${status}`} title="Live alert stream">alerts {status === 'open' ? 'live' : status}</span>
            <span>tenant <strong>{session.tenant ?? '?'}</strong></span>
            <button type="button" class="link-button" onClick={onSignOut}>Sign out</button>
          </div>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </>
  );
}

function SignIn({ config, problem, returnTo }: { config: DashboardConfig; problem: string | null; returnTo: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <section class="sign-in">
      <h1>Sign in to tripline</h1>
      <p>Live cars, trips, scores and pipeline health of your fleet. Signing in uses {config.devIssuer ? 'the built-in development issuer' : <code>{config.issuer}</code>} (OAuth 2.0 with PKCE).</p>
      {problem ? <p class="error" role="alert">{problem}</p> : null}
      <button type="button" class="primary" disabled={busy} onClick={() => { setBusy(true); void beginSignIn(config, returnTo); }}>Sign in</button>
    </section>
  );
}

export function Message({ title, text, alert = false }: { title: string; text: string; alert?: boolean }) {
  return (
    <section class="message">
      <h1>{title}</h1>
      <p role={alert ? 'alert' : undefined}>{text}</p>
    </section>
  );
}

/** New alerts pop up for 20 s; each is a role="alert" (announced at once by screen readers) until dismissed or timed out. */
function AlertToasts() {
  const { alerts } = useAlerts();
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const shownSince = useRef(Date.now());
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const receivedAt = useRef(new Map<string, number>());
  for (const alert of alerts) if (!receivedAt.current.has(alert.alertId)) receivedAt.current.set(alert.alertId, Math.max(Date.now(), shownSince.current));
  const visible = alerts.filter((alert) => !dismissed.has(alert.alertId) && now - (receivedAt.current.get(alert.alertId) ?? 0) < 20_000).slice(0, 4);
  return (
    <section class="toasts" aria-label="New alerts">
      <div>
        {visible.map((alert) => (
          <div key={alert.alertId} class={`toast toast-${alert.type}`} role="alert" data-alert-type={alert.type}>
            <strong>{eventLabel(alert.type)}</strong> — vehicle {alert.vehicleId} at {clock(alert.startMs)} ({alert.severity})
            <div class="toast-actions">
              {alert.tripId ? <Link href={`/trips/${encodeURIComponent(alert.tripId)}`}>Open trip</Link> : null}
              <button type="button" class="link-button" onClick={() => setDismissed(new Set([...dismissed, alert.alertId]))} aria-label={`Dismiss ${eventLabel(alert.type)} alert of ${alert.vehicleId}`}>Dismiss</button>
            </div>
          </div>
        ))}
      </div>
    </section>
  );
}

const root = document.getElementById('app')!;
// The "Loading…" placeholder is plain HTML, not Preact's: clear it first.
root.textContent = '';
render(<App />, root);
