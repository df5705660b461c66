package quota_test

import (
	"testing"

	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/store"
)

func ptr(n int) *int { return &n }

// Check refuses only increases past a limit: a decrease always fits, a
// dimension already over a lowered limit refuses only more of itself, and
// nil is unlimited.
func TestCheck(t *testing.T) {
	org := &store.Organization{UserCount: 5, WorkspaceCount: 3, CPUCores: 12, MemoryMB: 4096, StorageGB: 100,
		Quota: store.Quota{MaxUsers: ptr(5), MaxWorkspaces: ptr(2), MaxCPUCores: ptr(16), MaxStorageGB: ptr(0)}}
	for _, c := range []struct {
		name string
		add  store.Usage
		want string // refused dimension, "" when it fits
		lim  int
	}{
		{"a user past the limit", store.Usage{Users: 1}, quota.Users, 5},
		{"a workspace when already over a lowered limit", store.Usage{Workspaces: 1, CPUCores: 1}, quota.Workspaces, 2},
		{"cores up to the limit exactly", store.Usage{CPUCores: 4}, "", 0},
		{"one core past it", store.Usage{CPUCores: 5}, quota.CPUCores, 16},
		{"memory is unlimited", store.Usage{MemoryMB: 1 << 30}, "", 0},
		{"storage over a zero limit refuses more", store.Usage{StorageGB: 1}, quota.StorageGB, 0},
		{"decreases always fit, even over a limit", store.Usage{Users: -1, Workspaces: -1, StorageGB: -50}, "", 0},
		{"a resize that frees storage and adds cores within the limit", store.Usage{CPUCores: 2, StorageGB: -10}, "", 0},
	} {
		r := quota.Check(org, c.add)
		switch {
		case c.want == "" && r != nil:
			t.Errorf("%s: refused %+v", c.name, *r)
		case c.want != "" && (r == nil || r.Dimension != c.want || r.Limit != c.lim):
			t.Errorf("%s: %+v, want %s at %d", c.name, r, c.want, c.lim)
		}
	}
}

func TestParse(t *testing.T) {
	q, err := quota.Parse(" storageGb=0 , users=3")
	if err != nil || q.MaxUsers == nil || *q.MaxUsers != 3 || q.MaxStorageGB == nil || *q.MaxStorageGB != 0 ||
		q.MaxWorkspaces != nil || q.MaxCPUCores != nil || q.MaxMemoryMB != nil {
		t.Errorf("Parse = %+v, %v", q, err)
	}
	if q, err := quota.Parse(""); err != nil || q != (store.Quota{}) {
		t.Errorf("Parse(\"\") = %+v, %v; want unlimited", q, err)
	}
	for _, bad := range []string{"users", "users=-1", "users=1.5", "Users=1", "users=1,users=2", "gpu=1", "=3", "users=99999999999"} {
		if _, err := quota.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// ApplyDefault gives each organization limits of its own: changing one
// organization's quota in memory never changes the default or another's.
func TestApplyDefaultCopies(t *testing.T) {
	def := store.Quota{MaxWorkspaces: ptr(10)}
	var a, b store.Organization
	quota.ApplyDefault(&a, def)
	quota.ApplyDefault(&b, def)
	*a.MaxWorkspaces = 99
	if *def.MaxWorkspaces != 10 || *b.MaxWorkspaces != 10 {
		t.Errorf("the default is shared: default %d, other %d", *def.MaxWorkspaces, *b.MaxWorkspaces)
	}
}
