// The Usage tab (admins; platform administrators read it too): the
// organization's usageReport for a window (this month by default, in UTC)
// and its per-workspace CSV (GET /usage/export). The export needs the
// Bearer token, so it is fetched, not linked: the file is saved through a
// blob: URL (a download, which the page's CSP does not restrict).
import { useState } from 'react';
import { API_URL, ApiError, getToken } from '../../api.js';
import { ErrorAlert, Loading, useQuery } from '../../ui.jsx';

const USAGE_REPORT = `query UsageReport($id: ID!, $since: Time!, $until: Time!) {
  organization(id: $id) {
    id
    usageReport(since: $since, until: $until) {
      since until workspaceHours cpuCoreHours memoryGbHours storageGbHours peakUsers activeUsers
    }
  }
}`;

// yyyy-mm-dd of a Date, in UTC.
const day = (d) => d.toISOString().slice(0, 10);

/** This month in UTC: [the 1st, the 1st of next month), as yyyy-mm-dd. */
export function thisMonth(now = new Date()) {
  const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const until = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { since: day(since), until: day(until) };
}

const toInstant = (d) => `${d}T00:00:00Z`;
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export default function UsageTab({ org }) {
  const [form, setForm] = useState(thisMonth);
  const [win, setWin] = useState(form);
  const vars = { id: org.id, since: toInstant(win.since), until: toInstant(win.until) };
  const { data, error, loading } = useQuery(USAGE_REPORT, vars);
  const [download, setDownload] = useState({ busy: false, error: null, notice: '' });
  const report = data?.organization?.usageReport;

  function show(e) {
    e.preventDefault();
    setWin(form);
  }

  async function exportCsv() {
    setDownload({ busy: true, error: null, notice: '' });
    const q = new URLSearchParams({ organization: org.id, since: vars.since, until: vars.until });
    try {
      const res = await fetch(`${API_URL}/usage/export?${q}`, { headers: { Authorization: `Bearer ${getToken()}`, Accept: 'text/csv' } });
      if (!res.ok) {
        let body = null;
        try {
          body = await res.json();
        } catch {
          // not JSON
        }
        const first = body?.errors?.[0];
        throw new ApiError(first?.message ?? body?.message ?? `The server answered ${res.status}`, {
          code: first?.extensions?.code ?? body?.code ?? 'INTERNAL_SERVER_ERROR',
          requestId: first?.extensions?.requestId ?? res.headers.get('X-Request-Id'),
          status: res.status,
        });
      }
      const blob = await res.blob();
      const name = `usage-${org.slug}-${win.since}-${win.until}.csv`;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      setDownload({ busy: false, error: null, notice: `Downloaded ${name} (${blob.size} bytes).` });
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('The export could not be downloaded.', { code: 'NETWORK' });
      setDownload({ busy: false, error: err, notice: '' });
    }
  }

  return (
    <>
      <div className="section-head">
        <h2 id="tab-title">Usage</h2>
        <p className="muted">For billing: times are UTC, the end date is exclusive.</p>
      </div>
      <form className="form form-inline" onSubmit={show} data-testid="usage-form">
        <div className="field">
          <label htmlFor="usage-since">From</label>
          <input id="usage-since" type="date" required value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="usage-until">Until (exclusive)</label>
          <input id="usage-until" type="date" required value={form.until} onChange={(e) => setForm({ ...form, until: e.target.value })} />
        </div>
        <button type="submit" className="btn">Show</button>
        <button type="button" className="btn btn-primary" onClick={exportCsv} disabled={download.busy} data-testid="usage-export">
          {download.busy ? 'Downloading…' : 'Download CSV'}
        </button>
      </form>
      <p className="sr-only" role="status" aria-live="polite">{download.notice}</p>
      {download.notice && <p className="notice" data-testid="usage-export-notice">{download.notice}</p>}
      <ErrorAlert error={download.error} title="The export failed" />
      <ErrorAlert error={error} title="The usage report could not be loaded" />
      {loading && !report && <Loading label="Loading the usage report…" />}
      {report && (
        <dl className="report" data-testid="usage-report" aria-label={`Usage from ${win.since} until ${win.until}`}>
          <div><dt>Workspace hours</dt><dd data-testid="report-workspaceHours">{number.format(report.workspaceHours)}</dd></div>
          <div><dt>CPU core hours</dt><dd data-testid="report-cpuCoreHours">{number.format(report.cpuCoreHours)}</dd></div>
          <div><dt>Memory GiB hours</dt><dd data-testid="report-memoryGbHours">{number.format(report.memoryGbHours)}</dd></div>
          <div><dt>Storage GB hours</dt><dd data-testid="report-storageGbHours">{number.format(report.storageGbHours)}</dd></div>
          <div><dt>Peak users</dt><dd data-testid="report-peakUsers">{report.peakUsers}</dd></div>
          <div><dt>Active users</dt><dd data-testid="report-activeUsers">{report.activeUsers}</dd></div>
        </dl>
      )}
    </>
  );
}
