/**
 * Night and rush-hour windows, judged on the car's local clock (the caller converts a timestamp
 * with the UTC offset of the time zone at the car's position: see localClock). Night driving
 * carries a higher crash risk per km (darkness, fatigue, alcohol); rush hours carry more
 * congestion and rear-end collisions. Public holidays are not treated specially.
 */

/** A window of the day in minutes since local midnight, [startMin, endMin); may wrap past midnight. */
export interface DayWindow {
  startMin: number;
  endMin: number;
}

export interface TimeOfDayConfig {
  /** Night, default 22:00–05:00. */
  night: DayWindow;
  /** Rush-hour windows on rush days, default 07:00–09:00 and 16:00–19:00. */
  rushHours: readonly DayWindow[];
  /** Days that have rush hours, 0 = Sunday … 6 = Saturday; default Monday to Friday. */
  rushDays: readonly number[];
}

export const DEFAULT_TIME_OF_DAY_CONFIG: TimeOfDayConfig = {
  night: { startMin: 22 * 60, endMin: 5 * 60 },
  rushHours: [
    { startMin: 7 * 60, endMin: 9 * 60 },
    { startMin: 16 * 60, endMin: 19 * 60 },
  ],
  rushDays: [1, 2, 3, 4, 5],
};

const MINUTES_PER_DAY = 24 * 60;

/** Whether a minute of the day lies in a window; a window with start > end wraps past midnight. */
export function inWindow(minutesOfDay: number, window: DayWindow): boolean {
  const m = ((minutesOfDay % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return window.startMin <= window.endMin
    ? m >= window.startMin && m < window.endMin
    : m >= window.startMin || m < window.endMin;
}

export function isNight(localMinutesOfDay: number, config: TimeOfDayConfig = DEFAULT_TIME_OF_DAY_CONFIG): boolean {
  return inWindow(localMinutesOfDay, config.night);
}

/** dayOfWeek: 0 = Sunday … 6 = Saturday, on the local clock. */
export function isRushHour(
  localMinutesOfDay: number,
  dayOfWeek: number,
  config: TimeOfDayConfig = DEFAULT_TIME_OF_DAY_CONFIG,
): boolean {
  return config.rushDays.includes(dayOfWeek) && config.rushHours.some((w) => inWindow(localMinutesOfDay, w));
}

/** The local clock at an instant, given the UTC offset in force there (east of Greenwich positive). */
export function localClock(tsMs: number, utcOffsetMinutes: number): { minutesOfDay: number; dayOfWeek: number } {
  const local = new Date(tsMs + utcOffsetMinutes * 60_000);
  return {
    minutesOfDay: local.getUTCHours() * 60 + local.getUTCMinutes() + local.getUTCSeconds() / 60,
    dayOfWeek: local.getUTCDay(),
  };
}
