// The web pages in a real browser: Debian's Chromium driven by playwright-core, axe-core run on
// every page. Started by tests/browser_pages.rs, which sets up the server and its data and
// passes them in QUADRAT_BROWSER_CONFIG. One browser for the whole run; each flow has its own
// context (its own cookies), and independent flows run side by side. Prints one JSON line per
// finished flow; exits non-zero with the failures.
'use strict';

const fs = require('fs');
const path = require('path');

const cfg = JSON.parse(process.env.QUADRAT_BROWSER_CONFIG);
const modules = process.env.QUADRAT_NODE_MODULES;
const shots = process.env.QUADRAT_SCREENSHOTS;
const { chromium } = require(path.join(modules, 'playwright-core'));
const axeSource = fs.readFileSync(path.join(modules, 'axe-core', 'axe.min.js'), 'utf8');
const base = cfg.base;

const axeFindings = [];
const screenshotted = new Set();

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function open(browser, js) {
  const ctx = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const problems = [];
  page.on('dialog', (d) => { problems.push(`a dialog opened: ${d.message()}`); d.dismiss().catch(() => {}); });
  // A refused page's status shows as a failed resource load; anything else is a problem.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { ctx, page, js, problems };
}

// axe on the page as it is now: serious and critical violations fail the run.
async function axe(p, name) {
  if (!p.js) return;
  await p.page.evaluate(axeSource);
  const violations = await p.page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  for (const v of violations) axeFindings.push({ page: name, ...v });
}

// Each page once, at desktop and phone widths (CI keeps target/screenshots).
async function snap(p, name) {
  if (!p.js || screenshotted.has(name)) return;
  screenshotted.add(name);
  await p.page.screenshot({ path: path.join(shots, `${name}-1280.png`), fullPage: true });
  await p.page.setViewportSize({ width: 375, height: 800 });
  await p.page.screenshot({ path: path.join(shots, `${name}-375.png`), fullPage: true });
  await p.page.screenshot({ path: path.join(shots, `${name}-375-top.png`) });
  await p.page.setViewportSize({ width: 1280, height: 900 });
}

async function look(p, name) {
  await axe(p, name);
  await snap(p, name);
}

async function go(p, url, expectStatus = 200) {
  const response = await p.page.goto(base + url);
  check(response.status() === expectStatus, `GET ${url}: status ${response.status()}, wanted ${expectStatus}`);
  return response;
}

// Clicks and waits for the page the click leads to.
async function submit(p, selector) {
  await Promise.all([p.page.waitForNavigation(), p.page.click(selector)]);
}

async function text(p, selector) {
  return (await p.page.textContent(selector)) || '';
}

async function flash(p) {
  const el = await p.page.$('.flash');
  return el ? (await el.textContent()).trim() : '';
}

async function login(p, user) {
  await go(p, '/login');
  await p.page.fill('#email', user.email);
  await p.page.fill('#password', user.password);
  await submit(p, 'main button[type=submit]');
  check(p.page.url().endsWith('/myprojects'), `login of ${user.email} ended at ${p.page.url()}`);
}

async function token(clientId, secret) {
  const r = await fetch(`${base}/api/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: String(clientId), client_secret: secret }),
  });
  return { status: r.status, body: await r.json() };
}

async function entries(slug, formRef, bearer) {
  const r = await fetch(`${base}/api/export/entries/${slug}?form_ref=${formRef}`, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
  return { status: r.status, body: await r.json() };
}

// Import a definition file; returns the new project's slug.
async function importProject(p, name) {
  await go(p, '/myprojects/create');
  await look(p, 'create');
  await p.page.fill('#name', name);
  await p.page.setInputFiles('#file', cfg.definition);
  await submit(p, 'main button[type=submit]');
  check((await text(p, 'h1')).trim() === name, `after import the page is "${await text(p, 'h1')}"`);
  check((await flash(p)).includes('imported'), `no import message: ${await flash(p)}`);
  await look(p, 'details');
  return p.page.url().split('/myprojects/')[1];
}

// The API page: a form ref read from the page.
async function readFormRef(p, slug) {
  await go(p, `/myprojects/${slug}/api`);
  await look(p, 'api');
  const projectRef = await p.page.inputValue('#project-ref');
  const formRef = await p.page.inputValue('#form-ref-1');
  check(formRef.startsWith(projectRef + '_') && formRef.length === 46, `form ref ${formRef} of project ${projectRef}`);
  return formRef;
}

async function setAccess(p, slug, value) {
  await go(p, `/myprojects/${slug}`);
  await submit(p, `form[action$="/settings/access"] button[value=${value}]`);
  check((await flash(p)).includes('Settings updated.'), `setting access: ${await flash(p)}`);
  check((await p.page.getAttribute(`form[action$="/settings/access"] button[value=${value}]`, 'aria-pressed')) === 'true', 'access button not pressed');
}

async function confirmAction(p, summary, button) {
  await p.page.click(`summary:has-text("${summary}")`);
  await submit(p, `button:has-text("${button}")`);
}

// Create an app, read its credentials, use them, revoke, rotate, delete.
async function appsFlow(p, slug, formRef, minEntries) {
  await go(p, `/myprojects/${slug}/apps`);
  await look(p, 'apps-empty');
  await p.page.fill('#application_name', 'Browser App');
  await submit(p, 'form[action$="/apps"] button[type=submit]');
  const clientId = await p.page.inputValue('#client-id');
  const secret = await p.page.inputValue('#client-secret');
  check(/^\d+$/.test(clientId) && secret.length === 40, `credentials ${clientId} / ${secret}`);
  check((await p.page.textContent('#snippet-curl')).includes(`client_id=${clientId}`), 'curl snippet lacks the client id');
  await look(p, 'apps-secret');
  let t = await token(clientId, secret);
  check(t.status === 200 && t.body.access_token, `token: ${JSON.stringify(t)}`);
  let read = await entries(slug, formRef, t.body.access_token);
  check(read.status === 200 && read.body.data.entries.length >= minEntries, `entries with token: ${read.status} ${JSON.stringify(read.body).slice(0, 200)}`);
  check((await entries(slug, formRef, null)).status === 404, 'private project read without a token');

  await go(p, `/myprojects/${slug}/apps`);
  check((await text(p, 'main')).includes('issued'), 'no live-token status');
  await look(p, 'apps');
  await confirmAction(p, 'Revoke tokens', 'Revoke tokens');
  check((await flash(p)).includes('Token revoked'), `revoke: ${await flash(p)}`);
  read = await entries(slug, formRef, t.body.access_token);
  check(read.status === 404 && read.body.errors[0].code === 'ec5_256', `revoked token: ${JSON.stringify(read.body)}`);

  await confirmAction(p, 'Rotate secret', 'Rotate secret');
  const newSecret = await p.page.inputValue('#client-secret');
  check(newSecret.length === 40 && newSecret !== secret, 'no new secret');
  const old = await token(clientId, secret);
  check(old.status === 400 && old.body.errors[0].code === 'ec5_253', `old secret: ${JSON.stringify(old)}`);
  t = await token(clientId, newSecret);
  check(t.status === 200, `new secret: ${JSON.stringify(t)}`);

  await go(p, `/myprojects/${slug}/apps`);
  await confirmAction(p, 'Delete app', 'Delete app');
  check((await flash(p)).includes('App deleted.'), `delete: ${await flash(p)}`);
  check(await p.page.$('#application_name'), 'no create form after delete');
  const gone = await token(clientId, newSecret);
  check(gone.status === 400 && gone.body.errors[0].code === 'ec5_253', `deleted app: ${JSON.stringify(gone)}`);
}

// Add a mapping, rename its first column, make it default, and find the name in the export.
async function mappingFlow(p, slug, name, column) {
  await go(p, `/myprojects/${slug}/mapping-data`);
  await look(p, 'mappings-auto');
  await p.page.fill('#map-name', name);
  await submit(p, '#add-mapping button[type=submit]');
  check((await flash(p)).includes('mapping added'), `add mapping: ${await flash(p)} at ${p.page.url()}: ${(await text(p, 'main')).slice(0, 300)}`);
  const index = new URL(p.page.url()).searchParams.get('map_index');
  await p.page.fill('input.map-to >> nth=0', column);
  await submit(p, 'button:has-text("Save mapping")');
  check((await flash(p)).includes('Mapping saved.'), `save mapping: ${await flash(p)}`);
  check((await p.page.inputValue('input.map-to >> nth=0')) === column, 'the new name is not shown');
  await submit(p, 'button:has-text("Make default")');
  check((await text(p, 'nav[aria-label=Mappings] [aria-current=page]')).includes('(default)'), 'not default');
  await look(p, 'mappings');
  const csv = await (await fetch(`${base}/api/export/entries/${slug}?format=csv&map_index=${index}`)).text();
  const project = await (await fetch(`${base}/api/export/project/${slug}`)).json();
  const maps = JSON.stringify(project.meta.project_mapping);
  check(maps.includes(`"map_to":"${column}"`), 'the renamed column is not in the project mapping');
  if (csv.trim()) check(csv.split('\n')[0].includes(column), `CSV header: ${csv.split('\n')[0]}`);
  return csv;
}

async function membersFlow(p, slug, email) {
  await go(p, `/myprojects/${slug}/manage-users`);
  await p.page.fill('#add-email', email);
  await p.page.selectOption('#add-role', 'curator');
  await submit(p, 'form[action$="/add-role"] button[type=submit]');
  check((await flash(p)).includes('User added to project.'), `add member: ${await flash(p)}`);
  check((await text(p, '#role-curator')).includes('1'), 'curator count');
  const curators = await p.page.$$eval('section[aria-labelledby=role-curator] .member-email', (els) => els.map((e) => e.textContent.trim()));
  check(curators.includes(email), `curators: ${curators}`);
  await look(p, 'members');
}

const flows = {
  // With JavaScript: import, read a ref, add a member; the tree survey's app; Garden Birds' mapping.
  async js_import_api_members(browser) {
    const p = await open(browser, true);
    await go(p, '/login');
    await look(p, 'login');
    await login(p, cfg.creator);
    await look(p, 'my-projects');
    const slug = await importProject(p, 'Browser Import JS');
    await readFormRef(p, slug);
    await membersFlow(p, slug, 'new.curator.js@example.org');
    return p;
  },
  async js_apps(browser) {
    const p = await open(browser, true);
    await login(p, cfg.creator);
    const formRef = await readFormRef(p, cfg.private_slug);
    await appsFlow(p, cfg.private_slug, formRef, 1);
    return p;
  },
  async js_mapping(browser) {
    const p = await open(browser, true);
    await login(p, cfg.creator);
    const csv = await mappingFlow(p, cfg.public_slug, 'Field names', 'renamed_col_js');
    check(csv.trim(), 'the public project has entries, so its CSV has a header');
    return p;
  },
  // Without JavaScript: the same key flows on a project imported in the same flow.
  async nojs_everything(browser) {
    const p = await open(browser, false);
    await login(p, cfg.creator);
    const slug = await importProject(p, 'Browser Import NoJS');
    const formRef = await readFormRef(p, slug);
    await mappingFlow(p, slug, 'NoJS names', 'renamed_col_nojs');
    await setAccess(p, slug, 'private');
    await appsFlow(p, slug, formRef, 0);
    await membersFlow(p, slug, 'new.curator.nojs@example.org');
    return p;
  },
  // A form without its CSRF token changes nothing.
  async refuse_csrf(browser) {
    const p = await open(browser, true);
    await login(p, cfg.creator);
    const r = await p.page.request.post(`${base}/myprojects/${cfg.public_slug}/settings/access`, { form: { value: 'private' }, maxRedirects: 0 });
    check(r.status() === 403, `POST without token: ${r.status()}`);
    check((await r.text()).includes('The form expired, please reload and try again'), 'no explanation on the 403 page');
    const wrong = await p.page.request.post(`${base}/myprojects/${cfg.public_slug}/settings/access`, { form: { value: 'private', _token: 'forged' }, maxRedirects: 0 });
    check(wrong.status() === 403, `POST with a wrong token: ${wrong.status()}`);
    check((await fetch(`${base}/api/export/project/${cfg.public_slug}`)).status === 200, 'the project changed access');
    await p.page.setContent(await r.text());
    await snap(p, 'refused-csrf');
    return p;
  },
  // A collector reaches no Apps page: not another project's, not their own project's.
  async refuse_collector(browser) {
    const p = await open(browser, true);
    await login(p, cfg.collector);
    await go(p, `/myprojects/${cfg.public_slug}/apps`, 403);
    check((await text(p, 'main')).includes('You need permission to view this project.'), 'no ec5_71 message');
    await look(p, 'refused');
    await go(p, `/myprojects/${cfg.private_slug}/apps`, 403);
    check((await text(p, 'main')).includes('Sorry, you cannot perform this operation.'), 'no ec5_91 message');
    return p;
  },
  // A project whose name is markup shows it as text on every page.
  async refuse_markup(browser) {
    const p = await open(browser, true);
    await login(p, cfg.creator);
    const name = cfg.markup_name;
    for (const page of ['', '/api', '/apps', '/mapping-data', '/manage-users']) {
      await go(p, `/myprojects/${cfg.markup_slug}${page}`);
      check((await p.page.textContent('.side-title')) === name, `project menu of ${page} shows "${await p.page.textContent('.side-title')}"`);
      check((await p.page.$$('main script, .side script')).length === 0, `a script element on ${page}`);
    }
    check((await text(p, 'h1')) !== '', 'details page');
    await go(p, '/myprojects');
    check((await text(p, 'main')).includes(name), 'My projects does not show the name as text');
    await go(p, `/myprojects/${cfg.markup_slug}`);
    check((await text(p, 'h1')) === name, `h1 is "${await text(p, 'h1')}"`);
    return p;
  },
  // Five wrong passwords, then the throttle's message.
  async refuse_sixth_password(browser) {
    const p = await open(browser, false);
    let body = '';
    for (let i = 1; i <= 6; i++) {
      await go(p, '/login');
      await p.page.fill('#email', cfg.throttled.email);
      await p.page.fill('#password', `wrong password ${i}`);
      await submit(p, 'main button[type=submit]');
      body = await text(p, 'main');
      if (i < 6) check(body.includes('User password or email incorrect.'), `attempt ${i}: ${body}`);
    }
    check(body.includes('Too many failed login attempts made. Please try again later.'), `sixth attempt: ${body}`);
    return p;
  },
  // The administrator's pages and the account page.
  async js_admin_tour(browser) {
    const p = await open(browser, true);
    await login(p, cfg.admin);
    await go(p, '/account');
    await look(p, 'account');
    await go(p, '/admin/users');
    await look(p, 'admin-users');
    await go(p, `/myprojects/${cfg.public_slug}/delete`);
    await look(p, 'delete');
    await go(p, `/myprojects/${cfg.public_slug}/replace-definition`);
    await look(p, 'replace');
    return p;
  },
  // The data pages as a visitor of a public project: home, the table paged to the end and
  // back, an entry whose thumbnail decodes at 100x100 and whose audio loads its metadata.
  async js_data_browse(browser) {
    const p = await open(browser, true);
    const d = cfg.data;
    await go(p, `/project/${d.slug}`);
    check((await text(p, '#total-entries')).includes('Entries'), 'home shows the entries');
    await look(p, 'project-home');
    await go(p, `/project/${d.slug}/data`);
    check((await text(p, '#page-info')).includes('Page 1 of 2'), `first page: ${await text(p, '#page-info')}`);
    await look(p, 'entries');
    await submit(p, '#last');
    check((await text(p, '#page-info')).includes('Page 2 of 2'), `last page: ${await text(p, '#page-info')}`);
    check((await p.page.$$('a.entry-link')).length === d.entries - 50, 'rows on the last page');
    await submit(p, '#prev');
    check((await text(p, '#page-info')).includes('Page 1 of 2'), `back: ${await text(p, '#page-info')}`);
    check((await p.page.$$('a.entry-link')).length === 50, 'rows on page 1');
    const response = await p.page.goto(`${base}/project/${d.slug}/entry/${d.media_uuid}?form_ref=${d.form_ref}`, { waitUntil: 'domcontentloaded' });
    check(response.status() === 200, `entry page: ${response.status()}`);
    await p.page.locator('img.thumb').scrollIntoViewIfNeeded();
    await p.page.waitForFunction(() => { const i = document.querySelector('img.thumb'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 15000 });
    const size = await p.page.evaluate(() => { const i = document.querySelector('img.thumb'); return [i.naturalWidth, i.naturalHeight]; });
    check(size[0] === 100 && size[1] === 100, `thumbnail decodes at ${size}`);
    await p.page.waitForFunction(() => { const a = document.querySelector('audio'); return a && a.readyState >= 1; }, null, { timeout: 15000 });
    await look(p, 'entry');
    return p;
  },
  // The map: one marker per located entry, clustered.
  async js_data_map(browser) {
    const p = await open(browser, true);
    const d = cfg.data;
    const response = await p.page.goto(`${base}/project/${d.slug}/data/map?form_ref=${d.form_ref}`, { waitUntil: 'domcontentloaded' });
    check(response.status() === 200, `map page: ${response.status()}`);
    await p.page.waitForSelector('#map[data-markers]', { timeout: 15000 });
    const markers = await p.page.getAttribute('#map', 'data-markers');
    check(Number(markers) === d.entries, `markers ${markers}, entries ${d.entries}`);
    await p.page.waitForSelector('.leaflet-marker-icon', { timeout: 15000 });
    const cluster = await p.page.textContent('.marker-cluster span');
    check(Number(cluster) === d.entries, `one cluster of ${cluster}`);
    await look(p, 'map');
    return p;
  },
  // A private project's data: refused to a visitor and to a user without a role.
  async private_data_refused(browser) {
    const p = await open(browser, false);
    await go(p, `/project/${cfg.private_slug}/data`, 403);
    await login(p, cfg.norole);
    await go(p, `/project/${cfg.private_slug}/data`, 403);
    await go(p, `/project/${cfg.private_slug}`, 403);
    return p;
  },
  // A curator deletes an entry of the private project; the home page's counts follow.
  async js_curator_delete(browser) {
    const p = await open(browser, true);
    await login(p, cfg.curator);
    await go(p, `/project/${cfg.private_slug}`);
    const before = Number((await text(p, '#total-entries')).split(' ')[0]);
    check(before > 0, `entries before: ${before}`);
    await go(p, `/project/${cfg.private_slug}/data?title=${encodeURIComponent(cfg.deletable_title)}`);
    await Promise.all([p.page.waitForNavigation({ waitUntil: 'domcontentloaded' }), p.page.click('a.entry-link')]);
    check(p.page.url().includes(cfg.deletable_uuid), `opened ${p.page.url()}`);
    await submit(p, 'a:has-text("Delete entry…")');
    await look(p, 'entry-delete');
    await submit(p, '#confirm-delete');
    check((await flash(p)).includes('Entry deleted'), `after delete: ${await flash(p)}`);
    await go(p, `/project/${cfg.private_slug}`);
    const after = Number((await text(p, '#total-entries')).split(' ')[0]);
    check(after < before, `entries ${before} then ${after}`);
    return p;
  },
  // The bulk upload page: a template, then a CSV of one good and one bad row, and the report.
  async js_bulk_upload(browser) {
    const p = await open(browser, true);
    const d = cfg.data;
    await login(p, cfg.curator);
    await go(p, `/project/${d.slug}/bulk-upload`);
    await look(p, 'bulk');
    const template = await p.ctx.request.get(`${base}/project/${d.slug}/bulk-upload/template?target=${d.child_form_ref}`);
    check(template.status() === 200, `template: ${template.status()}`);
    const header = (await template.text()).trim();
    const cols = header.split(',').length;
    const row = (parent) => [parent, '', '2024/06/03'].concat(Array(cols - 2).fill('')).join(',');
    const csv = `ec5_parent_uuid,${header}\n${row(d.media_uuid)}\n${row('nobody')}\n`;
    await p.page.selectOption('#target', d.child_form_ref);
    await p.page.setInputFiles('#file', { name: 'rows.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await p.page.click('#bulk-form button[type=submit]');
    await p.page.waitForSelector('#report', { timeout: 20000 });
    check((await text(p, '#accepted')) === '1', `accepted ${await text(p, '#accepted')}`);
    check((await text(p, '#rejected')) === '1', `rejected ${await text(p, '#rejected')}`);
    await look(p, 'bulk-report');
    return p;
  },
};

(async () => {
  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: process.env.QUADRAT_CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const only = cfg.only ? new Set(cfg.only) : null;
  const failures = [];
  await Promise.all(Object.entries(flows).filter(([name]) => !only || only.has(name)).map(async ([name, flow]) => {
    const t0 = Date.now();
    try {
      const p = await flow(browser);
      if (p.problems.length) failures.push(`${name}: ${p.problems.join('; ')}`);
      await p.ctx.close();
      console.log(JSON.stringify({ flow: name, ok: true, ms: Date.now() - t0 }));
    } catch (e) {
      failures.push(`${name}: ${e.stack || e}`);
      console.log(JSON.stringify({ flow: name, ok: false, ms: Date.now() - t0 }));
    }
  }));
  await browser.close();
  const serious = axeFindings.filter((f) => f.impact === 'serious' || f.impact === 'critical');
  for (const f of axeFindings) console.log(JSON.stringify({ axe: f }));
  if (serious.length) failures.push(`axe: ${serious.length} serious or critical violations: ${JSON.stringify(serious)}`);
  console.log(JSON.stringify({ done: true, ms: Date.now() - started, screenshots: screenshotted.size }));
  if (failures.length) {
    console.error(failures.join('\n\n'));
    process.exit(1);
  }
})();
