// Run by TestGraphiQLStorage (web/storage_test.go) with `node --test`:
// what GraphiQL stores never holds a request header or a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const local = new Map();
globalThis.localStorage = {
  getItem: (k) => (local.has(k) ? local.get(k) : null),
  setItem: (k, v) => local.set(k, String(v)),
  removeItem: (k) => local.delete(k),
};
const session = new Map();
globalThis.sessionStorage = {
  getItem: (k) => (session.has(k) ? session.get(k) : null),
  setItem: (k, v) => session.set(k, String(v)),
  removeItem: (k) => session.delete(k),
};

const { storage } = await import('./storage.js');
const { setToken, getToken } = await import('./token.js');

const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJVc2VyOjEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

test('headers are dropped from tab state and history', () => {
  const tabs = { tabs: [{ query: '{ me { email } }', headers: `{"Authorization": "Bearer ${jwt}"}` }], activeTabIndex: 0 };
  storage.setItem('graphiql:tabState', JSON.stringify(tabs));
  const saved = JSON.parse(localStorage.getItem('graphiql:tabState'));
  assert.equal(saved.tabs[0].query, '{ me { email } }');
  assert.equal(saved.tabs[0].headers, null);

  storage.setItem('graphiql:queries', JSON.stringify({ queries: [{ query: '{ me { id } }', headers: `{"Authorization": "Bearer ${jwt}"}` }] }));
  assert.ok(!localStorage.getItem('graphiql:queries').includes(jwt));
  assert.ok(localStorage.getItem('graphiql:queries').includes('{ me { id } }'));
});

test('the headers key is never written', () => {
  storage.setItem('graphiql:headers', `{"Authorization": "Bearer ${jwt}"}`);
  assert.equal(localStorage.getItem('graphiql:headers'), null);
});

test('a value that still holds a token is not written', () => {
  storage.setItem('graphiql:query', `# Bearer ${jwt}\n{ me { id } }`);
  assert.equal(localStorage.getItem('graphiql:query'), null);
  setToken(jwt);
  storage.setItem('graphiql:query', `{ me { id } } # ${jwt}`);
  assert.equal(localStorage.getItem('graphiql:query'), null);
  storage.setItem('graphiql:query', '{ me { id } }');
  assert.equal(localStorage.getItem('graphiql:query'), '{ me { id } }');
});

test('the token lives in sessionStorage, not localStorage', () => {
  setToken(jwt);
  assert.equal(getToken(), jwt);
  assert.equal(sessionStorage.getItem('neosc.graphiql.token'), jwt);
  for (const v of local.values()) assert.ok(!v.includes(jwt));
  setToken('');
  assert.equal(sessionStorage.getItem('neosc.graphiql.token'), null);
});

test('secrets written into a query or variables are not kept', () => {
  setToken('');
  for (const [key, value] of [
    ['graphiql:query', 'mutation { login(input: {email: "a@b.c", password: "hunter2!"}) { token } }'],
    ['graphiql:variables', '{"token": "abc.def"}'],
    ['graphiql:variables', '{"in": {"password": "hunter2!"}}'],
    ['graphiql:tabState', JSON.stringify({ tabs: [{ query: '{ me { id } }', variables: `{"t": "${jwt}"}` }] })],
    ['graphiql:tabState', JSON.stringify({ tabs: [{ query: 'mutation { login(input: {email: "a@b.c", password: "hunter2!"}) { token } }' }] })],
  ]) {
    localStorage.removeItem(key);
    storage.setItem(key, value);
    assert.equal(localStorage.getItem(key), null, value);
  }
  // Selecting the token field is not a secret.
  storage.setItem('graphiql:query', 'mutation { login(input: {email: "a@b.c"}) { token } }');
  assert.ok(localStorage.getItem('graphiql:query'));
});
