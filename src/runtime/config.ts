import { resolve } from 'node:path';
import { z } from 'zod';
import { ID_PATTERN, ID_RULE } from '../domain/ids.js';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from '../domain/pipelineConfig.js';
import { DEFAULT_TRIP_CONFIG } from '../domain/tripConfig.js';
import { CLUSTER_ARRIVAL_HOLD_S, CLUSTER_SEQ_GAP_WAIT_S, DEFAULT_CLEANING_CONFIG } from '../domain/cleaning/cleaningConfig.js';
import { ASYMMETRIC_JWT_ALGORITHMS } from '../security/jwtAuthenticator.js';
import { loadPipelineConfig } from './pipelineConfigFile.js';

/** Every setting, its environment variable and default: the single place configuration is read (12-factor). */
export const SETTINGS = {
  host: { env: 'TRIPLINE_HOST', default: '127.0.0.1', help: 'address the MQTT and HTTP servers listen on' },
  mqttPort: { env: 'TRIPLINE_MQTT_PORT', default: '1883', help: 'MQTT port (0 picks a free one)' },
  httpPort: { env: 'TRIPLINE_HTTP_PORT', default: '8080', help: 'HTTP API port (0 picks a free one)' },
  dataDir: { env: 'TRIPLINE_DATA_DIR', default: './data', help: 'folder of the embedded databases' },
  partitions: { env: 'TRIPLINE_PARTITIONS', default: '8', help: 'bus partitions devices are spread over' },
  sqliteSynchronous: { env: 'TRIPLINE_SQLITE_SYNCHRONOUS', default: 'FULL', help: 'FULL (fsync per group commit) or NORMAL (survives kill -9, not power loss)' },
  tripGapS: { env: 'TRIPLINE_TRIP_GAP_S', default: String(DEFAULT_TRIP_CONFIG.tripGapS), help: 'seconds without points that end a trip' },
  idleTimeoutS: { env: 'TRIPLINE_IDLE_TIMEOUT_S', default: String(DEFAULT_TRIP_CONFIG.idleTimeoutS), help: 'seconds without movement that end a trip' },
  liveTimeoutS: { env: 'TRIPLINE_LIVE_TIMEOUT_S', default: String(DEFAULT_TRIP_CONFIG.tripGapS), help: 'wall-clock seconds of device silence that end a live trip' },
  maxPayloadBytes: { env: 'TRIPLINE_MAX_PAYLOAD_BYTES', default: '262144', help: 'largest MQTT payload accepted' },
  maxBusBacklog: { env: 'TRIPLINE_MAX_BUS_BACKLOG', default: '100000', help: 'unconsumed bus messages above which ingest stops acknowledging' },
  deviceRatePerS: { env: 'TRIPLINE_DEVICE_RATE_PER_S', default: '20', help: 'messages a second each device may publish on average (0: unlimited); over it QoS 1 acknowledgements wait their turn (up to 30 s, then the connection closes) and QoS 0 messages are dropped as rate_limited' },
  deviceBurst: { env: 'TRIPLINE_DEVICE_BURST', default: '200', help: 'messages a device may send at once before its rate applies (a reconnecting device catching up)' },
  secretHashCost: { env: 'TRIPLINE_SECRET_HASH_COST', default: '14', help: 'scrypt cost (log2 N) for new device secrets' },
  mqttTlsPort: { env: 'TRIPLINE_MQTT_TLS_PORT', default: '', help: 'MQTT over TLS port with client certificates (mTLS); needs the three files below' },
  mqttTlsCert: { env: 'TRIPLINE_MQTT_TLS_CERT', default: '', help: 'PEM server certificate for the MQTT TLS port' },
  mqttTlsKey: { env: 'TRIPLINE_MQTT_TLS_KEY', default: '', help: 'PEM private key of that certificate' },
  mqttTlsCa: { env: 'TRIPLINE_MQTT_TLS_CA', default: '', help: 'PEM CA that signs device certificates (CN = device id)' },
  oauthIssuer: { env: 'TRIPLINE_OAUTH_ISSUER', default: '', help: "your OIDC provider's issuer URL, exactly as in its tokens' iss; empty: the built-in development issuer (tripline token)" },
  oauthAudience: { env: 'TRIPLINE_OAUTH_AUDIENCE', default: 'tripline-api', help: 'audience (aud) API tokens must name' },
  oauthJwksUrl: { env: 'TRIPLINE_OAUTH_JWKS_URL', default: '', help: "the provider's key set; empty: jwks_uri from its /.well-known/openid-configuration" },
  oauthAlgorithms: { env: 'TRIPLINE_OAUTH_ALGORITHMS', default: 'RS256,PS256,ES256,EdDSA', help: 'signature algorithms accepted (public-key ones only)' },
  oauthTenantClaim: { env: 'TRIPLINE_OAUTH_TENANT_CLAIM', default: 'tenant', help: 'token claim naming the tenant' },
  oauthClockToleranceS: { env: 'TRIPLINE_OAUTH_CLOCK_TOLERANCE_S', default: '30', help: 'leeway on exp and nbf for clocks that disagree' },
  busRetentionS: { env: 'TRIPLINE_BUS_RETENTION_S', default: '3600', help: 'seconds consumed bus messages are kept' },
  pipelineConfig: { env: 'TRIPLINE_PIPELINE_CONFIG', default: '', help: 'JSON file overriding thresholds and weights (cleaning, trip, detectors, timeOfDay, scoring)' },
  osmExtract: { env: 'TRIPLINE_OSM_EXTRACT', default: '', help: 'OpenStreetMap extract (.osm or .osm.gz) for posted speed limits; none: speeding is judged only where devices send limits' },
  webhookMaxAttempts: { env: 'TRIPLINE_WEBHOOK_MAX_ATTEMPTS', default: '8', help: 'tries of a webhook delivery (the first included) before it is dead-lettered' },
  webhookRetryBaseMs: { env: 'TRIPLINE_WEBHOOK_RETRY_BASE_MS', default: '1000', help: 'wait after the first failed try, doubled after each further one (up to 5 min), less up to 20 % jitter' },
  webhookTimeoutMs: { env: 'TRIPLINE_WEBHOOK_TIMEOUT_MS', default: '5000', help: 'a try fails without a 2xx within this' },
  dashboardClientId: { env: 'TRIPLINE_DASHBOARD_CLIENT_ID', default: 'tripline-dashboard', help: "the web dashboard's OAuth client id (a public client with PKCE; register it at your provider with redirect URI <dashboard origin>/auth/callback)" },
  dashboardScope: { env: 'TRIPLINE_DASHBOARD_SCOPE', default: 'openid trips:read', help: 'scopes the dashboard asks an external provider for (the development issuer lets you pick them on its sign-in page)' },
  mapTilesUrl: { env: 'TRIPLINE_MAP_TILES_URL', default: '', help: 'the dashboard\'s base map tiles, an XYZ URL template such as https://tile.example.com/{z}/{x}/{y}.png; empty: offline country and coastline outlines shipped with tripline' },
  mapTilesAttribution: { env: 'TRIPLINE_MAP_TILES_ATTRIBUTION', default: '', help: 'attribution shown under those tiles (e.g. © OpenStreetMap contributors)' },
  defaultTenant: { env: 'TRIPLINE_DEFAULT_TENANT', default: 'demo', help: 'tenant of devices not in the registry' },
  logLevel: { env: 'TRIPLINE_LOG_LEVEL', default: 'info', help: 'pino log level' },
  mqttUrl: { env: 'TRIPLINE_MQTT_URL', default: '', help: 'cluster mode: an external MQTT 5 broker (e.g. mqtt://mosquitto:1883); empty: the embedded broker' },
  mqttIngestUser: { env: 'TRIPLINE_MQTT_INGEST_USER', default: 'tripline:ingest', help: "cluster mode: tripline's own account on the broker (shared-subscription ingest, alert downlink)" },
  mqttIngestPassword: { env: 'TRIPLINE_MQTT_INGEST_PASSWORD', default: '', help: 'password of that account' },
  mqttAdminUser: { env: 'TRIPLINE_MQTT_ADMIN_USER', default: '', help: "cluster mode: the broker's dynamic-security admin, to keep device accounts in step with the registry; empty: manage broker accounts yourself" },
  mqttAdminPassword: { env: 'TRIPLINE_MQTT_ADMIN_PASSWORD', default: '', help: 'password of that admin' },
  natsUrl: { env: 'TRIPLINE_NATS_URL', default: '', help: 'cluster mode: NATS JetStream for the bus (e.g. nats://nats:4222); empty: the embedded SQLite bus' },
  databaseUrl: { env: 'TRIPLINE_DATABASE_URL', default: '', help: 'cluster mode: PostgreSQL for the write store, device registry and alert store; empty: SQLite files' },
  searchDatabaseUrl: { env: 'TRIPLINE_SEARCH_DATABASE_URL', default: '', help: 'cluster mode: PostgreSQL with PostGIS for the search store (may be the same server, another database)' },
  natsReplicas: { env: 'TRIPLINE_NATS_REPLICAS', default: '1', help: 'cluster mode: replicas of the bus stream and the lease bucket (3 on a 3-server NATS cluster: an append is then acknowledged once a majority holds it)' },
  databasePoolSize: { env: 'TRIPLINE_DATABASE_POOL_SIZE', default: '10', help: 'cluster mode: PostgreSQL connections per store per process (write, search, alerts; the registry takes up to 4): size max_connections for processes x stores x this' },
  leaseTtlS: { env: 'TRIPLINE_LEASE_TTL_S', default: '10', help: "cluster mode: a dead worker's partitions move to the others within this" },
  instanceId: { env: 'TRIPLINE_INSTANCE_ID', default: '', help: 'cluster mode: a stable name for this process (its MQTT client id and lease holder name); empty: hostname and pid' },
  traceSampleRatio: { env: 'TRIPLINE_TRACE_SAMPLE_RATIO', default: '1', help: 'share of new traces (one per MQTT message) recorded, 0–1; a device traceparent marked sampled is always followed' },
} as const;

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().positive();
const optionalUrl = (protocols: string[]) =>
  z.string().transform((value, context) => {
    if (!value) return null;
    try {
      if (protocols.includes(new URL(value).protocol)) return value;
    } catch {
      // reported below
    }
    context.addIssue({ code: 'custom', message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` });
    return z.NEVER;
  });
const optionalFile = z.string().transform((file) => (file ? resolve(file) : null));
const schema = z.object({
  host: z.string().min(1),
  mqttPort: port,
  httpPort: port,
  dataDir: z.string().min(1).transform((dir) => resolve(dir)),
  partitions: z.coerce.number().int().min(1).max(1024),
  sqliteSynchronous: z.enum(['FULL', 'NORMAL']),
  tripGapS: positive,
  idleTimeoutS: positive,
  liveTimeoutS: positive,
  maxPayloadBytes: z.coerce.number().int().min(256),
  maxBusBacklog: z.coerce.number().int().min(1),
  deviceRatePerS: z.coerce.number().min(0),
  deviceBurst: z.coerce.number().int().min(1),
  secretHashCost: z.coerce.number().int().min(10).max(20),
  mqttTlsPort: z.union([z.literal('').transform(() => null), port]),
  mqttTlsCert: optionalFile,
  mqttTlsKey: optionalFile,
  mqttTlsCa: optionalFile,
  oauthIssuer: z.string().transform((value) => value || null),
  oauthAudience: z.string().min(1),
  oauthJwksUrl: z.string().transform((value) => value || null),
  oauthAlgorithms: z
    .string()
    .transform((value) => value.split(',').map((alg) => alg.trim()).filter(Boolean))
    .pipe(z.array(z.enum(ASYMMETRIC_JWT_ALGORITHMS)).min(1)),
  oauthTenantClaim: z.string().min(1),
  oauthClockToleranceS: z.coerce.number().min(0).max(300),
  busRetentionS: z.coerce.number().min(0),
  pipelineConfig: optionalFile,
  osmExtract: optionalFile,
  webhookMaxAttempts: z.coerce.number().int().min(1).max(50),
  webhookRetryBaseMs: z.coerce.number().int().min(1),
  webhookTimeoutMs: z.coerce.number().int().min(100).max(60_000),
  dashboardClientId: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII, no spaces'),
  dashboardScope: z.string().trim().min(1),
  mapTilesUrl: z.string().transform((value, context) => {
    if (!value) return null;
    let url: URL | null = null;
    try {
      url = new URL(value.replace(/[{}]/g, ''));
    } catch {
      // reported below
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || !['{z}', '{x}', '{y}'].every((part) => value.includes(part))) {
      context.addIssue({ code: 'custom', message: 'expected an http(s) URL template with {z}, {x} and {y}' });
      return z.NEVER;
    }
    return value;
  }),
  mapTilesAttribution: z.string().max(500),
  defaultTenant: z.string().regex(ID_PATTERN, `expected ${ID_RULE}`),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  traceSampleRatio: z.coerce.number().min(0).max(1),
  mqttUrl: optionalUrl(['mqtt:', 'mqtts:', 'tcp:']),
  mqttIngestUser: z.string().min(1),
  mqttIngestPassword: z.string(),
  mqttAdminUser: z.string().transform((value) => value || null),
  mqttAdminPassword: z.string(),
  natsUrl: optionalUrl(['nats:', 'tls:']),
  databaseUrl: optionalUrl(['postgres:', 'postgresql:']),
  searchDatabaseUrl: optionalUrl(['postgres:', 'postgresql:']),
  natsReplicas: z.coerce.number().int().min(1).max(5),
  databasePoolSize: z.coerce.number().int().min(1).max(100),
  leaseTtlS: z.coerce.number().min(1).max(300),
  instanceId: z.string().regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, dash, underscore').transform((value) => value || null),
}).superRefine((config, context) => {
  const files = [config.mqttTlsCert, config.mqttTlsKey, config.mqttTlsCa];
  if (config.mqttTlsPort !== null && files.some((file) => file === null)) {
    context.addIssue({ code: 'custom', path: ['mqttTlsPort'], message: 'needs TRIPLINE_MQTT_TLS_CERT, TRIPLINE_MQTT_TLS_KEY and TRIPLINE_MQTT_TLS_CA' });
  }
});

export type PlatformConfig = z.output<typeof schema> & { pipeline: PipelineConfig };
export type ConfigOverrides = Partial<Record<keyof typeof SETTINGS, string | number>>;

/** Flags win over environment variables, which win over defaults. Throws a message naming the bad setting. */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    raw[key] = overrides[key as keyof typeof SETTINGS] ?? env[setting.env] ?? setting.default;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]) as keyof typeof SETTINGS;
      return `${SETTINGS[key]?.env ?? key}=${JSON.stringify(raw[key])}: ${issue.message}`;
    });
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  return {
    ...config,
    pipeline: loadPipelineConfig(config.pipelineConfig, {
      ...DEFAULT_PIPELINE_CONFIG,
      trip: { ...DEFAULT_TRIP_CONFIG, tripGapS: config.tripGapS, idleTimeoutS: config.idleTimeoutS },
      // Cluster ingest (several share-group members, NATS) may put a device's messages on the bus
      // out of order: points wait there for missing seqs, or without seqs a moment (see
      // seqGapWaitS, arrivalHoldS).
      cleaning: config.natsUrl
        ? { ...DEFAULT_CLEANING_CONFIG, seqGapWaitS: CLUSTER_SEQ_GAP_WAIT_S, arrivalHoldS: CLUSTER_ARRIVAL_HOLD_S }
        : DEFAULT_CLEANING_CONFIG,
    }),
  };
}
