import { SETTINGS } from '../src/config/settings.ts';

/** Every name the gateway reads from the environment, from the one settings table. */
const GATEWAY_SETTINGS: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.name));

/**
 * The environment of a gateway (or simulator) child process: this process's environment
 * without any gateway setting a developer's shell may hold (a stray FILL_GRACE_MS would
 * change what a test or the benchmark measures) or NODE_OPTIONS, plus `settings`.
 */
export function childEnv(settings: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !GATEWAY_SETTINGS.has(name) && name !== 'NODE_OPTIONS') inherited[name] = value;
  }
  return { ...inherited, ...extra, ...settings };
}
