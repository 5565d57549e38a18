// Opens a report page in headless Chromium (playwright-core, the system's
// chromium: nothing is downloaded) at a laptop and a phone size; prints one
// JSON object: requests other than the page itself, console errors, every
// chart's drawn series and size, the page's horizontal overflow, and the
// screenshot files. tests/browser.rs runs it and judges the result.
//
// usage: node drive.mjs REPORT.html OUTDIR
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [html, outdir] = process.argv.slice(2);
if (!html || !outdir) {
  console.error('usage: node drive.mjs REPORT.html OUTDIR');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const url = pathToFileURL(resolve(html)).href;
const profile = mkdtempSync(join(tmpdir(), 'fleksim-chromium-'));
const sizes = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'phone', width: 390, height: 844 },
];
const result = { url, views: [] };
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  chromiumSandbox: false,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  for (const size of sizes) {
    const page = await ctx.newPage();
    const requests = [];
    const errors = [];
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto(url, { waitUntil: 'load' });
    const charts = await page.$$eval('figure.chart', (figs) => figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      const colors = (f.dataset.colors || '').split(',').filter(Boolean);
      // A series is drawn if some shape of the plot has its colour.
      const shapes = svg ? [...svg.querySelectorAll('polyline, polygon, circle, rect, path, line')] : [];
      const drawn = colors.filter((c) => shapes.some((s) => {
        const st = (s.getAttribute('stroke') || '') + ' ' + (s.getAttribute('fill') || '');
        return st.toUpperCase().includes(c.toUpperCase());
      })).length;
      return {
        id: f.id, series: Number(f.dataset.series), colors: colors.length, drawn,
        shapes: shapes.length, texts: svg ? svg.querySelectorAll('text').length : 0,
        width: box.width, height: box.height,
      };
    }));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const screenshot = join(outdir, `${size.name}.png`);
    await page.screenshot({ path: screenshot });
    // The first chart as the reader sees it, scrolled into view.
    const chartShot = join(outdir, `${size.name}-chart.png`);
    const first = page.locator('figure.chart').first();
    if (await first.count()) {
      await first.scrollIntoViewIfNeeded();
      await first.screenshot({ path: chartShot });
    }
    result.views.push({ ...size, requests, errors, charts, overflow, screenshot, chartShot });
    await page.close();
  }
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
