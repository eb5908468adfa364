import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from '../domain/pipelineConfig.js';
import { DEFAULT_TRIP_CONFIG } from '../domain/tripConfig.js';
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
  busRetentionS: { env: 'TRIPLINE_BUS_RETENTION_S', default: '3600', help: 'seconds consumed bus messages are kept' },
  pipelineConfig: { env: 'TRIPLINE_PIPELINE_CONFIG', default: '', help: 'JSON file overriding thresholds and weights (cleaning, trip, detectors, timeOfDay, scoring)' },
  osmExtract: { env: 'TRIPLINE_OSM_EXTRACT', default: '', help: 'OpenStreetMap extract (.osm or .osm.gz) for posted speed limits; none: speeding is judged only where devices send limits' },
  defaultTenant: { env: 'TRIPLINE_DEFAULT_TENANT', default: 'demo', help: 'tenant of devices not in the registry' },
  logLevel: { env: 'TRIPLINE_LOG_LEVEL', default: 'info', help: 'pino log level' },
} as const;

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().positive();
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
  busRetentionS: z.coerce.number().min(0),
  pipelineConfig: z.string().transform((file) => (file ? resolve(file) : null)),
  osmExtract: z.string().transform((file) => (file ? resolve(file) : null)),
  defaultTenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
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
    }),
  };
}
