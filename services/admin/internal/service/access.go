package service

import (
	"context"
	"encoding/json"

	"github.com/switchyard/switchyard/pkg/domain"
)

// How roles and per-environment overrides combine (README, "Access control"):
//
//   - A member's project role applies in every environment without an override; an
//     override replaces it in its environment, raising or lowering it.
//   - An override binds admins too: anything that touches an environment needs the
//     role there. A project admin lowered to viewer in production cannot change,
//     delete or protect production, and cannot do what touches every environment at
//     once: delete the project, delete a flag, manage members or create tokens above
//     their own rights, since each of those reaches production too.
//   - A change to a flag's definition that alters what environments serve (archiving,
//     restoring, changing or removing a variant's value, reordering variants) needs,
//     in every environment, the role a configuration write there needs: developer,
//     admin where the environment is protected. Name, description, tags and new
//     variants alter nothing served and need developer in the project.
//
// Every check sees all of a project's environments, never a page of them. Checks of a
// change that locks environments run in its transaction, on the environments as
// locked: one protected or created meanwhile counts.

// writeRole is the role a configuration change in e needs.
func writeRole(e domain.Environment) domain.Role {
	if e.Protected {
		return domain.RoleAdmin
	}
	return domain.RoleDeveloper
}

func adminRole(domain.Environment) domain.Role { return domain.RoleAdmin }

// needEverywhere checks the role need(e) in every environment of the project.
func needEverywhere(o domain.Origin, project string, envs []domain.Environment, need func(domain.Environment) domain.Role) error {
	for _, e := range envs {
		if err := o.Need(project, e.Key, need(e)); err != nil {
			return err
		}
	}
	return nil
}

// everywhere is the guard of a change that reaches every environment of the project
// at once: the role need(e) in each, checked in the change's transaction against the
// environments as it locked them.
func everywhere(o domain.Origin, project string, need func(domain.Environment) domain.Role) domain.Guard {
	return func(envs []domain.Environment) error { return needEverywhere(o, project, envs, need) }
}

// mayAdminister checks what the management of members and tokens needs: admin in the
// project and in every one of its environments. Those changes lock no environment, so
// it reads them apart.
func (s *Service) mayAdminister(ctx context.Context, o domain.Origin, project string) error {
	if err := o.Need(project, "", domain.RoleAdmin); err != nil {
		return err
	}
	if o.Superuser() {
		return nil
	}
	envs, err := s.environments.AllEnvironments(ctx, project)
	if err != nil {
		return err
	}
	return needEverywhere(o, project, envs, adminRole)
}

// variantsChangeServing reports whether replacing a flag's variants old with new
// changes what any environment can serve: a variant removed, a value changed, or the
// order of the existing variants changed (rollout ranges follow that order). Variants
// added, and names or descriptions changed, serve nothing new until a configuration
// refers to them.
func variantsChangeServing(old, new []domain.Variant) bool {
	pos := make(map[string]int, len(new))
	for i, v := range new {
		pos[v.Key] = i
	}
	last := -1
	for _, v := range old {
		i, ok := pos[v.Key]
		if !ok || i < last || !sameValue(v.Value, new[i].Value) {
			return true
		}
		last = i
	}
	return false
}

func sameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// visible names the projects the caller can see: all of them, or those listed.
func visible(o domain.Origin) (keys []string, all bool) {
	if o.Access == nil {
		return nil, true
	}
	return o.Access.Projects()
}

// The checks below are the service's own, exported for the dashboard, which shows a
// control disabled, with the reason, where the service would refuse it. The service
// still decides: these only say in advance what it will say.

// MayConfigure is nil when o may change or toggle a flag's configuration in e:
// developer there, admin where e is protected.
func MayConfigure(o domain.Origin, project string, e domain.Environment) error {
	return mayConfigure(o, project, e)
}

// MayServeEverywhere is nil when o may make a change that alters what every
// environment of the project serves: the kill switch, and (with developer in the
// project) archiving a flag or changing its variants' values.
func MayServeEverywhere(o domain.Origin, project string, envs []domain.Environment) error {
	return needEverywhere(o, project, envs, writeRole)
}

// MayAdministerEverywhere is nil when o holds admin in the project and in every one of
// envs, all of its environments: deleting a flag or the project, managing members.
func MayAdministerEverywhere(o domain.Origin, project string, envs []domain.Environment) error {
	if err := o.Need(project, "", domain.RoleAdmin); err != nil {
		return err
	}
	return needEverywhere(o, project, envs, adminRole)
}
