import type { Pool } from './pool.js';
import { applySchema } from './schema.js';

/** Bumped whenever the tables change: an older search store is dropped and rebuilt by sync from the outbox. */
const SCHEMA_VERSION = 1;

/** The store's tables, qualified by its schema: the only SQL names built from configuration. */
export interface SearchTables {
  schema: string;
  trips: string;
  events: string;
  pieces: string;
  position: string;
  version: string;
}

export function searchTables(schema: string): SearchTables {
  // A plain identifier, checked here, is the only way configuration reaches SQL text.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`search schema "${schema}" is not a lower-case SQL identifier`);
  const q = (table: string) => `"${schema}".${table}`;
  return { schema, trips: q('trips'), events: q('trip_events'), pieces: q('track_pieces'), position: q('sync_position'), version: q('schema_version') };
}

/**
 * Creates the schema, tables and indexes if missing, under tripline's one DDL lock so that processes
 * starting together do not race; a store of another schema version is dropped (sync refills it).
 */
export async function migrate(pool: Pool, t: SearchTables): Promise<void> {
  await applySchema(pool, ddl(t));
}

function ddl(t: SearchTables): string {
  // Ids compare byte-wise (COLLATE "C"), as in SQLite: ties and keyset pages follow the same order whatever the database's locale.
  // Times are double precision: epoch milliseconds are exact, and a fractional time a device sent is kept as SQLite keeps it.
  return `
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE SCHEMA IF NOT EXISTS "${t.schema}";
    DO $$ BEGIN
      -- Never drop tables that tripline did not make (a write store's trips in the same schema, say).
      IF to_regclass('${t.trips}') IS NOT NULL AND to_regclass('${t.version}') IS NULL THEN
        RAISE EXCEPTION 'schema "${t.schema}" holds a trips table that is not a tripline search store';
      END IF;
      -- Nested, as PL/pgSQL plans a whole condition at once and the version table may be missing.
      IF to_regclass('${t.version}') IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM ${t.version} WHERE version = ${SCHEMA_VERSION}) THEN
          DROP TABLE IF EXISTS ${t.trips}, ${t.events}, ${t.pieces}, ${t.position}, ${t.version};
        END IF;
      END IF;
    END $$;

    CREATE TABLE IF NOT EXISTS ${t.trips} (
      trip_id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, vehicle_id text COLLATE "C" NOT NULL,
      device_id text COLLATE "C" NOT NULL, driver_id text COLLATE "C", policy_id text COLLATE "C", status text NOT NULL,
      start_ms float8 NOT NULL, end_ms float8 NOT NULL, distance_m float8 NOT NULL, duration_s float8 NOT NULL, score float8,
      night_share float8 NOT NULL, speeding_share float8 NOT NULL,
      -- Start and end as one multipoint: "started or ended in the box / near the point" is one indexed test.
      ends geometry(MultiPoint, 4326) NOT NULL,
      places tsvector NOT NULL, version bigint NOT NULL, doc json NOT NULL
    );
    CREATE INDEX IF NOT EXISTS trips_by_time ON ${t.trips} (tenant_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_vehicle ON ${t.trips} (tenant_id, vehicle_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_driver ON ${t.trips} (tenant_id, driver_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_policy ON ${t.trips} (tenant_id, policy_id, start_ms, trip_id);
    -- The same expression as the score sort, so ORDER BY walks the index instead of sorting.
    CREATE INDEX IF NOT EXISTS trips_by_score ON ${t.trips} (tenant_id, (COALESCE(score, -1)), trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_distance ON ${t.trips} (tenant_id, distance_m, trip_id);
    CREATE INDEX IF NOT EXISTS trips_places ON ${t.trips} USING gin (places);
    -- Boxes are lon/lat rectangles (geometry); radii are metres on the spheroid (geography), each with its own GiST.
    CREATE INDEX IF NOT EXISTS trips_ends ON ${t.trips} USING gist (ends);
    CREATE INDEX IF NOT EXISTS trips_ends_geography ON ${t.trips} USING gist ((ends::geography));

    CREATE TABLE IF NOT EXISTS ${t.events} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, trip_id text COLLATE "C" NOT NULL, tenant_id text COLLATE "C" NOT NULL,
      type text NOT NULL, severity smallint NOT NULL, start_ms float8 NOT NULL, at geometry(Point, 4326), doc json NOT NULL
    );
    CREATE INDEX IF NOT EXISTS trip_events_by_trip ON ${t.events} (trip_id, type, severity);
    -- Event searches start from the tenant's events in time order, not from all its trips.
    CREATE INDEX IF NOT EXISTS trip_events_by_time ON ${t.events} (tenant_id, start_ms, id);
    CREATE INDEX IF NOT EXISTS trip_events_by_type ON ${t.events} (tenant_id, type, start_ms, id);
    CREATE INDEX IF NOT EXISTS trip_events_at ON ${t.events} USING gist (at);

    -- Pieces of each completed trip's track, for "who passed near here": one GiST over place and time span together.
    CREATE TABLE IF NOT EXISTS ${t.pieces} (
      trip_id text COLLATE "C" NOT NULL, piece integer NOT NULL, span int8range NOT NULL, path geography NOT NULL,
      points json NOT NULL, PRIMARY KEY (trip_id, piece)
    );
    CREATE INDEX IF NOT EXISTS track_pieces_near ON ${t.pieces} USING gist (path, span);

    CREATE TABLE IF NOT EXISTS ${t.position} (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, written_at_ms bigint NOT NULL);
    CREATE TABLE IF NOT EXISTS ${t.version} (version integer NOT NULL);
    INSERT INTO ${t.version} SELECT ${SCHEMA_VERSION} WHERE NOT EXISTS (SELECT FROM ${t.version});
  `;
}
