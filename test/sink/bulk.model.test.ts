// The bulk job lifecycle through random histories (see test/support/bulk-model.ts for what they do and
// check); `npm run soak -- --bulk-histories 2000` runs many more.
import { expect, it } from 'vitest';
import { runBulkHistories } from '../support/bulk-model.ts';

it('keeps every invariant of the bulk job lifecycle through 200 random histories', async () => {
  expect(await runBulkHistories({ runs: 200 })).toBeGreaterThanOrEqual(200);
}, 900_000);
