// An outcome as the JSON text a destination stores, shrunk to the destination's size limit when it is
// too large. Outcomes are never dropped for their size, and never shortened silently: a shortened text
// ends with TRUNCATION_MARKER, and whatever was left out is counted in a final OUTCOME_TRUNCATED error.
// A key over MAX_KEY_BYTES is always stored as its digest and length (see `boundedKey`).
import { OutcomeTooLargeError } from './errors.ts';
import { boundedKey, keyDigest, type Outcome, type OutcomeError } from './outcome.ts';

export interface EncodedOutcome {
  body: string;
  /** UTF-8 length of `body`. */
  bytes: number;
  /** Whether anything was shortened or left out to fit the limit. */
  truncated: boolean;
}

/** Appended to an error message or key that was shortened. */
export const TRUNCATION_MARKER = ' …[truncated]';
/** The code of the error entry that counts the errors and field names left out. */
export const TRUNCATED_CODE = 'OUTCOME_TRUNCATED';

/** Characters of a message or key that are kept before other parts of the outcome are cut. */
const MIN_TEXT = 256;

/**
 * Serializes an outcome, shortening it to at most `maxBytes` UTF-8 bytes: first the longest error
 * messages, then the errors after the first, then field lists, then the key (its digest). Throws
 * `OutcomeTooLargeError` when even that does not fit (a topic name near the limit).
 *
 * @example
 * const { body, truncated } = encodeOutcome(outcome, 262_144);
 */
export function encodeOutcome(outcome: Outcome, maxBytes: number): EncodedOutcome {
  const key = boundedKey(outcome.key);
  if (key !== outcome.key) outcome = { ...outcome, key };
  const body = json(outcome);
  const bytes = Buffer.byteLength(body);
  return bytes <= maxBytes ? { body, bytes, truncated: false } : shrink(outcome, maxBytes);
}

interface Draft {
  outcome: Outcome;
  omittedErrors: number;
  omittedFields: number;
}

/** Each step shrinks the draft by about `excess` bytes, or returns false when it has nothing left to cut. */
type Step = (draft: Draft, excess: number) => boolean;

const steps: Step[] = [shortenLongestMessage, halveErrors, halveLongestFields, shortenKey];

function shrink(outcome: Outcome, maxBytes: number): EncodedOutcome {
  const draft: Draft = {
    outcome: { ...outcome, errors: outcome.errors.map((e) => ({ ...e, fields: [...e.fields] })) },
    omittedErrors: 0,
    omittedFields: 0,
  };
  let body = render(draft);
  let bytes = Buffer.byteLength(body);
  for (const step of steps) {
    while (bytes > maxBytes && step(draft, bytes - maxBytes)) {
      body = render(draft);
      bytes = Buffer.byteLength(body);
    }
  }
  if (bytes > maxBytes) {
    throw new OutcomeTooLargeError(
      `${outcome.topic}-${outcome.partition}@${outcome.offset}`,
      bytes,
      maxBytes,
    );
  }
  return { body, bytes, truncated: true };
}

function render(draft: Draft): string {
  const { omittedErrors, omittedFields } = draft;
  if (omittedErrors === 0 && omittedFields === 0) return json(draft.outcome);
  const summary: OutcomeError = {
    code: TRUNCATED_CODE,
    message: `${omittedErrors} more error(s) and ${omittedFields} field name(s) were left out to fit the destination's message size limit`,
    fields: [],
  };
  return json({ ...draft.outcome, errors: [...draft.outcome.errors, summary] });
}

/**
 * JSON.stringify escapes control characters and lone surrogates but not U+FFFE/U+FFFF, which SQS
 * refuses in a message body (a permanent `InvalidMessageContents`); escaping them keeps the JSON equal.
 */
function json(value: Outcome | string): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function shortenLongestMessage(draft: Draft, excess: number): boolean {
  let longest: OutcomeError | undefined;
  for (const error of draft.outcome.errors) {
    if (!longest || untruncated(error.message).length > untruncated(longest.message).length) longest = error;
  }
  if (!longest) return false;
  const shortened = shorten(longest.message, excess);
  if (shortened === undefined) return false;
  longest.message = shortened;
  return true;
}

function halveErrors(draft: Draft): boolean {
  const { errors } = draft.outcome;
  if (errors.length <= 1) return false;
  const keep = Math.ceil(errors.length / 2);
  draft.omittedErrors += errors.length - keep;
  draft.outcome.errors = errors.slice(0, keep);
  return true;
}

function halveLongestFields(draft: Draft): boolean {
  let longest: OutcomeError | undefined;
  for (const error of draft.outcome.errors) {
    if (!longest || error.fields.length > longest.fields.length) longest = error;
  }
  if (!longest || longest.fields.length === 0) return false;
  const keep = Math.floor(longest.fields.length / 2);
  draft.omittedFields += longest.fields.length - keep;
  longest.fields = longest.fields.slice(0, keep);
  return true;
}

/** The key as its digest and length: still identifies the record, at a fixed size. */
function shortenKey(draft: Draft): boolean {
  const key = draft.outcome.key;
  if (key === null) return false;
  const digest = keyDigest(key);
  if (digest.length >= key.length) return false;
  draft.outcome.key = digest;
  return true;
}

/**
 * The text cut so that its JSON is at least `excess` bytes shorter (or to MIN_TEXT characters), with
 * the marker; undefined when it is that short already.
 */
function shorten(text: string, excess: number): string | undefined {
  const base = untruncated(text);
  if (base.length <= MIN_TEXT) return undefined;
  const budget = jsonBytes(text) - excess;
  const fits = (keep: number) => jsonBytes(cut(base, keep) + TRUNCATION_MARKER) <= budget;
  // The longest prefix that fits: a binary search, as the JSON size of a prefix grows with its length.
  let low = MIN_TEXT;
  let high = base.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return cut(base, low) + TRUNCATION_MARKER;
}

/** The first `keep` UTF-16 units, one fewer when the last would be half a surrogate pair. */
function cut(text: string, keep: number): string {
  const last = text.charCodeAt(keep - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? keep - 1 : keep);
}

function jsonBytes(text: string): number {
  return Buffer.byteLength(json(text));
}

function untruncated(text: string): string {
  return text.endsWith(TRUNCATION_MARKER) ? text.slice(0, -TRUNCATION_MARKER.length) : text;
}
