// The org's health as every invocation of one deployment sees it: when Salesforce refuses the sink for
// a reason of the whole org (credentials, limits, outages), one small item records the condition and
// when to try next, so concurrent invocations hold their partitions instead of each hammering a
// refusing org, and the wait grows while the condition lasts (15 s, 30 s, … up to 5 minutes).
import type { OrgCondition } from '../salesforce/index.ts';

export interface OrgHealth extends OrgCondition {
  /** When the condition was first met (ISO). */
  since: string;
  /** Times it was met in a row. */
  attempts: number;
  /** Epoch ms before which nobody calls Salesforce again. */
  nextTryAt: number;
  /** Optimistic-lock version (raised by reports and probe claims alike). */
  version: number;
  /** Identifies this run of the condition: set when the item is created, kept by every report. */
  episode?: string;
}

export interface OrgHealthStore {
  /** How far out each try moves the next one. */
  readonly pacing: HoldPacing;
  get(group: string): Promise<OrgHealth | undefined>;
  /** Records the condition (again): `attempts` grows, `nextTryAt` moves out by the backoff. */
  report(group: string, condition: OrgCondition, now: number): Promise<OrgHealth>;
  /**
   * Claims the next probe: moves `nextTryAt` out by the backoff if nobody did since `seen` was read.
   * True for exactly one of the invocations that try at once.
   */
  claimProbe(group: string, seen: OrgHealth, now: number): Promise<boolean>;
  /**
   * The condition cleared: forget it — unless it was reported again since `claimed` (the health this
   * invocation saw before its probe) was read, or cleared and reported anew: such a report is kept.
   * Other probes' claims do not count as reports.
   */
  clear(group: string, claimed?: OrgHealth): Promise<void>;
}

/** The waits between tries while a condition lasts: doubling from `firstMs` up to `maxMs`. */
export interface HoldPacing {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_PACING: HoldPacing = { firstMs: 15_000, maxMs: 5 * 60_000 };

/**
 * How long to wait before trying again after the condition was met `attempts` times in a row.
 *
 * @example
 * holdBackoff(1); // 15000
 * holdBackoff(9); // 300000
 */
export function holdBackoff(attempts: number, pacing: HoldPacing = DEFAULT_PACING): number {
  return Math.min(pacing.maxMs, pacing.firstMs * 2 ** Math.max(0, attempts - 1));
}
