/** What a gateway of an HA group tells the group each time it joins (the member's userData). */
export interface LeaderClaim {
  memberId: string;
  /** When this member took the lead (epoch ms, its own clock); null when it does not lead. */
  leadingSince: number | null;
}

/**
 * Who holds the coordination partition after a rebalance. Sticky: a member that leads keeps
 * the role, so a standby joining (a restart, a rolling update) never moves it and the leader's
 * vendor socket stays open. If more than one claims it (an ex-leader woke from a freeze before
 * it learned it was replaced), the newest claim wins: the older one's producer has been fenced
 * already. With no claim, the first member by id leads. null for an empty group.
 */
export function chooseLeader(members: readonly LeaderClaim[]): string | null {
  let best: LeaderClaim | null = null;
  for (const m of members) {
    if (best === null || ranksBefore(m, best)) best = m;
  }
  return best?.memberId ?? null;
}

function ranksBefore(a: LeaderClaim, b: LeaderClaim): boolean {
  if (a.leadingSince !== null || b.leadingSince !== null) {
    if (b.leadingSince === null) return true;
    if (a.leadingSince === null) return false;
    if (a.leadingSince !== b.leadingSince) return a.leadingSince > b.leadingSince;
  }
  return a.memberId < b.memberId;
}

/** The claim as it travels in the group protocol's userData. */
export function encodeClaim(leadingSince: number | null): Buffer {
  return Buffer.from(JSON.stringify({ leadingSince }), 'utf8');
}

/** A claim that cannot be read (another version, another client) claims nothing. */
export function decodeClaim(userData: Buffer | null | undefined): number | null {
  if (userData === null || userData === undefined || userData.length === 0) return null;
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { leadingSince?: unknown };
    return typeof parsed.leadingSince === 'number' && Number.isFinite(parsed.leadingSince) ? parsed.leadingSince : null;
  } catch {
    return null;
  }
}
