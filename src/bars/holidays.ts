/**
 * Built-in NYSE full holidays and early closes, the fallback used when the gateway has not
 * (yet) learned the calendar from Polygon's `/v1/marketstatus/upcoming`.
 *
 * Source: NYSE Group's published calendars ("NYSE Group Announces 2025, 2026 and 2027
 * Holiday and Early Closings Calendar", 2024-11-08, and the 2026-2028 release of
 * 2025-12-23), cross-checked against the rules below (test/unit/calendar.test.ts derives
 * the regular holidays independently from these rules and compares).
 *
 * Rules (NYSE Rule 7.2):
 * - Fixed-date holidays (New Year's Day, Juneteenth, Independence Day, Christmas) falling on
 *   a Sunday are observed the Monday after; on a Saturday, the Friday before — except when
 *   that Friday ends a monthly or yearly accounting period (so New Year's Day on a Saturday,
 *   e.g. 2028-01-01, is not observed at all, and 2027-12-31 is a normal trading day).
 * - MLK Day: 3rd Monday of January. Washington's Birthday: 3rd Monday of February.
 *   Memorial Day: last Monday of May. Labor Day: 1st Monday of September.
 *   Thanksgiving: 4th Thursday of November. Good Friday: two days before (Gregorian) Easter.
 * - One-off closure: 2025-01-09, national day of mourning for President Jimmy Carter.
 * - Early closes at 13:00 New York time: the day after Thanksgiving; Christmas Eve when it
 *   is a weekday and Christmas itself is not observed on it (no early close in 2027, when
 *   Dec 24 is the observed Christmas holiday); July 3 when it is a weekday and not itself
 *   the observed Independence Day (2025: Thu Jul 3 closes early; 2026: Jul 3 is the observed
 *   holiday, Jul 2 trades a full day; 2027: Jul 3 is a Saturday, Fri Jul 2 trades a full day).
 * - Extended-hours ("late trading") sessions end at 17:00 on early-close days.
 * - Not closures: New Year's Eve (full day), 2025-12-26 (federal agencies closed by executive
 *   order, NYSE and Nasdaq open), the Friday after an observed-Saturday New Year.
 */

/** Calendar years the built-in table covers; outside them only weekends are closed. */
export const BUILTIN_TABLE_YEARS: readonly number[] = [2025, 2026, 2027];

/** New York date (YYYY-MM-DD) -> holiday name: the exchange is closed all day. */
export const NYSE_HOLIDAYS: Readonly<Record<string, string>> = Object.freeze({
  // 2025
  '2025-01-01': "New Year's Day",
  '2025-01-09': 'National Day of Mourning (President Carter)',
  '2025-01-20': 'Martin Luther King, Jr. Day',
  '2025-02-17': "Washington's Birthday",
  '2025-04-18': 'Good Friday',
  '2025-05-26': 'Memorial Day',
  '2025-06-19': 'Juneteenth National Independence Day',
  '2025-07-04': 'Independence Day',
  '2025-09-01': 'Labor Day',
  '2025-11-27': 'Thanksgiving Day',
  '2025-12-25': 'Christmas Day',
  // 2026
  '2026-01-01': "New Year's Day",
  '2026-01-19': 'Martin Luther King, Jr. Day',
  '2026-02-16': "Washington's Birthday",
  '2026-04-03': 'Good Friday',
  '2026-05-25': 'Memorial Day',
  '2026-06-19': 'Juneteenth National Independence Day',
  '2026-07-03': 'Independence Day (observed)',
  '2026-09-07': 'Labor Day',
  '2026-11-26': 'Thanksgiving Day',
  '2026-12-25': 'Christmas Day',
  // 2027
  '2027-01-01': "New Year's Day",
  '2027-01-18': 'Martin Luther King, Jr. Day',
  '2027-02-15': "Washington's Birthday",
  '2027-03-26': 'Good Friday',
  '2027-05-31': 'Memorial Day',
  '2027-06-18': 'Juneteenth National Independence Day (observed)',
  '2027-07-05': 'Independence Day (observed)',
  '2027-09-06': 'Labor Day',
  '2027-11-25': 'Thanksgiving Day',
  '2027-12-24': 'Christmas Day (observed)',
});

/** New York date -> regular-session close, `HH:MM` New York time. */
export const NYSE_EARLY_CLOSES: Readonly<Record<string, string>> = Object.freeze({
  '2025-07-03': '13:00', // day before Independence Day
  '2025-11-28': '13:00', // day after Thanksgiving
  '2025-12-24': '13:00', // Christmas Eve
  '2026-11-27': '13:00', // day after Thanksgiving
  '2026-12-24': '13:00', // Christmas Eve
  '2027-11-26': '13:00', // day after Thanksgiving
});
