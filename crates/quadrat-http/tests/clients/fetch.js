// The developer guide's "Fetch" snippet (api-authentication/access-resources/fetch.md), with only
// the base URL changed. Node 20's built-in fetch sends exactly what a browser's would.
const base = process.env.QUADRAT_BASE;
const projectSlug = process.env.SLUG;
const params = {
  grant_type: 'client_credentials',
  client_id: Number(process.env.CLIENT_ID),
  client_secret: process.env.CLIENT_SECRET,
};

async function getToken(params) {
  const response = await fetch(`${base}/api/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.api+json' },
    body: JSON.stringify(params),
  });
  return { status: response.status, body: await response.json() };
}

async function getWithToken(path, token) {
  const response = await fetch(`${base}${path}`, {
    headers: {
      'Content-Type': 'application/vnd.api+json',
      'Authorization': `Bearer ${token}`,
    },
  });
  return { status: response.status, body: await response.json() };
}

(async () => {
  const token = await getToken(params);
  const access = token.body.access_token;
  const project = await getWithToken(`/api/export/project/${projectSlug}`, access);
  const entries = process.env.ENTRIES === '1'
    ? await getWithToken(`/api/export/entries/${projectSlug}`, access)
    : null;
  const wrong = await getToken({ ...params, client_secret: 'not-the-secret' });
  console.log(JSON.stringify({ token, project, entries, wrong }));
})().catch((e) => { console.error(e); process.exit(1); });
