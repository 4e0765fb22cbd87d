package domain

// The types of this file are the admin service's storage contract: what a change reads
// in its transaction and hands to the closure that decides it (read, decide, write,
// all in one transaction, as the store locked it).

// ConfigState is a flag's configuration in one environment, with the flag and the
// environment it belongs to.
type ConfigState struct {
	Flag        Flag
	Environment Environment
	Config      Config
}

// FlagState is a flag as a change to its definition sees it, read in the change's
// transaction: every environment of its project, as locked for the change; the flag's
// configuration in each, by environment key; and the prerequisites other flags hold on
// it.
type FlagState struct {
	Flag         Flag
	Environments []Environment
	Configs      map[string]Config
	Dependents   []Dependent
}

// Guard checks the caller of a change that reaches every environment of a project,
// against those environments as the change's transaction locked them, before the change
// reads anything else: an environment protected or created meanwhile counts.
type Guard func(envs []Environment) error
