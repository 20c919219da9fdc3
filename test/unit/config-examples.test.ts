import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { loadConfig } from '../../src/config/load-config.ts';
import { SETTINGS } from '../../src/config/settings.ts';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const known = new Set<string>(SETTINGS.map((s) => s.name));

/** The example files, each with the Compose file that reads it for its variables. */
const EXAMPLES = [
  { file: 'config/live.env', compose: 'docker-compose.polygon.yml', simulated: false },
  { file: 'config/sim.env', compose: 'docker-compose.sim.yml', simulated: true },
] as const;

for (const example of EXAMPLES) {
  test(`${example.file}: every name is a setting, every value passes validation, and it covers ${example.compose}'s variables`, () => {
    // Parsed as `node --env-file` parses it.
    const values = parseEnv(read(example.file));
    const names = Object.keys(values);
    assert.ok(names.length >= 8, `${example.file} sets the usual settings`);
    assert.deepEqual(
      names.filter((n) => !known.has(n)),
      [],
      'unknown names',
    );
    assert.equal(values['POLYGON_API_KEY'], undefined, 'no key is ever written in an example file');
    // The live example expects the key from the shell, as its comments say.
    const env = example.simulated ? values : { ...values, POLYGON_API_KEY: 'example-key-0123456789' };
    const { config } = loadConfig(env);
    assert.equal(config.simulated, example.simulated);
    const composeSettings = [...read(example.compose).matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!).filter((n) => known.has(n) && n !== 'POLYGON_API_KEY');
    assert.deepEqual(
      [...new Set(composeSettings)].filter((n) => !names.includes(n)),
      [],
      `every setting ${example.compose} interpolates has a line in ${example.file}`,
    );
    assert.ok(read(example.compose).includes(`--env-file ${example.file}`), `${example.compose} says how to use ${example.file}`);
    assert.ok(read('README.md').includes(example.file), `the README refers to ${example.file}`);
  });
}
