// First, for its side effect: the fixes must be installed before kafkajs loads its producer
// (see kafkajs-fixes.ts).
import './kafkajs-fixes.ts';
import kafkajs from 'kafkajs';

/**
 * The one door to kafkajs: every module of ours imports kafkajs from here, so the fixes in
 * `kafkajs-fixes.ts` are in place before any client exists.
 */
export default kafkajs;
