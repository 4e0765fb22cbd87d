// Package service is the admin service's application layer: it validates and
// normalizes requests, decides who may do what, enforces the rules that span entities
// (variants referenced by configurations, prerequisites held by other flags, optimistic
// concurrency) and calls the store.
//
// A change that depends on what is stored is decided inside the store's transaction:
// the store reads what the change needs, under its locks, and hands it to a closure of
// this package as data (domain.FlagState, domain.ConfigState ...); the closure checks
// and returns the new value, and the store writes it, with its audit row and its
// invalidations, in the same transaction. Each file declares the small store interface
// it uses; Store is all of them together.
package service

import (
	"github.com/switchyard/switchyard/pkg/domain"
)

// Store is what the service needs from storage: the interfaces each file declares.
type Store interface {
	ProjectStore
	EnvironmentStore
	FlagStore
	ConfigStore
	SDKKeyStore
	UserStore
	MemberStore
	TokenStore
	AuditStore
	EvaluationStore
	ExplainStore
	RevertStore
}

// Service implements the admin API's operations.
type Service struct {
	projects     ProjectStore
	environments EnvironmentStore
	flags        FlagStore
	configs      ConfigStore
	keys         SDKKeyStore
	users        UserStore
	members      MemberStore
	tokens       TokenStore
	audit        AuditStore
	evaluations  EvaluationStore
	explain      ExplainStore
	reverts      RevertStore
	passwords    Passwords
	guesses      Guesses
	// explaining holds a slot per explanation under way (see Explain).
	explaining chan struct{}
}

// New returns a Service. guesses limits guesses of a user's current password, as
// login limits guesses of any password.
func New(store Store, passwords Passwords, guesses Guesses) *Service {
	return &Service{projects: store, environments: store, flags: store, configs: store, keys: store, users: store,
		members: store, tokens: store, audit: store, evaluations: store, explain: store, reverts: store,
		passwords: passwords, guesses: guesses, explaining: make(chan struct{}, explainSlots)}
}

func forbidden(msg string) error { return domain.Errorf(domain.CodeForbidden, "%s", msg) }
