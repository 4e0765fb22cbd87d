package domain

// Keyset asks a store for one page of a list kept in the order of a key: at most Limit
// items, those after the item whose key is After ("" for the first page). The store
// answers with the key of the page's last item when more follow; turning keys into the
// opaque cursors clients see is the HTTP layer's business.
type Keyset struct {
	After string
	Limit int
}
