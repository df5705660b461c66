// One organization: its summary and a tab per area. Each tab is its own
// module under pages/org/; a later feature adds its tab to TABS.
import { useRef } from 'react';
import { Link, Redirect } from 'wouter';
import { useSession, permissions } from '../session.jsx';
import { Badge, ErrorAlert, Loading, Time, UsageBars, useQuery, useTitle } from '../ui.jsx';
import NotFound from './NotFound.jsx';
import { OrgLogo, domainText, useBrandColor } from './Organizations.jsx';
import Members from './org/Members.jsx';
import Workspaces from './org/Workspaces.jsx';
import Grants from './org/Grants.jsx';
import ApiTokens from './org/ApiTokens.jsx';
import Audit from './org/Audit.jsx';
import UsageTab from './org/Usage.jsx';
import Settings from './org/Settings.jsx';
import Platform from './org/Platform.jsx';

const ORGANIZATION = `query Organization($id: ID!) {
  organization(id: $id) { id name slug domain domains { domain verified } status userCount workspaceCount createdAt externalId
    quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb }
    usage { users workspaces cpuCores memoryMb storageGb }
    branding { displayName logoUrl primaryColor } }
}`;

// adminOnly: the tab reads fields only the organization's admins (and
// platform administrators) may read; others do not see the tab at all.
const TABS = [
  { id: 'workspaces', label: 'Workspaces', component: Workspaces },
  { id: 'members', label: 'Members', component: Members },
  { id: 'grants', label: 'Partner grants', component: Grants, adminOnly: true },
  { id: 'tokens', label: 'API tokens', component: ApiTokens, adminOnly: true },
  { id: 'audit', label: 'Audit log', component: Audit, adminOnly: true },
  { id: 'usage', label: 'Usage', component: UsageTab, adminOnly: true },
  { id: 'settings', label: 'Policy & branding', component: Settings, adminOnly: true },
  { id: 'platform', label: 'Platform', component: Platform, platformOnly: true },
];

export default function Organization({ id, tab }) {
  const { me } = useSession();
  const { data, error, loading, reload } = useQuery(ORGANIZATION, { id });
  const org = data?.organization;
  const headRef = useRef(null);
  useBrandColor(headRef, org?.branding?.primaryColor);
  useTitle(org?.name ?? 'Organization');

  if (error?.code === 'NOT_FOUND' || (data && !org)) return <NotFound what="Organization" />;
  if (error) return <ErrorAlert error={error} title="The organization could not be loaded" />;
  if (loading && !org) return <Loading label="Loading the organization…" />;

  const can = permissions(me, org.id);
  const tabs = TABS.filter((t) => (t.platformOnly ? !!me?.platformAdmin : !t.adminOnly || can.readAdmin));
  const current = tabs.find((t) => t.id === (tab ?? tabs[0].id));
  if (!current) return <Redirect to={`/organizations/${encodeURIComponent(id)}`} replace />;
  const Tab = current.component;
  const base = `/organizations/${encodeURIComponent(id)}`;

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Organizations</Link> <span aria-hidden="true">/</span> <span aria-current="page">{org.name}</span>
      </nav>
      <div className="page-head org-head" ref={headRef}>
        <div className="org-title-row">
          <OrgLogo org={org} />
          <div>
          <h1 tabIndex={-1} data-testid="org-name">{org.name}</h1>
          {org.branding?.displayName && org.branding.displayName !== org.name && (
            <p className="org-display-name">{org.branding.displayName}</p>
          )}
          <p className="muted">
            {domainText(org)} · <code>{org.slug}</code> · created <Time value={org.createdAt} date />
          </p>
          </div>
        </div>
        <div className="org-head-side">
          <Badge value={org.status} />
          <span className="role-chip" data-testid="my-role">
            {can.admin ? 'You are an admin' : can.own ? 'You are a member' : 'Platform view'}
          </span>
        </div>
      </div>
      <dl className="stats stats-inline" aria-label="Summary">
        <div><dt>Users</dt><dd data-testid="org-user-count">{org.userCount}</dd></div>
        <div><dt>Workspaces</dt><dd data-testid="org-workspace-count">{org.workspaceCount}</dd></div>
      </dl>
      <UsageBars quota={org.quota} usage={org.usage} idPrefix="org-usage" />
      <nav aria-label="Organization sections" className="tabs">
        <ul>
          {tabs.map((t) => (
            <li key={t.id}>
              <Link href={t.id === tabs[0].id ? base : `${base}/${t.id}`}
                aria-current={t.id === current.id ? 'page' : undefined}
                className={t.id === current.id ? 'tab active' : 'tab'} data-testid={`tab-${t.id}`}>
                {t.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <section className="tab-panel" aria-labelledby="tab-title">
        <Tab key={current.id} org={org} can={can} me={me} onOrgChanged={reload} />
      </section>
    </>
  );
}
