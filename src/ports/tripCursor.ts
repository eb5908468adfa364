/** The opaque page cursor of trip searches: the sort key of the last trip of a page. Shared by every search adapter. */
export interface TripCursor {
  startMs: number;
  tripId: string;
}

export function encodeTripCursor(cursor: TripCursor): string {
  return Buffer.from(JSON.stringify([cursor.startMs, cursor.tripId])).toString('base64url');
}

export function decodeTripCursor(text: string): TripCursor | null {
  try {
    const [startMs, tripId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    return typeof startMs === 'number' && typeof tripId === 'string' ? { startMs, tripId } : null;
  } catch {
    return null;
  }
}
