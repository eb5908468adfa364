import { matchEvents, type EventMatchStats } from '../domain/evaluation/matchEvents.js';
import { matchTrips, type TripMatch } from '../domain/evaluation/matchTrips.js';
import { onPoints, onSilence, type StreamStep } from '../domain/deviceStream.js';
import type { DrivingEvent, DrivingEventType } from '../domain/events/drivingEvent.js';
import type { PipelineConfig } from '../domain/pipelineConfig.js';
import type { TripSummary } from '../domain/trip.js';
import type { TripContext } from '../domain/tripContext.js';
import { initialState } from '../domain/tripSegmenter.js';
import type { LabelledData } from '../sim/labelledData.js';

export interface EvaluationReport {
  trips: TripMatch;
  events: Partial<Record<DrivingEventType, EventMatchStats>>;
}

/**
 * Runs recorded points through the same per-device pipeline the trip worker runs (in batches
 * of `batchS` seconds, as devices send them) and scores what it finds against the labels.
 */
export function evaluate(data: LabelledData, config: PipelineConfig, context: TripContext, batchS = 5): EvaluationReport {
  const trips: TripSummary[] = [];
  const collect = (step: StreamStep): void => {
    for (const trip of step.changes) if (trip.status === 'completed') trips.push(trip);
  };
  for (const [deviceId, points] of data.pointsByDevice) {
    let state = initialState(deviceId, deviceId, 'evaluation');
    for (let i = 0; i < points.length; ) {
      const batchEndMs = points[i]!.tsMs + batchS * 1000;
      const batch: typeof points = [];
      while (i < points.length && points[i]!.tsMs < batchEndMs) batch.push(points[i++]!);
      const step = onPoints(state, batch, batch[batch.length - 1]!.tsMs, config, context);
      collect(step);
      state = step.state;
    }
    collect(onSilence(state, config, context));
  }
  const found: DrivingEvent[] = trips.flatMap((trip) => trip.events);
  return {
    trips: matchTrips(data.trips, trips.map((t) => ({ startMs: t.startMs, endMs: t.endMs }))),
    events: matchEvents(data.events, found),
  };
}
