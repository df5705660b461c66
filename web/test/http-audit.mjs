// Runs graphql-http's GraphQL over HTTP audit suite (serverAudits, the
// pinned graphql-http of web/package.json) against a running server and
// prints the results as one JSON array of {id, name, status, reason}
// (status: ok, notice for a failed MAY, warn for a failed SHOULD, error for
// a failed MUST). Exit status 1 when any audit warns or errs.
//
//   node web/test/http-audit.mjs http://localhost:8080/graphql [--authorization "Bearer TOKEN"]
//
// With --authorization every audit request carries that Authorization
// header. TestGraphQLOverHTTPAudit runs it against the real handler.
import { serverAudits } from 'graphql-http';

const [url, flag, authorization] = process.argv.slice(2);
if (!url || (flag !== undefined && (flag !== '--authorization' || !authorization))) {
  process.stderr.write('usage: node http-audit.mjs URL [--authorization VALUE]\n');
  process.exit(2);
}

const fetchFn = authorization
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', authorization);
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const r = await audit.fn();
  let body;
  if (r.status !== 'ok' && r.response) {
    try {
      body = await r.response.clone().text();
    } catch {
      body = undefined;
    }
  }
  results.push({
    id: r.id,
    name: r.name,
    status: r.status,
    reason: r.reason,
    httpStatus: r.response ? r.response.status : undefined,
    body,
  });
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
process.exit(results.some((r) => r.status === 'warn' || r.status === 'error') ? 1 : 0);
