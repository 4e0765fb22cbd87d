package service

import "github.com/switchyard/switchyard/pkg/domain"

// keyset bounds a page request, wherever it comes from: the default size when it names
// none, never more than the largest.
func keyset(page domain.Keyset) domain.Keyset {
	switch {
	case page.Limit < 1:
		page.Limit = domain.DefaultPageLimit
	case page.Limit > domain.MaxPageLimit:
		page.Limit = domain.MaxPageLimit
	}
	return page
}
