/**
 * Holidays and early closes learned at run time (from the vendor's
 * /v1/marketstatus/upcoming); they override the built-in NYSE table per date.
 */
export interface CalendarOverrides {
  /** New York date (YYYY-MM-DD) -> holiday name: closed all day. */
  holidays?: Record<string, string>;
  /** New York date (YYYY-MM-DD) -> regular close `HH:MM` New York time (09:31..16:00). */
  earlyCloses?: Record<string, string>;
}
