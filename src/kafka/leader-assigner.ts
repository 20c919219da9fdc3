import type { PartitionAssigner } from 'kafkajs';
import kafkajs from './kafkajs.ts';
import { chooseLeader, decodeClaim, encodeClaim } from './leader-choice.ts';

const { MemberAssignment, MemberMetadata } = kafkajs.AssignerProtocol;

/** The name every gateway of a group announces; members must agree on it to join. */
export const LEADER_ASSIGNER = 'SentioLeaderAssigner';

/**
 * kafkajs's round-robin assigner gives the one partition to the lowest member id, so every
 * standby that joins could take the role from a healthy leader. This one gives it by
 * `chooseLeader`: each member's join carries its claim (`leadingSince`), read at join time.
 */
export function leaderAssigner(topic: string, leadingSince: () => number | null): PartitionAssigner {
  return () => ({
    name: LEADER_ASSIGNER,
    version: 1,
    async assign({ members }) {
      const claims = members.map((m) => ({ memberId: m.memberId, leadingSince: decodeClaim(MemberMetadata.decode(m.memberMetadata)?.userData) }));
      const leader = chooseLeader(claims);
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: MemberAssignment.encode({ version: 1, assignment: m.memberId === leader ? { [topic]: [0] } : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: LEADER_ASSIGNER, metadata: MemberMetadata.encode({ version: 1, topics, userData: encodeClaim(leadingSince()) }) };
    },
  });
}
