import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLeader, decodeClaim, encodeClaim, type LeaderClaim } from '../../src/kafka/leader-choice.ts';

const standby = (memberId: string): LeaderClaim => ({ memberId, leadingSince: null });
const leading = (memberId: string, since: number): LeaderClaim => ({ memberId, leadingSince: since });

test('with no claim, the first member by id leads, whatever the order they are listed in', () => {
  const members = [standby('gw-c'), standby('gw-a'), standby('gw-b')];
  const first = [...members].map((m) => m.memberId).sort()[0];
  assert.equal(chooseLeader(members), first);
  assert.equal(chooseLeader([...members].reverse()), first);
});

test('a member that leads keeps the role when a standby with a lower id joins', () => {
  assert.equal(chooseLeader([standby('aaa-new-standby'), leading('zzz-leader', 1_000)]), 'zzz-leader');
});

test('two claims (an ex-leader woke up): the newer claim wins', () => {
  const older = leading('a', 1_000);
  const newer = leading('b', 61_000);
  assert.equal(chooseLeader([older, newer]), 'b');
  assert.equal(chooseLeader([newer, older]), 'b');
  // Equal claims fall back to the member id, so every assigner agrees.
  assert.equal(chooseLeader([leading('y', 5), leading('x', 5)]), 'x');
});

test('an empty group has no leader', () => {
  assert.equal(chooseLeader([]), null);
});

test('a claim survives its encoding; unreadable user data claims nothing', () => {
  assert.equal(decodeClaim(encodeClaim(1_234_567)), 1_234_567);
  assert.equal(decodeClaim(encodeClaim(null)), null);
  assert.equal(decodeClaim(Buffer.from('not json')), null);
  assert.equal(decodeClaim(Buffer.from('{"leadingSince":"soon"}')), null);
  assert.equal(decodeClaim(Buffer.alloc(0)), null);
  assert.equal(decodeClaim(null), null);
});
