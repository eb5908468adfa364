import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { LabelledEvent } from '../domain/evaluation/matchEvents.js';
import type { TripSpan } from '../domain/evaluation/matchTrips.js';
import { labelsFromNds } from '../domain/evaluation/ndsLabels.js';
import type { TelemetryPoint } from '../domain/point.js';
import { fromWire, wirePointSchema } from '../functions/ingest/wireFormat.js';
import { readNdsCsv } from './ndsCsv.js';

/** Recorded points per device with what a human or a simulator says happened in them. */
export interface LabelledData {
  pointsByDevice: Map<string, TelemetryPoint[]>;
  trips: TripSpan[];
  events: LabelledEvent[];
}

/** Reads the nds CSV (.csv or .csv.gz) or a `tripline simulate --truth` NDJSON file. */
export async function readLabelledData(file: string): Promise<LabelledData> {
  if (/\.csv(\.gz)?$/.test(file)) {
    const rows = await readNdsCsv(file);
    const labels = labelsFromNds(rows);
    return { pointsByDevice: new Map([['nds', rows.map((row) => row.point)]]), trips: labels.trips, events: labels.events };
  }
  const data: LabelledData = { pointsByDevice: new Map(), trips: [], events: [] };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { kind?: string; deviceId?: string; points?: unknown[]; startMs?: number; endMs?: number; type?: string };
    if (record.kind === 'points' && record.deviceId && Array.isArray(record.points)) {
      const points = data.pointsByDevice.get(record.deviceId) ?? [];
      for (const wire of record.points) points.push(fromWire(wirePointSchema.parse(wire)));
      data.pointsByDevice.set(record.deviceId, points);
    } else if (record.kind === 'trip' && typeof record.startMs === 'number' && typeof record.endMs === 'number') {
      data.trips.push({ startMs: record.startMs, endMs: record.endMs });
    } else if (record.kind === 'event' && typeof record.startMs === 'number' && typeof record.endMs === 'number') {
      data.events.push({ type: record.type as LabelledEvent['type'], startMs: record.startMs, endMs: record.endMs });
    } else {
      throw new Error(`${file}:${lineNo}: not a points, trip or event record`);
    }
  }
  for (const points of data.pointsByDevice.values()) points.sort((a, b) => a.tsMs - b.tsMs);
  return data;
}
