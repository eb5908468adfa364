/**
 * The opaque page cursor of trip searches: the sort key, the last trip's value of it and its id.
 * Shared by every search adapter, so a cursor from one page of a sort is refused by another sort.
 */
export interface TripCursor {
  sort: string;
  value: number | null;
  tripId: string;
}

export function encodeTripCursor(cursor: TripCursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.value, cursor.tripId])).toString('base64url');
}

export function decodeTripCursor(text: string): TripCursor | null {
  try {
    const [sort, value, tripId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof sort !== 'string' || typeof tripId !== 'string' || !(value === null || typeof value === 'number')) return null;
    return { sort, value, tripId };
  } catch {
    return null;
  }
}
