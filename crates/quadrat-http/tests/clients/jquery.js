// The developer guide's jQuery snippets (api-authentication/retrieve-token.md and
// access-resources/jquery.md), with only the base URL changed. jQuery runs in a jsdom window whose
// page is on another origin, as on the guide's JSFiddle, so every call is a cross-origin XHR with
// the CORS preflight a browser makes for an application/vnd.api+json body.
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><div class="content"></div>', {
  url: 'https://fiddle.example/',
});
const $ = require('jquery')(dom.window);

const base = process.env.QUADRAT_BASE;
const projectSlug = process.env.SLUG;
const params = {
  grant_type: 'client_credentials',
  client_id: Number(process.env.CLIENT_ID),
  client_secret: process.env.CLIENT_SECRET,
};

// The snippet's success and error callbacks, each recording what it was given.
const ajax = (options) => new Promise((resolve) => {
  $.ajax({
    ...options,
    success: (response, status, xhr) => resolve({ status: xhr.status, body: response }),
    error: (xhr) => resolve({ status: xhr.status, body: xhr.responseText }),
  });
});

const getToken = (params) => ajax({
  url: `${base}/api/oauth/token`,
  type: 'POST',
  contentType: 'application/vnd.api+json',
  data: JSON.stringify(params),
});

const getWithToken = (path, token) => ajax({
  url: `${base}${path}`,
  type: 'GET',
  contentType: 'application/vnd.api+json',
  headers: { Authorization: 'Bearer ' + token },
});

(async () => {
  const token = await getToken(params);
  const access = token.body.access_token;
  const project = await getWithToken(`/api/export/project/${projectSlug}`, access);
  const entries = process.env.ENTRIES === '1'
    ? await getWithToken(`/api/export/entries/${projectSlug}`, access)
    : null;
  const wrong = await getToken({ ...params, client_secret: 'not-the-secret' });
  console.log(JSON.stringify({ token, project, entries, wrong }));
  dom.window.close();
})().catch((e) => { console.error(e); process.exit(1); });
