// Each page is a lazy route: a first visit downloads the shell and that page's
// code only; another page's code arrives when that page is opened.
import type { Page } from '@playwright/test';
import { expect, onApp, ready, signIn, test } from './helpers';

/** Every WASM file the page fetches from /pkg/ from now on. */
function recordWasm(page: Page): string[] {
  const files: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) {
      expect(response.status(), path).toBe(200);
      files.push(path.slice('/pkg/'.length));
    }
  });
  return files;
}

test('the accounts list loads only its own code; the board\'s code arrives when the board is opened', async ({ page }) => {
  await signIn(page, 'kim.minjun');

  const wasm = recordWasm(page);
  await page.goto('/accounts');
  await ready(page);
  expect(wasm).toContain('salesops.wasm');
  expect(wasm.some((f) => f.startsWith('split___accounts_route_view'))).toBe(true);
  expect(wasm.filter((f) => f.includes('pipeline_route_view'))).toEqual([]);

  // Moving to the board stays in this document (no reload) and fetches its code.
  await page.evaluate(() => ((window as unknown as { __samePage?: boolean }).__samePage = true));
  await page.getByRole('link', { name: '파이프라인' }).click();
  await page.waitForURL(onApp('/pipeline'));
  await expect(page.getByTestId('board')).toBeVisible();
  expect(wasm.some((f) => f.startsWith('split___pipeline_route_view'))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true);
});
