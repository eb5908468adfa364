import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeZoneAt, utcOffsetMinutes } from '../../../src/adapters/enrichment/timeZone.js';
import { isNight, isRushHour, localClock } from '../../../src/domain/enrichment/timeOfDay.js';

test('time zone from coordinates, offline', () => {
  assert.equal(timeZoneAt(50.85, 4.35), 'Europe/Brussels');
  assert.equal(timeZoneAt(41.25, -95.98), 'America/Chicago');
  assert.equal(timeZoneAt(35.68, 139.69), 'Asia/Tokyo');
  // Same cell twice (cached) and a point mid-ocean (nautical zone).
  assert.equal(timeZoneAt(50.851, 4.352), 'Europe/Brussels');
  assert.match(timeZoneAt(0, -30), /^Etc\/GMT/);
  assert.throws(() => timeZoneAt(Number.NaN, 4));
});

test('a cell that a zone border crosses is never answered from the cache', () => {
  // Spain/Portugal border near Badajoz/Elvas: 7.0 W splits zones within one 0.1° cell.
  const spain = timeZoneAt(38.88, -6.97);
  const portugal = timeZoneAt(38.88, -7.16);
  assert.equal(spain, 'Europe/Madrid');
  assert.equal(portugal, 'Europe/Lisbon');
});

test('UTC offsets follow daylight saving time', () => {
  assert.equal(utcOffsetMinutes('Europe/Brussels', Date.UTC(2026, 0, 15, 12)), 60);
  assert.equal(utcOffsetMinutes('Europe/Brussels', Date.UTC(2026, 6, 15, 12)), 120);
  assert.equal(utcOffsetMinutes('America/Chicago', Date.UTC(2019, 4, 20, 12)), -300);
  assert.equal(utcOffsetMinutes('Asia/Kathmandu', Date.UTC(2026, 0, 1)), 345);
  assert.equal(utcOffsetMinutes('UTC', Date.UTC(2026, 0, 1)), 0);
  // EU switches at 01:00 UTC on the last Sunday of March (29 March 2026).
  assert.equal(utcOffsetMinutes('Europe/Brussels', Date.UTC(2026, 2, 29, 0, 59)), 60);
  assert.equal(utcOffsetMinutes('Europe/Brussels', Date.UTC(2026, 2, 29, 1, 0)), 120);
  assert.throws(() => utcOffsetMinutes('Mars/Olympus', 0));
});

test('night and rush hour on the local clock', () => {
  const at = (iso: string, tz: string) => {
    const ts = Date.parse(iso);
    return localClock(ts, utcOffsetMinutes(tz, ts));
  };
  // 21:30 UTC in July is 23:30 in Brussels: night; 04:59 local is night, 05:00 is not.
  assert.equal(isNight(at('2026-07-15T21:30:00Z', 'Europe/Brussels').minutesOfDay), true);
  assert.equal(isNight(at('2026-07-15T19:30:00Z', 'Europe/Brussels').minutesOfDay), false);
  assert.equal(isNight(4 * 60 + 59), true);
  assert.equal(isNight(5 * 60), false);
  assert.equal(isNight(22 * 60), true);
  // Tuesday 24 Nov 2026, 07:30 in Brussels (06:30 UTC) is rush hour; the Saturday is not.
  const tue = at('2026-11-24T06:30:00Z', 'Europe/Brussels');
  assert.equal(tue.dayOfWeek, 2);
  assert.equal(isRushHour(tue.minutesOfDay, tue.dayOfWeek), true);
  const sat = at('2026-11-28T06:30:00Z', 'Europe/Brussels');
  assert.equal(isRushHour(sat.minutesOfDay, sat.dayOfWeek), false);
  assert.equal(isRushHour(9 * 60, 3), false);
  assert.equal(isRushHour(18 * 60 + 59, 5), true);
  // The local day can differ from the UTC day: 23:30 UTC Sunday is 00:30 Monday in Brussels.
  assert.equal(at('2026-11-29T23:30:00Z', 'Europe/Brussels').dayOfWeek, 1);
  assert.equal(isNight(23 * 60, { night: { startMin: 0, endMin: 6 * 60 }, rushHours: [], rushDays: [] }), false);
});
