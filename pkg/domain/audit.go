package domain

import (
	"encoding/json"
	"time"
)

// ActorType says what kind of credential made a request.
type ActorType string

// Actor types.
const (
	ActorBootstrap ActorType = "bootstrap" // the ADMIN_TOKEN of the configuration
	ActorUser      ActorType = "user"      // a user logged in with a JWT
	ActorToken     ActorType = "token"     // an API token
	ActorSystem    ActorType = "system"    // the service itself (seeding, maintenance)
)

// Actor is who made a change: every audit row names one.
type Actor struct {
	Type ActorType `json:"type"`
	ID   string    `json:"id"`
	Name string    `json:"name"`
}

// Audit actions.
const (
	ActionProjectCreate     = "project.create"
	ActionProjectUpdate     = "project.update"
	ActionProjectDelete     = "project.delete"
	ActionEnvironmentCreate = "environment.create"
	ActionEnvironmentUpdate = "environment.update"
	ActionEnvironmentDelete = "environment.delete"
	ActionFlagCreate        = "flag.create"
	ActionFlagUpdate        = "flag.update"
	ActionFlagArchive       = "flag.archive"
	ActionFlagUnarchive     = "flag.unarchive"
	ActionFlagDelete        = "flag.delete"
	ActionFlagKill          = "flag.kill"
	ActionFlagUnkill        = "flag.unkill"
	ActionConfigUpdate      = "config.update"
	ActionConfigToggle      = "config.toggle"
	// ActionConfigRevert restores a configuration as it was before an earlier change;
	// its audit row names that change's entry (AuditEntry.Reverts).
	ActionConfigRevert = "config.revert"
)

// ConfigActions are the actions of configuration changes: those a revert can undo.
var ConfigActions = []string{ActionConfigUpdate, ActionConfigToggle, ActionConfigRevert}

// AuditEntry is one row of the audit trail: who changed what, with the entity before
// and after the change. Projects, flags and environments are named by key so that the
// trail outlives their deletion.
type AuditEntry struct {
	ID             int64           `json:"id"`
	At             time.Time       `json:"at"`
	Actor          Actor           `json:"actor"`
	Action         string          `json:"action"`
	EntityType     string          `json:"entity_type"`
	EntityID       string          `json:"entity_id"`
	EntityKey      string          `json:"entity_key"`
	ProjectKey     string          `json:"project,omitempty"`
	FlagKey        string          `json:"flag,omitempty"`
	EnvironmentKey string          `json:"environment,omitempty"`
	Before         json.RawMessage `json:"before"`
	After          json.RawMessage `json:"after"`
	RequestID      string          `json:"request_id,omitempty"`
	// Reverts is the entry whose before-state a config.revert restored.
	Reverts *int64 `json:"reverts,omitempty"`
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	// Projects limits the trail to these projects unless AllProjects is set: what the
	// caller may see.
	Projects       []string
	AllProjects    bool
	ProjectKey     string
	FlagKey        string
	EnvironmentKey string
	Actor          string // actor id or name
	Action         string
	Since, Until   time.Time
}

// Page asks for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// Pagination limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 200
)

// SDK key audit actions.
const (
	ActionSDKKeyCreate = "sdk_key.create"
	ActionSDKKeyRotate = "sdk_key.rotate"
	ActionSDKKeyRevoke = "sdk_key.revoke"
)

// SDK key kinds. A server key may also download the environment's flag definitions,
// whose targeting rules can name users; a client key, which browsers and mobile apps
// hold, may only evaluate.
const (
	SDKKeyServer = "server"
	SDKKeyClient = "client"
)

// SDKKey is a key that lets SDKs evaluate the flags of one environment. Key, the
// secret, is only ever set in the answer that creates it. Kind is SDKKeyServer or
// SDKKeyClient.
type SDKKey struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"`
	Prefix      string     `json:"prefix"`
	Environment string     `json:"environment"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Key         string     `json:"key,omitempty"`
}
