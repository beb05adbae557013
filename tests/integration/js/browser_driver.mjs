// A small line protocol around playwright-core, so Python tests can drive headless Chromium:
// each stdin line is a JSON command, each stdout line the JSON answer ({ok, value} or
// {ok:false, error}). Uses Debian's chromium (never downloads a browser).
import { createRequire } from 'node:module';
import readline from 'node:readline';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const modules = process.env.DESKPOD_NODE_MODULES;
const { chromium } = require(`${modules}/playwright-core`);

const userDataDir = process.argv[2];
const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    bypassCSP: true,  // the page's CSP forbids eval, which waitForFunction strings need
    viewport: { width: 1024, height: 768 },
    // DESKPOD_BROWSER_SCALE=2: a HiDPI screen (window.devicePixelRatio 2).
    deviceScaleFactor: Number(process.env.DESKPOD_BROWSER_SCALE || 1),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage'],
});
const page = context.pages()[0] || await context.newPage();
const consoleLines = [];
page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));

const commands = {
    async goto({ url }) { await page.goto(url); },
    async evaluate({ expression }) { return await page.evaluate(expression); },
    async waitFor({ expression, timeout }) {
        await page.waitForFunction(expression, null, { timeout: timeout || 30000, polling: 100 });
    },
    async fill({ selector, text }) { await page.fill(selector, text); },
    async click({ selector }) { await page.click(selector); },
    async mouse({ x, y, action }) {
        await page.mouse.move(x, y);
        if (action === 'click') await page.mouse.click(x, y);
    },
    async type({ text }) { await page.keyboard.type(text, { delay: 30 }); },
    async press({ key }) { await page.keyboard.press(key); },
    async resize({ width, height }) { await page.setViewportSize({ width, height }); },
    // PNG of the element's pixels (the Guacamole display: its canvases as the user sees them).
    async screenshot({ selector, path }) {
        await page.locator(selector).screenshot({ path });
    },
    async grantClipboard() {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'],
            { origin: new URL(page.url()).origin });
    },
    async console() { return consoleLines.splice(0); },
    async addScript({ path }) { await page.addScriptTag({ content: fs.readFileSync(path, 'utf8') }); },
    async setContent({ html }) { await page.setContent(html); },
    async close() { await context.close(); process.exit(0); },
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
    let answer;
    try {
        const cmd = JSON.parse(line);
        answer = { ok: true, value: await commands[cmd.op](cmd) ?? null };
    } catch (e) {
        answer = { ok: false, error: String(e && e.stack || e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
}
await context.close();
