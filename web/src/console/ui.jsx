// Small building blocks every page uses: loading a query, showing an error,
// formatting values. No page-specific code here.
import { useCallback, useEffect, useRef, useState } from 'react';
import { gql } from './api.js';

/**
 * Runs query with vars when the component mounts and whenever key changes;
 * reload() runs it again. Returns {data, error, loading, reload}.
 */
export function useQuery(query, vars, key = JSON.stringify(vars ?? {}), options = {}) {
  // state.key says which variables the answer is for: an answer for other
  // variables (another organization, another page) is never shown, not even
  // for the one render before the new request starts. A reload keeps the
  // current answer on screen until the new one arrives.
  const [state, setState] = useState({ key: null, data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const varsRef = useRef(vars);
  varsRef.current = vars;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    gql(query, varsRef.current, { ...options, signal: ctl.signal }).then(
      (data) => setState({ key, data, error: null, loading: false }),
      (error) => {
        if (error.name !== 'AbortError') setState({ key, data: null, error, loading: false });
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const current = state.key === key;
  return {
    data: current ? state.data : null,
    error: current ? state.error : null,
    loading: !current || state.loading,
    reload,
  };
}

/**
 * Wraps a mutation for a form or button: run(vars) resolves to the data or
 * null (the error is kept in `error` for ErrorAlert).
 */
export function useMutation(mutation) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = useCallback(
    async (vars) => {
      setBusy(true);
      setError(null);
      try {
        return await gql(mutation, vars);
      } catch (e) {
        setError(e);
        return null;
      } finally {
        setBusy(false);
      }
    },
    [mutation],
  );
  return { run, busy, error, clearError: () => setError(null) };
}

/** An error from the API, with its code and request ID for support. */
export function ErrorAlert({ error, title = 'Something went wrong' }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      <p className="alert-title">{title}</p>
      <p>{error.message}</p>
      {(error.code || error.requestId) && (
        <p className="alert-meta">
          {error.code && <span>Code: <code>{error.code}</code></span>}
          {error.requestId && <span> · Request ID: <code>{error.requestId}</code></span>}
        </p>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ children }) {
  return <p className="empty">{children}</p>;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** A <time> element for an RFC 3339 instant (or a dash). */
export function Time({ value, date = false }) {
  if (!value) return <span className="muted">—</span>;
  const d = new Date(value);
  return <time dateTime={value} title={d.toISOString()}>{(date ? dateOnly : dateTime).format(d)}</time>;
}

export function formatMemory(mb) {
  if (mb >= 1024 && mb % 1024 === 0) return `${mb / 1024} GiB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GiB`;
  return `${mb} MiB`;
}

/** A coloured label for an enum status. */
export function Badge({ value, testId }) {
  return (
    <span className={`badge badge-${String(value).toLowerCase()}`} data-testid={testId}>
      {String(value).charAt(0) + String(value).slice(1).toLowerCase()}
    </span>
  );
}

/** Sets the document title for the page. */
export function useTitle(title) {
  useEffect(() => {
    document.title = title ? `${title} · NeoSC` : 'NeoSC console';
  }, [title]);
}

/**
 * A table's scroll container: a labelled region that takes keyboard focus,
 * so a table wider than the screen can be scrolled without a mouse.
 */
export function TableWrap({ label, children }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

// The resources a quota limits: the Quota field, the Usage field, a unit.
export const RESOURCES = [
  { key: 'users', max: 'maxUsers', label: 'Users', field: 'Max users', unit: (n) => (n === 1 ? 'user' : 'users') },
  { key: 'workspaces', max: 'maxWorkspaces', label: 'Workspaces', field: 'Max workspaces', unit: (n) => (n === 1 ? 'workspace' : 'workspaces') },
  { key: 'cpuCores', max: 'maxCpuCores', label: 'CPU cores', field: 'Max CPU cores', unit: (n) => (n === 1 ? 'CPU core' : 'CPU cores') },
  { key: 'memoryMb', max: 'maxMemoryMb', label: 'Memory (MB)', field: 'Max memory (MB)', unit: () => 'MB memory' },
  { key: 'storageGb', max: 'maxStorageGb', label: 'Storage (GB)', field: 'Max storage (GB)', unit: () => 'GB storage' },
];

/**
 * Usage against quota: one labelled <meter> per limited resource, with its
 * text ("3 / 10 workspaces"); an unlimited resource (null) has no meter.
 * A usage at or over its limit is marked data-full (and styled as such).
 */
export function UsageBars({ quota, usage, idPrefix }) {
  if (!quota || !usage) return null;
  const limited = RESOURCES.filter((r) => quota[r.max] !== null && quota[r.max] !== undefined);
  if (limited.length === 0) return <p className="muted small" data-testid="quota-unlimited">No quota limits</p>;
  return (
    <ul className="usage-bars" aria-label="Usage against quota" data-testid="usage-bars">
      {limited.map((r) => {
        const max = quota[r.max];
        const used = usage[r.key];
        const id = `${idPrefix}-${r.key}`;
        const text = `${used} / ${max} ${r.unit(max)}`;
        const full = used >= max;
        return (
          <li key={r.key} className={full ? 'usage-bar full' : 'usage-bar'} data-testid={`usage-${r.key}`} data-full={full ? 'true' : 'false'}>
            <label htmlFor={id} className="usage-text">{text}{full && <span className="usage-flag"> · limit reached</span>}</label>
            <meter id={id} min={0} max={Math.max(max, 1)} value={Math.min(used, Math.max(max, 1))}
              low={Math.max(max, 1) * 0.75} high={Math.max(max, 1) * 0.9} optimum={0} aria-valuetext={text} />
          </li>
        );
      })}
    </ul>
  );
}

/** The URL of a logo the page may show: same origin only (the page's CSP has img-src 'self' data:). */
export function sameOriginImage(url) {
  if (!url) return null;
  try {
    const u = new URL(url, location.href);
    if (u.origin === location.origin || u.protocol === 'data:') return u.href;
  } catch {
    // not a URL
  }
  return null;
}

/**
 * usePages reads a connection page by page ("Show more"): fetchPage(after)
 * answers the connection ({nodes, pageInfo, totalCount}); load(null) starts
 * over, load(endCursor) appends the next page.
 */
export function usePages(fetchPage) {
  const [items, setItems] = useState([]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  async function load(after) {
    setLoading(true);
    setError(null);
    try {
      const c = await fetchPage(after);
      setItems((prev) => (after ? [...prev, ...c.nodes] : c.nodes));
      setPage(c);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }
  return { items, setItems, page, error, loading, load };
}
