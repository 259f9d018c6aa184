// Loads an HTML report in Debian's headless chromium (through playwright-core, which downloads
// nothing) and prints one JSON line of what happened: console errors, page errors, network
// requests other than the report itself, whether an injected script ran, and the visible row
// counts before and after unticking a filter, and what the coverage lines say and whether they
// are visible. Optionally takes screenshots.
//
// usage: node report.mjs REPORT.html [SCREENSHOT_DIR]
// env: PLAYWRIGHT_CORE (path of the playwright-core package), CHROMIUM (the browser binary)
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');
const [report, shots] = process.argv.slice(2);
const url = pathToFileURL(report).href;
const profile = mkdtempSync(join(tmpdir(), 'bundleguard-chromium-'));

const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
  viewport: { width: 1280, height: 900 },
});
const out = { console_errors: [], page_errors: [], requests: [], injected: false };
try {
  const page = browser.pages()[0] || (await browser.newPage());
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') out.console_errors.push(m.text()); });
  page.on('pageerror', (e) => out.page_errors.push(String(e)));
  await browser.route('**/*', (route) => {
    const u = route.request().url();
    if (u !== url) { out.requests.push(u); return route.abort(); }
    return route.continue();
  });
  page.on('request', (r) => { if (r.url() !== url && !out.requests.includes(r.url())) out.requests.push(r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  out.injected = await page.evaluate(() => window.__bundleguard_pwned === true || document.title.includes('pwned'));
  out.filters_visible = await page.evaluate(() => !document.getElementById('filters').hidden);
  const visible = () => page.evaluate(() => ({
    rows: document.querySelectorAll('tr.finding:not([hidden])').length,
    counter: Number(document.getElementById('visible-count').textContent),
    by_severity: Array.from(document.querySelectorAll('tr.finding')).reduce((acc, r) => {
      acc[r.dataset.severity] = (acc[r.dataset.severity] || 0) + 1; return acc;
    }, {}),
  }));
  // Coverage: the summary's not-evaluated counts and each function's coverage line, with
  // whether each is really visible (laid out, not hidden) before any filter is touched.
  out.coverage = await page.evaluate(() => {
    const shown = (el) => !!el && el.checkVisibility() && el.getBoundingClientRect().height > 0;
    const text = (id) => { const el = document.getElementById(id); return el ? el.textContent : null; };
    return {
      summary_visible: shown(document.getElementById('coverage')),
      not_evaluated_packages: text('not-evaluated-packages'),
      not_read_functions: text('not-read-functions'),
      units: Array.from(document.querySelectorAll('section.unit')).map((u) => {
        const dd = u.querySelector('dd.coverage');
        return {
          name: u.querySelector('h2').firstChild.textContent.trim(),
          coverage: dd ? dd.dataset.coverage : null,
          text: dd ? dd.textContent : null,
          visible: shown(dd),
        };
      }),
    };
  });
  out.before = await visible();
  if (shots) {
    await page.screenshot({ path: join(shots, 'report-summary.png') });
    // The last function, its first dependency trees opened.
    await page.evaluate(() => {
      const units = document.querySelectorAll('section.unit');
      const unit = units[units.length - 1];
      unit.querySelectorAll('details.paths').forEach((d, i) => { if (i < 8) d.open = true; });
      unit.scrollIntoView();
    });
    await page.screenshot({ path: join(shots, 'report-function.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  await page.click('#filter-severity-high');
  out.after_high_off = await visible();
  await page.click('#filter-kind-vulnerability');
  out.after_vulnerability_off = await visible();
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
