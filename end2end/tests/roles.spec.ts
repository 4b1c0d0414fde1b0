// Sign-in and roles: each demo user signs in through Keycloak and sees what
// their realm role allows; the server refuses what the page does not offer.

import {
  BASE_URL,
  accountsOwnedBy,
  apiHeaders,
  displayName,
  expect,
  koreanTag,
  onApp,
  open,
  searchAccounts,
  signIn,
  test,
  type Username,
} from './helpers';
import type { Locator, Page } from '@playwright/test';

// Display names of the demo users, as the app shows them (from keycloak/salesops-realm.json).
const KIM = displayName('kim.minjun');
const LEE = displayName('lee.seoyeon');
const PARK = displayName('park.jihoon');

/** Opens the first account of a list of rows and returns its id and name. */
async function openFirst(page: Page, rows: Locator): Promise<{ id: string; name: string }> {
  const link = rows.first().locator('td a').first();
  const name = (await link.textContent())?.trim() ?? '';
  const href = (await link.getAttribute('href')) ?? '';
  const id = href.split('/').pop() ?? '';
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  await open(page, `/accounts/${id}`);
  await expect(page.getByTestId('account-name')).toHaveText(name);
  return { id, name };
}

async function expectEditControls(page: Page, visible: boolean) {
  const edit = page.getByRole('link', { name: '수정', exact: true });
  const del = page.getByRole('button', { name: '삭제', exact: true });
  const newContact = page.getByRole('link', { name: '새 담당자' });
  if (visible) {
    await expect(edit).toBeVisible();
    await expect(del).toBeVisible();
    await expect(newContact).toBeVisible();
  } else {
    await expect(page.locator('dl.record')).toBeVisible(); // the page has rendered
    await expect(edit).toHaveCount(0);
    await expect(del).toHaveCount(0);
    await expect(newContact).toHaveCount(0);
  }
}

/** Searches the list for `name` and expects no account with it. */
async function expectNoAccountNamed(page: Page, name: string) {
  await open(page, '/accounts');
  await searchAccounts(page, name);
  await expect(page.locator('p.empty')).toHaveText('결과가 없습니다.');
}

test('a rep edits his own accounts only; a forged save of another rep\'s account is refused', async ({ page }) => {
  await signIn(page, 'kim.minjun');
  await expect(page.getByTestId('current-user')).toContainText(KIM);
  await expect(page.getByTestId('current-user')).toContainText('영업 담당');
  await expect(page.getByRole('link', { name: '새 고객사' })).toBeVisible();
  await expect(page.getByText('삭제된 항목 보기')).toHaveCount(0); // managers only

  // His own account: edit and delete are offered.
  const own = await openFirst(page, await accountsOwnedBy(page, KIM));
  await expect(page.locator('dl.record')).toContainText(KIM);
  await expectEditControls(page, true);
  await page.getByRole('link', { name: '수정', exact: true }).click();
  await page.waitForURL(onApp(`/accounts/${own.id}/edit`));
  await expect(page.locator('#f-name')).toHaveValue(own.name);
  await expect(page.locator('#f-owner_id')).toHaveCount(0); // reps cannot reassign

  // A rep creates accounts for himself: no owner selector.
  await open(page, '/accounts/new');
  await expect(page.getByTestId('account-form')).toBeVisible();
  await expect(page.locator('#f-owner_id')).toHaveCount(0);

  // Lee Seoyeon's account: readable, but no edit, delete or new-contact controls.
  const theirs = await openFirst(page, await accountsOwnedBy(page, LEE));
  await expect(page.locator('dl.record')).toContainText(LEE);
  await expectEditControls(page, false);

  // Hiding the button is not the protection: a forged save is refused by the server.
  const forged = await page.request.post('/api/accounts/update', {
    headers: apiHeaders(),
    form: { id: theirs.id, version: '1', 'form[name]': `탈취${koreanTag(4)}` },
  });
  expect(forged.status()).toBe(403);
  const forgedDelete = await page.request.post('/api/records/delete', {
    headers: apiHeaders(),
    form: { kind: 'account', id: theirs.id, version: '1' },
  });
  expect(forgedDelete.status()).toBe(403);
  await page.reload();
  await expect(page.getByTestId('account-name')).toHaveText(theirs.name);
  await expect(page.locator('.deleted-banner')).toHaveCount(0);
});

test('a viewer reads everything and changes nothing, even with a forged request', async ({ page }) => {
  await signIn(page, 'choi.yuna');
  await expect(page.getByTestId('current-user')).toContainText(displayName('choi.yuna'));
  await expect(page.getByTestId('current-user')).toContainText('조회 전용');
  await expect(page.getByTestId('account-list')).toBeVisible();
  await expect(page.getByRole('link', { name: '새 고객사' })).toHaveCount(0);

  // Accounts of every owner: readable, never editable.
  for (const owner of [KIM, LEE, PARK]) {
    await openFirst(page, await accountsOwnedBy(page, owner));
    await expect(page.locator('dl.record')).toContainText(owner);
    await expectEditControls(page, false);
  }

  // A forged create is refused and creates nothing.
  const name = `열람${koreanTag(8)}`;
  const forged = await page.request.post('/api/accounts/create', {
    headers: apiHeaders(),
    form: { 'form[name]': name },
  });
  expect(forged.status()).toBe(403);
  await expectNoAccountNamed(page, name);
});

for (const [username, roleLabel] of [
  ['park.jihoon', '영업 매니저'],
  ['jung.admin', '운영 관리자'],
] as [Username, string][]) {
  test(`${username} (${roleLabel}) edits everyone's accounts and reassigns owners`, async ({ page }) => {
    const name = displayName(username);
    await signIn(page, username);
    await expect(page.getByTestId('current-user')).toContainText(name);
    await expect(page.getByTestId('current-user')).toContainText(roleLabel);
    await expect(page.getByRole('link', { name: '새 고객사' })).toBeVisible();
    await expect(page.getByText('삭제된 항목 보기')).toBeVisible();

    for (const owner of [KIM, LEE]) {
      const account = await openFirst(page, await accountsOwnedBy(page, owner));
      await expectEditControls(page, true);
      await page.getByRole('link', { name: '수정', exact: true }).click();
      await page.waitForURL(onApp(`/accounts/${account.id}/edit`));
      const ownerSelect = page.locator('#f-owner_id');
      await expect(ownerSelect).toBeVisible();
      await expect(ownerSelect.locator('option:checked')).toHaveText(owner);
      await expect(ownerSelect.locator('option')).toContainText([KIM, PARK, LEE]);
    }

    await open(page, '/accounts/new');
    await expect(page.locator('#f-owner_id option:checked')).toHaveText(name);
  });
}

test('a user without a SalesOps role sees the no-access page and can sign out', async ({ page }) => {
  await signIn(page, 'han.guest');
  const response = await page.reload();
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('no-access')).toHaveText('접근 권한이 없습니다');
  await expect(page.getByText('SalesOps를 쓰려면 영업 역할이 필요합니다.')).toBeVisible();
  await expect(page.getByText(displayName('han.guest'))).toBeVisible();
  await expect(page.getByTestId('account-list')).toHaveCount(0);

  // Other pages, and the data behind them, are refused too.
  expect((await page.goto('/contacts'))?.status()).toBe(403);
  await expect(page.getByTestId('no-access')).toBeVisible();
  const api = await page.request.post('/api/users/owners', { headers: apiHeaders() });
  expect(api.status()).toBe(403);

  const signOut = page.getByRole('button', { name: '로그아웃' });
  await expect(signOut).toBeVisible();
  await signOut.click();
  await page.waitForURL(onApp('/auth/signed-out'), { timeout: 15_000 }); // via Keycloak's end-session
  await expect(page.getByText('로그아웃했습니다.')).toBeVisible();
});

test('a cross-site request is refused even with a valid session', async ({ page }) => {
  await signIn(page, 'park.jihoon');

  const name = `외부${koreanTag(8)}`;
  const crossSite = await page.request.post('/api/accounts/create', {
    headers: { Origin: 'http://evil.example', Accept: 'application/json' },
    form: { 'form[name]': name },
  });
  expect(crossSite.status()).toBe(403);

  // Neither Origin nor Referer: refused as well.
  const anonymous = await page.request.post('/api/accounts/create', {
    headers: { Accept: 'application/json' },
    form: { 'form[name]': name },
  });
  expect(anonymous.status()).toBe(403);

  // A Referer from another site that merely starts with our origin is not ours.
  const lookalike = await page.request.post('/api/accounts/create', {
    headers: { Referer: `${BASE_URL}.evil.example/accounts`, Accept: 'application/json' },
    form: { 'form[name]': name },
  });
  expect(lookalike.status()).toBe(403);

  await expectNoAccountNamed(page, name);
});
