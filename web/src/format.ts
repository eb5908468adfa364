import type { EventType } from './types';

export const km = (metres: number): string => `${(metres / 1000).toFixed(metres < 10_000 ? 2 : 1)} km`;
export const kmh = (mps: number | null | undefined): string => (mps === null || mps === undefined ? '–' : `${Math.round(mps * 3.6)} km/h`);
export const percent = (share: number): string => `${Math.round(share * 100)} %`;

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : m > 0 ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
export const when = (ms: number): string => dateTime.format(new Date(ms));
export const clock = (ms: number): string => timeOnly.format(new Date(ms));

export const EVENT_LABELS: Record<EventType, string> = {
  harsh_braking: 'Harsh braking',
  harsh_acceleration: 'Harsh acceleration',
  harsh_cornering: 'Harsh cornering',
  speeding: 'Speeding',
  crash: 'Crash',
  phone_handling: 'Phone handling',
};

export const EVENT_COLOURS: Record<EventType, string> = {
  harsh_braking: '#c2410c',
  harsh_acceleration: '#7c3aed',
  harsh_cornering: '#0e7490',
  speeding: '#be123c',
  crash: '#111827',
  phone_handling: '#a16207',
};

export function eventLabel(type: string): string {
  return EVENT_LABELS[type as EventType] ?? type.replace(/_/g, ' ');
}

/** A driving event's peak in words: g for accelerations, km/h over the limit for speeding. */
export function peak(value: number, unit: string): string {
  if (unit === 'mps2') return `${(value / 9.81).toFixed(2)} g (${value.toFixed(1)} m/s²)`;
  if (unit === 'mps') return `${Math.round(value * 3.6)} km/h over`;
  if (unit === 's') return `${value.toFixed(0)} s`;
  return `${value} ${unit}`;
}

/** epoch ms ↔ the value of an <input type="datetime-local"> (local time). */
export function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Map tooltip content as text, never HTML: Leaflet would set a string as innerHTML. */
export function plain(text: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}
