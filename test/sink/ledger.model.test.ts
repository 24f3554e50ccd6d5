// The delivery ledger through random histories (see test/support/ledger-model.ts for what they do and
// check); `npm run soak -- --ledger-histories 5000` runs many more.
import { expect, it } from 'vitest';
import { runLedgerHistories } from '../support/ledger-model.ts';

it('keeps every invariant of the delivery ledger through 300 random histories', async () => {
  expect(await runLedgerHistories({ runs: 300 })).toBeGreaterThanOrEqual(300);
}, 900_000);
