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
// Every check sees all of a project's environments, never a page of them.

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

// everywhere checks role in the project and need(e) in each of its environments.
func (s *Service) everywhere(ctx context.Context, o domain.Origin, project string, role domain.Role, need func(domain.Environment) domain.Role) error {
	if err := o.Need(project, "", role); err != nil {
		return err
	}
	if o.Superuser() {
		return nil
	}
	envs, err := s.store.AllEnvironments(ctx, project)
	if err != nil {
		return err
	}
	return needEverywhere(o, project, envs, need)
}

// mayAdminister checks what changes touching the whole project need: admin in the
// project and in every one of its environments.
func (s *Service) mayAdminister(ctx context.Context, o domain.Origin, project string) error {
	return s.everywhere(ctx, o, project, domain.RoleAdmin, adminRole)
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
