/**
 * Sign-in: OAuth 2.0 authorization code with PKCE (S256), as a public client in the browser.
 * The verifier and state wait in sessionStorage during the round trip; the access token is kept
 * in sessionStorage too (this tab only, gone when it closes), never in localStorage or a cookie.
 */
export interface DashboardConfig {
  issuer: string;
  devIssuer: boolean;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  scope: string;
  redirectPath: string;
  tiles: { url: string; attribution: string } | null;
}

export interface Session {
  accessToken: string;
  expiresAtMs: number;
  scope: string;
  tenant: string | null;
}

const SESSION_KEY = 'tripline.session';
const PENDING_KEY = 'tripline.pkce';

export async function loadDashboardConfig(): Promise<DashboardConfig> {
  const response = await fetch('/dashboard/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the dashboard configuration could not be loaded (HTTP ${response.status})`);
  return (await response.json()) as DashboardConfig;
}

export function currentSession(): Session | null {
  const text = sessionStorage.getItem(SESSION_KEY);
  if (!text) return null;
  try {
    const session = JSON.parse(text) as Session;
    // A minute of margin: a request started now should not carry a token that expires on the way.
    if (session.expiresAtMs - 60_000 > Date.now()) return session;
  } catch {
    // fall through
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 with Web Crypto; plain http on another host is no secure context, so there a small JS fallback. */
async function sha256(text: string): Promise<Uint8Array> {
  const data = new TextEncoder().encode(text);
  if (globalThis.crypto?.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return sha256Fallback(data);
}

function absolute(endpoint: string): string {
  return new URL(endpoint, location.origin).toString();
}

/** Leaves for the provider's sign-in page; comes back at the redirect path with a code. */
export async function beginSignIn(config: DashboardConfig, returnTo: string): Promise<void> {
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(absolute(config.authorizationEndpoint));
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', `${location.origin}${config.redirectPath}`);
  url.searchParams.set('code_challenge', base64url(await sha256(verifier)));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('scope', config.scope);
  location.assign(url.toString());
}

/** At the redirect path: checks the state, trades the code and verifier for a token; returns where to go next. */
export async function completeSignIn(config: DashboardConfig, search: URLSearchParams): Promise<string> {
  const pendingText = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!pendingText) throw new Error('no sign-in was started in this tab; start again');
  const pending = JSON.parse(pendingText) as { verifier: string; state: string; returnTo: string };
  // The state first: an error answer that does not belong to this tab's sign-in is someone's link, not news.
  if (search.get('state') !== pending.state) throw new Error('the sign-in answer does not belong to this tab (state mismatch); start again');
  const error = search.get('error');
  if (error) throw new Error(`sign-in refused: ${search.get('error_description') ?? error}`);
  const code = search.get('code');
  if (!code) throw new Error('the sign-in answer has no code');
  const response = await fetch(absolute(config.tokenEndpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, code_verifier: pending.verifier,
      redirect_uri: `${location.origin}${config.redirectPath}`, client_id: config.clientId,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; scope?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`the token was refused: ${body.error_description ?? body.error ?? `HTTP ${response.status}`}`);
  const session: Session = {
    accessToken: body.access_token,
    expiresAtMs: Date.now() + (body.expires_in ?? 3600) * 1000,
    scope: body.scope ?? '',
    tenant: tenantOf(body.access_token),
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
}

/** The tenant claim, for display only (the API takes it from the verified token, never from us). */
function tenantOf(token: string): string | null {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    return typeof payload.tenant === 'string' ? payload.tenant : null;
  } catch {
    return null;
  }
}

/** FIPS 180-4 SHA-256, only for non-secure contexts where crypto.subtle is missing. */
function sha256Fallback(data: Uint8Array): Uint8Array {
  const k = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const length = Math.ceil((data.length + 9) / 64) * 64;
  const padded = new Uint8Array(length);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(length - 4, data.length * 8);
  view.setUint32(length - 8, Math.floor((data.length * 8) / 2 ** 32));
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!, b = w[i - 2]!;
      w[i] = (w[i - 16]! + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + w[i - 7]! + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10))) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i]! + w[i]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = (h[i]! + next[i]!) >>> 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]!);
  return out;
}
