/**
 * New York wall-clock time of an instant, DST-correct (via Intl). The regular session, the
 * `barId` of the price contract and the vendor's market-status dates are all defined in it,
 * so every module that needs it reads it from here.
 */

export interface NewYorkWall {
  year: number;
  month: number;
  day: number;
  /** 0-23. */
  hour: number;
  minute: number;
  second: number;
  /** Mon, Tue, ... */
  weekday: string;
}

const FORMAT = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  weekday: 'short',
});

export function newYorkWall(ms: number): NewYorkWall {
  const wall: NewYorkWall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: '' };
  for (const part of FORMAT.formatToParts(ms)) {
    switch (part.type) {
      case 'year':
        wall.year = Number(part.value);
        break;
      case 'month':
        wall.month = Number(part.value);
        break;
      case 'day':
        wall.day = Number(part.value);
        break;
      case 'hour':
        wall.hour = Number(part.value) % 24;
        break;
      case 'minute':
        wall.minute = Number(part.value);
        break;
      case 'second':
        wall.second = Number(part.value);
        break;
      case 'weekday':
        wall.weekday = part.value;
        break;
      default:
        break;
    }
  }
  return wall;
}

/** `YYYY-MM-DD` of a wall time. */
export function wallDate(wall: NewYorkWall): string {
  return `${String(wall.year).padStart(4, '0')}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

/** New York's offset from UTC at an instant, in ms (e.g. -4 h in summer). */
export function newYorkOffsetMs(ms: number): number {
  const w = newYorkWall(ms);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}
