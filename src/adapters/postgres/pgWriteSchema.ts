import type { Pool } from './pool.js';
import { applySchema } from './schema.js';

/**
 * The write store's tables live in their own schema, so the search store, the device
 * registry and the alert store can share the database without name clashes.
 */
export const WRITE_SCHEMA = 'tripline_write';

/** The advisory lock a commit holds from its first outbox seq to its end (see appendToFeeds); arbitrary, fixed. */
export const FEEDS_LOCK_KEY = 7_427_171_010;

const S = WRITE_SCHEMA;

/**
 * Documents are `json`, not `jsonb`: the write store never looks inside them (the search store
 * does), `json` keeps the text as written without re-encoding it, and it accepts every string
 * JSON.stringify can produce (jsonb refuses \u0000 and lone surrogates, which would wedge a
 * partition on one odd device string). Ids are `COLLATE "C"`: byte order, as in SQLite, for
 * keyset paging that is the same on every server.
 */
const DDL = `
  CREATE SCHEMA IF NOT EXISTS ${S};
  CREATE TABLE IF NOT EXISTS ${S}.point_chunks (
    device_id text COLLATE "C" NOT NULL, first_ms bigint NOT NULL, last_ms bigint NOT NULL,
    point_count integer NOT NULL, points text NOT NULL,
    PRIMARY KEY (device_id, first_ms)
  ) PARTITION BY RANGE (first_ms);
  CREATE TABLE IF NOT EXISTS ${S}.point_chunks_default PARTITION OF ${S}.point_chunks DEFAULT;
  CREATE TABLE IF NOT EXISTS ${S}.trips (
    trip_id text COLLATE "C" PRIMARY KEY, tenant_id text NOT NULL, version bigint NOT NULL, doc json NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${S}.trip_traces (trip_id text COLLATE "C" PRIMARY KEY, trace_ids json NOT NULL);
  CREATE TABLE IF NOT EXISTS ${S}.device_states (device_id text COLLATE "C" PRIMARY KEY, open_trip boolean NOT NULL, state json NOT NULL);
  -- deviceHash(device_id), so a worker reads only its partitions' states (hash % partition count).
  -- Added after the table: rows written before it (or by an older process) have none. Checked
  -- first, because ALTER TABLE locks the table even when the column is there (on every start).
  DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '${S}' AND table_name = 'device_states' AND column_name = 'device_hash') THEN
      ALTER TABLE ${S}.device_states ADD COLUMN device_hash bigint;
    END IF;
  END $$;
  CREATE INDEX IF NOT EXISTS device_states_open ON ${S}.device_states (device_id) WHERE open_trip;
  CREATE TABLE IF NOT EXISTS ${S}.consumer_cursors (partition integer PRIMARY KEY, bus_offset bigint NOT NULL);
  -- Identity sequences keep CACHE 1: a per-connection cache would hand out seqs out of commit order.
  CREATE TABLE IF NOT EXISTS ${S}.trip_outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, trip_id text COLLATE "C" NOT NULL, version bigint NOT NULL,
    written_at_ms bigint NOT NULL, doc json NOT NULL, traceparents json
  );
  CREATE TABLE IF NOT EXISTS ${S}.alert_outbox (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, alert_id text COLLATE "C" NOT NULL UNIQUE, tenant_id text NOT NULL,
    written_at_ms bigint NOT NULL, doc json NOT NULL
  );
  -- The highest pruned alert seq, so the head survives pruning every row.
  CREATE TABLE IF NOT EXISTS ${S}.alert_outbox_pruned (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), seq bigint NOT NULL
  );
`;

/** Creates the schema if missing (processes starting together take turns). */
export async function createWriteSchema(pool: Pool): Promise<void> {
  await applySchema(pool, DDL);
}
