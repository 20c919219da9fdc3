/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`) over chosen time windows:
 * top functions by self and by inclusive time, and time by component (kafkajs, ws, the
 * gateway's own files, GC, ...). Percentages are of the window's busy (non-idle) samples.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Window } from './profile-window.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  frame: string;
  component: string;
  pct: number;
}

export interface ProfileSummary {
  window: string;
  seconds: number;
  samples: number;
  idlePct: number;
  /** Self time of the leaf frame, by component. */
  byComponent: { component: string; pct: number }[];
  /** Self time attributed to the nearest non-builtin frame's component (who asked for the work). */
  byOwner: { component: string; pct: number }[];
  topSelf: FrameShare[];
  topInclusive: FrameShare[];
  /** Inclusive share of the hot-path stages worth watching (see FOCUS). */
  focus: { stage: string; pct: number }[];
}

/**
 * Stages of the gateway's hot path, by the frame that does them (inclusive time): what an
 * optimisation should move. A sample counts once per stage however deep the recursion.
 */
const FOCUS: { stage: string; match: RegExp }[] = [
  // The gateway runs compiled (dist/*.js, as in the image); src/*.ts when run from source.
  { stage: 'parseFrame (JSON.parse + validation)', match: /^parseFrame .*(src|dist)\/feed\/parse-frame\.[jt]s/ },
  { stage: 'normalizeAggregate', match: /^normalizeAggregate / },
  { stage: 'formatTsET', match: /^formatTsET / },
  { stage: 'BarLedger.admit', match: /^admit .*(src|dist)\/bars\/ledger\.[jt]s/ },
  { stage: 'priceMessage (JSON.stringify + headers)', match: /^priceMessage / },
  { stage: 'prom-client counters', match: /prom-client\/lib\/counter\.js/ },
  { stage: 'kafkajs produce request encoding', match: /kafkajs\/src\/protocol\/requests\/produce\/v3\/request\.js/ },
  { stage: 'partition grouping (kafkajs-fixes)', match: /^groupMessagesPerPartition .*kafkajs-fixes\.[jt]s/ },
  { stage: 'partition choice (key-partitioner + kafkajs)', match: /key-partitioner\.[jt]s|kafkajs\/src\/producer\/partitioners\// },
  { stage: 'record encoding (record-encoder)', match: /^encodeRecord .*kafka\/record-encoder\.[jt]s/ },
  { stage: 'record batch CRC-32C (crc32c)', match: /^crc32c .*kafka\/crc32c\.[jt]s/ },
  { stage: 'kafkajs response decode', match: /kafkajs\/src\/protocol\/decoder\.js/ },
  { stage: 'ws receive', match: /^receiverOnMessage ws\// },
  { stage: 'garbage collector', match: /^\(garbage collector\)/ },
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function component(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (unattributed)';
  if (functionName === '(root)') return 'root';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (m) return m[1]!;
  for (const dir of ['/src/', '/dist/']) if (url.includes(dir)) return `gateway ${url.slice(url.indexOf(dir) + 1)}`;
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return 'V8 builtins';
  return url.replace(`file://${ROOT}`, '');
}

function frameName(frame: CallFrame): string {
  const where = frame.url === '' ? '' : ` ${frame.url.replace(`file://${ROOT}`, '').replace(/^.*node_modules\//, '')}:${frame.lineNumber + 1}`;
  return `${frame.functionName || '(anonymous)'}${where}`;
}

/** Attributable to code that chose to do the work (not a builtin, not node's internals). */
function isOwner(frame: CallFrame): boolean {
  return frame.url !== '' && !frame.url.startsWith('node:');
}

export function summariseProfile(path: string, windows: Window[], top = 15): ProfileSummary[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const times = new Array<number>(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    times[i] = t;
  }
  const all: Window = { name: 'whole process', startUs: profile.startTime, endUs: profile.endTime };
  return [...windows, all].map((w) => {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const comp = new Map<string, number>();
    const owner = new Map<string, number>();
    const focus = new Map<string, number>();
    const frameComponent = new Map<string, string>();
    let total = 0;
    let idle = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const at = times[i]!;
      if (at < w.startUs || at > w.endUs) continue;
      total += 1;
      const leaf = byId.get(profile.samples[i]!)!;
      if (leaf.callFrame.functionName === '(idle)') {
        idle += 1;
        continue;
      }
      const leafName = frameName(leaf.callFrame);
      frameComponent.set(leafName, component(leaf.callFrame));
      self.set(leafName, (self.get(leafName) ?? 0) + 1);
      const c = component(leaf.callFrame);
      comp.set(c, (comp.get(c) ?? 0) + 1);
      const seen = new Set<string>();
      let ownerComponent: string | null = null;
      for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
        const node = byId.get(id)!;
        const name = frameName(node.callFrame);
        if (ownerComponent === null && isOwner(node.callFrame)) ownerComponent = component(node.callFrame);
        if (!seen.has(name)) {
          seen.add(name);
          frameComponent.set(name, component(node.callFrame));
          inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
        }
      }
      for (const { stage, match } of FOCUS) {
        for (const name of seen) {
          if (match.test(name)) {
            focus.set(stage, (focus.get(stage) ?? 0) + 1);
            break;
          }
        }
      }
      const o = ownerComponent ?? c;
      owner.set(o, (owner.get(o) ?? 0) + 1);
    }
    const busy = total - idle;
    const pct = (n: number): number => (busy === 0 ? 0 : Math.round((n / busy) * 1000) / 10);
    const ranked = (m: Map<string, number>, n: number): FrameShare[] =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([frame, count]) => ({ frame, component: frameComponent.get(frame) ?? '', pct: pct(count) }));
    return {
      window: w.name,
      seconds: Math.round((w.endUs - w.startUs) / 1e5) / 10,
      samples: total,
      idlePct: total === 0 ? 0 : Math.round((idle / total) * 1000) / 10,
      byComponent: [...comp]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([component, n]) => ({ component, pct: pct(n) })),
      byOwner: [...owner]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([component, n]) => ({ component, pct: pct(n) })),
      topSelf: ranked(self, top),
      // Skip the frames every sample passes through (root, event loop plumbing above 90%).
      topInclusive: ranked(inclusive, top * 3)
        .filter((f) => f.pct < 90 && f.component !== 'root')
        .slice(0, top),
      focus: FOCUS.map(({ stage }) => ({ stage, pct: pct(focus.get(stage) ?? 0) })),
    };
  });
}
