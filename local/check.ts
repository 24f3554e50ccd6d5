// `sfsink check`: the preflight an operator runs before deploying or after changing a mapping. Logs in
// (saying with which flow), reads the org's limits, describes every mapped sObject, checks each
// external id field, and — given events — says per topic what would be written, dropped or rejected,
// and why. A table of ✓/✗ with the fix for each ✗; exit 0 only when everything passes. Read-only:
// the token request, /limits and describes, never a write.
import { loadConfigFile, type SinkConfig } from '../lib/config/index.ts';
import type { SalesforceCredentials } from '../lib/salesforce/index.ts';
import { readCredentialsFile } from './credentials-file.ts';
import { readEventFiles } from './events/read-event.ts';
import {
  type CheckRow,
  type OrgView,
  previewEvents,
  refusalRow,
  type TopicPreview,
  viewOrg,
} from './preflight.ts';
import { parseCliArgs, UsageError } from './usage-error.ts';

export const CHECK_HELP = `Usage: sfsink check --config <file> --credentials <file> [--events <path>…]

Checks that the sink can work with the org, writing nothing: the login (and its flow), the daily API
and Bulk API allowances, every mapped sObject and external id field, and — with --events — what would
become of each record (written, fields dropped, rejected and why). Exits 0 only when every check
passes, 1 when one fails.

Options:
  --config <file>        sink configuration (JSON or YAML)               required
  --credentials <file>   the Salesforce secret's JSON                    required
  --events <path>        event files or folders to try; repeatable
  --json                 the checks as JSON
  -h, --help
`;

const percent = (used: number, max: number) => (max > 0 ? `${((100 * used) / max).toFixed(1)} %` : 'n/a');
const count = (n: number) => n.toLocaleString('en-US');

async function orgRows(
  config: SinkConfig,
  credentials: SalesforceCredentials,
  view: OrgView,
): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const limits = await view.client.limits({ deadline: Date.now() + 60_000 });
  rows.unshift({
    ok: true,
    what: 'login',
    detail: `${credentials.authType} flow, ${new URL(credentials.loginUrl).host}`,
  });
  const api = limits.dailyApiRequests;
  const used = api.max - api.remaining;
  rows.push({
    ok: api.remaining > 0,
    what: 'API requests',
    detail: `${count(used)} of ${count(api.max)} used in the last 24 h (${percent(used, api.max)})`,
    ...(api.remaining > 0
      ? {}
      : {
          fix: 'the daily allowance is spent: calls succeed again as the rolling 24 h usage drops, or ask Salesforce for more',
        }),
  });
  if (config.mappings.some((m) => m.mode === 'bulk') && limits.dailyBulkApiBatches) {
    const bulk = limits.dailyBulkApiBatches;
    rows.push({
      ok: bulk.remaining > 0,
      what: 'Bulk API batches',
      detail: `${count(bulk.remaining)} of ${count(bulk.max)} left today`,
      ...(bulk.remaining > 0
        ? {}
        : { fix: 'no bulk batches left today: wait, or map the topics realtime for now' }),
    });
  }
  for (const mapping of config.mappings) {
    const problem = view.problems.get(mapping);
    const schema = view.schemas.get(mapping.sobject);
    const what = `${mapping.topic} → ${mapping.sobject}`;
    if (problem) {
      rows.push({ ok: false, what, detail: problem.code, fix: problem.message });
      continue;
    }
    const operation = mapping.eventType === 'honour' ? 'operation by _EventType' : mapping.operation;
    const ext = mapping.externalIdField
      ? schema!.fields.get(mapping.externalIdField.toLowerCase())
      : undefined;
    const detail = ext
      ? `${operation}, ${mapping.mode}; ${ext.name}: External ID, ${ext.type}`
      : `${operation}, ${mapping.mode}; ${schema!.fields.size} fields`;
    rows.push({ ok: true, what, detail });
  }
  return rows;
}

function topicRows(topics: readonly TopicPreview[]): { rows: CheckRow[]; notes: string[] } {
  const rows: CheckRow[] = [];
  const notes: string[] = [];
  for (const t of topics) {
    const written = [...t.operations.values()].reduce((a, b) => a + b, 0);
    const ops = [...t.operations].map(([op, n]) => `${op} ${n}`).join(', ');
    const codes = new Map<string, { n: number; example: string }>();
    for (const { record, rejection } of t.rejections) {
      const c = codes.get(rejection.code) ?? {
        n: 0,
        example: `partition ${record.partition} offset ${record.offset}: ${rejection.message}`,
      };
      c.n++;
      codes.set(rejection.code, c);
    }
    const ok = t.rejections.length === 0 && t.invalid === 0;
    rows.push({
      ok,
      what: `events of ${t.topic}`,
      detail: `${t.records} records: ${written} would be written${ops ? ` (${ops})` : ''}, ${t.rejections.length} rejected${t.invalid ? `, ${t.invalid} fail (mapping)` : ''}`,
      ...(ok
        ? {}
        : {
            fix:
              [...codes].map(([code, c]) => `${code} ${c.n}×, e.g. ${c.example}`).join('\n') ||
              'fix the mapping above',
          }),
    });
    for (const [field, d] of t.dropped)
      notes.push(`  ${t.topic}: ${field} left out of ${d.count} record(s): ${d.why}`);
  }
  return { rows, notes };
}

/**
 * Runs the check command; returns the exit code.
 *
 * @example
 * await check(['--config', 'config.json', '--credentials', 'secret.json', '--events', 'events/']);
 */
export async function check(args: string[]): Promise<number> {
  const { values } = parseCliArgs('check', args, {
    config: { type: 'string' },
    credentials: { type: 'string' },
    events: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  if (!values.config) throw new UsageError('check needs --config <file>');
  if (!values.credentials) throw new UsageError('check needs --credentials <file> (the secret JSON)');
  const config = loadConfigFile(values.config);
  const credentials = readCredentialsFile(values.credentials);
  const events = values.events ? readEventFiles(values.events) : [];
  let rows: CheckRow[];
  let notes: string[] = [];
  try {
    const view = await viewOrg(config, credentials);
    rows = await orgRows(config, credentials, view);
    const preview = topicRows(
      previewEvents(
        events.map((e) => e.event),
        config,
        view,
      ),
    );
    rows.push(...preview.rows);
    notes = preview.notes;
  } catch (error) {
    const refused = refusalRow(error);
    if (!refused) throw error;
    rows = [refused];
  }
  if (values.json)
    process.stdout.write(
      `${JSON.stringify({ ok: rows.every((r) => r.ok), checks: rows, notes }, null, 2)}\n`,
    );
  else process.stdout.write(`${formatChecks(rows, notes)}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

/**
 * The check table: one line per check, the fix of a failed one on the next line.
 *
 * @example
 * formatChecks([{ ok: true, what: 'login', detail: 'client_credentials flow' }], []);
 * // '  ✓ login                       client_credentials flow\n\nall checks passed'
 */
export function formatChecks(rows: readonly CheckRow[], notes: readonly string[]): string {
  const width = Math.min(34, Math.max(...rows.map((r) => r.what.length)));
  const lines = rows.flatMap((r) => [
    `  ${r.ok ? '✓' : '✗'} ${r.what.padEnd(width)}  ${r.detail}`,
    ...(r.fix ? r.fix.split('\n').map((line, i) => `      ${i === 0 ? 'fix: ' : '     '}${line}`) : []),
  ]);
  const failed = rows.filter((r) => !r.ok).length;
  return [
    ...lines,
    ...(notes.length > 0 ? ['', 'fields left out (not an error):', ...notes] : []),
    '',
    failed === 0 ? 'all checks passed' : `${failed} check(s) failed`,
  ].join('\n');
}
