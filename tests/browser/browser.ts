// Browser-test helpers: the system Chromium driven by playwright-core (never a downloaded browser),
// screenshots under test-output/screenshots, and axe-core checks of each page state.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { OUTPUT } from '../lib/stack.js';

// page.evaluate callbacks run in the browser; the project compiles without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;

export const SHOTS = path.join(OUTPUT, 'screenshots');
const CHROMIUM = process.env.MT_CHROMIUM ?? '/usr/bin/chromium';
// Read once: the axe source is evaluated into each page that does not have it yet.
const AXE_SRC = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/** Every axe run of this test file, by page state, written to test-output/screenshots/axe.json. */
export const axeReport: Record<string, { violations: Array<{ id: string; impact: string | null; help: string; nodes: number }>; passes: number }> = {};

/** Runs axe-core on the page as it is now; returns the serious and critical violations. */
export async function axe(page: Page, state: string): Promise<AxeViolation[]> {
  // The page's CSP (script-src 'self') refuses injected script tags, as it should, so axe is evaluated
  // through the DevTools protocol, which the CSP does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SRC);
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const res = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return {
      passes: res.passes.length as number,
      violations: res.violations.map((v: AxeViolation) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
      })) as AxeViolation[],
    };
  });
  axeReport[state] = { passes: r.passes, violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })) };
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, 'axe.json'), JSON.stringify(axeReport, null, 2));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails the test with every serious or critical axe violation of the page as it is now. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const bad = await axe(page, state);
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} → ${JSON.stringify(v.nodes.map((n) => n.target))}`),
    state,
  ).toEqual([]);
}
