import type { DrivingEvent } from './events/drivingEvent.js';
import type { PipelineConfig } from './pipelineConfig.js';
import { scoreTrip } from './scoring/index.js';
import { MAX_EVENTS_PER_TRIP, type TripSummary } from './trip.js';
import { bestEffort, type Enricher, type TripContext } from './tripContext.js';
import type { TripAccumulator } from './tripSegmenter.js';

/** Adds events to an open trip, keeping every count but at most MAX_EVENTS_PER_TRIP events. Arrays are replaced, never shared. */
export function attachEvents(trip: TripAccumulator, events: DrivingEvent[]): TripAccumulator {
  if (events.length === 0) return trip;
  const eventCounts = { ...trip.eventCounts };
  for (const event of events) eventCounts[event.type] = (eventCounts[event.type] ?? 0) + 1;
  const room = Math.max(0, MAX_EVENTS_PER_TRIP - trip.events.length);
  return { ...trip, eventCounts, events: [...trip.events, ...events.slice(0, room)] };
}

/**
 * Completes an ended trip: the events still open when it ended, speeding time, place names
 * and the score with its breakdown. Each enricher is best-effort: a failure is named in
 * `enrichmentFailures` and the trip completes without that enrichment.
 */
export function finalizeTrip(summary: TripSummary, lateEvents: DrivingEvent[], config: PipelineConfig, context: TripContext): TripSummary {
  const failures: Enricher[] = [];
  const failed = (enricher: Enricher): void => void failures.push(enricher);
  const eventCounts = { ...summary.eventCounts };
  for (const event of lateEvents) eventCounts[event.type] = (eventCounts[event.type] ?? 0) + 1;
  const events = [...summary.events, ...lateEvents].sort((a, b) => a.startMs - b.startMs).slice(0, MAX_EVENTS_PER_TRIP);
  const speedingS = events.filter((e) => e.type === 'speeding').reduce((sum, e) => sum + (e.endMs - e.startMs) / 1000, 0);
  const exposure = { ...summary.exposure, speedingS };
  const startPlace = bestEffort('place_name', () => context.placeAt(summary.start.lat, summary.start.lon), null, failed);
  const endPlace = bestEffort('place_name', () => context.placeAt(summary.end.lat, summary.end.lon), null, failed);
  const timeZone = summary.timeZone ?? bestEffort('time_zone', () => context.timeZoneAt(summary.start.lat, summary.start.lon), null, failed);
  const score = scoreTrip(
    { distanceM: summary.distanceM, durationS: summary.durationS, ...exposure, events, ...roadShareOf(exposure.roadM) },
    config.scoring,
  );
  return {
    ...summary,
    events,
    eventCounts,
    exposure,
    startPlace,
    endPlace,
    timeZone,
    score,
    enrichmentFailures: [...new Set([...summary.enrichmentFailures, ...failures])],
  };
}

/** Share of the mapped distance per road type; nothing when no road was mapped. */
function roadShareOf(roadM: Record<string, number>): { roadShare?: Record<string, number> } {
  const totalM = Object.values(roadM).reduce((sum, m) => sum + m, 0);
  if (totalM <= 0) return {};
  return { roadShare: Object.fromEntries(Object.entries(roadM).map(([highway, m]) => [highway, m / totalM])) };
}
