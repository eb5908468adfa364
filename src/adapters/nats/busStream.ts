import { nanos } from '@nats-io/transport-node';
import {
  DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType,
  type JetStreamManager, type StreamConfig, type StreamInfo,
} from '@nats-io/jetstream';

export interface BusStreamSettings {
  stream: string;
  partitionCount: number;
  duplicateWindowMs: number;
  /** 1 on a single server; 3 on a cluster, so an acknowledged append survives losing a server. */
  replicas: number;
}

/** The subjects of a bus stream: one per partition, and a core-NATS wake-up subject outside the stream. */
export function busSubjects(stream: string): { partition: (partition: number) => string; all: string; appended: string } {
  const root = stream.toLowerCase();
  return { partition: (partition) => `${root}.bus.${partition}`, all: `${root}.bus.*`, appended: `${root}.appended` };
}

/**
 * Creates the bus stream, or checks and updates the one there (every process opening the bus
 * does this, so it is idempotent).
 *
 * - File storage, limits retention with no limit at all: a message leaves the stream only when
 *   `prune` purges it (consumed and older than the retention), never because workers were down
 *   long, so an acknowledged point is never dropped unconsumed.
 * - `duplicate_window`: a second message with the same `Nats-Msg-Id` within it is acknowledged
 *   without being stored (a redelivery by the broker after an ingest crash).
 * - `allow_direct`: `oldestUnconsumedAtMs` reads with direct gets (`next_by_subj`).
 * - The partition count lives in the description (2.9 has no stream metadata): a process
 *   configured with another count is refused, since devices would land in other partitions.
 */
export async function ensureBusStream(jsm: JetStreamManager, settings: BusStreamSettings): Promise<void> {
  const { stream, partitionCount, duplicateWindowMs, replicas } = settings;
  const description = `tripline event bus: ${partitionCount} partitions`;
  const config = {
    name: stream,
    description,
    subjects: [busSubjects(stream).all],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: 0,
    duplicate_window: nanos(duplicateWindowMs),
    allow_direct: true,
    num_replicas: replicas,
  } satisfies Partial<StreamConfig>;
  const existing = await streamInfo(jsm, stream);
  if (!existing) {
    await jsm.streams.add(config);
    return;
  }
  if (existing.config.description !== description) {
    throw new Error(`stream ${stream} is "${existing.config.description ?? 'not a tripline bus'}", expected "${description}": partition counts must match`);
  }
  if (existing.config.duplicate_window !== config.duplicate_window || existing.config.num_replicas !== replicas) {
    await jsm.streams.update(stream, { ...existing.config, duplicate_window: config.duplicate_window, num_replicas: replicas });
  }
}

async function streamInfo(jsm: JetStreamManager, stream: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(stream);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
}
