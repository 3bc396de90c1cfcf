// The developer guide's "Axios" snippet (api-authentication/access-resources/axios.md), with only
// the base URL changed: the params object posted as JSON under application/vnd.api+json.
const axios = require('axios');
const base = process.env.QUADRAT_BASE;
const projectSlug = process.env.SLUG;
const params = {
  grant_type: 'client_credentials',
  client_id: Number(process.env.CLIENT_ID),
  client_secret: process.env.CLIENT_SECRET,
};

// axios rejects on a 4xx; the snippet reads error.response there.
const settle = (request) => request.then(
  (response) => ({ status: response.status, body: response.data }),
  (error) => {
    if (!error.response) throw error;
    return { status: error.response.status, body: error.response.data };
  },
);

const getToken = (params) => settle(axios.post(`${base}/api/oauth/token`, params, {
  headers: { 'Content-Type': 'application/vnd.api+json' },
}));

const getWithToken = (path, token) => settle(axios.get(`${base}${path}`, {
  headers: {
    'Content-Type': 'application/vnd.api+json',
    'Authorization': `Bearer ${token}`,
  },
}));

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
