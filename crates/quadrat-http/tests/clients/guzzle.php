<?php
// The developer guide's PHP snippet (api-authentication/access-resources/php.md), with only the
// base URL changed: Guzzle posts the credentials as a JSON body under application/vnd.api+json,
// then a second client sends the bearer token.
require getenv('GUZZLE_AUTOLOAD');

use GuzzleHttp\Client;
use GuzzleHttp\Exception\RequestException;

$base = getenv('QUADRAT_BASE');
$slug = getenv('SLUG');

function get_token($base, $secret)
{
    $tokenClient = new Client();
    try {
        $tokenResponse = $tokenClient->request('POST', $base . '/api/oauth/token', [
            'headers' => ['Content-Type' => 'application/vnd.api+json'],
            'body' => json_encode([
                'grant_type' => 'client_credentials',
                'client_id' => (int) getenv('CLIENT_ID'),
                'client_secret' => $secret,
            ]),
        ]);
        return ['status' => $tokenResponse->getStatusCode(), 'body' => (string) $tokenResponse->getBody()];
    } catch (RequestException $e) {
        // Guzzle throws on a 4xx; the response is on the exception.
        $r = $e->getResponse();
        return ['status' => $r->getStatusCode(), 'body' => (string) $r->getBody()];
    }
}

function get_with_token($url, $token)
{
    $client = new Client(['headers' => ['Authorization' => 'Bearer ' . $token]]);
    try {
        $response = $client->request('GET', $url);
        return ['status' => $response->getStatusCode(), 'body' => (string) $response->getBody()];
    } catch (RequestException $e) {
        $r = $e->getResponse();
        return ['status' => $r->getStatusCode(), 'body' => (string) $r->getBody()];
    }
}

$token = get_token($base, getenv('CLIENT_SECRET'));
$access = json_decode($token['body'])->access_token;
$project = get_with_token($base . '/api/export/project/' . $slug, $access);
$entries = getenv('ENTRIES') === '1'
    ? get_with_token($base . '/api/export/entries/' . $slug, $access)
    : null;
$wrong = get_token($base, 'not-the-secret');
echo json_encode(['token' => $token, 'project' => $project, 'entries' => $entries, 'wrong' => $wrong]);
