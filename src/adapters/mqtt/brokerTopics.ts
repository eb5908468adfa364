import { TOPICS } from '../../functions/ingest/wireFormat.js';

/** The share group every ingest process joins, so each message goes to one of them. */
export const DEFAULT_SHARE_GROUP = 'tripline-ingest';

/** What ingest reads: every device's telemetry, in both formats. */
export const INGEST_FILTERS = [TOPICS.telemetry('+'), TOPICS.ownTracks('+', '+')] as const;

export const sharedFilter = (group: string, filter: string): string => `$share/${group}/${filter}`;

