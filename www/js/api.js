// The edge API client. Every call sends the token from sessionStorage (kept
// only while this tab is open) and answers
// {ok, status, data, cache, error: {code, message, line?, column?}} — never
// throws.

const TOKEN_KEY = 'edge-options.token';
const NOTICE_KEY = 'edge-options.notice';

let unauthorizedHandler = () => {};

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A message to show on the sign-in form after a reload (e.g. token refused). */
export function setNotice(text) {
  sessionStorage.setItem(NOTICE_KEY, text);
}

export function takeNotice() {
  const text = sessionStorage.getItem(NOTICE_KEY);
  sessionStorage.removeItem(NOTICE_KEY);
  return text;
}

/** Called when the Worker answers 401 to a call made with a stored token. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** One path segment, percent-encoded (option names, keys, ids). */
export const seg = (text) => encodeURIComponent(String(text));

/**
 * `method path` with the stored token (or `options.token`) and an optional
 * JSON body. 401 calls the unauthorized handler unless `options.token` is given.
 */
export async function api(method, path, body, options = {}) {
  const token = options.token ?? getToken();
  if (!token) {
    // Signed out (or never signed in): nothing is sent without a token.
    return { ok: false, status: 0, data: null, cache: null, error: { code: 'unauthorized', message: 'no token' } };
  }
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    return {
      ok: false, status: 0, data: null, cache: null,
      error: { code: 'network', message: `the Worker could not be reached (${err.message})` },
    };
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const cache = res.headers.get('x-cache');
  if (res.ok) return { ok: true, status: res.status, data, cache, error: null };
  const error = data && data.error && typeof data.error.code === 'string'
    ? data.error
    : { code: `http_${res.status}`, message: text.slice(0, 300) || res.statusText || 'no answer' };
  if (res.status === 401 && options.token === undefined) unauthorizedHandler(error);
  return { ok: false, status: res.status, data, cache, error };
}

/** "code: message" of an API error, for inline display. */
export function describe(error) {
  if (!error) return '';
  return `${error.code}: ${error.message}`;
}
