import type { Calendar } from '../bars/calendar.ts';
import { fetchMarketCalendar } from '../feed/market-status.ts';
import type { Logger } from '../ops/logger.ts';
import type { CleanupStack } from './cleanup-stack.ts';

const REFRESH_MS = 6 * 60 * 60 * 1000;

/**
 * Holidays and early closes from the vendor, at start and every 6 hours; the built-in table
 * stands in when the vendor cannot be reached.
 */
export async function keepCalendarCurrent(calendar: Calendar, rest: { restUrl: string; apiKey: string }, log: Logger, cleanup: CleanupStack): Promise<void> {
  const learn = async (): Promise<void> => {
    try {
      const overrides = await fetchMarketCalendar({ restUrl: rest.restUrl, apiKey: rest.apiKey, timeoutMs: 5000 });
      calendar.install(overrides);
      log.info(
        { holidays: Object.keys(overrides.holidays ?? {}).length, earlyCloses: Object.keys(overrides.earlyCloses ?? {}).length },
        'market calendar learned from /v1/marketstatus/upcoming',
      );
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'market calendar unavailable; using the built-in holiday table');
    }
  };
  await learn();
  const timer = setInterval(() => void learn(), REFRESH_MS);
  timer.unref();
  cleanup.push('calendar refresh', () => clearInterval(timer));
}
