// Islands: pages are rendered on the server and only their interactive parts
// (forms, the board) hydrate, all from one small WASM file.
import type { Page } from '@playwright/test';
import { dashed, expect, ready, signIn, test, validBusinessNumber, withWrongCheckDigit } from './helpers';

/** Every WASM file the page fetches from /pkg/ from now on. */
function recordWasm(page: Page): string[] {
  const files: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) files.push(path.slice('/pkg/'.length));
  });
  return files;
}

test('a page loads one WASM file and its forms answer at once', async ({ page }) => {
  await signIn(page, 'park.jihoon');
  const wasm = recordWasm(page);
  await page.goto('/accounts/new');
  await ready(page);
  expect(wasm).toEqual(['salesops.wasm']);
  // The form is an island: a bad business number is flagged as the field is left.
  const form = page.getByTestId('account-form');
  await form.locator('#f-business_number').fill(dashed(withWrongCheckDigit(validBusinessNumber())));
  await form.locator('#f-address').focus();
  await expect(form.locator('#f-business_number')).toHaveAttribute('aria-invalid', 'true');
});

test('a first page load asks for nothing that is missing (the icon included)', async ({ page }) => {
  await signIn(page, 'park.jihoon');
  const failed: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  await page.goto('/accounts');
  await ready(page);
  const icon = await page.request.get('/favicon.svg');
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toContain('image/svg+xml');
  expect(failed).toEqual([]);
});
