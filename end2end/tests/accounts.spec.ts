// Accounts (고객사): create, search, edit, concurrent edit, delete and restore,
// once hydrated (JavaScript on) and once as plain HTML forms (JavaScript off).

import {
  accountIdFrom,
  accountSubmit,
  dashed,
  displayName,
  expect,
  koreanTag,
  onApp,
  open,
  ready,
  searchAccounts,
  signIn,
  test,
  validBusinessNumber,
  withWrongCheckDigit,
} from './helpers';

/** The manager who signs in below, as the app names him (from keycloak/salesops-realm.json). */
const PARK = displayName('park.jihoon');

for (const javaScriptEnabled of [true, false]) {
  test.describe(`accounts, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled });

    test('a manager creates, finds, edits, meets a conflict, deletes and restores an account', async ({ page, context }) => {
      await signIn(page, 'park.jihoon');

      // --- create, with a Korean name and a business number typed with dashes
      const tag = koreanTag(8);
      const name = `가람${tag}클라우드`;
      const bn = validBusinessNumber();
      await page.getByRole('link', { name: '새 고객사' }).click();
      await page.waitForURL(onApp('/accounts/new'));
      await ready(page);
      const form = page.getByTestId('account-form');
      await expect(form.locator('#f-owner_id')).toBeVisible(); // managers choose the owner
      await form.locator('#f-name').fill(name);
      await form.locator('#f-business_number').fill(dashed(bn));
      await form.locator('#f-industry').selectOption('it');
      await form.locator('#f-company_size').selectOption('medium');
      await form.locator('#f-address').fill('서울특별시 강남구 테헤란로 1');
      await form.locator('#f-main_phone').fill('02-555-0101');
      await form.locator('#f-website').fill('gahram.example.co.kr');
      await form.locator('#f-notes').fill('e2e 테스트로 만든 고객사');
      await accountSubmit(page).click();

      await page.waitForURL((url) => onApp(/^\/accounts\/[0-9a-f-]{36}$/)(url) && url.searchParams.get('notice') === 'created');
      const id = accountIdFrom(page.url());
      await expect(page.locator('p.notice')).toHaveText('만들었습니다.');
      await expect(page.getByTestId('account-name')).toHaveText(name);
      const record = page.locator('dl.record');
      await expect(record).toContainText(dashed(bn)); // stored as digits, shown dashed
      await expect(record).toContainText('IT/소프트웨어');
      await expect(record).toContainText('https://gahram.example.co.kr');
      await expect(record).toContainText(PARK);
      await expect(page.getByTestId('history')).toContainText('생성');

      // --- find it with a partial Korean search (three syllables from the middle of the name)
      await open(page, '/accounts');
      await searchAccounts(page, tag.slice(2, 5));
      const list = page.getByTestId('account-list');
      await expect(list.getByRole('link', { name, exact: true })).toBeVisible();
      await expect(list).not.toContainText('(주)한빛제조');
      await list.getByRole('link', { name, exact: true }).click();
      await page.waitForURL(onApp(`/accounts/${id}`));
      await expect(page.getByTestId('account-name')).toHaveText(name);

      // --- edit one field: notice, new value, an 'update' entry in the history
      await ready(page);
      await page.getByRole('link', { name: '수정', exact: true }).click();
      await page.waitForURL(onApp(`/accounts/${id}/edit`));
      await ready(page);
      await expect(page.locator('#f-name')).toHaveValue(name);
      await expect(page.locator('#f-business_number')).toHaveValue(dashed(bn));
      const editedAddress = `부산광역시 해운대구 센텀로 ${tag.slice(0, 3)}`;
      await page.locator('#f-address').fill(editedAddress);
      await accountSubmit(page).click();
      await page.waitForURL((url) => onApp(`/accounts/${id}`)(url) && url.searchParams.get('notice') === 'saved');
      await expect(page.locator('p.notice')).toHaveText('저장했습니다.');
      await expect(record).toContainText(editedAddress);
      const updates = page.getByTestId('history').locator(':scope > li', { has: page.locator('strong', { hasText: '수정' }) });
      await expect(updates).toHaveCount(1);
      await expect(updates.first()).toContainText(PARK);
      await expect(updates.first()).toContainText('address');
      await expect(updates.first().locator('ins')).toHaveText(editedAddress);

      // --- conflict: two tabs edit the same version; the second save is refused
      const pageA = page;
      const pageB = await context.newPage();
      await open(pageA, `/accounts/${id}/edit`);
      await open(pageB, `/accounts/${id}/edit`);
      const addressA = `A탭 주소 ${tag}`;
      const addressB = `B탭 주소 ${tag}`;
      await pageA.locator('#f-address').fill(addressA);
      await accountSubmit(pageA).click();
      await pageA.waitForURL((url) => onApp(`/accounts/${id}`)(url) && url.searchParams.get('notice') === 'saved');
      await expect(pageA.locator('dl.record')).toContainText(addressA);

      await pageB.locator('#f-address').fill(addressB);
      await pageB.locator('#f-notes').fill('B탭에서 고친 메모');
      await accountSubmit(pageB).click();
      const conflict = pageB.locator('p.error-box');
      await expect(conflict).toContainText('다른 사용자가 먼저 수정했습니다');
      await expect(conflict).toContainText(PARK);
      await expect(conflict).toHaveAttribute('role', 'alert');
      expect(onApp(`/accounts/${id}/edit`)(new URL(pageB.url()))).toBe(true);
      // What B typed is still on screen.
      await expect(pageB.locator('#f-address')).toHaveValue(addressB);
      await expect(pageB.locator('#f-notes')).toHaveValue('B탭에서 고친 메모');
      await expect(pageB.locator('#f-name')).toHaveValue(name);
      // "Load the latest version" shows A's saved value.
      await pageB.getByRole('link', { name: '최신 내용 불러오기' }).click();
      await pageB.waitForURL((url) => onApp(`/accounts/${id}/edit`)(url) && url.search === '');
      await expect(pageB.locator('#f-address')).toHaveValue(addressA);
      await expect(pageB.locator('p.error-box')).toHaveCount(0);
      await pageB.close();
      // B's refused save changed nothing.
      await open(pageA, `/accounts/${id}`);
      await expect(pageA.locator('dl.record')).toContainText(addressA);
      await expect(pageA.locator('dl.record')).not.toContainText(addressB);

      // --- delete (a manager stays on the record, which shows it is deleted), then restore
      await pageA.getByRole('button', { name: '삭제', exact: true }).click();
      await pageA.waitForURL((url) => onApp(`/accounts/${id}`)(url) && url.searchParams.get('notice') === 'deleted');
      await expect(pageA.locator('p.notice')).toContainText('삭제했습니다.');
      await expect(pageA.locator('.deleted-banner')).toHaveText('삭제된 레코드입니다.');
      await expect(pageA.getByRole('link', { name: '수정', exact: true })).toHaveCount(0);
      await expect(pageA.getByTestId('history')).toContainText('삭제');
      // A deleted account leaves the normal list.
      const listPage = await context.newPage();
      await open(listPage, '/accounts');
      await searchAccounts(listPage, tag);
      await expect(listPage.locator('p.empty')).toHaveText('결과가 없습니다.');
      await listPage.close();

      await pageA.getByRole('button', { name: '복원', exact: true }).click();
      await pageA.waitForURL((url) => onApp(`/accounts/${id}`)(url) && url.searchParams.get('notice') === 'restored');
      await expect(pageA.locator('p.notice')).toHaveText('복원했습니다.');
      await expect(pageA.locator('.deleted-banner')).toHaveCount(0);
      await expect(pageA.getByRole('link', { name: '수정', exact: true })).toBeVisible();
      await expect(pageA.getByTestId('history')).toContainText('복원');
      await expect(pageA.locator('dl.record')).toContainText(addressA);
    });

    test('an invalid business number shows a field error and creates nothing', async ({ page }) => {
      await signIn(page, 'park.jihoon');
      await open(page, '/accounts/new');

      const tag = koreanTag(8);
      const name = `오류${tag}상사`;
      const wrong = dashed(withWrongCheckDigit(validBusinessNumber()));
      const form = page.getByTestId('account-form');
      await form.locator('#f-name').fill(name);
      await form.locator('#f-business_number').fill(wrong);
      if (javaScriptEnabled) {
        // Checked in the browser as soon as the field is left.
        await form.locator('#f-address').focus();
        await expect(form.locator('#f-business_number-error')).toHaveText('사업자등록번호의 검증 숫자가 맞지 않습니다.');
        await expect(form.locator('#f-business_number')).toHaveAttribute('aria-invalid', 'true');
      }
      await accountSubmit(page).click();

      // The server refuses it too: the form comes back with the error and the input.
      await expect(page.locator('p.error-box')).toHaveText('입력 내용을 확인하세요.');
      await expect(form.locator('#f-business_number-error')).toHaveText('사업자등록번호의 검증 숫자가 맞지 않습니다.');
      expect(onApp('/accounts/new')(new URL(page.url()))).toBe(true);
      await expect(form.locator('#f-name')).toHaveValue(name);
      await expect(form.locator('#f-business_number')).toHaveValue(wrong);

      // Nothing was created.
      await open(page, '/accounts');
      await searchAccounts(page, tag);
      await expect(page.locator('p.empty')).toHaveText('결과가 없습니다.');
      await expect(page.getByTestId('account-list')).toHaveCount(0);
    });
  });
}
