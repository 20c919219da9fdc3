/**
 * The vendor re-sends a bar when late trades change it, for up to about 15 minutes. A
 * backfill re-reads that many minutes before a symbol's newest bar, and the ledger keeps
 * twice that much history, so a correction sent while the socket was down still reaches
 * consumers as the next revision.
 */
export const CORRECTION_WINDOW_MINUTES = 15;
