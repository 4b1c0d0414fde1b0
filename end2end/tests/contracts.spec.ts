// Contracts (계약) as a manager works them: win a deal, create the contract
// from it in one step, give it an end date within 30 days and find it in the
// renewal queue, terminate it with a reason, and see it leave the queue.
// The same with JavaScript off: every contract page is a plain server form.

import {
  accountsOwnedBy,
  createDeal,
  displayName,
  expect,
  isoDate,
  koreanTag,
  open,
  randomDigits,
  ready,
  signIn,
  test,
} from './helpers';

const PARK = 'park.jihoon';

for (const javaScriptEnabled of [true, false]) {
  test.describe(javaScriptEnabled ? 'with JavaScript' : 'without JavaScript', () => {
    test.use({ javaScriptEnabled });

    test('a won deal becomes a contract, comes up for renewal and is terminated', async ({ page }) => {
      const tag = koreanTag(6);
      await signIn(page, PARK);
      const rows = await accountsOwnedBy(page, displayName(PARK));
      const href = (await rows.first().locator('td a').first().getAttribute('href')) ?? '';
      const accountId = href.split('/').pop() ?? '';
      const dealName = `운영 계약 ${tag}`;
      const dealId = await createDeal(page, {
        accountId,
        name: dealName,
        stage: 'won',
        amount: '2400000',
        closeDate: isoDate(-1),
      });

      // One step from the won deal: the form starts from it.
      await page.getByTestId('new-contract').click();
      await page.waitForURL(new RegExp(`/contracts/new\\?deal=${dealId}$`));
      await ready(page);
      const form = page.getByTestId('contract-form');
      await expect(form.locator('#f-title')).toHaveValue(dealName);
      await expect(form.locator('#f-amount')).toHaveValue('2400000');
      const number = `MSP-${randomDigits(8)}`;
      await form.locator('#f-contract_number').fill(number);
      await form.locator('#f-state').selectOption('signed');
      await form.locator('#f-start_date').fill(isoDate(-10));
      await form.locator('#f-end_date').fill(isoDate(20));
      await form.locator('button[type=submit]').click();
      await page.waitForURL((url) => /^\/contracts\/[0-9a-f-]{36}$/.test(url.pathname));
      await ready(page);
      await expect(page.getByTestId('contract-title')).toHaveText(dealName);
      await expect(page.getByTestId('contract-status')).toHaveText('유효');
      await expect(page.getByTestId('contract-monthly')).toContainText('2,400,000');
      const contractUrl = page.url();

      // The deal links to it.
      await open(page, `/deals/${dealId}`);
      await expect(page.getByTestId('contracts-section')).toContainText(number);

      // Its end date is 20 days away: it is in the 30-day renewal queue.
      await open(page, '/renewals?within=30');
      await expect(page.getByTestId('contract-list').getByRole('link', { name: dealName })).toBeVisible();

      // Terminated with a reason, it leaves the queue.
      await open(page, contractUrl);
      const terminate = page.getByTestId('terminate-form');
      await terminate.locator('#f-terminated_on').fill(isoDate(0));
      await terminate.locator('#f-reason').fill(`예산 축소 ${tag}`);
      await terminate.locator('button[type=submit]').click();
      await page.waitForURL((url) => url.searchParams.get('notice') === 'saved');
      await expect(page.getByTestId('contract-status')).toHaveText('해지');
      await expect(page.getByTestId('contract-termination')).toHaveText(`예산 축소 ${tag}`);
      await open(page, '/renewals?within=30');
      await expect(page.getByRole('link', { name: dealName })).toHaveCount(0);
    });
  });
}
